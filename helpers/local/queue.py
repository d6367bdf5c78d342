"""The local engine's job queue: a small SQLite database in the workspace
(`local/queue.sqlite3`) holding the jobs, their events and checkpoints. Any process may
enqueue, read or cancel; only the worker (`helpers.local.worker`) trains. No torch import
here: the web server reads the queue cheaply."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import events as texts

BUSY_TIMEOUT_S = 30.0
TERMINAL = ("succeeded", "failed", "cancelled")
RESULTS_COLUMNS = (
    "step",
    "train_loss",
    "train_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    model TEXT NOT NULL,            -- base model spec: catalog id, hub repo or folder
    request TEXT NOT NULL,          -- hyperparameters, seed, suffix, names (JSON)
    status TEXT NOT NULL,           -- queued | running | succeeded | failed | cancelled
    started_at REAL,
    finished_at REAL,
    estimated_finish REAL,
    hyperparameters TEXT,           -- resolved (JSON), once running
    trained_tokens INTEGER,
    fine_tuned_model TEXT,
    error TEXT,                     -- {"code","message","param"} (JSON) when failed
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    worker_pid INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    level TEXT NOT NULL,
    type TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT
);
CREATE INDEX IF NOT EXISTS events_job ON events (job_id, seq);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    step INTEGER NOT NULL,
    name TEXT NOT NULL,             -- ft:…:ckpt-step-N
    path TEXT NOT NULL,
    metrics TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class LocalJob:
    id: str
    created_at: float
    model: str
    request: dict[str, Any]
    status: str
    started_at: float | None
    finished_at: float | None
    estimated_finish: float | None
    hyperparameters: dict[str, Any] | None
    trained_tokens: int | None
    fine_tuned_model: str | None
    error: dict[str, Any] | None
    cancel_requested: bool
    worker_pid: int | None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class Event:
    seq: int
    job_id: str
    created_at: float
    level: str
    type: str
    message: str
    data: dict[str, Any] | None


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    job_id: str
    created_at: float
    step: int
    name: str
    path: str
    metrics: dict[str, Any]


_JOB_COLUMNS = (
    "id, created_at, model, request, status, started_at, finished_at, estimated_finish, "
    "hyperparameters, trained_tokens, fine_tuned_model, error, cancel_requested, worker_pid"
)


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def _job(row: tuple) -> LocalJob:
    return LocalJob(
        row[0],
        row[1],
        row[2],
        json.loads(row[3]),
        row[4],
        row[5],
        row[6],
        row[7],
        _loads(row[8]),
        row[9],
        row[10],
        _loads(row[11]),
        bool(row[12]),
        row[13],
    )


def local_dir(home: str | Path) -> Path:
    path = Path(home) / "local"
    path.mkdir(parents=True, exist_ok=True)
    return path


class LocalQueue:
    """The queue of local jobs of one workspace (`home`)."""

    def __init__(self, home: str | Path) -> None:
        self.home = Path(home)
        self.dir = local_dir(self.home)
        self.path = self.dir / "queue.sqlite3"
        with self._tx() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)

    @contextlib.contextmanager
    def _connect(self):
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _tx(self):
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def job_dir(self, job_id: str) -> Path:
        return self.dir / "jobs" / job_id

    # -- writing --------------------------------------------------------------------------
    def enqueue(
        self,
        job_id: str,
        *,
        model: str,
        training: bytes,
        validation: bytes | None = None,
        fine_tuned_model: str,
        hyperparameters: dict[str, Any] | None = None,
        seed: int | None = None,
        created_at: float | None = None,
        spec: dict[str, Any] | None = None,
        events: Sequence[tuple[str, str]] = (),
        error: dict[str, Any] | None = None,
    ) -> LocalJob:
        """Queue a validated job. `hyperparameters`: n_epochs, batch_size,
        learning_rate_multiplier, each an int/float or "auto". `spec`: what the API shows
        (file ids, suffix, metadata…). `events`: (level, message) pairs logged first. With
        `error` the job is recorded as failed (validation) and never runs."""
        folder = self.job_dir(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        if error is None:
            (folder / "train.jsonl").write_bytes(training)
            if validation:
                (folder / "valid.jsonl").write_bytes(validation)
        request = {
            "hyperparameters": hyperparameters or {},
            "seed": seed,
            "fine_tuned_model": fine_tuned_model,
            "spec": spec or {},
        }
        now = created_at if created_at is not None else time.time()
        with self._tx() as c:
            c.execute(
                "INSERT OR IGNORE INTO jobs (id, created_at, model, request, status, finished_at, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    now,
                    model,
                    json.dumps(request),
                    "queued" if error is None else "failed",
                    None if error is None else now,
                    None if error is None else json.dumps(error),
                ),
            )
            for level, message in events:
                self.add_event(job_id, message, level=level, conn=c)
        job = self.get(job_id)
        assert job is not None
        return job

    def add_event(
        self,
        job_id: str,
        message: str,
        *,
        level: str = "info",
        type: str = "message",
        data: dict[str, Any] | None = None,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        args = (
            job_id,
            time.time(),
            level,
            type,
            message,
            json.dumps(data) if data is not None else None,
        )
        sql = "INSERT INTO events (job_id, created_at, level, type, message, data) VALUES (?, ?, ?, ?, ?, ?)"
        if conn is not None:
            conn.execute(sql, args)
            return
        with self._tx() as c:
            c.execute(sql, args)

    def cancel(self, job_id: str) -> LocalJob | None:
        """Cancel a queued job at once; ask a running one to stop (the worker confirms)."""
        with self._tx() as c:
            row = c.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            if row[0] == "queued":
                c.execute(
                    "UPDATE jobs SET status = 'cancelled', finished_at = ?, cancel_requested = 1 WHERE id = ?",
                    (time.time(), job_id),
                )
                self.add_event(job_id, texts.CANCELLED, conn=c)
            elif row[0] == "running":
                c.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
        return self.get(job_id)

    # -- reading --------------------------------------------------------------------------
    def get(self, job_id: str) -> LocalJob | None:
        with self._connect() as c:
            row = c.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def jobs(self, status: str | None = None) -> list[LocalJob]:
        sql = (
            f"SELECT {_JOB_COLUMNS} FROM jobs"
            + (" WHERE status = ?" if status else "")
            + " ORDER BY seq"
        )
        with self._connect() as c:
            rows = c.execute(sql, (status,) if status else ()).fetchall()
        return [_job(r) for r in rows]

    def events(self, job_id: str, after_seq: int = 0) -> list[Event]:
        """Oldest first."""
        with self._connect() as c:
            rows = c.execute(
                "SELECT seq, job_id, created_at, level, type, message, data FROM events "
                "WHERE job_id = ? AND seq > ? ORDER BY seq",
                (job_id, after_seq),
            ).fetchall()
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], _loads(r[6])) for r in rows]

    def checkpoints(self, job_id: str) -> list[Checkpoint]:
        """Oldest first (only the kept ones)."""
        with self._connect() as c:
            rows = c.execute(
                "SELECT seq, job_id, created_at, step, name, path, metrics FROM checkpoints "
                "WHERE job_id = ? ORDER BY seq",
                (job_id,),
            ).fetchall()
        return [Checkpoint(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]

    def next_queued(self) -> LocalJob | None:
        """The job `claim` would take next (left queued)."""
        with self._tx() as c:
            row = c.execute(
                "SELECT id FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1"
            ).fetchone()
        return self.get(row[0]) if row else None

    def model_folder(self, name: str) -> Path | None:
        """The folder serving a fine-tuned model or checkpoint name (None: not a local one)."""
        with self._connect() as c:
            row = c.execute(
                "SELECT id FROM jobs WHERE fine_tuned_model = ? AND status = 'succeeded'", (name,)
            ).fetchone()
            if row:
                return self.job_dir(row[0]) / "model"
            row = c.execute("SELECT path FROM checkpoints WHERE name = ?", (name,)).fetchone()
        return Path(row[0]) if row and Path(row[0]).exists() else None

    def fine_tuned_models(self) -> list[tuple[str, float]]:
        """(name, finished_at) of every succeeded job."""
        with self._connect() as c:
            rows = c.execute(
                "SELECT fine_tuned_model, finished_at FROM jobs WHERE status = 'succeeded' "
                "ORDER BY seq"
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def results_csv(self, job_id: str) -> bytes:
        """The real API's results file: one row per step."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(RESULTS_COLUMNS)
        for event in self.events(job_id):
            if event.type != "metrics" or not event.data:
                continue
            d = event.data
            writer.writerow(
                [
                    d.get("step"),
                    _fmt(d.get("train_loss")),
                    _fmt(d.get("train_mean_token_accuracy")),
                    _fmt(d.get("valid_loss")),
                    _fmt(d.get("valid_mean_token_accuracy")),
                ]
            )
        return out.getvalue().encode()


def _fmt(value: Any) -> str:
    return "" if value is None else f"{value:.5f}"
