"""The class's state: roster, identity, each student's own kit app, the quotas."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...local.turns import TURNS_VAR, Turns
from ..errors import ApiError
from ..server import build_app, configure_log
from .identity import HubIdentity, Identity
from .roster import Roster

DAY = 86_400.0


@dataclass
class ClassServer:
    """The class's state: roster, identity, each person's kit app (built on first use)."""

    home: Path
    engine: str = "simulated"
    hub: bool = False
    hub_auth: Any = None
    roster: Roster = field(init=False)
    identity: Identity = field(init=False)
    _apps: dict[str, Any] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.home = Path(self.home)
        configure_log(self.home)
        self.roster = Roster(self.home)
        self.identity = (
            HubIdentity(self.roster, self.hub_auth) if self.hub else Identity(self.roster)
        )
        if self.engine == "local":  # one GPU (or CPU) for the class: the workers take turns
            os.environ.setdefault(TURNS_VAR, str(self.turns_path))

    @property
    def turns_path(self) -> Path:
        return Path(os.environ.get(TURNS_VAR) or self.home / "turns.sqlite3")

    def turns(self) -> list[tuple[str, str, bool]]:
        """(student, job id, training now) in turn order (local engine), else []."""
        if self.engine != "local" or not self.turns_path.exists():
            return []
        return Turns(self.turns_path).waiting()

    def workspace(self, name: str) -> Path:
        return self.home / "students" / name

    def app_for(self, name: str) -> Any:
        with self._lock:
            app = self._apps.get(name)
            if app is None:
                app = build_app(self.workspace(name), engine=self.engine, log=False)
                self._apps[name] = app
            return app

    def engine_for(self, name: str) -> Any:
        return self.app_for(name).app.state.engine

    def files_for(self, name: str) -> Any:
        return self.app_for(name).app.state.files

    def people(self) -> list[str]:
        """Every student the roster knows or who has a workspace."""
        folder = self.home / "students"
        seen = {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()
        return sorted(seen | set(self.roster.students()))

    # -- quotas -----------------------------------------------------------------------------

    def check_quota(self, name: str) -> None:
        """The real API's 429 when a student has used the class's daily job or token quota."""
        quotas = self.roster.quotas()
        since = time.time() - DAY
        jobs = self.engine_for(name).list_jobs(None, 100)["data"]
        today = [j for j in jobs if j["created_at"] >= since]
        tokens = sum(j.get("trained_tokens") or 0 for j in today)
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


def bearer(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            text = value.decode("latin-1")
            return text[7:].strip() if text[:7].lower() == "bearer " else ""
    return ""
