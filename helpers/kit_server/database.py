"""The workspace's SQLite database, shared by every process and engine that opens it.

- One file per workspace (`sandbox.sqlite3`), opened by any number of server instances at once.
- A busy timeout, and WAL journaling only where the filesystem supports it (network home
  folders on hubs often do not: there SQLite's default rollback journal stays).
- Every state change is one transaction (`BEGIN IMMEDIATE`), so a `kill -9` loses nothing
  that was acknowledged.
Each user of the database (the file service, the simulated engine) brings its own tables.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from ..exceptions import DamagedFileError
from ..fileio import set_aside as _set_aside_file
from ..i18n import _

DB_NAME = "sandbox.sqlite3"
#: Files SQLite keeps beside a database: set aside with it (a journal replayed into another
#: database would damage it too).
COMPANIONS = ("-wal", "-shm", "-journal")
BUSY_TIMEOUT_MS = 30_000
# Filesystems on which SQLite's WAL (shared memory) is unsafe or unsupported.
_NO_WAL_FS = {
    "nfs",
    "nfs4",
    "cifs",
    "smb",
    "smb2",
    "smb3",
    "smbfs",
    "9p",
    "afs",
    "lustre",
    "gpfs",
    "fuse.sshfs",
    "fuse.s3fs",
    "fuse.gcsfuse",
    "fuse.rclone",
    "fuse.drivefs",
    "ceph",
}


def _filesystem_type(path: Path) -> str | None:
    """The type of the filesystem holding `path` (Linux: /proc/self/mounts), or None."""
    try:
        mounts = (
            Path("/proc/self/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
        )
    except OSError:
        return None
    best, fstype = "", None
    target = str(path.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, fstype = point, parts[2]
    return fstype


def wal_supported(folder: Path) -> bool:
    """WAL needs shared memory that network filesystems do not provide reliably.

    `ATELIER_SANDBOX_WAL=0|1` overrides the guess.
    """
    from .. import settings

    forced = settings.current().sandbox_wal
    if forced is not None:
        return forced
    fstype = _filesystem_type(folder)
    return fstype is None or fstype.lower() not in _NO_WAL_FS


def damaged(exc: BaseException) -> bool:
    """Whether a SQLite error means the file is not, or no longer, a readable database."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)  # Python ≥ 3.11
    if code is not None and code & 0xFF in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
        return True
    text = str(exc).lower()
    return any(t in text for t in ("file is not a database", "malformed", "file is encrypted"))


def damaged_error(path: Path) -> DamagedFileError:
    """The French diagnosis of a damaged database file (the fix: doctor --repair)."""
    return DamagedFileError(
        path,
        _("la base de données du bac à sable"),
        _("SQLite ne peut plus le lire"),
        after=_(
            " ; le bac à sable repart d'une base neuve et les notebooks refont d'eux-mêmes "
            "les étapes d'avant"
        ),
    )


def check(home: Path, name: str = DB_NAME) -> DamagedFileError | None:
    """The damage of the workspace's database, if any (read only: nothing is changed)."""
    path = Path(home) / name
    if not path.exists():
        return None
    if not path.is_file():
        return DamagedFileError(
            path, _("la base de données du bac à sable"), _("ce n'est pas un fichier")
        )
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:  # locked by a writer, unreadable folder: not damage
        if damaged(exc):
            return damaged_error(path)
        return None
    except sqlite3.DatabaseError:
        return damaged_error(path)
    if rows != [("ok",)]:
        return damaged_error(path)
    return None


def set_aside(home: Path, name: str = DB_NAME) -> list[Path]:
    """Rename the workspace's database and its journals beside them (never deleted)."""
    path = Path(home) / name
    moved = []
    for suffix in ("", *COMPANIONS):
        part = path.with_name(name + suffix)
        if part.exists() or part.is_symlink():
            moved.append(_set_aside_file(part))
    return moved


class Database:
    """Thread-safe access to one workspace's database (one connection per thread)."""

    def __init__(self, home: Path, name: str = DB_NAME) -> None:
        self.home = Path(home)
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = self.home / name
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.wal = False
        conn = self.conn()
        if wal_supported(self.home):
            try:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                self.wal = str(mode).lower() == "wal"
            except sqlite3.OperationalError:  # e.g. locked by another instance: keep its mode
                self.wal = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"

    def create(self, schema: str) -> None:
        """Create tables and indexes (`CREATE … IF NOT EXISTS` statements) in one transaction."""
        with self.transaction() as c:
            for statement in schema.split(";"):
                if statement.strip():
                    c.execute(statement)

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def transaction(self) -> Transaction:
        return Transaction(self.conn())

    def used_bytes(self) -> int:
        """What the database's content weighs: its pages in use (freed pages, which SQLite
        reuses, are not counted), read in constant time (a class's storage quota)."""
        c = self.conn()
        pages = c.execute("PRAGMA page_count").fetchone()[0]
        free = c.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * c.execute("PRAGMA page_size").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()


class Transaction:
    """`BEGIN IMMEDIATE` … `COMMIT` (or `ROLLBACK` on error): one state change, all or nothing."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
