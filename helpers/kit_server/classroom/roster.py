"""The class roster: students and teachers, their keys (stored hashed), the quotas.

One SQLite file, `CLASS/class.sqlite3`. A key is shown once, when it is issued; only its
SHA-256 is kept, so the roster file never holds a usable key.

Each person has a tenant id (`name`): the name the teacher typed (keys mode, lower case) or
the hub user's name mapped one-to-one to a safe folder name (`identity.hub_tenant`). The
teacher's name (`enseignant`) is reserved: no student gets it, and a student's row never
becomes a teacher's (nor the other way round) without the teacher saying so.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ...i18n import _
from ..database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    name TEXT PRIMARY KEY,       -- tenant id: the folder of the person's workspace
    role TEXT NOT NULL,          -- 'student' or 'teacher'
    key_hash TEXT UNIQUE,        -- NULL for hub users (their hub token identifies them)
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
KEY_PREFIX = "classe-"
TEACHER = "enseignant"
#: Names no student may take: the teacher's (and its English twin, for a mixed class).
RESERVED = frozenset({TEACHER, "teacher"})
MB = 1024 * 1024
DEFAULT_QUOTAS = {
    "jobs_per_day": 20,
    "training_tokens_per_day": 2_000_000,
    # What a student may keep on the class server: bytes of the files they uploaded and the
    # responses they stored, and how many files they uploaded. A COUCOU dataset is 2 KB, a
    # 100,000-example one ≈ 15 MB; 30 students × 200 MB = 6 GB at most on the server's disk.
    "storage_bytes": 200 * MB,
    "storage_files": 500,
}


class RosterError(ValueError):
    """A roster request that cannot be done (French message)."""


@dataclass(frozen=True)
class Person:
    name: str  # tenant id
    role: str  # "student" or "teacher"
    display: str = ""  # how the teacher's page shows them (a hub user's own name)

    @property
    def teacher(self) -> bool:
        return self.role == "teacher"

    @property
    def shown(self) -> str:
        return self.display or self.name


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def normalize(name: str) -> str:
    """A student's name as the roster keeps it (lower case), or a French RosterError."""
    clean = name.strip().lower()
    if not NAME.fullmatch(clean):
        raise RosterError(
            _(
                "Nom d'élève refusé : {name!r}. Utilise des lettres, chiffres, « . », « _ » ou "
                "« - » (64 caractères au plus, sans espace), par exemple « alice » ou « b.martin »."
            ).format(name=name)
        )
    return clean


class Roster:
    def __init__(self, class_home: Path) -> None:
        self.home = Path(class_home)
        self.db = Database(self.home, name="class.sqlite3")
        self.db.create(SCHEMA)
        with self.db.transaction() as c:  # rosters made before hub users had a display name
            have = {r[1] for r in c.execute("PRAGMA table_info(people)").fetchall()}
            if "display" not in have:
                c.execute("ALTER TABLE people ADD COLUMN display TEXT")

    def role_of(self, name: str) -> str | None:
        row = self.db.conn().execute("SELECT role FROM people WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def _issue(self, name: str, role: str) -> str:
        """A new key for `name` (its old key stops working), in one transaction that refuses
        to turn a student into a teacher or a teacher into a student."""
        key = f"{KEY_PREFIX}{name}-{secrets.token_urlsafe(18)}"
        with self.db.transaction() as c:
            row = c.execute("SELECT role FROM people WHERE name = ?", (name,)).fetchone()
            if row is not None and row[0] != role:
                raise RosterError(_role_clash(name, row[0]))
            c.execute(
                "INSERT INTO people (name, role, key_hash, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET key_hash = excluded.key_hash",
                (name, role, _hash(key), time.time()),
            )
        return key

    def add_students(self, names: list[str]) -> dict[str, str]:
        """Issue a key to each student (a new key replaces an old one); returns name → key.

        Refused, for the whole list: a reserved name (the teacher's) or a teacher's name."""
        clean = [normalize(n) for n in names]
        if len(set(clean)) != len(clean):
            raise RosterError(_("Un même nom apparaît deux fois dans la liste des élèves."))
        for name in clean:
            if name in RESERVED:
                raise RosterError(
                    _(
                        "« {name} » est un nom réservé à l'enseignant·e : choisis un autre nom pour "
                        "cet·te élève (par exemple « {name}-eleve »). Ta propre clé : "
                        "`python -m helpers class teacher-key`."
                    ).format(name=name)
                )
            if self.role_of(name) == "teacher":
                raise RosterError(_role_clash(name, "teacher"))
        return {name: self._issue(name, "student") for name in clean}

    def has_key(self, name: str) -> bool:
        row = (
            self.db.conn().execute("SELECT key_hash FROM people WHERE name = ?", (name,)).fetchone()
        )
        return bool(row and row[0])

    def teacher_key(self, name: str = TEACHER) -> str:
        """Issue (or replace) the teacher's key."""
        return self._issue(normalize(name), "teacher")

    def by_key(self, key: str) -> Person | None:
        row = (
            self.db.conn()
            .execute("SELECT name, role, display FROM people WHERE key_hash = ?", (_hash(key),))
            .fetchone()
        )
        return Person(row[0], row[1], row[2] or "") if row else None

    def enrol(self, name: str, role: str = "student", display: str = "") -> Person:
        """A hub user (their hub token identifies them, no key): recorded with the role the
        hub gives them now. A person the teacher issued a key to keeps their role."""
        with self.db.transaction() as c:
            c.execute(
                "INSERT INTO people (name, role, key_hash, created_at, display) "
                "VALUES (?, ?, NULL, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "display = excluded.display, "
                "role = CASE WHEN people.key_hash IS NULL THEN excluded.role ELSE people.role END",
                (name, role, time.time(), display or None),
            )
        return Person(name, role, display)

    def students(self) -> list[str]:
        rows = self.db.conn().execute(
            "SELECT name FROM people WHERE role = 'student' ORDER BY name"
        )
        return [r[0] for r in rows]

    def teachers(self) -> set[str]:
        rows = self.db.conn().execute("SELECT name FROM people WHERE role = 'teacher'")
        return {r[0] for r in rows}

    def displays(self) -> dict[str, str]:
        """Tenant id → the name the teacher's page shows (hub users' own names)."""
        rows = self.db.conn().execute("SELECT name, display FROM people WHERE display IS NOT NULL")
        return dict(rows.fetchall())

    def quotas(self) -> dict[str, int]:
        rows = dict(self.db.conn().execute("SELECT name, value FROM settings").fetchall())
        return {k: int(rows.get(k, v)) for k, v in DEFAULT_QUOTAS.items()}

    def set_quota(self, name: str, value: int) -> None:
        if name not in DEFAULT_QUOTAS or value < 0:
            raise RosterError(
                _("Quota inconnu ou négatif : {name}. Quotas : {quotas}.").format(
                    name=name, quotas=list(DEFAULT_QUOTAS)
                )
            )
        with self.db.transaction() as c:
            c.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value))


def _role_clash(name: str, role: str) -> str:
    if role == "teacher":
        return _(
            "« {name} » est le nom d'un·e enseignant·e de la classe : un·e élève ne peut pas le "
            "prendre (sa clé et son rôle resteraient à l'élève). Choisis un autre nom."
        ).format(name=name)
    return _(
        "« {name} » est déjà le nom d'un·e élève de la classe : la clé enseignant·e ne peut pas "
        "le prendre. Donne un autre nom à l'élève, ou choisis un autre nom d'enseignant·e."
    ).format(name=name)
