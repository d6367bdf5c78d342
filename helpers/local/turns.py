"""Turns for one GPU shared by a class: which student's worker may train now.

In class mode every student has a workspace and a worker of their own (`worker.py`), and a
worker trains its student's jobs one after the other. On a class server with one GPU, the
workers also take turns class-wide: before training, a worker asks for a turn
(`Turns.wait`), first come first served, at most `ATELIER_CLASS_SLOTS` at once (default 1).
Since a worker asks for its student's next job only once the previous one is done, no
student ever waits behind another student's second job.

The class server names the turns database in `ATELIER_CLASS_TURNS` (its workers inherit it);
without it, a worker trains as soon as it has a job (a learner's own machine).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from .. import settings

TURNS_VAR = settings.Settings.variable("class_turns")
SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    job_id TEXT PRIMARY KEY,
    student TEXT NOT NULL,
    asked_at REAL NOT NULL,
    started_at REAL,
    pid INTEGER NOT NULL
)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class Turns:
    def __init__(self, path: str | Path, slots: int = 1) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.slots = max(1, slots)
        with self._connect() as c:
            c.execute(SCHEMA)

    @classmethod
    def from_env(cls) -> Turns | None:
        now = settings.current()
        if now.class_turns is None:
            return None
        return cls(now.class_turns, now.class_slots)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def _try(self, job_id: str) -> bool:
        """In one transaction: forget turns of dead workers; start mine if it is my turn."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            for other, pid in conn.execute("SELECT job_id, pid FROM turns").fetchall():
                if not _alive(pid):
                    conn.execute("DELETE FROM turns WHERE job_id = ?", (other,))
            training = conn.execute(
                "SELECT COUNT(*) FROM turns WHERE started_at IS NOT NULL"
            ).fetchone()[0]
            # First come first served in the order the turns were asked (rowid: insertion
            # order, which the clock cannot reorder: two workers reading time.time() then
            # inserting could).
            first = conn.execute(
                "SELECT job_id FROM turns WHERE started_at IS NULL ORDER BY rowid LIMIT ?",
                (max(0, self.slots - training),),
            ).fetchall()
            mine = job_id in {row[0] for row in first}
            if mine:
                conn.execute(
                    "UPDATE turns SET started_at = ? WHERE job_id = ?", (time.time(), job_id)
                )
            conn.execute("COMMIT")
            return mine
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def wait(
        self,
        job_id: str,
        student: str,
        *,
        cancelled: Callable[[], bool] = lambda: False,
        poll: float = 0.2,
    ) -> bool:
        """Block until this job may train (True), or until it is cancelled (False)."""
        with self._connect() as c:
            c.execute(
                "INSERT OR IGNORE INTO turns (job_id, student, asked_at, pid) VALUES (?, ?, ?, ?)",
                (job_id, student, time.time(), os.getpid()),
            )
        while not self._try(job_id):
            if cancelled():
                self.done(job_id)
                return False
            time.sleep(poll)
        return True

    def done(self, job_id: str) -> None:
        with self._connect() as c:
            c.execute("DELETE FROM turns WHERE job_id = ?", (job_id,))

    def waiting(self) -> list[tuple[str, str, bool]]:
        """(student, job id, training now) in turn order: for the teacher's page."""
        with self._connect() as c:
            rows = c.execute(
                "SELECT student, job_id, started_at IS NOT NULL FROM turns "
                "ORDER BY started_at IS NULL, rowid"
            ).fetchall()
        return [(s, j, bool(t)) for s, j, t in rows]
