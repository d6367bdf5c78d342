"""Where the workspace's kit server answers, and what a kernel asks it besides the API.

Standard library only, low in the layers: `helpers.kit_server.launcher` (which starts the
server) and `helpers.tokens` (which counts tokens through it in a kernel) both use it.

- A serving process writes `<workspace>/sandbox-<engine>.json` (`url`, `pid`) once its port
  is bound and removes it when it stops. A server is running when its advert names a live
  pid and its loopback URL answers.
- **The workspace's key** (`workspace_key`): `<workspace>/kit-server.key`, created on first use
  with owner-only permissions. The workspace's kit server refuses every request that does not
  carry it (`Authorization: Bearer <key>`, or the `X-Atelier-Kit-Key` header beside another
  key): on a shared host (a hub, a lab machine) every user shares the loopback, and another
  user who finds the port must not read or delete a learner's work. The kit's clients send it
  (`helpers.client`, `answers`, `RemoteLengths`); a learner never sees it.
- `RemoteLengths`: exact token lengths counted by that server (`POST /kit/tokens`), so that a
  notebook's kernel never loads an encoding of its own (≈ 45 MB per kernel).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import stat
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .fileio import write_atomic

TOKENS_PATH = "/kit/tokens"
#: The biggest body `POST /kit/tokens` accepts (413 beyond): `RemoteLengths` sends smaller batches.
TOKENS_MAX_BODY = 16 * 1024 * 1024
KEY_NAME = "kit-server.key"
KEY_HEADER = "X-Atelier-Kit-Key"
_KEY_PREFIX = "atelier-kit-"
_KEY_RE = re.compile(r"atelier-kit-[A-Za-z0-9_-]{43}")


def key_path(home: Path) -> Path:
    return Path(home) / KEY_NAME


def workspace_key(home: Path) -> str:
    """The workspace's own key (created on first use, owner-only): see the module docstring.

    A key file that is not a regular file of this user, or that others could read, is
    replaced: a key another user could read or chose is no key."""
    path = key_path(home)
    found, key = _read_key(path)
    if found == "ok":
        return key
    new = _KEY_PREFIX + secrets.token_urlsafe(32)
    tmp = path.with_name(f".{KEY_NAME}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(new + "\n")
        if found == "missing":
            try:
                os.link(tmp, path)  # at most one key: two processes creating it agree
                return new
            except FileExistsError:  # another process made it first: theirs
                found, key = _read_key(path)
                if found == "ok":
                    return key
            except OSError:  # a file system without hard links
                pass
        os.replace(tmp, path)  # never written through a link: the link itself is replaced
        return new
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _read_key(path: Path) -> tuple[str, str]:
    """("ok", key) for a regular file of this user holding a key that nobody else can read;
    ("missing", "") when there is none; ("unusable", "") for anything else. A key others could
    read is unusable, unless its file system cannot keep permissions at all (a FAT USB stick):
    there no key file could do better, and it is kept."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return "missing", ""
    except OSError:  # a symbolic link (ELOOP), unreadable
        return "unusable", ""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "unusable", ""
        if os.name == "posix" and info.st_uid != os.getuid():
            return "unusable", ""
        text = os.read(fd, 256).decode("ascii", "replace").strip()
        if not _KEY_RE.fullmatch(text):
            return "unusable", ""
        if os.name == "posix" and info.st_mode & 0o077:
            try:
                os.fchmod(fd, 0o600)
            except OSError:
                return "ok", text
            if os.fstat(fd).st_mode & 0o077 == 0:
                return "unusable", ""  # it could be read by others: a new key
    finally:
        os.close(fd)
    return "ok", text


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


def answers(url: str, key: str, timeout: float = 1.0) -> bool:
    """Whether the kit server of the workspace whose key is `key` answers at this loopback URL
    (…/v1): a server of another workspace (or another user) refuses the key."""
    if not url.startswith("http://127.0.0.1:"):
        return False
    request = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {key}"})
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
    try:
        key = workspace_key(home)
    except OSError:
        return None
    return url if answers(url, key) else None


class RemoteLengths:
    """`length(text)` and `length.many(texts)`: token lengths counted by the kit server at
    `url` (…/v1, the workspace's key `key`) with the encoding `name`. Raises OSError when the
    server cannot be reached or refuses (then the caller counts by itself)."""

    def __init__(self, url: str, name: str, key: str, timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.name = name
        self.key = key
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def __call__(self, text: str) -> int:
        return self.many([text])[0]

    def many(self, texts: list[str]) -> list[int]:
        """Lengths of `texts`, in requests under `TOKENS_MAX_BODY` (a single text too big for
        one request raises OSError: the caller counts by itself)."""
        lengths: list[int] = []
        batch: list[str] = []
        size = 0
        for text in texts:
            one = 12 * len(text) + 3  # its JSON at most (an astral character: 2 × \\uXXXX)
            if batch and size + one > TOKENS_MAX_BODY - 256:
                lengths += self._send(batch)
                batch, size = [], 0
            batch.append(text)
            size += one
        if batch or not texts:
            lengths += self._send(batch)
        return lengths

    def _send(self, texts: list[str]) -> list[int]:
        body = json.dumps({"encoding": self.name, "texts": texts}).encode()
        if len(body) > TOKENS_MAX_BODY:
            raise OSError("text too long for one request to the kit server")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}
        with self._lock:
            for attempt in (0, 1):  # a kept-alive connection the server closed: once more
                if self._conn is None:
                    self._conn = http.client.HTTPConnection(
                        self.host, self.port, timeout=self.timeout
                    )
                try:
                    self._conn.request("POST", TOKENS_PATH, body, headers)
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
