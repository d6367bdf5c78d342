"""An error known only by its text: the rows of the guide's error table (step 10) and the
messages a learner pastes: the real API's messages by their table (`helpers.api_messages`),
the guide's rows on their words."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .. import api_messages as api
from ..i18n import _
from ..verbs import suggest
from .accounts import auth, missing_key, permission, rate_limit
from .diagnosis import Diagnosis, kit_server_mode, scrub
from .jobs import failed_job, invalid_training_file
from .refusals import bad_request, not_found
from .servers import api_server_error, hub_unavailable, kit_server_error


# Rows of the guide's error table (step 10), matched on the text of a message.
def from_text(text: str, today: date) -> Diagnosis:
    low = text.lower()
    if "invalid choice" in low:
        m = re.search(r"invalid choice:?\s*'?([\w.\-]+)", text)
        wrong = m.group(1) if m else "?"
        right = suggest(wrong)
        return Diagnosis(
            _("Commande inconnue : {wrong} (invalid choice)").format(wrong=wrong),
            _(
                "La syntaxe de la commande est fausse : les verbes s'écrivent avec des points, "
                "comme l'API (chat.completions.create, fine_tuning.jobs.create…)."
            ),
            _("Utilise `{right}`.").format(right=right)
            if right
            else _("Liste les commandes : `python -m helpers api --help`."),
            "invalid_choice",
        )
    if "enoent" in low and "package.json" in low:
        return Diagnosis(
            _("Render ne trouve pas package.json (ENOENT)"),
            _(
                "L'hébergeur Node cherche package.json (et server.js) dans ton dépôt : ils n'y ont "
                "pas été poussés, ou sont dans un sous-dossier."
            ),
            _(
                "Pousse server.js et package.json à la racine du dépôt (ou indique le bon dossier "
                "« Root Directory » sur Render). Le proxy Python du kit (étape 8) évite ce problème."
            ),
            "enoent_package_json",
        )
    entry = api.find(text)
    if entry is not None:
        return _known(entry, text, today)
    if (
        "exceeded_quota" in low
        or "insufficient_quota" in low
        or "exceeded your current quota" in low
    ):
        return rate_limit(Exception(text), text)
    if "invalid training_file" in low or "invalid_training_file" in low:
        cause, fix = invalid_training_file()
        return Diagnosis(
            _("Fichier d'entraînement invalide (invalid training_file)"),
            cause,
            fix,
            "invalid_training_file",
            scrub(text),
        )
    if "invalid_n_examples" in low:
        return failed_job({"id": "?", "error": {"code": "invalid_n_examples", "message": text}})
    if "invalid_request_error" in low or "not available for fine-tuning" in low:
        return bad_request(Exception(text), text, today)
    if "incorrect api key" in low or "invalid_api_key" in low:
        return auth(Exception(text), text)
    if "missing credentials" in low or "api_key client option" in low:
        return missing_key()
    if "does not exist" in low and "model" in low:
        return not_found(Exception(text), text, today)
    return Diagnosis(
        _("Erreur"),
        _("Message non reconnu par le kit."),
        _("Lis le message d'origine."),
        "unknown",
        scrub(text),
    )


class _Quoted(Exception):
    """A message of the API's table read as text: the code, param and type it is sent with."""

    def __init__(self, entry: api.ApiMessage, text: str) -> None:
        super().__init__(text)
        fields: dict[str, Any] = entry.match(text) or {}
        self.type = entry.type
        try:
            self.code: str | None = entry.code_for(**fields)
            self.param: str | None = entry.param_for(**fields)
        except (KeyError, IndexError):  # quoted inside a longer text: its fields unknown
            self.code = entry.code if entry.code and "{" not in entry.code else None
            self.param = entry.param if entry.param and "{" not in entry.param else None


def _known(entry: api.ApiMessage, text: str, today: date) -> Diagnosis:
    """A message of the table, diagnosed as the SDK error it comes with would be."""
    exc = _Quoted(entry, text)
    if entry.status == 0:  # a failed job's error
        return failed_job({"id": "?", "error": {"code": exc.code, "message": text}})
    if entry.status == 401:
        return auth(exc, text)
    if entry.status == 403:
        return permission(exc, text, today)
    if entry.status == 404:
        return not_found(exc, text, today)
    if entry.status == 429:
        return rate_limit(exc, text)
    if entry is api.HUB_UNAVAILABLE:
        return hub_unavailable(text)
    if entry.status >= 500:
        return kit_server_error(exc, text) if kit_server_mode() else api_server_error(text)
    return bad_request(exc, text, today)
