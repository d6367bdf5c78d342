"""The kit server: a local, OpenAI-compatible server (files, fine-tuning jobs, chat, models,
responses, embeddings, moderations; what it does not imitate: docs/bac-a-sable.md) with two
training engines — simulated (sandbox mode) and local (real training, local mode).

One server process per workspace (and engine), shared by every kernel and command:

    from helpers import kit_server
    url = kit_server.connect()        # the workspace's server, started on demand (…/v1)
    openai.OpenAI(base_url=url, api_key=kit_server.key())
    kit_server.shutdown()             # stop it (it also stops by itself after ATELIER_SERVER_IDLE s)

Its server answers only the workspace's own clients: every request carries the workspace's
key (`kit_server.key()`, an owner-only file; `python -m helpers.kit_server --key` prints it).

`helpers.client` does this for the notebooks: a kernel imports only the client side
(`launcher`: advert file, pid, loopback ping, lock file), never the server's code. The
server runs detached (`python -m helpers.kit_server --port 0 --home WS`), survives kernel
restarts and exits after `ATELIER_SERVER_IDLE` seconds without a request (default 1800).

In-process, for tests and benches: `kit_server.start()` serves from a daemon thread of this
process (once per process and home), `kit_server.stop()` stops it; with
`ATELIER_SANDBOX_IN_PROCESS=1`, `connect()` does the same.

Storage is a SQLite file in the workspace (`ATELIER_HOME`, …), shared by every process
that opens it. Job speed: `ATELIER_SANDBOX_SPEED` (1 ≈ a one-minute COUCOU job, 1000 for
CI), read when a job is created. Faults on demand: see `helpers.kit_server.faults`.

This package imports nothing from widgets, jobs, chat or notebooks; uvicorn, starlette and
scipy are imported only where a server runs.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..modes import Engine

if TYPE_CHECKING:  # a kernel imports the client side only (launcher), never the server's code
    from .serving import KitServer

__all__ = [
    "key",
    "key_for",
    "start",
    "stop",
    "running",
    "find_running",
    "reuse_running_servers",
    "connect",
    "shutdown",
    "local_model_served",
]

_lock = threading.Lock()
_servers: dict[tuple[int, str, str], KitServer] = {}
# Short-lived processes (the command line) may use a server another process of the same
# workspace already runs, instead of starting (and warming up) their own.
_reuse_others = False


def _key(home: Path, engine: Engine) -> tuple[int, str, str]:
    return os.getpid(), str(home), engine.value


def _engine(name: Engine | str) -> Engine:
    """An engine's name checked (ValueError for a name that is no engine's)."""
    try:
        return Engine(name)
    except ValueError:
        raise ValueError(f"unknown kit server engine: {name!r}") from None


def _home(home: str | Path | None) -> Path:
    from .. import settings

    path = Path(home).expanduser() if home is not None else settings.workspace_dir()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only, as settings makes it
    return path.resolve()


def start(home: str | Path | None = None, *, engine: Engine | str = Engine.SIMULATED) -> str:
    """Start (once per process and workspace) the kit server; return its base URL (…/v1)."""
    engine = _engine(engine)
    path = _home(home)
    with _lock:
        running = _servers.get(_key(path, engine))
        if running is not None and running.alive():
            return running.url
        if _reuse_others:
            from . import launcher

            if url := launcher.find_other(path, engine):
                return url
        from .serving import serve_in_thread

        running = serve_in_thread(path, engine=engine)
        _servers[_key(path, engine)] = running
        _advertise(path, engine, running.url)
        if engine is Engine.SIMULATED and _people_are_waiting():
            threading.Thread(target=_prewarm, name="atelier-sandbox-prewarm", daemon=True).start()
        return running.url


def _people_are_waiting() -> bool:
    """Class speeds (< 100) leave time to warm up while the learner reads; automated runs
    (tests, CI, replays at ≥ 100) would only pay for it in CPU."""
    from .. import settings

    try:
        return settings.sandbox_speed() < 100
    except ValueError:
        return True


def _prewarm() -> None:
    """Load, while the learner reads, what the first job and chat need (≈ 1 s of imports)."""
    try:
        from .. import models, tokens
        from .engines.simulated import tfidf  # noqa: F401  (numpy, scipy.sparse)

        tokens.encoding_for(models.DEFAULT_MODEL)
    except Exception:  # a warm-up only: the request that needs it will report any problem
        pass


def key(home: str | Path | None = None) -> str:
    """The workspace's key: what every request to its kit server carries (`helpers.client`
    sends it; a server of this workspace refuses any request without it)."""
    from ..advert import workspace_key

    return workspace_key(_home(home))


def key_for(url: str) -> str | None:
    """The key of the kit server this process runs at `url` (tests, benches), else None."""
    url = url.rstrip("/")
    for (pid, home, _name), server in list(_servers.items()):
        if pid == os.getpid() and server.url == url:
            return key(home)
    return None


def running(
    home: str | Path | None = None, *, engine: Engine | str = Engine.SIMULATED
) -> str | None:
    """The URL of this process's server for `home` (None if not started)."""
    server = _servers.get(_key(_home(home), _engine(engine)))
    return server.url if server is not None and server.alive() else None


