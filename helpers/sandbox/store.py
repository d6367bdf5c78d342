"""SQLite storage of the sandbox: files and jobs, shared by every process opening the workspace.

- One database file per workspace (`sandbox.sqlite3`), opened by any number of server
  instances (kernels, `python -m helpers.sandbox`) at once.
- A busy timeout, and WAL journaling only where the filesystem supports it (network home
  folders on hubs often do not: there we keep SQLite's default rollback journal).
- Every state change is one transaction (`BEGIN IMMEDIATE`), so a `kill -9` loses nothing
  that was acknowledged.
- Only the inputs of a job are stored (request, validation outcome, plan). Its progress,
  events and checkpoints are computed from those and the clock (see `engine.py`), so all
  instances agree and nothing is ever emitted twice. The only thing written when a job ends
  is its results file, with an id derived from the job id (`INSERT OR IGNORE`): idempotent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import string
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DB_NAME = "sandbox.sqlite3"
BUSY_TIMEOUT_MS = 30_000
SCHEMA_VERSION = 1
_ALPHABET = string.ascii_letters + string.digits
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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    filename TEXT NOT NULL,
    purpose TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    model TEXT NOT NULL,
    spec TEXT NOT NULL,          -- the request, normalized (JSON)
    plan TEXT NOT NULL,          -- validation outcome, resolved hyperparameters, metrics (JSON)
    corpus TEXT NOT NULL,        -- prompts and replies the small model is fitted on (JSON)
    speed REAL NOT NULL,
    end_at REAL NOT NULL,        -- when the job fails or succeeds (if not cancelled before)
    outcome TEXT NOT NULL,       -- 'succeeded' or 'failed' (decided at creation)
    ft_model TEXT,               -- the fine-tuned model name (NULL for failing jobs)
    cancelled_at REAL,
    settled INTEGER NOT NULL DEFAULT 0   -- results file written / nothing more to write
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (settled, end_at);
CREATE INDEX IF NOT EXISTS jobs_ft_model ON jobs (ft_model);
"""


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def derived_id(prefix: str, *parts: object, length: int = 24) -> str:
    """A deterministic id: the same parts give the same id in every process."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()  # 32 bytes: length ≤ 32
    return prefix + "".join([_ALPHABET[b % 62] for b in digest[:length]])


@dataclass(frozen=True)
class FileRow:
    id: str
    created_at: int
    filename: str
    purpose: str
    bytes: int


@dataclass(frozen=True)
class JobRow:
    id: str
    created_at: float
    model: str
    spec: dict[str, Any]
    plan: dict[str, Any]
    speed: float
    end_at: float
    outcome: str
    ft_model: str | None
    cancelled_at: float | None
    settled: bool


_FILE_COLUMNS = "id, created_at, filename, purpose, bytes"
_JOB_COLUMNS = (
    "id, created_at, model, spec, plan, speed, end_at, outcome, ft_model, cancelled_at, settled"
)


def _file(row: tuple) -> FileRow:
    return FileRow(*row)


def _job(row: tuple) -> JobRow:
    return JobRow(
        row[0],
        row[1],
        row[2],
        json.loads(row[3]),
        json.loads(row[4]),
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        bool(row[10]),
    )


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
    forced = os.environ.get("ATELIER_SANDBOX_WAL", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    fstype = _filesystem_type(folder)
    return fstype is None or fstype.lower() not in _NO_WAL_FS


class Store:
    """Thread-safe access to one workspace's database (one connection per thread)."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.path = self.home / DB_NAME
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.wal = False
        conn = self._conn()
        if wal_supported(self.home):
            try:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                self.wal = str(mode).lower() == "wal"
            except sqlite3.OperationalError:  # e.g. locked by another instance: keep its mode
                self.wal = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
        with self.transaction() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)
            c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # -- connections and transactions -----------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
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

    def transaction(self) -> _Transaction:
        return _Transaction(self._conn())

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- files ------------------------------------------------------------------------------

    def add_file(
        self, filename: str, purpose: str, content: bytes, now: float, file_id: str | None = None
    ) -> FileRow:
        row = FileRow(file_id or random_id("file-", 22), int(now), filename, purpose, len(content))
        with self.transaction() as c:
            c.execute(
                "INSERT OR IGNORE INTO files (id, created_at, filename, purpose, bytes, content) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (row.id, row.created_at, row.filename, row.purpose, row.bytes, content),
            )
        return row

    def get_file(self, file_id: str) -> FileRow | None:
        row = (
            self._conn()
            .execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE id = ?", (file_id,))
            .fetchone()
        )
        return _file(row) if row else None

    def file_content(self, file_id: str) -> bytes | None:
        row = self._conn().execute("SELECT content FROM files WHERE id = ?", (file_id,)).fetchone()
        return bytes(row[0]) if row else None

    def list_files(
        self,
        *,
        purpose: str | None = None,
        after: str | None = None,
        limit: int = 10_000,
        order: str = "desc",
    ) -> tuple[list[FileRow], bool]:
        where, args = [], []
        if purpose:
            where.append("purpose = ?")
            args.append(purpose)
        op = "<" if order == "desc" else ">"
        if after:
            where.append(
                f"seq {op} COALESCE((SELECT seq FROM files WHERE id = ?), {'-1' if op == '<' else '1e18'})"
            )
            args.append(after)
        sql = f"SELECT {_FILE_COLUMNS} FROM files"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY seq {'DESC' if order == 'desc' else 'ASC'} LIMIT ?"
        rows = self._conn().execute(sql, (*args, limit + 1)).fetchall()
        return [_file(r) for r in rows[:limit]], len(rows) > limit

    def delete_file(self, file_id: str) -> bool:
        with self.transaction() as c:
            return c.execute("DELETE FROM files WHERE id = ?", (file_id,)).rowcount > 0

    # -- jobs -------------------------------------------------------------------------------

    def add_job(self, job: JobRow, corpus: dict[str, Any]) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO jobs (id, created_at, model, spec, plan, corpus, speed, end_at, outcome, ft_model) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job.id,
                    job.created_at,
                    job.model,
                    json.dumps(job.spec),
                    json.dumps(job.plan),
                    json.dumps(corpus, ensure_ascii=False),
                    job.speed,
                    job.end_at,
                    job.outcome,
                    job.ft_model,
                ),
            )

    def get_job(self, job_id: str) -> JobRow | None:
        row = (
            self._conn()
            .execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
            .fetchone()
        )
        return _job(row) if row else None

    def list_jobs(self, *, after: str | None = None, limit: int = 20) -> tuple[list[JobRow], bool]:
        sql, args = f"SELECT {_JOB_COLUMNS} FROM jobs", []
        if after:
            sql += " WHERE seq < COALESCE((SELECT seq FROM jobs WHERE id = ?), -1)"
            args.append(after)
        sql += " ORDER BY seq DESC LIMIT ?"
        rows = self._conn().execute(sql, (*args, limit + 1)).fetchall()
        return [_job(r) for r in rows[:limit]], len(rows) > limit

    def job_by_model(self, ft_model: str) -> JobRow | None:
        row = (
            self._conn()
            .execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE ft_model = ?", (ft_model,))
            .fetchone()
        )
        return _job(row) if row else None

    def corpus(self, job_id: str) -> dict[str, Any]:
        row = self._conn().execute("SELECT corpus FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else {}

    def succeeded_jobs(self, now: float) -> list[JobRow]:
        rows = (
            self._conn()
            .execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE outcome = 'succeeded' AND end_at <= ? "
                "AND (cancelled_at IS NULL OR cancelled_at >= end_at) ORDER BY seq",
                (now,),
            )
            .fetchall()
        )
        return [_job(r) for r in rows]

    def cancel_job(self, job_id: str, now: float) -> bool:
        """Cancel a job that has not ended by `now`. False if it had already ended."""
        with self.transaction() as c:
            return (
                c.execute(
                    "UPDATE jobs SET cancelled_at = ?, settled = 1 "
                    "WHERE id = ? AND cancelled_at IS NULL AND end_at > ?",
                    (now, job_id, now),
                ).rowcount
                > 0
            )

    def due_settlements(self, now: float) -> list[JobRow]:
        rows = (
            self._conn()
            .execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE settled = 0 AND end_at <= ?", (now,))
            .fetchall()
        )
        return [_job(r) for r in rows]

    def settle(self, job_id: str, results: tuple[str, str, bytes, float] | None) -> None:
        """Write a finished job's results file (id, filename, content, created_at) once."""
        with self.transaction() as c:
            if c.execute("SELECT settled FROM jobs WHERE id = ?", (job_id,)).fetchone() != (0,):
                return
            if results is not None:
                file_id, filename, content, created_at = results
                c.execute(
                    "INSERT OR IGNORE INTO files (id, created_at, filename, purpose, bytes, content) "
                    "VALUES (?, ?, ?, 'fine-tune-results', ?, ?)",
                    (file_id, int(created_at), filename, len(content), content),
                )
            c.execute("UPDATE jobs SET settled = 1 WHERE id = ?", (job_id,))


class _Transaction:
    """`BEGIN IMMEDIATE` … `COMMIT` (or `ROLLBACK` on error): one state change, all or nothing."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
