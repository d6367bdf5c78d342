"""Every server the kit starts cuts a client whose request does not arrive in time (issue 19,
item 8): connections whose headers never finish, or whose body trickles, were kept open
forever (300 of them in bench/attack.py). Normal requests, kept-alive connections, slow
answers and uploads at any reasonable rate are unaffected.

The servers here use short `ReadTimeouts` (half a second) so that the tests stay short; the
defaults are checked to be what every launcher uses.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator

import pytest
from sandboxkit import auth, client, register_key

from helpers import proxy
from helpers.proxy import ReadTimeouts

SHORT = ReadTimeouts(header=0.5, body=0.5, body_min_rate=1000)
#: How long a test waits for the server to close a connection (far above SHORT's timeouts:
#: a connection still open after this is one the server keeps).
PATIENCE = 10.0


@pytest.fixture
def kit_server(workspace) -> Iterator[str]:
    """A kit server of the test's workspace, in a thread, with short read timeouts."""
    from helpers.kit_server import key
    from helpers.kit_server.serving import serve_in_thread

    server = serve_in_thread(workspace, timeouts=SHORT)
    register_key(server.url, key(workspace))
    try:
        yield server.url
    finally:
        server.stop()


def _port(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


def _connect(url: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", _port(url)))
    sock.settimeout(PATIENCE)
    return sock


def _closed(sock: socket.socket) -> bool:
    """Whether the server closed the connection (before PATIENCE), reading what it sent."""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.close()


def _get_models(url: str, conn: http.client.HTTPConnection | None = None) -> int:
    conn = conn or http.client.HTTPConnection("127.0.0.1", _port(url), timeout=PATIENCE)
    conn.request("GET", "/v1/models", headers=auth(url))
    answer = conn.getresponse()
    answer.read()
    return answer.status


def test_headers_that_never_finish_are_cut(kit_server):
    nothing = _connect(kit_server)  # connects, sends nothing
    partial = _connect(kit_server)
    partial.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line, ever
    trickle = _connect(kit_server)
    trickle.sendall(b"GET /v1/models HTTP/1.1\r\n")
    time.sleep(0.3)
    trickle.sendall(b"X-A: 1\r\n")  # bytes keep coming, the headers never end
    assert _closed(nothing) and _closed(partial) and _closed(trickle)


def test_a_body_that_trickles_is_cut_a_steady_one_is_not(kit_server):
    slow = _connect(kit_server)
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {auth(kit_server)['Authorization']}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    )
    slow.sendall(head.encode() + b'{"model":')
    assert _closed(slow)
    body = (
        b'{"model": "gpt-4o-mini-2024-07-18", "messages": [{"role": "user", "content": "'
        + b"a" * 3000
        + b'"}]}'
    )
    steady = _connect(kit_server)
    head = head.replace("100000", str(len(body)))
    steady.sendall(head.encode())
    for i in range(0, len(body), 300):  # 3000 bytes/s for ~1 s: above the 1000 bytes/s floor
        steady.sendall(body[i : i + 300])
        time.sleep(0.1)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += steady.recv(65536)
    steady.close()
    assert answer.startswith(b"HTTP/1.1 200")


def test_normal_requests_kept_alive_connections_and_slow_answers_are_unaffected(kit_server):
    conn = http.client.HTTPConnection("127.0.0.1", _port(kit_server), timeout=PATIENCE)
    assert _get_models(kit_server, conn) == 200
    time.sleep(1.0)  # idle on a kept-alive connection, longer than the header timeout
    assert _get_models(kit_server, conn) == 200
    conn.close()
    # An answer that takes longer than every read timeout: the request had arrived.
    c = client(kit_server, default_headers={"X-Sandbox-Fault": "slow=1.5"}, timeout=PATIENCE)
    assert c.models.list().data
    stream = client(kit_server).chat.completions.create(
        model="gpt-4o-mini-2024-07-18",
        messages=[{"role": "user", "content": "Bonjour"}],
        stream=True,
    )
    assert list(stream)


def test_many_slow_clients_do_not_lock_others_out(kit_server):
    sockets = []
    for _ in range(60):
        sock = _connect(kit_server)
        sock.sendall(b"GET /v1/models HTTP/1.1\r\n")
        sockets.append(sock)
    assert _get_models(kit_server) == 200  # answered while they hang
    assert all(_closed(sock) for sock in sockets)


def test_every_launcher_uses_the_read_timeouts(monkeypatch):
    """The kit server and the class server (`asgi_thread`), the step-8 proxy in a notebook
    (`asgi_thread`) and deployed alone (`python -m helpers.proxy`)."""
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    from helpers import asgi_thread

    protocol = asgi_thread.config(lambda *a: None).http
    assert issubclass(protocol, H11Protocol) and protocol.__name__ == "TimedH11Protocol"
    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    monkeypatch.setenv("ATELIER_PROXY_MODEL", "gpt-4o-mini-2024-07-18")
    assert proxy.main(["--port", "0"]) == 0
    assert seen["http"].__name__ == "TimedH11Protocol"
    defaults = ReadTimeouts()
    assert defaults.header <= 30 and defaults.body <= 60 and defaults.body_min_rate <= 65536
