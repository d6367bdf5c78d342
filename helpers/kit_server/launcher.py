"""Find or start the workspace's kit server: one server process per workspace and engine.

Client side only: this module imports the standard library, `filelock` and the kit's lowest
layers (`settings`, `modes`, `advert`, `fileio`, `exceptions`), never the server's code (no starlette,
uvicorn or scipy in a kernel).

- **Advert.** A serving process writes `<workspace>/sandbox-<engine>.json` (`url`, `pid`)
  once its port is bound, and removes it when it stops. A server is "running" when its
  advert names a live pid and its loopback URL answers.
- **On demand, once.** `ensure()` returns the running server's URL, or starts one:
  `python -m helpers.kit_server --port 0 --home WS --engine E --idle S`, detached (its own
  session, not a child of the kernel: a kernel restart or shutdown leaves it running). Two
  kernels that start at once take `<workspace>/sandbox-<engine>.lock` in turn: the second
  finds the first one's server.
- **Failures at once.** A workspace that cannot be written (a full disk, a quota, read-only)
  is named before anything starts; a server that cannot start reports why (`report_failure`)
  and a server that dies while starting is seen at once (its pid), not after a timeout.
- **Idle stop.** The server exits after `ATELIER_SERVER_IDLE` seconds without a request
  (default 1800; 0 never). The next notebook or command starts it again; its state is in
  the workspace (SQLite), so nothing is lost.
- **Port 0.** The system picks a free port: thirty users of one host never clash.
"""

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

from .. import settings
from ..advert import (  # noqa: F401 - the launcher's public names, re-exported
    advert_path,
    advertise,
    answers,
    find_other,
    pid_alive,
    read_advert,
    withdraw,
)
from ..exceptions import ServerStartError, WorkspaceError, workspace_problem
from ..fileio import check_writable
from ..i18n import _
from ..modes import Engine

DEFAULT_IDLE = settings.DEFAULT_SERVER_IDLE
START_TIMEOUT = 60.0

# A short-lived intermediate process starts the server in a new session and exits at once,
# so the server is nobody's child: a kernel that restarts or dies neither kills nor leaves it
# a zombie, and the kernel's process tree stays the kernel's own. It tells the server's pid
# (its standard output), so that a server dying while it starts is seen at once.
_DETACH = (
    "import subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], start_new_session=True, close_fds=True,\n"
    "                     stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr)\n"
    "print(p.pid)\n"
)


def idle_seconds() -> float:
    """`ATELIER_SERVER_IDLE` (seconds without a request before the server exits; 0: never)."""
    return settings.current().server_idle


def log_path(home: Path, engine: str) -> Path:
    """Where a detached server's own output goes (startup failures, tracebacks)."""
    return home / f"sandbox-{engine}-process.log"


@contextlib.contextmanager
def workspace_lock(home: Path, engine: str) -> Iterator[None]:
    """One process at a time starts the workspace's server (a file lock, Windows included)."""
    from filelock import FileLock

    with FileLock(home / f"sandbox-{engine}.lock"):
        yield


def _kit_root() -> str:
    return str(Path(__file__).resolve().parent.parent.parent)


def command(home: Path, engine: str, idle: float | None = None) -> list[str]:
    idle = idle_seconds() if idle is None else idle
    return [
        sys.executable,
        "-m",
        "helpers.kit_server",
        "--port",
        "0",
        "--home",
        str(home),
        "--engine",
        str(engine),
        "--idle",
        f"{idle:g}",
    ]


def spawn(
    home: Path, engine: str, idle: float | None = None, env: dict[str, str] | None = None
) -> int | None:
    """Start the server detached from this process; its output goes to `log_path()`. `env`:
    variables that the server gets on top of this process's environment. Returns the server's
    pid (None if unknown)."""
    env = {**os.environ, **(env or {})}
    # The server imports the same `helpers` as this process, wherever the notebook runs from.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_kit_root(), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    cmd = command(home, engine, idle)
    with open(log_path(home, engine), "ab") as log:
        if os.name == "posix":
            done = subprocess.run(
                [sys.executable, "-c", _DETACH, *cmd],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=str(home),
                check=True,
                timeout=30,
            )
            try:
                return int(done.stdout.strip())
            except ValueError:
                return None
        else:  # pragma: no cover - Windows
            flags = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
                subprocess, "CREATE_NEW_PROCESS_GROUP", 0
            )
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd=str(home),
                creationflags=flags,
            ).pid


