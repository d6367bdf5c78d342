"""The simulated engine's jobs table: only the inputs of each job are stored.

A job's request, validation outcome and plan are written once, at creation. Its progress,
events and checkpoints are computed from those and the clock (`timeline.py`). The only
things written later are a cancellation, a pause or resume, the furthest point of its
timeline seen so far (`reached`: a clock that goes back never undoes a status) and, once it
ends, its results file (through the file service, with an id derived from the job id:
idempotent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ...database import Database

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
    settled INTEGER NOT NULL DEFAULT 0,  -- results file written / nothing more to write
    pauses TEXT NOT NULL DEFAULT '[]',   -- [[paused_at, resumed_at or null], ...] (JSON)
    model_deleted INTEGER NOT NULL DEFAULT 0,  -- DELETE /v1/models/{fine_tuned_model}
    base_at REAL,                -- when the timeline starts (NULL: created_at)
    reached REAL                 -- the furthest time its status was seen at (NULL: none yet)
);
CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (settled, end_at);
CREATE INDEX IF NOT EXISTS jobs_ft_model ON jobs (ft_model);
"""
_COLUMNS = (
    "id, created_at, model, spec, plan, speed, end_at, outcome, ft_model, cancelled_at, settled, "
    "pauses, model_deleted, base_at, reached"
)
#: Columns added after the first release: added to older workspaces' tables when opened.
_ADDED = {
    "pauses": "TEXT NOT NULL DEFAULT '[]'",
    "model_deleted": "INTEGER NOT NULL DEFAULT 0",
    "base_at": "REAL",
    "reached": "REAL",
}
#: `end_at` of a paused job: it ends when it is resumed.
NEVER = 1e18
#: `end_at` of a job still being validated (its plan is computed in the background).
PENDING_END = 1e15


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
    pauses: tuple[tuple[float, float | None], ...] = ()
    model_deleted: bool = False
    base_at: float | None = None
    reached: float | None = None

    @property
    def planned(self) -> bool:
        """False while the files are being validated (the plan is still `{}`)."""
        return bool(self.plan)

    @property
    def start(self) -> float:
        """Time 0 of the job's timeline (later than `created_at` when validation was slow)."""
        return self.created_at if self.base_at is None else self.base_at


def _job(row: tuple[Any, ...]) -> JobRow:
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
        tuple((p[0], p[1]) for p in json.loads(row[11] or "[]")),
        bool(row[12]),
        row[13],
        row[14],
    )


