"""Serve the sandbox with uvicorn: in a daemon thread (kernels) or in the foreground (CLI).

In a kernel the server must stay quiet: no access log, uvicorn's own messages only from
warnings up, and uvicorn does not touch the logging configuration of the notebook.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


def _config(app, *, verbose: bool = False):
    import uvicorn

    return uvicorn.Config(
        app,
        log_config=None,  # leave the host's logging alone (notebooks)
        log_level="info" if verbose else "warning",
        access_log=verbose,
        lifespan="off",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
    )


def bind(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A listening socket; port 0 picks a free port (no clash between users of one host)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit TCP_NODELAY (Linux, macOS). Without it a keep-alive client
    # (the SDK) waits ~40 ms per response: Nagle's algorithm meets the client's delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class Running:
    """A server started in this process."""

    url: str  # ends with /v1
    home: Path
    server: object
    thread: threading.Thread
    sock: socket.socket

    def alive(self) -> bool:
        return self.thread.is_alive() and not getattr(self.server, "should_exit", True)

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True  # type: ignore[attr-defined]
        self.thread.join(timeout)
        with contextlib.suppress(OSError):
            self.sock.close()


def serve_in_thread(home: Path, *, timeout: float = 15.0, engine: str = "simulated") -> Running:
    """Start uvicorn on a free loopback port in a daemon thread; return once it accepts requests."""
    import uvicorn

    from .app import create_app

    sock = bind()
    port = sock.getsockname()[1]
    server = uvicorn.Server(_config(create_app(home, engine=engine)))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # pragma: no cover - reported to start()
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"atelier-sandbox-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if errors or not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            reason = f" ({errors[0]!r})" if errors else ""
            raise RuntimeError(f"Le bac à sable n'a pas pu démarrer{reason}.")
        time.sleep(0.005)
    return Running(f"http://{LOOPBACK}:{port}/v1", home, server, thread, sock)


def serve_forever(
    home: Path,
    host: str = LOOPBACK,
    port: int = 8765,
    *,
    verbose: bool = False,
    announce=print,
    engine: str = "simulated",
) -> None:
    """Foreground server for `python -m helpers.sandbox` (Ctrl+C stops it)."""
    import uvicorn

    from .app import create_app

    sock = bind(host, port)
    port = sock.getsockname()[1]
    server = uvicorn.Server(_config(create_app(home, engine=engine), verbose=verbose))
    shown = LOOPBACK if host in ("0.0.0.0", "") else host
    announce(
        f"🧪 Bac à sable prêt : http://{shown}:{port}/v1  (espace de travail : {home}). Ctrl+C pour arrêter."
    )
    server.run(sockets=[sock])
