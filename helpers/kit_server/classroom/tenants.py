"""The class's state: roster, identity, each person's own kit app, the quotas.

Students' workspaces are `CLASS/students/<tenant id>/`, teachers' `CLASS/teachers/<tenant
id>/`: a teacher who tries the course on the class server never shows up as a student.
Quotas apply to students: jobs and training tokens per day (the real API's 429), storage
(the real API's 400 for a full file storage). Each student's writes (job creation, upload,
stored response) pass their door one at a time (`door`), so a quota's check and what it
counts cannot be raced by concurrent requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import settings
from ...local.turns import Turns
from ...modes import Engine
from ..errors import ApiError
from ..serving import build_app, configure_log
from .identity import HubIdentity, Identity
from .roster import Person, Roster

DAY = 86_400.0
BYTES_PER_TOKEN = 4  # a job still to be trained counts its file's bytes / 4 tokens per epoch
#: Requests of one student in progress at once, at most: the server's threads are shared by
#: the class (40), and one student's hundred parallel requests must not take them all.
IN_FLIGHT = 8


@dataclass
class ClassServer:
    """The class's state: roster, identity, each person's kit app (built on first use)."""

    home: Path
    engine: Engine | str = Engine.SIMULATED
    hub: bool = False
    hub_auth: Any = None
    roster: Roster = field(init=False)
    identity: Identity = field(init=False)
    _apps: dict[Path, Any] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _doors: dict[str, asyncio.Lock] = field(default_factory=dict, init=False)
    _in_flight: dict[str, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.home = Path(self.home)
        self.engine = Engine(self.engine)
        configure_log(self.home)
        self.roster = Roster(self.home)
        self.identity = (
            HubIdentity(self.roster, self.hub_auth) if self.hub else Identity(self.roster)
        )
        # One GPU (or CPU) for the class: the workers take turns (its processes inherit the path).
        if self.engine is Engine.LOCAL and settings.current().class_turns is None:
            settings.put(class_turns=self.turns_path)

    @property
    def turns_path(self) -> Path:
        return settings.current().class_turns or self.home / "turns.sqlite3"

    def turns(self) -> list[tuple[str, str, bool]]:
        """(student, job id, training now) in turn order (local engine), else []."""
        if self.engine is not Engine.LOCAL or not self.turns_path.exists():
            return []
        return Turns(self.turns_path).waiting()

    # -- workspaces -------------------------------------------------------------------------

    def workspace(self, person: Person | str) -> Path:
        """A student's (a tenant id alone: a student) or a teacher's workspace."""
        if isinstance(person, str):
            return self.home / "students" / person
        return self.home / ("teachers" if person.teacher else "students") / person.name

    def app_for(self, person: Person | str) -> Any:
        folder = self.workspace(person)
        with self._lock:
            app = self._apps.get(folder)
            if app is None:
                app = build_app(folder, engine=self.engine, log=False)
                self._apps[folder] = app
            return app

    def engine_for(self, person: Person | str) -> Any:
        return self.app_for(person).app.state.engine

    def files_for(self, person: Person | str) -> Any:
        return self.app_for(person).app.state.files

    def people(self) -> list[str]:
        """Every student (tenant id) the roster knows or who has a workspace; never a teacher
        (classes made before teachers had their own folder may hold one under students/)."""
        folder = self.home / "students"
        seen = {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()
        return sorted((seen | set(self.roster.students())) - self.roster.teachers())

    def door(self, name: str) -> asyncio.Lock:
        """One write at a time per student (quota checks and what they count, atomically)."""
        with self._lock:
            return self._doors.setdefault(name, asyncio.Lock())

    def enter(self, person: Person) -> None:
        """A student's request begins (a teacher's is not counted); the real API's 429 when
        they already have IN_FLIGHT of them in progress. Pair with `leave`."""
        if person.teacher:
            return
        with self._lock:
            busy = self._in_flight.get(person.name, 0)
            if busy >= IN_FLIGHT:
                raise too_many_requests(person.name)
            self._in_flight[person.name] = busy + 1

    def leave(self, person: Person) -> None:
        if person.teacher:
            return
        with self._lock:
            left = self._in_flight.pop(person.name, 1) - 1
            if left > 0:
                self._in_flight[person.name] = left

    # -- quotas -----------------------------------------------------------------------------

    def _today(self, person: Person) -> list[dict[str, Any]]:
        """The student's jobs created in the last 24 hours (every page of the list)."""
        engine, since, after, out = self.engine_for(person), time.time() - DAY, None, []
        while True:
            page = engine.list_jobs(after, 100)
            fresh = [j for j in page["data"] if j["created_at"] >= since]
            out += fresh
            if not page["has_more"] or len(fresh) < len(page["data"]) or not page["data"]:
                return out
            after = page["data"][-1]["id"]

    def _tokens(self, person: Person, job: dict[str, Any]) -> int:
        """A job's training tokens: counted once trained, estimated from its file before."""
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return int(job.get("trained_tokens") or 0)
        size = 0
        with contextlib.suppress(ApiError):
            size = self.files_for(person).get(job["training_file"]).bytes
        epochs = (job.get("hyperparameters") or {}).get("n_epochs")
        return size // BYTES_PER_TOKEN * (epochs if isinstance(epochs, int) else 1)

    def check_quota(self, person: Person) -> None:
        """The real API's 429 when a student has used the class's daily job or token quota.
        Call it behind the student's `door`, and create the job before leaving it."""
        if person.teacher:
            return
        name, quotas = person.name, self.roster.quotas()
        today = self._today(person)
        tokens = sum(self._tokens(person, j) for j in today)
        retry = int(min((j["created_at"] for j in today), default=time.time()) + DAY - time.time())
        headers = {"retry-after": str(max(1, retry)), "x-should-retry": "false"}
        if len(today) >= quotas["jobs_per_day"]:
            raise ApiError(
                429,
                f"Rate limit reached for fine-tuning jobs per day in organization class-{name}: "
                f"Limit {quotas['jobs_per_day']}, Used {len(today)}, Requested 1. "
                f"Please try again in {max(1, retry)}s.",
                type="requests",
                code="rate_limit_exceeded",
                headers=headers,
            )
        if tokens >= quotas["training_tokens_per_day"]:
            raise ApiError(
                429,
                f"Rate limit reached for fine-tuning training tokens per day in organization "
                f"class-{name}: Limit {quotas['training_tokens_per_day']}, Used {tokens}. "
                f"Please try again in {max(1, retry)}s.",
                type="tokens",
                code="rate_limit_exceeded",
                headers=headers,
            )

    def storage(self, person: Person | str) -> dict[str, int]:
        """What a student keeps on the server: bytes of their workspace's database (uploaded
        files, stored responses, jobs; freed space not counted) and files they uploaded."""
        files = self.files_for(person)
        return {"bytes": files.db.used_bytes(), "files": files.uploaded()}

    def check_storage(self, person: Person, incoming: int, *, new_file: bool) -> None:
        """The 400 of a full storage before `incoming` more bytes (and a file) are written."""
        if person.teacher:
            return
        quotas, used = self.roster.quotas(), self.storage(person)
        full = used["bytes"] + incoming > quotas["storage_bytes"]
        if full or (new_file and used["files"] >= quotas["storage_files"]):
            raise storage_full(quotas, used)


