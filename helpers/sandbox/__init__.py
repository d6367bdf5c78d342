"""The sandbox: a local, OpenAI-compatible server (files, fine-tuning jobs, chat, models).

    from helpers import sandbox
    url = sandbox.start()          # http://127.0.0.1:<free port>/v1, once per process and home
    openai.OpenAI(base_url=url, api_key="sandbox")
    sandbox.stop()

or from a terminal: `python -m helpers.sandbox --port 8765 [--home DIR]`.

Storage is a SQLite file in the workspace (`ATELIER_HOME`, …), shared by every process
that opens it. Job speed: `ATELIER_SANDBOX_SPEED` (1 ≈ a one-minute COUCOU job, 1000 for
CI), read when a job is created. Faults on demand: see `helpers.sandbox.faults`.

This package imports nothing from widgets, jobs, chat or notebooks; uvicorn, starlette and
scikit-learn are imported only when a server starts or a model is fitted.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["start", "stop", "running"]

_lock = threading.Lock()
_servers: dict[tuple[int, str], object] = {}


def _key(home: Path) -> tuple[int, str]:
    return os.getpid(), str(home)


def _home(home: str | Path | None) -> Path:
    from .. import settings

    path = Path(home).expanduser() if home is not None else settings.workspace_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def start(home: str | Path | None = None, *, engine: str = "simulated") -> str:
    """Start (once per process and workspace) the sandbox server; return its base URL (…/v1)."""
    if engine != "simulated":
        raise NotImplementedError(
            "Le moteur « local » (vrai entraînement d'un petit modèle ouvert) n'est pas encore disponible : "
            "utilise le mode « sandbox » pour l'instant."
        )
    path = _home(home)
    with _lock:
        running = _servers.get(_key(path))
        if running is not None and running.alive():  # type: ignore[attr-defined]
            return running.url  # type: ignore[attr-defined]
        from .server import serve_in_thread

        running = serve_in_thread(path)
        _servers[_key(path)] = running
        return running.url


def running(home: str | Path | None = None) -> str | None:
    """The URL of this process's server for `home` (None if not started)."""
    server = _servers.get(_key(_home(home)))
    return server.url if server is not None and server.alive() else None  # type: ignore[attr-defined]


def stop(home: str | Path | None = None) -> None:
    """Stop this process's server for `home` (every server of this process if None)."""
    with _lock:
        keys = [k for k in _servers if k[0] == os.getpid()] if home is None else [_key(_home(home))]
        for key in keys:
            server = _servers.pop(key, None)
            if server is not None:
                server.stop()  # type: ignore[attr-defined]
