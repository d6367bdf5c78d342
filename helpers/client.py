"""Build the `openai.OpenAI` client for the active mode.

Notebooks never choose an endpoint themselves: the mode does. In `sandbox` (and `local`)
mode the real SDK talks to the workspace's kit server (one process per workspace, found or
started on demand by `helpers.kit_server.connect`, its engine following the mode); an inherited
`OPENAI_BASE_URL` is ignored there. In `openai` mode the learner's key is used.
"""

from __future__ import annotations

import os
import sys
import types
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from . import settings
from .exceptions import MissingKeyError
from .i18n import _
from .modes import Mode


def base_url(mode: str | Mode | None = None) -> str | None:
    """Where the SDK will send requests in this mode (None: OpenAI's default)."""
    engine = settings.resolve_mode(mode).engine
    if engine is not None:
        served = settings.class_server()
        if served is not None:  # the class's server (a setting), not one of this workspace's
            return served[0]
        from . import kit_server

        return kit_server.connect(engine=engine)
    return os.environ.get("OPENAI_BASE_URL") or None


def kit_server_key() -> str:
    """The key sent to the kit's server: this student's on the class's server, else the
    workspace's own key (its server refuses any other: `helpers.advert.workspace_key`)."""
    served = settings.class_server()
    if served:
        return served[1]
    from .advert import workspace_key

    return workspace_key(settings.workspace_dir())


def kit_server_headers() -> dict[str, str]:
    """Headers every request to the kit's server carries: the kernel's sandbox speed and, for
    the workspace's own server, its key (also when the SDK's key is another one, e.g. a fault
    key `sk-sandbox-…` typed in the key form)."""
    headers = speed_header()
    if settings.class_server() is None:
        from .advert import KEY_HEADER

        headers[KEY_HEADER] = kit_server_key()
    return headers


SPEED_HEADER = "X-Atelier-Sandbox-Speed"


def speed_header() -> dict[str, str]:
    """The kernel's sandbox speed, sent to the workspace's one kit server: every kernel (a class
    setting, a fast replay) gets its own pace. Empty when the setting is unusable (the server's
    own applies, and explains it)."""
    try:
        return {SPEED_HEADER: repr(settings.sandbox_speed())}
    except Exception:
        return {}


def client(mode: str | Mode | None = None, *, api_key: str | None = None, **options: Any):
    """A ready `openai.OpenAI`. Extra options (timeout, max_retries…) go to the SDK."""
    import openai

    mode = settings.resolve_mode(mode)
    if mode.traits.kit_server:
        url = base_url(mode)  # starts the workspace's server (which makes its key) if needed
        headers = {**kit_server_headers(), **options.pop("default_headers", {})}
        return openai.OpenAI(
            base_url=url,
            api_key=api_key or kit_server_key(),
            default_headers=headers,
            **options,
        )
    key = api_key or settings.find_api_key()
    if not key:
        raise MissingKeyError(
            _(
                "Mode « openai » mais aucune clé trouvée. Donne ta clé dans le formulaire du notebook 02 "
                "(ou mets OPENAI_API_KEY=… dans le fichier .env à la racine du dossier, ou dans les "
                "secrets Colab), puis relance cette cellule. Remarque : un `export`/`setx` fait dans un "
                "terminal n'atteint pas un serveur Jupyter déjà lancé."
            )
        )
    return openai.OpenAI(api_key=key, base_url=base_url(mode), **options)


_SERVED_PATHS = {"file_id": "files", "job_id": "fine_tuning/jobs", "fine_tuned_model": "models"}


def still_served(name: str, value: str, mode: str | Mode | None = None) -> bool:
    """Whether the kit's server (sandbox or local mode) still knows a recorded id: a file, a
    job that neither failed nor was cancelled, a model. One plain GET, without the SDK: a
    kernel that only checks its workspace does not import openai for it (≈ 1 s, 20 MB).
    False whenever the answer is not a 200 with that object (a reset workspace, no server)."""
    found = served(name, value, mode)
    if found is None:
        return False
    return name != "job_id" or found.get("status") not in ("failed", "cancelled")


