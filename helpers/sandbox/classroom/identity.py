"""Who is asking: a key the teacher issued, or a JupyterHub user's API token.

When the class server runs as a JupyterHub service (`--hub`), a student's notebook sends its
own `JUPYTERHUB_API_TOKEN` as the API key; the class server asks the hub who that is with
JupyterHub's own service auth (`jupyterhub.services.auth.HubAuth`, which caches answers). Hub
admins and members of the `ATELIER_TEACHERS_GROUP` group (default `enseignants`) are teachers.
"""

from __future__ import annotations

import os
from typing import Any

from .roster import Person, Roster, RosterError

TEACHERS_GROUP_VAR = "ATELIER_TEACHERS_GROUP"


class Identity:
    """Keys mode: the roster's keys only."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster

    def who(self, key: str) -> Person | None:
        return self.roster.by_key(key) if key else None


class HubIdentity(Identity):
    """Hub mode: the roster's keys (the teacher's), then the hub's users by their API token."""

    def __init__(self, roster: Roster, hub_auth: Any = None) -> None:
        super().__init__(roster)
        if hub_auth is None:
            from jupyterhub.services.auth import HubAuth  # the hub image has jupyterhub

            hub_auth = HubAuth(cache_max_age=60)
        self.hub_auth = hub_auth
        self.teachers_group = os.environ.get(TEACHERS_GROUP_VAR, "enseignants")

    def who(self, key: str) -> Person | None:
        person = super().who(key)
        if person is not None or not key:
            return person
        try:
            user = self.hub_auth.user_for_token(key, use_cache=True)
        except Exception:  # the hub is unreachable or refuses: nobody
            return None
        if not user or user.get("kind", "user") != "user":
            return None
        teacher = bool(user.get("admin")) or self.teachers_group in (user.get("groups") or [])
        try:
            return self.roster.enrol(user["name"], "teacher" if teacher else "student")
        except RosterError:
            return None
