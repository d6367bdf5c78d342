"""Keys and accounts: no key, a key refused (by OpenAI, the workspace's kit server or the class
server), an account refused fine-tuning (403), credit spent, too many requests (429)."""

from __future__ import annotations

import re
from datetime import date

from .. import api_messages as api
from .. import models
from ..exceptions import MissingKeyError
from ..i18n import _
from .diagnosis import SANDBOX_HINT, Diagnosis, scrub
from .reading import request_path, retry_after
from .servers import class_daily_quota, class_key


def missing_key() -> Diagnosis:
    return Diagnosis(
        _("Aucune clé d'API OpenAI trouvée"),
        _(
            "Le mode « openai » envoie tes requêtes à la vraie API, qui exige ta clé ; le kit ne l'a "
            "trouvée ni dans l'environnement, ni dans le fichier .env, ni dans les secrets Colab."
        ),
        _(MissingKeyError.fix) + " " + _(SANDBOX_HINT),
        "missing_key",
    )


def auth(exc: BaseException, message: str) -> Diagnosis:
    entry = api.find(message)
    if entry is api.NO_API_KEY:
        return missing_key()
    if entry is api.CLASS_KEY or "class server" in message.lower():
        return class_key(message)
    if entry is api.KIT_SERVER_KEY or "kit server" in message:  # the workspace's own server
        return Diagnosis(
            _("Le serveur du kit refuse cette clé (erreur 401)"),
            _(
                "Le serveur du kit de ton espace de travail ne répond qu'aux clients de cet espace "
                "(ils envoient sa clé, rangée dans le fichier kit-server.key de l'espace). Ce client "
                "a été créé pour un autre espace de travail, ou avant que cette clé soit refaite."
            ),
            _(
                "Recrée le client avec helpers.client() (ou redémarre le noyau), puis relance la "
                "cellule. Pour un client écrit à la main : api_key = la sortie de "
                "`python -m helpers.kit_server --key`."
            ),
            "kit_server_key",
            scrub(message),
        )
    return Diagnosis(
        _("Clé d'API refusée (erreur 401)"),
        _(
            "OpenAI ne reconnaît pas cette clé : elle est mal recopiée (espace, guillemet, caractère "
            "manquant), révoquée, ou appartient à un autre projet."
        ),
        _(
            "Crée une nouvelle clé sur https://platform.openai.com/api-keys, recopie-la en entier dans "
            "le formulaire du notebook 02, puis relance. Ne l'affiche jamais (pas d'`echo`)."
        ),
        "invalid_api_key",
        scrub(message),
    )


def permission(exc: BaseException, message: str, today: date) -> Diagnosis:
    path = request_path(exc)
    low = message.lower()
    entry = api.find(message)
    if entry is api.MODEL_NOT_OWNED or getattr(exc, "code", None) == "model_not_owned":
        fields = (entry.match(message) if entry is not None else None) or {}
        return Diagnosis(
            _("Ce modèle n'est pas à toi : suppression refusée (erreur 403)"),
            _(
                "Seuls les modèles fine-tunés de ton organisation peuvent être supprimés ; "
                "{model} est un modèle de base d'OpenAI, ou celui d'un autre compte."
            ).format(model=fields.get("model") or _("ce modèle")),
            _(
                "Vérifie le nom : on ne supprime qu'un modèle « ft:… » que tu as entraîné "
                '(`client.models.delete("ft:…")`).'
            ),
            "model_not_owned",
            scrub(message),
        )
    if (
        entry is api.FINE_TUNING_REFUSED
        or "fine_tuning" in path
        or "fine-tun" in low
        or "fine tun" in low
    ):
        if today >= models.FINE_TUNING_CLOSED_FROM:
            why = _(
                "Depuis le 6 janvier 2027, OpenAI n'accepte plus aucun nouveau job de fine-tuning, "
                "quel que soit le compte."
            )
        else:
            why = _(
                "OpenAI arrête le fine-tuning en libre-service : depuis le 7 mai 2026 les "
                "organisations qui n'ont jamais fait de fine-tuning ne peuvent plus créer de job, "
                "depuis le 2 juillet 2026 les organisations inactives non plus, et plus personne à "
                "partir du 6 janvier 2027. Les modèles déjà entraînés restent utilisables jusqu'à "
                "l'arrêt de leur modèle de base."
            )
        return Diagnosis(
            _("OpenAI refuse de créer un job de fine-tuning pour ce compte (erreur 403)"),
            why,
            _(
                "Tu n'y peux rien depuis ton code : fais le cours en mode bac à sable, qui reproduit "
                "toutes les étapes sans compte. "
            )
            + _(SANDBOX_HINT),
            "fine_tuning_refused",
            scrub(message),
        )
    return Diagnosis(
        _("Accès refusé (erreur 403)"),
        _(
            "Ta clé est valide mais n'a pas le droit de faire cette action : projet sans accès à ce "
            "modèle, clé « restreinte », ou pays non pris en charge."
        ),
        _(
            "Vérifie les permissions de la clé et du projet sur https://platform.openai.com/settings, "
            "ou essaie un autre modèle. "
        )
        + _(SANDBOX_HINT),
        "permission_denied",
        scrub(message),
    )


def rate_limit(exc: BaseException, message: str) -> Diagnosis:
    code = getattr(exc, "code", None)
    kind = getattr(exc, "type", None)
    low = message.lower()
    entry = api.find(message)
    if entry in (api.CLASS_DAILY_JOBS, api.CLASS_DAILY_TOKENS) or (
        "per day in organization class-" in low
    ):
        return class_daily_quota(exc, message)
    if "insufficient_quota" in (code, kind) or "quota" in low:
        return Diagnosis(
            _("Crédit épuisé (insufficient_quota / exceeded_quota)"),
            _(
                "Ta clé fonctionne, mais le compte n'a plus de crédit (ou pas de moyen de paiement, ou "
                "la limite de dépense mensuelle est atteinte). Réessayer ne sert à rien."
            ),
            _(
                "Ajoute un moyen de paiement ou du crédit sur https://platform.openai.com/settings/"
                "organization/billing, attends quelques minutes, puis relance. "
            )
            + _(SANDBOX_HINT),
            "insufficient_quota",
            scrub(message),
        )
    wait = retry_after(exc)
    if wait is None:
        m = re.search(r"try again in ([\d.]+)\s*(ms|s)", message)
        if m:
            wait = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
    when = (
        _("dans {wait:g} s").format(wait=wait) if wait is not None else _("dans quelques secondes")
    )
    return Diagnosis(
        _("Trop de requêtes d'un coup (limite de débit, erreur 429)"),
        _(
            "OpenAI limite le nombre de requêtes (ou de jetons) par minute ; tu l'as atteint. Ce "
            "n'est pas un problème de crédit."
        ),
        _(
            "Attends et réessaie {when} ; espace tes appels (le kit relance déjà "
            "automatiquement deux fois)."
        ).format(when=when),
        "rate_limit",
        scrub(message),
    )
