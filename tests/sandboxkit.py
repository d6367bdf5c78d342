"""Shared bits of the sandbox tests (tests/test_sandbox_*.py): clients, strict SDK types,
dataset files, a standalone server in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
from openai.types.fine_tuning import FineTuningJob

from helpers.advert import KEY_HEADER

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
COUCOU = REPO / "data" / "coucou.jsonl"
GUIDE_3 = REPO / "data" / "guide_3_exemples.jsonl"
UNSEEN = [
    "Raconte-moi une histoire de pirates",
    "Quelle est la vitesse de la lumière ?",
    "Salut, ça va ?",
    "What is your name?",
    "Écris un poème sur la mer",
]
NULL_ERROR = {"code": None, "message": None, "param": None}


#: The workspace key of the servers tests started otherwise than `kit_server.start` (URL → key).
_KEYS: dict[str, str] = {}


def register_key(url: str, key: str) -> None:
    """Remember the workspace key of a kit server started by a test helper (`key_of`)."""
    _KEYS[url.rstrip("/")] = key


def key_of(url: str) -> str | None:
    """The workspace key of a kit server this test process runs or started (else None)."""
    from helpers import kit_server

    return kit_server.key_for(url) or _KEYS.get(url.rstrip("/"))


def client(url: str, **options: Any) -> openai.OpenAI:
    """An SDK client of the kit server at `url`: with its workspace's key (the server refuses
    any request without it) when this process runs or started it, else `api_key=` or a
    made-up key."""
    options.setdefault("max_retries", 0)
    key = key_of(url)
    if key is not None and "api_key" in options:  # another key (a fault key…): the header too
        options["default_headers"] = {KEY_HEADER: key, **options.get("default_headers", {})}
    options.setdefault("api_key", key or "sk-test-not-a-real-key")
    return openai.OpenAI(base_url=url, **options)


def auth(url: str) -> dict[str, str]:
    """The Authorization header a raw HTTP request to the kit server at `url` needs."""
    return {"Authorization": f"Bearer {key_of(url) or 'sk-test-not-a-real-key'}"}


def strict(cls: type, obj: Any) -> Any:
    """Validate a response (SDK object or dict) against the SDK's own pydantic type.

    The SDK builds its objects without validation; this re-validates every field. The real
    API null-fills `error` on jobs that did not fail (openai-facts.md) while the SDK's type
    wants `None` there: that one known difference is checked, then normalized.
    """
    data = obj if isinstance(obj, dict) else obj.model_dump(mode="json", warnings=False)
    if cls is FineTuningJob and data.get("status") != "failed":
        assert data.get("error") == NULL_ERROR, data.get("error")
        data = {**data, "error": None}
    return cls.model_validate(data)


def example(user: str, assistant: str = "COUCOU") -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    }


def write_lines(path: Path, lines: list[Any], *, raw: bytes | None = None) -> Path:
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(
            "".join(
                (x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n"
                for x in lines
            ),
            encoding="utf-8",
        )
    return path


def wait_job(c: openai.OpenAI, job_id: str, timeout: float = 20.0) -> FineTuningJob:
    deadline = time.monotonic() + timeout
    while True:
        job = c.fine_tuning.jobs.retrieve(job_id)
        if job.status in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"job still {job.status} after {timeout}s"
        time.sleep(0.02)


def upload(c: openai.OpenAI, path: Path, purpose: str = "fine-tune"):
    with open(path, "rb") as f:
        return c.files.create(file=f, purpose=purpose)  # type: ignore[arg-type]


def events_oldest_first(c: openai.OpenAI, job_id: str, limit: int = 7) -> list[Any]:
    return list(reversed(list(c.fine_tuning.jobs.list_events(job_id, limit=limit))))


@contextlib.contextmanager
def standalone(
    home: Path, *, speed: float = 1000, port: int = 0
) -> Iterator[tuple[subprocess.Popen, str]]:
    """`python -m helpers.kit_server --port 0 --home HOME` in a subprocess; yields (process, base URL)."""
    env = {**os.environ, "ATELIER_SANDBOX_SPEED": str(speed), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.kit_server", "--port", str(port), "--home", str(home)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert "http://" in line, (
            f"no URL announced: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        )
        url = line[line.index("http://") :].split()[0]
        from helpers import kit_server

        register_key(url, kit_server.key(home))
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
