"""Serve an ASGI app with uvicorn: in a daemon thread (kernels, tests) or in the foreground.

The one launcher of the kit's servers (the kit server in `helpers.kit_server`, the class server,
the step-8 proxy in `helpers.webdemo`). In a kernel a server must stay quiet: no access log,
uvicorn's own messages only from warnings up, and uvicorn leaves the notebook's logging
configuration alone. Every server cuts a client whose request does not arrive in time
(`helpers.proxy.ReadTimeouts`: the step-8 proxy, deployed alone, holds them; this module takes
them from there).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .proxy import ReadTimeouts

LOOPBACK = "127.0.0.1"


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


def config(app: Any, *, verbose: bool = False, timeouts: ReadTimeouts | None = None) -> Any:
    import uvicorn

    from .proxy import http_protocol

    return uvicorn.Config(
        app,
        log_config=None,  # leave the host's logging alone (notebooks)
        log_level="info" if verbose else "warning",
        access_log=verbose,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
        # The client is the TCP peer: uvicorn's default trusts X-Forwarded-For from 127.0.0.1,
        # so any local caller could pick its address (the step-8 proxy's per-client rate limit
        # reads it; behind a reverse proxy the proxy's own FORWARDED_HOPS setting decides).
        proxy_headers=False,
        http=http_protocol(timeouts),
    )


@dataclass
class Running:
    """A server started in this process's daemon thread."""

    host: str
    port: int
    server: Any
    thread: threading.Thread
    sock: socket.socket

    def alive(self) -> bool:
        return self.thread.is_alive() and not getattr(self.server, "should_exit", True)

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        with contextlib.suppress(OSError):
            self.sock.close()


def serve_in_thread(
    app: Any,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    name: str = "atelier-server",
    timeout: float = 15.0,
    failure: Callable[[str], Exception] = RuntimeError,
    timeouts: ReadTimeouts | None = None,
) -> Running:
    """Start uvicorn in a daemon thread; return once it accepts requests.

    `failure(reason)` builds the exception raised when it does not start in time; `timeouts`
    replaces the default `ReadTimeouts` (tests).
    """
    import uvicorn

    sock = bind(host, port)
    port = sock.getsockname()[1]
    server = uvicorn.Server(config(app, timeouts=timeouts))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"{name}-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if errors or not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise failure(f" ({errors[0]!r})" if errors else "")
        time.sleep(0.005)
    return Running(host, port, server, thread, sock)


def serve_forever(
    app: Any,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    verbose: bool = False,
    announce: Callable[[int], None] | None = None,
) -> None:
    """Serve in the foreground until Ctrl+C; `announce(port)` once the port is bound."""
    import uvicorn

    sock = bind(host, port)
    if announce is not None:
        announce(sock.getsockname()[1])
    uvicorn.Server(config(app, verbose=verbose)).run(sockets=[sock])