def failure_path(home: Path, engine: str) -> Path:
    return home / f"sandbox-{engine}.failed"


def report_failure(
    home: Path, engine: str, message: str, fix: str | None = None, kind: str = "server"
) -> None:
    """Written by a server that cannot start, for the process waiting for it (`ensure`)."""
    report = {"message": message, "fix": fix, "kind": kind}
    with contextlib.suppress(OSError):
        failure_path(home, engine).write_text(json.dumps(report), encoding="utf-8")


def _failure(home: Path, engine: str) -> ServerStartError | None:
    try:
        text = failure_path(home, engine).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    try:
        report = json.loads(text)
        kind = report.get("kind") or "server"
        return ServerStartError(str(report["message"]), report.get("fix"), kind)
    except (ValueError, KeyError, TypeError):
        return ServerStartError(text or "?")


def workspace_unusable(home: Path) -> WorkspaceError | None:
    """Why the workspace cannot hold a server's files (full disk, read-only…), or None."""
    try:
        check_writable(home)
    except OSError as exc:
        reason = workspace_problem(exc) or (exc.strerror or type(exc).__name__).lower()
        return WorkspaceError(home, reason)
    return None


def _died(home: Path, engine: str) -> Exception:
    """Why the server process exited while it started: its own report, else the workspace's
    state (a full disk leaves no report), else its log."""
    failed = _failure(home, engine)
    if failed is not None:
        return failed
    unusable = workspace_unusable(home)
    if unusable is not None:
        return unusable
    tail = _log_tail(home, engine)
    stopped = _("Le serveur du kit s'est arrêté pendant son démarrage (journal : {log})")
    return ServerStartError(
        stopped.format(log=log_path(home, engine)) + (f" :\n{tail}" if tail else ".")
    )


def _log_tail(home: Path, engine: str, lines: int = 8) -> str:
    try:
        text = log_path(home, engine).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def ensure(
    home: Path,
    engine: str = Engine.SIMULATED,
    *,
    timeout: float = START_TIMEOUT,
    idle: float | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """The URL (…/v1) of the workspace's server for `engine`, started if none is running
    (with `env` on top of this process's environment)."""
    url = find_other(home, engine)
    if url:
        return url
    unusable = workspace_unusable(home)  # a full disk: say so now, not after a timeout
    if unusable is not None:
        raise unusable
    with workspace_lock(home, engine):
        url = find_other(home, engine)  # another kernel may have started it while we waited
        if url:
            return url
        with contextlib.suppress(OSError):
            failure_path(home, engine).unlink()
        pid = spawn(home, engine, idle, env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            url = find_other(home, engine)
            if url:
                return url
            failed = _failure(home, engine)
            if failed is not None:
                raise failed
            if pid is not None and not pid_alive(pid):
                url = find_other(home, engine)
                if url:
                    return url
                raise _died(home, engine)
            time.sleep(0.05)
    tail = _log_tail(home, engine)
    late = _("Le bac à sable n'a pas démarré en {timeout:g} s (journal : {log})")
    raise ServerStartError(
        late.format(timeout=timeout, log=log_path(home, engine)) + (f"\n{tail}" if tail else "")
    )


def shutdown(home: Path, engine: str = Engine.SIMULATED, timeout: float = 10.0) -> bool:
    """Stop the workspace's server process for `engine` (not this process); True if one stopped."""
    advert = read_advert(home, engine)
    if advert is None or advert[1] == os.getpid() or not pid_alive(advert[1]):
        return False
    pid = advert[1]
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        if hasattr(os, "WNOHANG"):  # a server this process started directly: reap it
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if pid_alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    withdraw(home, engine, pid)
    return True
