"""Where the workspace's kit server answers, and what a kernel asks it besides the API.

Standard library only, low in the layers: `helpers.sandbox.launcher` (which starts the
server) and `helpers.tokens` (which counts tokens through it in a kernel) both use it.

- A serving process writes `<workspace>/sandbox-<engine>.json` (`url`, `pid`) once its port
  is bound and removes it when it stops. A server is running when its advert names a live
  pid and its loopback URL answers.
- `RemoteLengths`: exact token lengths counted by that server (`POST /kit/tokens`), so that a
  notebook's kernel never loads an encoding of its own (≈ 45 MB per kernel).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .fileio import write_atomic

TOKENS_PATH = "/kit/tokens"


def advert_path(home: Path, engine: str) -> Path:
    return home / f"sandbox-{engine}.json"


def advertise(home: Path, engine: str, url: str, pid: int | None = None) -> None:
    """Tell the workspace's other processes where this server answers."""
    pid = os.getpid() if pid is None else pid
    # A read-only workspace: other processes simply start their own server.
    with contextlib.suppress(OSError):
        write_atomic(advert_path(home, engine), json.dumps({"url": url, "pid": pid}))


def withdraw(home: Path, engine: str, pid: int | None = None) -> None:
    """Remove the advert if it is still this process's (`pid`)."""
    pid = os.getpid() if pid is None else pid
    path = advert_path(home, engine)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def read_advert(home: Path, engine: str) -> tuple[str, int] | None:
    try:
        advert = json.loads(advert_path(home, engine).read_text(encoding="utf-8"))
        return str(advert["url"]), int(advert["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs. A zombie (exited, not yet reaped by its parent: a server
    whose starter has gone waits for the container's init) holds nothing: it counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, owned by someone else (or no permission to signal)
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):  # no /proc (macOS, Windows): signal 0 answered
        return True
    return state != b"Z"


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether a kit server answers at this loopback URL (…/v1)."""
    if not url.startswith("http://127.0.0.1:"):
        return False
    request = urllib.request.Request(f"{url}/models", headers={"Authorization": "Bearer sandbox"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - loopback only
            return answer.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def find_other(home: Path, engine: str) -> str | None:
    """The URL of a live server that another process of this workspace advertises."""
    advert = read_advert(home, engine)
    if advert is None:
        return None
    url, pid = advert
    if pid == os.getpid() or not pid_alive(pid):
        return None
    return url if answers(url) else None


class RemoteLengths:
    """`length(text)` and `length.many(texts)`: token lengths counted by the kit server at
    `url` (…/v1) with the encoding `name`. Raises OSError when the server cannot be reached."""

    def __init__(self, url: str, name: str, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.name = name
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def __call__(self, text: str) -> int:
        return self.many([text])[0]

    def many(self, texts: list[str]) -> list[int]:
        body = json.dumps({"encoding": self.name, "texts": list(texts)}).encode()
        with self._lock:
            for attempt in (0, 1):  # a kept-alive connection the server closed: once more
                if self._conn is None:
                    self._conn = http.client.HTTPConnection(
                        self.host, self.port, timeout=self.timeout
                    )
                try:
                    self._conn.request(
                        "POST", TOKENS_PATH, body, {"Content-Type": "application/json"}
                    )
                    answer = self._conn.getresponse()
                    data = answer.read()
                except (OSError, http.client.HTTPException) as err:
                    self._conn.close()
                    self._conn = None
                    if attempt:
                        raise OSError(f"kit server unreachable: {err!r}") from err
                    continue
                if answer.status != 200:
                    raise OSError(f"kit server answered {answer.status} to {TOKENS_PATH}")
                lengths = json.loads(data)["lengths"]
                if len(lengths) != len(texts):
                    raise OSError("kit server answered a wrong number of lengths")
                return lengths
        raise OSError("kit server unreachable")  # pragma: no cover
