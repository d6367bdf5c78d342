"""The kit server of a workspace: build its app, serve it (thread or foreground).

`build_app` opens the workspace (its database, its file service), asks the engines' table
(`engines.registry`) for the engine, and assembles the app (`app.py`); `workspace_app` locks
it to the workspace's own clients (`door.KeyLock`); `serve_in_thread` (tests, benches,
`ATELIER_SANDBOX_IN_PROCESS=1`) and `serve_forever` (`python -m helpers.kit_server`, the
workspace's server process) serve it. The server's log goes to the workspace, never to a cell.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..asgi_thread import LOOPBACK, Running
from ..asgi_thread import serve_forever as _serve_forever
from ..asgi_thread import serve_in_thread as _serve_in_thread
from ..exceptions import WorkspaceError, workspace_problem
from ..i18n import _
from ..modes import Engine
from . import database
from .contract import Clock
from .database import Database
from .engines import registry
from .file_store import FileService

LOG_NAME = "kit-server.log"
#: Loggers whose records go to the workspace's log file and never to a terminal or a cell.
LOGGERS = ("helpers.kit_server", "uvicorn.error")


def log_path(home: Path) -> Path:
    """Where the kit server writes its errors (tracebacks included): `<workspace>/logs/`."""
    return Path(home) / "logs" / LOG_NAME


def configure_log(home: Path) -> None:
    """Send the server's logs to `log_path(home)` (rotated, 3 × 1 MB); never to stderr — a
    traceback printed into a notebook cell or a learner's terminal helps nobody. A workspace
    where the log cannot be written gets no log at all."""
    try:
        path = log_path(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8", delay=True
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            if getattr(old, "atelier", False):
                logger.removeHandler(old)
                old.close()
        handler.atelier = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.disabled = False  # a host's dictConfig (e.g. a Jupyter app) may have disabled it


def build_app(
    home: Path,
    *,
    engine: Engine | str = Engine.SIMULATED,
    clock: Clock = time.time,
    log: bool = True,
) -> Any:
    """The ASGI app of the kit server for the workspace `home` (`log=False`: the caller has
    configured the log file, e.g. the class server for all its students)."""
    from .app import create_app

    if log:
        configure_log(home)
    try:
        files = FileService(Database(home))
        chosen = registry.make(engine, home, files, clock)
    except (OSError, sqlite3.Error) as exc:
        if database.damaged(exc):
            raise database.damaged_error(Path(home) / database.DB_NAME) from None
        reason = workspace_problem(exc)
        if reason is None:
            raise
        raise WorkspaceError(home, reason) from None
    return create_app(chosen, files, clock=clock)


@dataclass
class KitServer:
    """A kit server running in a daemon thread of this process."""

    url: str  # ends with /v1
    home: Path
    running: Running

    def alive(self) -> bool:
        return self.running.alive()

    def stop(self, timeout: float = 5.0) -> None:
        self.running.stop(timeout)


def _not_started(reason: str) -> Exception:
    """`reason`: empty, or ` (the error)` (asgi_thread's `failure`)."""
    return RuntimeError(_("Le bac à sable n'a pas pu démarrer{reason}.").format(reason=reason))


def workspace_app(home: Path, engine: Engine | str = Engine.SIMULATED) -> Any:
    """The kit server of one workspace, answering only the workspace's own clients
    (`door.KeyLock`). A workspace that cannot hold its files raises `WorkspaceError`."""
    from .door import KeyLock

    app = build_app(home, engine=engine)
    try:
        return KeyLock(app, home)
    except OSError as exc:  # the key file cannot be written: a full disk, a read-only folder
        reason = workspace_problem(exc) or (exc.strerror or type(exc).__name__).lower()
        raise WorkspaceError(home, reason) from None


def serve_in_thread(
    home: Path,
    *,
    engine: Engine | str = Engine.SIMULATED,
    timeout: float = 15.0,
    timeouts: Any = None,
) -> KitServer:
    """Start the kit server on a free loopback port; return once it accepts requests (only
    from the workspace's own clients: `door.KeyLock`). `timeouts`: `proxy.ReadTimeouts`."""
    app = workspace_app(home, engine)
    running = _serve_in_thread(
        app, name="atelier-sandbox", timeout=timeout, failure=_not_started, timeouts=timeouts
    )
    return KitServer(f"http://{LOOPBACK}:{running.port}/v1", home, running)


class IdleWatch:
    """ASGI wrapper that notes the last request; `idle_for()` is 0 while one is in flight."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = time.monotonic()
        self.active = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.active += 1
        self.last = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
            self.last = time.monotonic()

    def idle_for(self) -> float:
        return 0.0 if self.active else time.monotonic() - self.last


TRIM_AFTER = 2.0  # seconds without a request before the server returns freed memory


def release_memory() -> None:
    """Return the heap's free pages to the system (glibc keeps them otherwise): a class's
    host counts 30 kit servers that mostly wait for the next cell (`helpers.heap`)."""
    from ..heap import release

    release()


def _stop_when_idle(watch: IdleWatch, idle: float, home: Path) -> None:
    """Ask this process to stop (as Ctrl+C does) once nobody has called for `idle` seconds,
    or once its workspace folder is gone (a deleted temporary workspace)."""

    def run() -> None:
        trimmed = True
        while True:
            quiet = watch.idle_for()
            left = idle - quiet
            if left <= 0 or not home.is_dir():
                os.kill(os.getpid(), signal.SIGINT)
                return
            if quiet < TRIM_AFTER:
                trimmed = False
            elif not trimmed:  # a burst of requests is over: give its freed memory back
                trimmed = True
                release_memory()
            time.sleep(min(max(left, 0.05), TRIM_AFTER / 2, 5.0))

    threading.Thread(target=run, name="atelier-sandbox-idle", daemon=True).start()


def _spool_in_workspace(home: Path) -> None:
    """Uploads bigger than 1 MB are spooled to a temporary file before they are stored: in this
    server process, in the workspace (`<workspace>/tmp/`), not in /tmp — on a hub /tmp is often
    small or in memory, and the workspace is where the file goes anyway."""
    import tempfile

    folder = Path(home) / "tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    tempfile.tempdir = str(folder)


def serve_forever(
    home: Path,
    host: str = LOOPBACK,
    port: int = 8765,
    *,
    verbose: bool = False,
    announce: Callable[[str], None] = print,
    engine: Engine | str = Engine.SIMULATED,
    idle: float = 0.0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Foreground server for `python -m helpers.kit_server` (Ctrl+C stops it).

    `idle` > 0: stop after that many seconds without a request. `on_ready(url)` once the
    port is bound (the workspace advert).
    """
    shown = LOOPBACK if host in ("0.0.0.0", "") else host

    def ready(bound: int) -> None:
        url = f"http://{shown}:{bound}/v1"
        if on_ready is not None:
            on_ready(url)
        announce(
            _(
                "🧪 Bac à sable prêt : {url}  (espace de travail : {home} ; sa clé : "
                "python -m helpers.kit_server --key). Ctrl+C pour arrêter."
            ).format(url=url, home=home)
        )

    app = workspace_app(home, engine)
    _spool_in_workspace(home)
    if idle > 0:
        app = IdleWatch(app)
        _stop_when_idle(app, idle, home)
    _serve_forever(app, host=host, port=port, verbose=verbose, announce=ready)