def stop(home: str | Path | None = None) -> None:
    """Stop this process's server(s) for `home`, whatever the engine (every server of this process if None)."""
    with _lock:
        where = None if home is None else str(_home(home))
        keys = [k for k in _servers if k[0] == os.getpid() and where in (None, k[1])]
        for key in keys:
            server = _servers.pop(key, None)
            if server is not None:
                server.stop()
                _withdraw(Path(key[1]), Engine(key[2]))


def reuse_running_servers() -> None:
    """From now on, in this process, `start()` uses a live server of the same workspace that
    another process advertises (e.g. the workspace's server process) before starting its own."""
    global _reuse_others
    _reuse_others = True


def _advertise(home: Path, engine: Engine, url: str) -> None:
    from . import launcher

    launcher.advertise(home, engine, url)


def _withdraw(home: Path, engine: Engine) -> None:
    from . import launcher

    launcher.withdraw(home, engine)


def find_running(
    home: str | Path | None = None, *, engine: Engine | str = Engine.SIMULATED
) -> str | None:
    """The URL of a live server of this workspace (this process's, or one another advertises)."""
    from . import launcher

    engine = _engine(engine)
    path = _home(home)
    return running(path, engine=engine) or launcher.find_other(path, engine)


def in_process_wanted() -> bool:
    """`ATELIER_SANDBOX_IN_PROCESS=1`: serve from this process (the unit tests), not a server process."""
    from .. import settings

    return settings.current().sandbox_in_process


def connect(home: str | Path | None = None, *, engine: Engine | str = Engine.SIMULATED) -> str:
    """The URL (…/v1) a client of this workspace uses: this process's server if it runs one,
    else the workspace's server process, started on demand (see `helpers.kit_server.launcher`)."""
    engine = _engine(engine)
    path = _home(home)
    url = running(path, engine=engine)
    if url:
        return url
    if in_process_wanted():
        return start(path, engine=engine)
    from . import launcher
    from .engines import registry

    registry.check_usable(engine)  # say at once what is missing, not after a server's failure
    if engine is Engine.LOCAL:  # the server serves the model the settings name
        from .. import settings
        from ..local import catalog

        wanted = catalog.wanted_spec()
        if local_model_served(path) not in (None, wanted):
            launcher.shutdown(path, engine)  # it serves another model: start it again
        # the server is started from the workspace folder: a relative path would mean another file
        return launcher.ensure(path, engine, env=settings.environment(local_model=wanted))
    return launcher.ensure(path, engine)


def local_model_served(home: str | Path | None = None) -> str | None:
    """What the workspace's running local server serves when a request names an OpenAI model
    (`ATELIER_LOCAL_MODEL` as that server saw it; a path made absolute): None when no local
    server runs, "?" when it runs but did not say (started by an older kit)."""
    from ..local import catalog
    from . import launcher

    path = _home(home)
    advert = launcher.read_advert(path, Engine.LOCAL)
    if advert is None or not launcher.pid_alive(advert[1]) or advert[1] == os.getpid():
        return None
    return catalog.served_by(path, advert[1]) or "?"


def shutdown(home: str | Path | None = None, *, engine: Engine | str | None = None) -> bool:
    """Stop the workspace's server process(es) (another process than this one); True if any."""
    from . import launcher

    path = _home(home)
    engines = (_engine(engine),) if engine else tuple(Engine)
    stopped = [launcher.shutdown(path, e) for e in engines]
    return any(stopped)