def too_many_requests(name: str) -> ApiError:
    # The real API's rate-limit envelope (429, type `requests`, code `rate_limit_exceeded`);
    # Unconfirmed: it limits requests per minute, the class server requests at once. The SDK
    # retries after `retry-after`.
    return ApiError(
        429,
        f"Rate limit reached for requests in organization class-{name}: Limit {IN_FLIGHT} "
        "requests at once. Please try again in 1s.",
        type="requests",
        code="rate_limit_exceeded",
        headers={"retry-after": "1"},
    )


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def storage_full(quotas: dict[str, int], used: dict[str, int]) -> ApiError:
    # The real API (a public transcript, 2024): 400 invalid_request_error, code null, "You have
    # exceeded your file storage quota. Organizations are limited to 100 GB of files. Please
    # delete old files or attempt with a smaller file size." Unconfirmed: a limit on the number
    # of files (the class's own), and this wording for a class: same status, envelope, opening.
    return ApiError(
        400,
        "You have exceeded your file storage quota. Students of this class are limited to "
        f"{_mb(quotas['storage_bytes'])} and {quotas['storage_files']} files (used: "
        f"{_mb(used['bytes'])}, {used['files']} files). Please delete old files or attempt with "
        "a smaller file size.",
    )


def bearer(scope: MutableMapping[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            text = value.decode("latin-1")
            return text[7:].strip() if text[:7].lower() == "bearer " else ""
    return ""
