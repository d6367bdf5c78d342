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

__all__ = ["start", "stop", "running", "find_running", "reuse_running_servers"]

_lock = threading.Lock()
_servers: dict[tuple[int, str, str], object] = {}
# Short-lived processes (the command line) may use a server another process of the same
# workspace already runs, instead of starting (and warming up) their own.
_reuse_others = False


def _key(home: Path, engine: str = "simulated") -> tuple[int, str, str]:
    return os.getpid(), str(home), engine


def _home(home: str | Path | None) -> Path:
    from .. import settings

    path = Path(home).expanduser() if home is not None else settings.workspace_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def start(home: str | Path | None = None, *, engine: str = "simulated") -> str:
    """Start (once per process and workspace) the sandbox server; return its base URL (…/v1)."""
    if engine not in ("simulated", "local"):
        raise ValueError(f"unknown sandbox engine: {engine!r}")
    path = _home(home)
    with _lock:
        running = _servers.get(_key(path, engine))
        if running is not None and running.alive():  # type: ignore[attr-defined]
            return running.url  # type: ignore[attr-defined]
        if _reuse_others and (url := find_running(path, engine=engine)):
            return url
        from .server import serve_in_thread

        running = serve_in_thread(path, engine=engine)
        _servers[_key(path, engine)] = running
        _advertise(path, engine, running.url)  # type: ignore[attr-defined]
        if engine == "simulated" and _people_are_waiting():
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
        import sklearn.feature_extraction.text  # noqa: F401

        from .. import models, tokens

        tokens.encoding_for(models.DEFAULT_MODEL)
    except Exception:  # a warm-up only: the request that needs it will report any problem
        pass


def running(home: str | Path | None = None, *, engine: str = "simulated") -> str | None:
    """The URL of this process's server for `home` (None if not started)."""
    server = _servers.get(_key(_home(home), engine))
    return server.url if server is not None and server.alive() else None  # type: ignore[attr-defined]


def stop(home: str | Path | None = None) -> None:
    """Stop this process's server(s) for `home`, whatever the engine (every server of this process if None)."""
    with _lock:
        where = None if home is None else str(_home(home))
        keys = [k for k in _servers if k[0] == os.getpid() and where in (None, k[1])]
        for key in keys:
            server = _servers.pop(key, None)
            if server is not None:
                server.stop()  # type: ignore[attr-defined]
                _withdraw(Path(key[1]), key[2])


def reuse_running_servers() -> None:
    """From now on, in this process, `start()` uses a live server of the same workspace that
    another process advertises (e.g. the notebook's kernel) before starting its own."""
    global _reuse_others
    _reuse_others = True


def _advert(home: Path, engine: str) -> Path:
    return home / f"sandbox-{engine}.json"


def _advertise(home: Path, engine: str, url: str) -> None:
    import json

    try:
        tmp = _advert(home, engine).with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
        os.replace(tmp, _advert(home, engine))
    except OSError:  # read-only workspace: other processes simply start their own server
        pass


def _withdraw(home: Path, engine: str) -> None:
    import json

    path = _advert(home, engine)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def find_running(home: str | Path | None = None, *, engine: str = "simulated") -> str | None:
    """The URL of a live server that a process of this workspace advertises, or None."""
    import json
    import urllib.error
    import urllib.request

    path = _home(home)
    try:
        advert = json.loads(_advert(path, engine).read_text(encoding="utf-8"))
        url, pid = str(advert["url"]), int(advert["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid():
        return running(path, engine=engine)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except OSError:  # alive, owned by someone else (or no permission to signal): ask it
        pass
    if not url.startswith("http://127.0.0.1:"):
        return None
    request = urllib.request.Request(f"{url}/models", headers={"Authorization": "Bearer sandbox"})
    try:
        with urllib.request.urlopen(request, timeout=1.0) as answer:  # noqa: S310 - loopback only
            return url if answer.status == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None
