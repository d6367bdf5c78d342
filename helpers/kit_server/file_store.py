"""The file service: uploads, listing, content and deletion — one for every engine.

Files live in the workspace's database (`files` table). Results files written by an engine
(`fine-tune-results`) are ordinary files with an id derived from the job id, so writing one
twice is harmless (`INSERT OR IGNORE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import errors
from .database import Database
from .ids import random_id

MAX_FILE_BYTES = 512 * 1024 * 1024
PURPOSES = ("fine-tune", "assistants", "batch", "user_data", "vision", "evals")

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    filename TEXT NOT NULL,
    purpose TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    content BLOB NOT NULL
);
"""
_COLUMNS = "id, created_at, filename, purpose, bytes"


@dataclass(frozen=True)
class FileRow:
    id: str
    created_at: int
    filename: str
    purpose: str
    bytes: int


class FileService:
    """Files of one workspace, with the real API's rules and errors."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    # -- the API's operations ---------------------------------------------------------------

    def upload(self, filename: str, purpose: str, content: bytes, now: float) -> FileRow:
        if purpose == "fine-tune" and not filename.lower().endswith(".jsonl"):
            raise errors.bad_request(
                "Invalid file format for Fine-Tuning API. Must be .jsonl", param="file"
            )
        if not content:
            raise errors.bad_request(
                "The file is empty: it must contain at least one line.",
                param="file",
                code="empty_file",
            )
        return self.add(filename, purpose, content, now)

    def get(self, file_id: str) -> FileRow:
        row = (
            self.db.conn()
            .execute(f"SELECT {_COLUMNS} FROM files WHERE id = ?", (file_id,))
            .fetchone()
        )
        if row is None:
            raise errors.not_found("File", file_id)
        return FileRow(*row)

    def content(self, file_id: str) -> bytes:
        row = (
            self.db.conn().execute("SELECT content FROM files WHERE id = ?", (file_id,)).fetchone()
        )
        if row is None:
            raise errors.not_found("File", file_id)
        return bytes(row[0])

    def delete(self, file_id: str) -> dict[str, Any]:
        with self.db.transaction() as c:
            if c.execute("DELETE FROM files WHERE id = ?", (file_id,)).rowcount == 0:
                raise errors.not_found("File", file_id)
        return {"id": file_id, "object": "file", "deleted": True}

    def list(
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
            missing = "-1" if op == "<" else "1e18"
            where.append(f"seq {op} COALESCE((SELECT seq FROM files WHERE id = ?), {missing})")
            args.append(after)
        sql = f"SELECT {_COLUMNS} FROM files"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY seq {'DESC' if order == 'desc' else 'ASC'} LIMIT ?"
        rows = self.db.conn().execute(sql, (*args, limit + 1)).fetchall()
        return [FileRow(*r) for r in rows[:limit]], len(rows) > limit

    def uploaded(self) -> int:
        """How many files were uploaded (results files written by jobs are not counted)."""
        row = (
            self.db.conn()
            .execute("SELECT COUNT(*) FROM files WHERE purpose NOT LIKE '%-results'")
            .fetchone()
        )
        return int(row[0])

    # -- for engines ------------------------------------------------------------------------

    def add(
        self, filename: str, purpose: str, content: bytes, now: float, file_id: str | None = None
    ) -> FileRow:
        """Store a file (an existing `file_id` is left as it is: writing twice is harmless)."""
        row = FileRow(file_id or random_id("file-", 22), int(now), filename, purpose, len(content))
        with self.db.transaction() as c:
            c.execute(
                "INSERT OR IGNORE INTO files (id, created_at, filename, purpose, bytes, content) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (row.id, row.created_at, row.filename, row.purpose, row.bytes, content),
            )
        return row

    def check_training_file(self, file_id: Any, param: str) -> str:
        """A file a job may train or validate on (metadata only), or the real API's 400."""
        if not isinstance(file_id, str) or not file_id:
            raise errors.bad_request(f"invalid {param}: {file_id}", param=param)
        try:
            row = self.get(file_id)
        except errors.ApiError:
            raise errors.bad_request(f"invalid {param}: {file_id}", param=param) from None
        if row.purpose != "fine-tune":
            raise errors.bad_request(
                f"File {file_id} has purpose '{row.purpose}': fine-tuning requires a file uploaded "
                "with purpose 'fine-tune'.",
                param=param,
            )
        return file_id

    def training_content(self, file_id: str, param: str) -> bytes:
        """The content of a file a job trains or validates on, with the real API's 400s."""
        self.check_training_file(file_id, param)
        try:
            return self.content(file_id)
        except errors.ApiError:  # deleted in between
            raise errors.bad_request(f"invalid {param}: {file_id}", param=param) from None
