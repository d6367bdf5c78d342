"""The class roster: students, their keys (stored hashed), the teacher's key, the quotas.

One SQLite file, `CLASS/class.sqlite3`. A key is shown once, when it is issued; only its
SHA-256 is kept, so the roster file never holds a usable key.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,          -- 'student' or 'teacher'
    key_hash TEXT UNIQUE,        -- NULL for hub users (their hub token identifies them)
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
KEY_PREFIX = "classe-"
DEFAULT_QUOTAS = {"jobs_per_day": 20, "training_tokens_per_day": 2_000_000}


class RosterError(ValueError):
    """A roster request that cannot be done (French message)."""


@dataclass(frozen=True)
class Person:
    name: str
    role: str  # "student" or "teacher"

    @property
    def teacher(self) -> bool:
        return self.role == "teacher"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def normalize(name: str) -> str:
    """A student's name as the roster keeps it (lower case), or a French RosterError."""
    clean = name.strip().lower()
    if not NAME.fullmatch(clean):
        raise RosterError(
            f"Nom d'élève refusé : {name!r}. Utilise des lettres, chiffres, « . », « _ » ou « - » "
            "(64 caractères au plus, sans espace), par exemple « alice » ou « b.martin »."
        )
    return clean


class Roster:
    def __init__(self, class_home: Path) -> None:
        self.home = Path(class_home)
        self.db = Database(self.home, name="class.sqlite3")
        self.db.create(SCHEMA)

    def _add(self, name: str, role: str) -> str:
        key = f"{KEY_PREFIX}{name}-{secrets.token_urlsafe(18)}"
        with self.db.transaction() as c:
            c.execute(
                "INSERT INTO people (name, role, key_hash, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET key_hash = excluded.key_hash, role = excluded.role",
                (name, role, _hash(key), time.time()),
            )
        return key

    def add_students(self, names: list[str]) -> dict[str, str]:
        """Issue a key to each student (a new key replaces an old one); returns name → key."""
        clean = [normalize(n) for n in names]
        if len(set(clean)) != len(clean):
            raise RosterError("Un même nom apparaît deux fois dans la liste des élèves.")
        return {name: self._add(name, "student") for name in clean}

    def teacher_key(self, name: str = "enseignant") -> str:
        """Issue (or replace) the teacher's key."""
        return self._add(normalize(name), "teacher")

    def by_key(self, key: str) -> Person | None:
        row = (
            self.db.conn()
            .execute("SELECT name, role FROM people WHERE key_hash = ?", (_hash(key),))
            .fetchone()
        )
        return Person(*row) if row else None

    def enrol(self, name: str, role: str = "student") -> Person:
        """A hub user seen for the first time (no key: their hub token identifies them)."""
        with self.db.transaction() as c:
            c.execute(
                "INSERT OR IGNORE INTO people (name, role, key_hash, created_at) "
                "VALUES (?, ?, NULL, ?)",
                (normalize(name), role, time.time()),
            )
        return Person(normalize(name), role)

    def students(self) -> list[str]:
        rows = self.db.conn().execute(
            "SELECT name FROM people WHERE role = 'student' ORDER BY name"
        )
        return [r[0] for r in rows]

    def quotas(self) -> dict[str, int]:
        rows = dict(self.db.conn().execute("SELECT name, value FROM settings").fetchall())
        return {k: int(rows.get(k, v)) for k, v in DEFAULT_QUOTAS.items()}

    def set_quota(self, name: str, value: int) -> None:
        if name not in DEFAULT_QUOTAS or value < 0:
            raise RosterError(
                f"Quota inconnu ou négatif : {name}. Quotas : {list(DEFAULT_QUOTAS)}."
            )
        with self.db.transaction() as c:
            c.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value))
