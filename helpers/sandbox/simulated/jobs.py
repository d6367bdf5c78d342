"""The simulated engine's jobs table: only the inputs of each job are stored.

A job's request, validation outcome and plan are written once, at creation. Its progress,
events and checkpoints are computed from those and the clock (`timeline.py`). The only
things written later are a cancellation and, once it ends, its results file (through the
file service, with an id derived from the job id: idempotent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..database import Database

SCHEMA = """
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
_COLUMNS = (
    "id, created_at, model, spec, plan, speed, end_at, outcome, ft_model, cancelled_at, settled"
)


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


class JobStore:
    """The simulated jobs of one workspace."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    def _select(self, where: str, args: tuple = ()) -> list[JobRow]:
        sql = f"SELECT {_COLUMNS} FROM jobs {where}"
        return [_job(r) for r in self.db.conn().execute(sql, args).fetchall()]

    def add(self, job: JobRow, corpus: dict[str, Any]) -> None:
        with self.db.transaction() as c:
            c.execute(
                "INSERT INTO jobs (id, created_at, model, spec, plan, corpus, speed, end_at, "
                "outcome, ft_model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

    def get(self, job_id: str) -> JobRow | None:
        rows = self._select("WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def list(self, *, after: str | None = None, limit: int = 20) -> tuple[list[JobRow], bool]:
        where, args = "", ()
        if after:
            where, args = "WHERE seq < COALESCE((SELECT seq FROM jobs WHERE id = ?), -1)", (after,)
        rows = self._select(f"{where} ORDER BY seq DESC LIMIT ?", (*args, limit + 1))
        return rows[:limit], len(rows) > limit

    def by_model(self, ft_model: str) -> JobRow | None:
        rows = self._select("WHERE ft_model = ?", (ft_model,))
        return rows[0] if rows else None

    def corpus(self, job_id: str) -> dict[str, Any]:
        row = self.db.conn().execute("SELECT corpus FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else {}

    def succeeded(self, now: float) -> list[JobRow]:
        return self._select(
            "WHERE outcome = 'succeeded' AND end_at <= ? "
            "AND (cancelled_at IS NULL OR cancelled_at >= end_at) ORDER BY seq",
            (now,),
        )

    def cancel(self, job_id: str, now: float) -> bool:
        """Cancel a job that has not ended by `now`. False if it had already ended."""
        with self.db.transaction() as c:
            changed = c.execute(
                "UPDATE jobs SET cancelled_at = ?, settled = 1 "
                "WHERE id = ? AND cancelled_at IS NULL AND end_at > ?",
                (now, job_id, now),
            ).rowcount
        return changed > 0

    def unsettled(self, now: float) -> list[JobRow]:
        """Jobs that ended by `now` and whose results file is not written yet."""
        return self._select("WHERE settled = 0 AND end_at <= ?", (now,))

    def mark_settled(self, job_id: str) -> None:
        with self.db.transaction() as c:
            c.execute("UPDATE jobs SET settled = 1 WHERE id = ?", (job_id,))
