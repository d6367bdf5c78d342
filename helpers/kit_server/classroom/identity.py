"""Who is asking: a key the teacher issued, or a JupyterHub user's API token.

When the class server runs as a JupyterHub service (`--hub`), a student's notebook sends its
own `JUPYTERHUB_API_TOKEN` as the API key; the class server asks the hub who that is with
JupyterHub's own service auth (`jupyterhub.services.auth.HubAuth`, which caches answers). Hub
admins and members of the `ATELIER_TEACHERS_GROUP` group (default `enseignants`) are teachers.

Every hub user name works: it is mapped one-to-one to a tenant id (`hub_tenant`), the name of
the user's workspace folder. A hub that does not answer is said so (503 `hub_unavailable`),
never mistaken for a wrong key, and within `HUB_TIMEOUT` seconds: a hung hub must not hold
the class server's threads (HubAuth's own client waits 5 minutes). After a failure the hub is
left alone for `HUB_COOLDOWN` seconds; people it named in the last minute go on meanwhile.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import string
import threading
import time
from typing import Any

from ... import settings
from ..errors import ApiError
from .roster import RESERVED, Person, Roster

log = logging.getLogger("helpers.kit_server")

HUB_TIMEOUT = 10.0  # seconds for the hub to say who a token is
HUB_COOLDOWN = 5.0  # after the hub failed to, seconds before asking it again
KNOWN_S = 60.0  # a token the hub named is trusted this long (HubAuth's own cache too)
UNKNOWN_S = 5.0  # a token the hub did not know is refused this long without asking again

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
        self.teachers_group = settings.current().teachers_group
        self._enrolled: set[Person] = set()  # written to the roster already (no write per request)
        self._seen: dict[str, tuple[Person | None, float]] = {}  # token's SHA-256 → answer
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._asking = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="atelier-hub")

    def who(self, key: str) -> Person | None:
        person = super().who(key)
        if person is not None or not key:
            return person
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        now = time.monotonic()
        with self._lock:
            seen, until = self._seen.get(digest, (None, 0.0))
            if until > now:
                return seen
            if now < self._down_until:
                raise hub_unavailable()
        try:
            # HubAuth answers None for a token the hub does not know, and raises when the
            # hub cannot be asked (connection refused, 5xx, service token refused); a hung
            # hub is given up after HUB_TIMEOUT seconds.
            asked = self._asking.submit(self.hub_auth.user_for_token, key, True)
            user = asked.result(timeout=HUB_TIMEOUT)
        except Exception as exc:
            log.warning("JupyterHub did not answer: %s", type(exc).__name__)
            with self._lock:
                self._down_until = time.monotonic() + HUB_COOLDOWN
            raise hub_unavailable() from None
        person = self._person(user)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[digest] = (person, now + (KNOWN_S if person else UNKNOWN_S))
        return person

    def _person(self, user: Any) -> Person | None:
        """The person of a hub user model (enrolled in the roster the first time)."""
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