class JobStore:
    """The simulated jobs of one workspace."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)
        with db.transaction() as c:
            have = {r[1] for r in c.execute("PRAGMA table_info(jobs)").fetchall()}
            for column, kind in _ADDED.items():
                if column not in have:
                    c.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")

    def _select(self, where: str, args: tuple[Any, ...] = ()) -> list[JobRow]:
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
                    json.dumps(corpus),
                    job.speed,
                    job.end_at,
                    job.outcome,
                    job.ft_model,
                ),
            )

    def get(self, job_id: str) -> JobRow | None:
        rows = self._select("WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def all(self) -> list[JobRow]:
        """Every job, newest first."""
        return self._select("ORDER BY seq DESC")

    def page(self, *, after: str | None = None, limit: int = 20) -> tuple[list[JobRow], bool]:
        """Jobs newest first, after the job `after`; and whether more follow."""
        where = ""
        args: tuple[str, ...] = ()
        if after:
            where = "WHERE seq < COALESCE((SELECT seq FROM jobs WHERE id = ?), -1)"
            args = (after,)
        rows = self._select(f"{where} ORDER BY seq DESC LIMIT ?", (*args, limit + 1))
        return rows[:limit], len(rows) > limit

    def by_model(self, ft_model: str) -> JobRow | None:
        rows = self._select("WHERE ft_model = ?", (ft_model,))
        return rows[0] if rows else None

    def corpus(self, job_id: str) -> dict[str, Any]:
        row = self.db.conn().execute("SELECT corpus FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else {}

    def set_plan(
        self,
        job_id: str,
        plan: dict[str, Any],
        corpus: dict[str, Any],
        *,
        base_at: float,
        end_at: float,
        outcome: str,
        ft_model: str | None,
    ) -> bool:
        """Store the plan of a job being validated (False: another process stored it first)."""
        with self.db.transaction() as c:
            changed = c.execute(
                "UPDATE jobs SET plan = ?, corpus = ?, base_at = ?, end_at = ?, outcome = ?, "
                "ft_model = ? WHERE id = ? AND plan = '{}'",
                (
                    json.dumps(plan),
                    json.dumps(corpus),  # ASCII: a lone surrogate in a file stays storable
                    base_at,
                    end_at,
                    outcome,
                    ft_model,
                    job_id,
                ),
            ).rowcount
        return changed > 0

    def succeeded(self, now: float) -> list[JobRow]:
        return self._select(
            "WHERE outcome = 'succeeded' AND end_at <= MAX(?, COALESCE(reached, 0)) "
            "AND model_deleted = 0 AND (cancelled_at IS NULL OR cancelled_at >= end_at) "
            "ORDER BY seq",
            (now,),
        )

    def reach(self, job_id: str, now: float) -> None:
        """Remember that the job was seen at `now` (never moves back)."""
        with self.db.transaction() as c:
            c.execute(
                "UPDATE jobs SET reached = ? WHERE id = ? AND (reached IS NULL OR reached < ?)",
                (now, job_id, now),
            )

    def cancel(self, job_id: str, now: float) -> bool:
        """Cancel a job that has not ended by `now`. False if it had already ended."""
        with self.db.transaction() as c:
            changed = c.execute(
                "UPDATE jobs SET cancelled_at = ?, settled = 1, reached = ? "
                "WHERE id = ? AND cancelled_at IS NULL AND end_at > ?",
                (now, now, job_id, now),
            ).rowcount
        return changed > 0

    def pause(self, job_id: str, now: float) -> bool:
        """Pause a job that has not ended by `now` (it ends when resumed)."""
        with self.db.transaction() as c:
            row = c.execute(
                "SELECT pauses FROM jobs WHERE id = ? AND cancelled_at IS NULL AND end_at > ?",
                (job_id, now),
            ).fetchone()
            pauses = json.loads(row[0]) if row else None
            if pauses is None or (pauses and pauses[-1][1] is None):
                return False
            pauses.append([now, None])
            c.execute(
                "UPDATE jobs SET pauses = ?, end_at = ?, reached = ? WHERE id = ?",
                (json.dumps(pauses), NEVER, now, job_id),
            )
        return True

    def resume(self, job_id: str, now: float, end_at: float) -> bool:
        """Resume a paused job, which now ends at `end_at`."""
        with self.db.transaction() as c:
            row = c.execute(
                "SELECT pauses FROM jobs WHERE id = ? AND cancelled_at IS NULL", (job_id,)
            ).fetchone()
            pauses = json.loads(row[0]) if row else []
            if not pauses or pauses[-1][1] is not None:
                return False
            pauses[-1][1] = now
            c.execute(
                "UPDATE jobs SET pauses = ?, end_at = ?, reached = ? WHERE id = ?",
                (json.dumps(pauses), end_at, now, job_id),
            )
        return True

    def delete_model(self, ft_model: str) -> bool:
        with self.db.transaction() as c:
            return (
                c.execute(
                    "UPDATE jobs SET model_deleted = 1 WHERE ft_model = ? AND model_deleted = 0",
                    (ft_model,),
                ).rowcount
                > 0
            )

    def unsettled(self, now: float) -> list[JobRow]:
        """Jobs that ended by `now` and whose results file is not written yet."""
        return self._select("WHERE settled = 0 AND end_at <= MAX(?, COALESCE(reached, 0))", (now,))

    def mark_settled(self, job_id: str) -> None:
        with self.db.transaction() as c:
            c.execute("UPDATE jobs SET settled = 1 WHERE id = ?", (job_id,))