def served(name: str, value: str, mode: str | Mode | None = None) -> dict[str, Any] | None:
    """The object (JSON) the kit's server keeps for a recorded id (`still_served`'s one GET),
    or None when it does not know it (a reset workspace, no server)."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    mode = settings.resolve_mode(mode)
    if not mode.traits.kit_server or name not in _SERVED_PATHS:
        raise ValueError(f"no kit server object for {name!r} in mode {mode!r}")
    url = f"{base_url(mode)}/{_SERVED_PATHS[name]}/{urllib.parse.quote(value, safe='')}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {kit_server_key()}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the kit's server
            found = json.loads(answer.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if not isinstance(found, dict) or found.get("id") != value:
        return None
    return found


KeyStatus = Literal["valid", "invalid", "no_fine_tuning", "quota", "no_network", "unavailable"]


@dataclass(frozen=True)
class KeyCheck:
    """The verdict on a key: `status` in valid / invalid / no_fine_tuning / quota / no_network /
    unavailable (the service answered 5xx: the key could not be checked, it is not refused)."""

    status: KeyStatus
    message: str  # French, never contains the key

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    def __str__(self) -> str:
        return self.message


def check_key(
    key: str, mode: str | Mode | None = None, *, today: date | None = None, client_: Any = None
) -> KeyCheck:
    """Try a key with one cheap call (list one fine-tuning job). Nothing is stored or printed.

    `client_` replaces the SDK client (tests). In `sandbox` mode the kit's server answers
    (any key works there, except the ones made to trigger errors).
    """
    import openai

    from . import models
    from .errors import explain

    today = today or date.today()
    # OpenAI's dates apply to OpenAI's API, not to the kit's server (its world is frozen)
    real_api = not settings.resolve_mode(mode).traits.kit_server
    key = (key or "").strip()
    if not key:
        return KeyCheck("invalid", _("La clé est vide : colle ta clé (elle commence par « sk- »)."))
    try:
        api = client_ or client(mode, api_key=key, max_retries=0, timeout=15)
        api.fine_tuning.jobs.list(limit=1)
    except openai.AuthenticationError as exc:
        d = explain(exc, today=today)
        return KeyCheck("invalid", _("{title} : {fix}").format(title=d.title, fix=d.fix))
    except openai.PermissionDeniedError as exc:
        d = explain(exc, today=today)
        return KeyCheck(
            "no_fine_tuning",
            _("Clé valide, mais {cause} {fix}").format(
                cause=d.cause[0].lower() + d.cause[1:], fix=d.fix
            ),
        )
    except openai.RateLimitError as exc:
        d = explain(exc, today=today)
        if d.code == "insufficient_quota":
            return KeyCheck(
                "quota", _("Clé valide, mais le compte n'a plus de crédit. {fix}").format(fix=d.fix)
            )
        return KeyCheck("valid", _("✅ Clé valide (l'API demande seulement de ralentir un peu)."))
    except openai.APIConnectionError as exc:
        d = explain(exc, today=today)
        return KeyCheck(
            "no_network",
            _("{title} : impossible de vérifier la clé. {fix}").format(title=d.title, fix=d.fix),
        )
    except openai.InternalServerError:
        return KeyCheck(
            "unavailable",
            _(
                "Service indisponible (erreur 5xx) : le serveur n'a pas pu vérifier ta clé, elle n'est "
                "pas refusée pour autant. Réessaie dans une minute."
            ),
        )
    except openai.APIStatusError as exc:
        d = explain(exc, today=today)
        return KeyCheck("invalid", f"{d.title}. {d.fix}")
    if today >= models.FINE_TUNING_CLOSED_FROM and real_api:
        return KeyCheck(
            "no_fine_tuning",
            _(
                "Clé valide, mais depuis le 6 janvier 2027 OpenAI n'accepte plus de nouveau job de "
                "fine-tuning. Tu peux encore interroger tes modèles déjà entraînés ; pour le reste du "
                "cours, passe en mode bac à sable."
            ),
        )
    note = ""
    if today >= models.NEW_ORGS_REFUSED_FROM and real_api:
        note = _(
            " Attention : depuis le 7 mai 2026, une organisation qui n'a jamais fait de fine-tuning "
            "ne peut plus en créer (erreur 403 à l'étape 5) ; le mode bac à sable reste possible."
        )
    return KeyCheck("valid", _("✅ Clé valide.") + note)


class _CallableModule(types.ModuleType):
    """`helpers.client` is this module, callable: `helpers.client()` is `client()` (the rule
    for the package's names: helpers/__init__.py)."""

    def __call__(self, mode: str | Mode | None = None, **kwargs: Any) -> Any:
        return self.client(mode, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
