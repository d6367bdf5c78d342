"""Who is asking: a key the teacher issued, or a JupyterHub user's API token.

When the class server runs as a JupyterHub service (`--hub`), a student's notebook sends its
own `JUPYTERHUB_API_TOKEN` as the API key; the class server asks the hub who that is with
JupyterHub's own service auth (`jupyterhub.services.auth.HubAuth`, which caches answers). Hub
admins and members of the `ATELIER_TEACHERS_GROUP` group (default `enseignants`) are teachers.

Every hub user name works: it is mapped one-to-one to a tenant id (`hub_tenant`), the name of
the user's workspace folder. A hub that does not answer is said so (503 `hub_unavailable`),
never mistaken for a wrong key.
"""

from __future__ import annotations

import hashlib
import logging
import os
import string
from typing import Any

from ..errors import ApiError
from .roster import RESERVED, Person, Roster

TEACHERS_GROUP_VAR = "ATELIER_TEACHERS_GROUP"
log = logging.getLogger("helpers.sandbox")

_PLAIN = frozenset(string.ascii_lowercase + string.digits + "._-")
_LONGEST = 96  # tenant ids longer than this end with a hash (folder names stay short)


def hub_tenant(name: str) -> str:
    """The tenant id of a hub user: one-to-one, safe as a folder name on any system.

    Lower-case letters, digits, `.`, `_`, `-` stay as they are (`alice` → `alice`); every
    other character is written `%XX` per UTF-8 byte, like a URL (`Alice` → `%41lice`,
    `alice@ecole.fr` → `alice%40ecole.fr`), and so is a first character `.`, `_` or `-` (no
    hidden folder, no `..`) and the first letter of a reserved name (`enseignant` →
    `%65nseignant`: the teacher's key keeps its own). Since `%` itself is always escaped, the
    hub name is read back from its tenant id: two hub users never share a workspace. A tenant
    id longer than 96 characters keeps its first 79 and ends with `~` and 16 hex digits of
    the SHA-256 of the hub name (`~` appears in no other tenant id).
    """
    out = []
    for i, ch in enumerate(name):
        if ch in _PLAIN and not (i == 0 and ch in "._-"):
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
    tenant = "".join(out)
    if tenant in RESERVED:
        tenant = f"%{ord(tenant[0]):02X}{tenant[1:]}"
    if len(tenant) > _LONGEST:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        tenant = f"{tenant[:79]}~{digest}"
    return tenant


def hub_unavailable() -> ApiError:
    """The hub could not say who a token belongs to (down, slow, or refusing the service)."""
    # The class server's own answer (the real API has no hub): 503, like an unavailable
    # upstream; the SDK retries it twice, then the notebook's diagnosis names the hub.
    return ApiError(
        503,
        "JupyterHub did not answer the class server, which asks it who your hub token belongs "
        "to: your key was not checked. Try again in a minute; if it lasts, tell your teacher "
        "(the hub or the class server's service token).",
        type="server_error",
        code="hub_unavailable",
    )


class Identity:
    """Keys mode: the roster's keys only."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster

    def who(self, key: str) -> Person | None:
        """The person behind a key, None if nobody; ApiError when that cannot be told now."""
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
        self._enrolled: set[Person] = set()  # written to the roster already (no write per request)

    def who(self, key: str) -> Person | None:
        person = super().who(key)
        if person is not None or not key:
            return person
        try:
            # HubAuth answers None for a token the hub does not know, and raises when the
            # hub cannot be asked (connection refused, timeout, 5xx, service token refused).
            user = self.hub_auth.user_for_token(key, use_cache=True)
        except Exception as exc:
            log.warning("JupyterHub did not answer: %s", type(exc).__name__)
            raise hub_unavailable() from None
        if not isinstance(user, dict) or user.get("kind", "user") != "user":
            return None
        name = user.get("name")
        if not isinstance(name, str) or not name:
            return None
        teacher = bool(user.get("admin")) or self.teachers_group in (user.get("groups") or [])
        person = Person(hub_tenant(name), "teacher" if teacher else "student", name)
        if person not in self._enrolled:
            self.roster.enrol(person.name, person.role, person.display)
            self._enrolled.add(person)
        return person
