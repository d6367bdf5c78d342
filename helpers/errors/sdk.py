"""An `openai` SDK error (2.x or 3.x), dispatched by its class to its area's diagnosis."""

from __future__ import annotations

from datetime import date

from ..i18n import N_, _
from .accounts import auth, missing_key, permission, rate_limit
from .diagnosis import Diagnosis, kit_server_mode, scrub
from .reading import api_message
from .refusals import bad_request, not_found
from .servers import api_server_error, hub_unavailable, kit_server_error

# SDK status errors whose diagnosis depends on their class alone: (class, title, cause, fix,
# code); the texts marked N_() are translated when shown.
_PLAIN_STATUS_ERRORS = (
    (
        "ConflictError",
        N_("Conflit (erreur 409)"),
        N_("L'objet a changé d'état entre-temps (par exemple un job déjà terminé ou déjà annulé)."),
        N_("Relis son état (retrieve) avant de réessayer."),
        "conflict",
    ),
    (
        "UnprocessableEntityError",
        N_("Requête incompréhensible (erreur 422)"),
        N_("Un champ a une forme inattendue."),
        N_("Relis le message d'origine."),
        "unprocessable",
    ),
)


def sdk_error(exc: BaseException, today: date) -> Diagnosis | None:
    """The diagnosis of an `openai` SDK error (2.x or 3.x), or None for any other exception."""
    import openai

    message = api_message(exc)
    if isinstance(exc, openai.APITimeoutError):
        return Diagnosis(
            _("Délai dépassé (timeout)"),
            _(
                "Le serveur n'a pas répondu à temps : réseau lent, serveur surchargé, ou bac à "
                "sable arrêté."
            ),
            _("Réessaie dans un moment ; vérifie ta connexion (`python -m helpers doctor`)."),
            "timeout",
        )
    if isinstance(exc, openai.APIConnectionError):
        return Diagnosis(
            _("Impossible de joindre l'API"),
            _(
                "Pas de connexion réseau, pare-feu/proxy, adresse d'API erronée (OPENAI_BASE_URL), "
                "ou serveur du bac à sable arrêté."
            ),
            _(
                "Vérifie ta connexion et lance `python -m helpers doctor` ; en mode bac à sable, "
                "redémarre le noyau (le serveur se relance tout seul)."
            ),
            "connection",
            scrub(message) if message != "Connection error." else None,
        )
    if isinstance(exc, openai.AuthenticationError):
        return auth(exc, message)
    if isinstance(exc, openai.PermissionDeniedError):
        return permission(exc, message, today)
    if isinstance(exc, openai.NotFoundError):
        return not_found(exc, message, today)
    if isinstance(exc, openai.BadRequestError):
        return bad_request(exc, message, today)
    if isinstance(exc, openai.RateLimitError):
        return rate_limit(exc, message)
    if isinstance(exc, openai.APIStatusError) and getattr(exc, "code", None) == "hub_unavailable":
        return hub_unavailable(message)
    if isinstance(exc, openai.InternalServerError) and kit_server_mode():
        return kit_server_error(exc, message)
    if isinstance(exc, openai.InternalServerError):
        return api_server_error(message)
    for name, title, cause, fix, code in _PLAIN_STATUS_ERRORS:
        if isinstance(exc, getattr(openai, name)):
            return Diagnosis(_(title), _(cause), _(fix), code, scrub(message))
    if isinstance(exc, openai.APIStatusError):
        status = getattr(exc, "status_code", "?")
        return Diagnosis(
            _("Erreur de l'API ({status})").format(status=status),
            _("L'API a refusé la requête."),
            _("Relis le message d'origine."),
            "api_error",
            scrub(message),
        )
    if isinstance(exc, openai.OpenAIError):
        text = str(exc)
        if "missing credentials" in text.lower() or "api_key client option" in text.lower():
            return missing_key()
        return Diagnosis(
            _("Erreur du client OpenAI"),
            _("Le SDK a refusé la requête."),
            _("Relis le message d'origine."),
            "openai_error",
            scrub(text),
        )
    return None
