"""Any error the course can meet → a short French diagnosis: what happened, why, what to do.

`explain(exc)` accepts an exception (SDK, dataset, key, CLI…), a failed `FineTuningJob`, or
the text of an error message (e.g. a row of the guide's error table). It never raises and
never shows more of an API key than the API itself did (a masked key is masked again).

Works with `openai` 2.x (httpx) and 3.x (httpx2): only `openai`'s own classes are used.
"""

from __future__ import annotations

import contextlib
import html
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import models, settings
from .exceptions import (
    GENERIC_FIX,
    DamagedFileError,
    DatasetError,
    EvaluationError,
    JobFailedError,
    KitError,
    MissingKeyError,
    ServerStartError,
    SettingsError,
    UsageError,
    WorkspaceError,
    workspace_problem,
)
from .modes import Mode
from .settings import mask_key
from .verbs import suggest

SANDBOX_HINT = 'Pour suivre le cours sans compte ni frais : `helpers.use_mode("sandbox")`.'


@dataclass(frozen=True)
class Diagnosis:
    """A French explanation of an error. `code` is a stable machine name (tests, widgets)."""

    title: str  # what happened
    cause: str  # why
    fix: str  # what to do
    code: str = "unknown"
    detail: str | None = None  # the original message, key masked

    def __str__(self) -> str:
        text = f"❌ {self.title}\nPourquoi : {self.cause}\nQue faire : {self.fix}"
        if self.detail:
            text += f"\n(message d'origine : {self.detail})"
        return text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text form
        printer.text(str(self))

    def _repr_html_(self) -> str:
        esc = html.escape
        detail = (
            f"<div style='opacity:.7;font-size:90%'>message d'origine : <code>{esc(self.detail)}</code></div>"
            if self.detail
            else ""
        )
        return (
            "<div style='border-left:4px solid #d33;padding:.4em .8em;background:#fff5f5'>"
            f"<b>❌ {esc(self.title)}</b><br><b>Pourquoi :</b> {esc(self.cause)}<br>"
            f"<b>Que faire :</b> {esc(self.fix)}{detail}</div>"
        )


# ---------------------------------------------------------------------------------------
# Keys: never echo more than the API did

_KEY_RE = re.compile(r"\b(sk-[A-Za-z0-9_\-*.…]{4,})")


def scrub(text: str) -> str:
    """Replace anything that looks like an OpenAI key (masked or not) by its re-masked form."""
    return _KEY_RE.sub(lambda m: mask_key(m.group(1).rstrip(".")), text)


# ---------------------------------------------------------------------------------------
# Reading SDK errors (2.x and 3.x)


def _api_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        msg = body.get("message")
        if isinstance(msg, str) and msg:
            return msg
    msg = getattr(exc, "message", None)
    return msg if isinstance(msg, str) else str(exc)


def _request_path(exc: BaseException) -> str:
    try:
        return str(exc.request.url)  # type: ignore[attr-defined]
    except Exception:
        return ""


def _header(exc: BaseException, name: str) -> str | None:
    try:
        return exc.response.headers.get(name)  # type: ignore[attr-defined]
    except Exception:
        return None


def _retry_after(exc: BaseException) -> float | None:
    ms = _header(exc, "retry-after-ms")
    if ms:
        with contextlib.suppress(ValueError):
            return float(ms) / 1000
    value = _header(exc, "retry-after")
    if value:
        with contextlib.suppress(ValueError):
            return float(value)
    return None


_MODEL_RE = re.compile(r"[Tt]he model [`'\"]?([^`'\" ]+)[`'\"]? does not exist")


def _model_in(message: str) -> str | None:
    m = _MODEL_RE.search(message)
    if m:
        return m.group(1)
    m = re.search(r"\b((?:ft:)?gpt-[\w.\-:]+)", message)
    return m.group(1).rstrip(".") if m else None


# ---------------------------------------------------------------------------------------
# The diagnoses


def _missing_key() -> Diagnosis:
    return Diagnosis(
        "Aucune clé d'API OpenAI trouvée",
        "Le mode « openai » envoie tes requêtes à la vraie API, qui exige ta clé ; le kit ne l'a "
        "trouvée ni dans l'environnement, ni dans le fichier .env, ni dans les secrets Colab.",
        f"{MissingKeyError.fix} {SANDBOX_HINT}",
        "missing_key",
    )


def _auth(exc: BaseException, message: str) -> Diagnosis:
    if "class server" in message.lower():
        return _class_key(message)
    if "kit server" in message:  # the workspace's own server (helpers.sandbox.door)
        return Diagnosis(
            "Le serveur du kit refuse cette clé (erreur 401)",
            "Le serveur du kit de ton espace de travail ne répond qu'aux clients de cet espace "
            "(ils envoient sa clé, rangée dans le fichier kit-server.key de l'espace). Ce client "
            "a été créé pour un autre espace de travail, ou avant que cette clé soit refaite.",
            "Recrée le client avec helpers.client() (ou redémarre le noyau), puis relance la "
            "cellule. Pour un client écrit à la main : api_key = la sortie de "
            "`python -m helpers.sandbox --key`.",
            "kit_server_key",
            scrub(message),
        )
    return Diagnosis(
        "Clé d'API refusée (erreur 401)",
        "OpenAI ne reconnaît pas cette clé : elle est mal recopiée (espace, guillemet, caractère "
        "manquant), révoquée, ou appartient à un autre projet.",
        "Crée une nouvelle clé sur https://platform.openai.com/api-keys, recopie-la en entier dans "
        "le formulaire du notebook 02, puis relance. Ne l'affiche jamais (pas d'`echo`).",
        "invalid_api_key",
        scrub(message),
    )


def _permission(exc: BaseException, message: str, today: date) -> Diagnosis:
    path = _request_path(exc)
    low = message.lower()
    if "fine_tuning" in path or "fine-tun" in low or "fine tun" in low:
        if today >= models.FINE_TUNING_CLOSED_FROM:
            why = (
                "Depuis le 6 janvier 2027, OpenAI n'accepte plus aucun nouveau job de fine-tuning, "
                "quel que soit le compte."
            )
        else:
            why = (
                "OpenAI arrête le fine-tuning en libre-service : depuis le 7 mai 2026 les "
                "organisations qui n'ont jamais fait de fine-tuning ne peuvent plus créer de job, "
                "depuis le 2 juillet 2026 les organisations inactives non plus, et plus personne à "
                "partir du 6 janvier 2027. Les modèles déjà entraînés restent utilisables jusqu'à "
                "l'arrêt de leur modèle de base."
            )
        return Diagnosis(
            "OpenAI refuse de créer un job de fine-tuning pour ce compte (erreur 403)",
            why,
            "Tu n'y peux rien depuis ton code : fais le cours en mode bac à sable, qui reproduit "
            "toutes les étapes sans compte. " + SANDBOX_HINT,
            "fine_tuning_refused",
            scrub(message),
        )
    return Diagnosis(
        "Accès refusé (erreur 403)",
        "Ta clé est valide mais n'a pas le droit de faire cette action : projet sans accès à ce "
        "modèle, clé « restreinte », ou pays non pris en charge.",
        "Vérifie les permissions de la clé et du projet sur https://platform.openai.com/settings, "
        "ou essaie un autre modèle. " + SANDBOX_HINT,
        "permission_denied",
        scrub(message),
    )


def _not_found(exc: BaseException, message: str, today: date) -> Diagnosis:
    path = _request_path(exc)
    code = getattr(exc, "code", None)
    low = message.lower()
    elsewhere = _not_served(code, low, message)
    if elsewhere is not None:
        return elsewhere
    if (
        code == "model_not_found"
        or "model" in low
        and ("does not exist" in low or "not found" in low)
    ):
        model = _model_in(message) or "?"
        info = models.get(model) if model != "?" else None
        if info is not None and (info.is_shut_down(today) or info.name == models.GUIDE_MODEL):
            when = info.shutdown_date.strftime("%d/%m/%Y") if info.shutdown_date else "?"
            return Diagnosis(
                f"Le modèle {model} n'existe plus",
                f"OpenAI a arrêté {info.name} le {when} (ainsi que les modèles fine-tunés construits "
                "dessus). Le guide d'origine utilisait gpt-3.5-turbo-0125, arrêté le 23/10/2026.",
                f"Prends un modèle encore ouvert, par exemple {models.DEFAULT_MODEL} "
                "(voir helpers.models.open_models(today)).",
                "model_shut_down",
                scrub(message),
            )
        if model.startswith("ft:"):
            return Diagnosis(
                f"Modèle fine-tuné introuvable : {model}",
                "Ce nom est mal recopié, le job n'a pas encore réussi, ou le modèle appartient à un "
                "autre mode (un modèle « :sandbox: » n'existe que dans le bac à sable) ou à un autre "
                "compte.",
                "Recopie le nom exact donné par `fine_tuning.jobs.retrieve` (champ fine_tuned_model) "
                "une fois le job en « succeeded », dans le même mode.",
                "model_not_found",
                scrub(message),
            )
        return Diagnosis(
            f"Modèle introuvable : {model}",
            "Ce nom de modèle n'existe pas, est mal écrit, ou ta clé n'y a pas accès.",
            f"Vérifie l'orthographe ; pour le fine-tuning, prends un modèle encore ouvert : "
            f"{_open_models()}.",
            "model_not_found",
            scrub(message),
        )
    if "/files" in path or "file" in low:
        return Diagnosis(
            "Fichier introuvable",
            "Cet identifiant file-… n'existe pas (ou plus) : fichier supprimé, id mal recopié, ou "
            "envoyé dans un autre mode (bac à sable ≠ OpenAI) ou un autre compte.",
            "Renvoie ton dataset (`python -m helpers api files.create -p fine-tune -f dataset.jsonl` "
            "ou helpers.jobs.upload) et utilise le nouvel id file-….",
            "file_not_found",
            scrub(message),
        )
    if "fine_tuning" in path or "job" in low:
        return Diagnosis(
            "Job de fine-tuning introuvable",
            "Cet identifiant ftjob-… n'existe pas dans ce mode ou ce compte (id mal recopié, ou job "
            "créé dans l'autre mode).",
            "Liste tes jobs (`python -m helpers api fine_tuning.jobs.list`) et recopie l'id exact.",
            "job_not_found",
            scrub(message),
        )
    return Diagnosis(
        "Ressource introuvable (erreur 404)",
        "L'objet demandé n'existe pas, ou l'adresse de l'API est mauvaise (OPENAI_BASE_URL ?).",
        "Vérifie l'identifiant utilisé et le mode actif (`python -m helpers doctor`).",
        "not_found",
        scrub(message),
    )


def _not_served(code: Any, low: str, message: str) -> Diagnosis | None:
    """A route the sandbox does not imitate, the Evals API (shut down), or a chat model on the
    legacy text completions route."""
    if code == "evals_api_shut_down" or "evals api shut down" in low:
        return Diagnosis(
            "L'API Evals d'OpenAI est fermée (depuis le 30/11/2026)",
            "OpenAI a arrêté son API d'évaluation (client.evals) le 30 novembre 2026 ; le bac à "
            "sable ne l'imite donc pas non plus.",
            "Évalue ton modèle avec le kit : `python -m helpers eval MODELE FICHIER.jsonl` ou "
            "`helpers.evaluate(...)` (notebook 12), ou avec Promptfoo (outil libre, npm "
            "promptfoo), qui interroge n'importe quelle API compatible OpenAI.",
            "evals_api_shut_down",
            scrub(message),
        )
    if code == "not_imitated_by_sandbox" or "does not imitate" in low:
        instead = message.split("Instead: ", 1)[1] if "Instead: " in message else ""
        return Diagnosis(
            "Le bac à sable n'imite pas cette partie de l'API",
            "Ton adresse est juste (c'est bien une route de l'API d'OpenAI), mais le bac à sable "
            "ne reproduit que les fichiers, le fine-tuning, les modèles, le chat, l'API Responses, "
            "les embeddings et la modération.",
            'Pour cette route, passe en mode openai (`helpers.use_mode("openai")`, payant)'
            + (f" ; ou, d'après le message d'origine : {instead}" if instead else "")
            + ".",
            "not_imitated_by_sandbox",
            scrub(message),
        )
    if "this is a chat model and not supported in the v1/completions" in low:
        return Diagnosis(
            "Modèle de chat appelé sur l'ancienne route des complétions de texte",
            "client.completions.create (/v1/completions) ne sert que les anciens modèles de "
            "complétion ; gpt-4o-mini et tes modèles fine-tunés sont des modèles de chat.",
            'Utilise client.chat.completions.create avec messages=[{"role": "user", '
            '"content": ton_texte}].',
            "chat_model_on_completions",
            scrub(message),
        )
    return None


def _invalid_training_file() -> tuple[str, str]:
    return (
        "Le fichier d'entraînement est refusé : mauvais format JSONL (virgule finale, JSON sur "
        "plusieurs lignes, BOM, message assistant manquant…), ou l'id file-… ne désigne pas un "
        "fichier envoyé avec purpose « fine-tune » (supprimé, mal recopié, autre mode).",
        "Vérifie chaque ligne : `python -m helpers check dataset.jsonl` (un objet JSON par ligne, "
        "pas de virgule finale), corrige, renvoie le fichier et utilise le nouvel id file-….",
    )


_UNKNOWN_PARAMETER = re.compile(
    r"(?:Unrecognized request argument supplied: |Unknown parameter: ')([\w.\[\]-]+)"
)


_WRONG_TYPE = re.compile(
    r"Invalid type for '([^']+)': expected (an? [\w' ]+?|one of [^,]+), but got (an? \w+) instead"
)
_TYPE_FR = {
    "a decimal": "un nombre (décimal)",
    "an integer": "un nombre entier",
    "a string": "du texte (une chaîne)",
    "a boolean": "un booléen (True ou False)",
    "an object": "un dictionnaire (objet JSON)",
    "an array": "une liste",
    "a null": "None (null)",
}


def _wrong_type(match: re.Match[str], message: str) -> Diagnosis:
    """A parameter of the wrong JSON type; the classic case: a number typed in a widget or read
    with input(), which arrives as a string."""
    name, expected, got = match.groups()
    expected_fr = _TYPE_FR.get(expected.removesuffix(" or 'auto'"), expected)
    got_fr = _TYPE_FR.get(got, got)
    cause = f"Le paramètre « {name} » doit être {expected_fr}, mais ton code a envoyé {got_fr}."
    if got == "a string" and expected.startswith(("a decimal", "an integer")):
        convert = "int(valeur)" if expected.startswith("an integer") else "float(valeur)"
        cause += (
            " C'est le cas classique d'une valeur lue dans un widget texte (ipywidgets.Text) ou "
            "avec input() : elle arrive toujours sous forme de texte, même si tu as tapé 0.7."
        )
        fix = (
            f"Convertis-la avant l'appel : {name}={convert} ; ou prends un widget numérique "
            "(FloatSlider, FloatText, IntText), dont la valeur est déjà un nombre."
        )
    else:
        fix = f"Passe à « {name} » une valeur du bon type ({expected_fr})."
    return Diagnosis(
        f"Mauvais type pour le paramètre {name}",
        cause,
        fix,
        "invalid_type",
        scrub(message),
    )


def _bad_request(exc: BaseException, message: str, today: date | None = None) -> Diagnosis:
    low = message.lower()
    param = getattr(exc, "param", None)
    unknown = _UNKNOWN_PARAMETER.search(message)
    if unknown:
        name = unknown.group(1)
        return Diagnosis(
            f"Paramètre inconnu : {name}",
            f"L'API ne connaît pas le paramètre « {name} » pour cette requête : une faute de "
            "frappe, ou une option d'une autre route ou d'autres modèles (`reasoning_effort` "
            "n'existe que pour les modèles de raisonnement, pas pour gpt-4o-mini).",
            "Vérifie son nom dans la documentation de l'API, ou retire-le. Le bac à sable refuse "
            "les mêmes paramètres que l'API réelle.",
            "unknown_parameter",
            scrub(message),
        )
    if isinstance(param, str) and param.startswith("method."):
        return _method_refused(param, message)
    if "invalid training_file" in low or param == "training_file" or "training file" in low:
        cause, fix = _invalid_training_file()
        return Diagnosis(
            "Fichier d'entraînement invalide (invalid training_file)",
            cause,
            fix,
            "invalid_training_file",
            scrub(message),
        )
    if "file storage quota" in low:
        return _storage_full(message)
    if "must be .jsonl" in low or "invalid file format" in low:
        return Diagnosis(
            "Format de fichier refusé",
            "Le fine-tuning n'accepte que des fichiers .jsonl (un exemple JSON par ligne).",
            "Renomme ton fichier en .jsonl et vérifie-le avec `python -m helpers check`.",
            "invalid_file_format",
            scrub(message),
        )
    if (
        "not available for fine-tuning" in low
        or ("model" in low and "fine-tun" in low)
        or param == "model"
    ):
        named = re.search(r"Model (\S+) is not available", message)
        advice = models.alias_advice(named.group(1), today or date.today()) if named else None
        if advice is not None:
            return Diagnosis(
                "Ce nom de modèle est un alias : le fine-tuning demande le nom daté",
                f"« {named.group(1)} » est un alias (un nom sans date), et {advice}.",
                f"Relance le job avec model=« {models.dated_name(named.group(1))} » (le même nom "
                "que dans le tableau des modèles du notebook 05).",
                "model_alias",
                scrub(message),
            )
        return Diagnosis(
            "Ce modèle ne peut pas être fine-tuné",
            "Seuls certains modèles (instantanés datés) acceptent le fine-tuning ; d'autres sont "
            "arrêtés (gpt-3.5-turbo-0125 depuis le 23/10/2026).",
            f"Prends un modèle encore ouvert au fine-tuning : {_open_models()}.",
            "model_not_fine_tunable",
            scrub(message),
        )
    wrong_type = _WRONG_TYPE.search(message)
    if wrong_type:
        return _wrong_type(wrong_type, message)
    if "is too large" in low and "completion tokens" in low:
        limit = re.search(r"at most (\d+)", message)
        return Diagnosis(
            "max_tokens trop grand pour ce modèle",
            "Tu demandes une réponse plus longue que ce que le modèle peut écrire d'un coup"
            + (f" (au plus {limit.group(1)} jetons)" if limit else "")
            + ".",
            "Baisse max_tokens (ou max_completion_tokens) sous cette limite, ou ne le donne pas du "
            "tout : le modèle s'arrête de lui-même à la fin de sa réponse.",
            "max_tokens_too_large",
            scrub(message),
        )
    if param == "suffix" or "suffix" in low:
        return Diagnosis(
            "Suffixe refusé",
            "Le suffixe doit faire de 1 à 64 caractères (lettres, chiffres, tirets).",
            "Choisis un suffixe court, par exemple « coucou ».",
            "bad_suffix",
            scrub(message),
        )
    return Diagnosis(
        "Requête refusée (invalid_request_error, erreur 400)",
        "Un paramètre est invalide ; le cas le plus courant : un fichier supprimé ou un mauvais "
        "identifiant (file-…, ftjob-…), ou une option mal écrite.",
        "Relis le message d'origine ci-dessous (il nomme le paramètre fautif) ; si c'est un "
        "fichier, recrée un file-… en renvoyant ton dataset.",
        "invalid_request",
        scrub(message),
    )


def _rate_limit(exc: BaseException, message: str) -> Diagnosis:
    code = getattr(exc, "code", None)
    kind = getattr(exc, "type", None)
    low = message.lower()
    if "per day in organization class-" in low:
        return _class_daily_quota(exc, message)
    if "insufficient_quota" in (code, kind) or "quota" in low:
        return Diagnosis(
            "Crédit épuisé (insufficient_quota / exceeded_quota)",
            "Ta clé fonctionne, mais le compte n'a plus de crédit (ou pas de moyen de paiement, ou "
            "la limite de dépense mensuelle est atteinte). Réessayer ne sert à rien.",
            "Ajoute un moyen de paiement ou du crédit sur https://platform.openai.com/settings/"
            "organization/billing, attends quelques minutes, puis relance. " + SANDBOX_HINT,
            "insufficient_quota",
            scrub(message),
        )
    wait = _retry_after(exc)
    if wait is None:
        m = re.search(r"try again in ([\d.]+)\s*(ms|s)", message)
        if m:
            wait = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
    when = f"dans {wait:g} s" if wait is not None else "dans quelques secondes"
    return Diagnosis(
        "Trop de requêtes d'un coup (limite de débit, erreur 429)",
        "OpenAI limite le nombre de requêtes (ou de jetons) par minute ; tu l'as atteint. Ce "
        "n'est pas un problème de crédit.",
        f"Attends et réessaie {when} ; espace tes appels (le kit relance déjà automatiquement "
        "deux fois).",
        "rate_limit",
        scrub(message),
    )


def _failed_job(job: Any) -> Diagnosis:
    err = getattr(job, "error", None)
    code = getattr(err, "code", None) if err is not None else None
    message = getattr(err, "message", None) if err is not None else None
    if isinstance(err, dict):
        code, message = err.get("code"), err.get("message")
    message = message or ""
    job_id = getattr(job, "id", "?")
    mode = _mode()
    if mode == Mode.LOCAL and code in ("model_unavailable", "server_error"):
        return _failed_local_job(job_id, code, message)
    if code == "invalid_n_examples":
        m = re.search(r"has (\d+) example", message)
        n = f"{m.group(1)} exemple(s)" if m else "trop peu d'exemples"
        who = "OpenAI en exige" if mode == Mode.OPENAI else "OpenAI (et donc le kit) en exige"
        return Diagnosis(
            f"Le job {job_id} a échoué : pas assez d'exemples",
            f"Ton fichier contient {n} ; {who} au moins {models.MIN_EXAMPLES}.",
            f"Ajoute des exemples (au moins {models.MIN_EXAMPLES}, 50 à 100 c'est mieux), vérifie avec "
            "`python -m helpers check`, renvoie le fichier et relance un job.",
            "invalid_n_examples",
            scrub(message) or None,
        )
    mismatch = _method_mismatch(job, code, message) if code == "invalid_training_file" else None
    if mismatch is not None:
        return mismatch
    if code == "invalid_training_file":
        cause, fix = _invalid_training_file()
        m = re.search(r"Example (\d+)", message)
        if m:
            who = _WHO_CHECKS.get(mode, "Le bac à sable")
            cause = f"{who} a rejeté l'exemple n° {m.group(1)} du fichier. " + cause
        return Diagnosis(
            f"Le job {job_id} a échoué : fichier d'entraînement invalide",
            cause,
            fix,
            "invalid_training_file",
            scrub(message) or None,
        )
    stopped = _WHO_STOPPED.get(mode, "L'entraînement s'est arrêté")
    return Diagnosis(
        f"Le job {job_id} a échoué",
        stopped + (f" (code {code})" if code else "") + ".",
        JobFailedError.fix,
        f"job_failed:{code}" if code else "job_failed",
        scrub(message) or None,
    )


def _method_refused(param: str, message: str) -> Diagnosis:
    """A job's `method` refused: its type, or one of its hyperparameters (DPO's `beta`…)."""
    name = param.rsplit(".", 1)[-1]
    if param == "method.type":
        cause = (
            "`method.type` doit valoir « supervised » (exemples de chat) ou « dpo » (paires de "
            "préférences, notebook 13) ; « reinforcement » n'est ni dans le cours ni dans le bac à sable."
        )
        fix = 'Écris method={"type": "dpo", "dpo": {"hyperparameters": {…}}} (ou "supervised").'
    elif name == "beta":
        cause = (
            "`beta` (DPO seulement) doit être un nombre plus grand que 0 et au plus 2, ou « auto »."
        )
        fix = "Essaie beta=0.1 (la valeur habituelle), ou « auto » : le fournisseur choisit."
    else:
        cause = (
            f"Le réglage « {param} » est refusé : un nombre hors limites (n_epochs 1 à 50, "
            "batch_size 1 à 256, learning_rate_multiplier plus grand que 0), ou un réglage rangé au "
            "mauvais endroit."
        )
        fix = (
            "Corrige la valeur (ou mets « auto »), dans method → "
            '{"type": …, TYPE: {"hyperparameters": {…}}} avec TYPE le même que type.'
        )
    return Diagnosis(
        f"Réglage d'entraînement refusé : {param}", cause, fix, "bad_method", scrub(message)
    )


def _method_mismatch(job: Any, code: str, message: str) -> Diagnosis | None:
    """A DPO job given chat examples, or a supervised job given preference pairs (the file's
    format is not the job's method)."""
    method = getattr(getattr(job, "method", None), "type", None)
    job_id = getattr(job, "id", "?")
    if "expected preference pairs" in message:
        cause = (
            "Ce job est un entraînement par préférences (DPO), mais ton fichier contient des "
            'exemples de chat ({"messages": [...]}) : un job DPO attend des paires (input, '
            "preferred_output, non_preferred_output)."
        )
        fix = (
            "Pour un entraînement supervisé, relance le job sans method DPO ; pour DPO, écris des "
            "paires (notebook 13) et vérifie-les avec `python -m helpers check FICHIER --method dpo`."
        )
    elif method == "supervised" and "expected either prompt/completion pairs or chat" in message:
        cause = (
            "Le fichier n'est pas au format des exemples de chat ({\"messages\": [...]}). S'il "
            "contient des paires de préférences (input, preferred_output, non_preferred_output), "
            "c'est un job DPO qu'il faut lancer."
        )
        fix = (
            'Relance le job avec method={"type": "dpo"} (helpers.jobs.create(..., method="dpo"), '
            "notebook 13) ; sinon corrige le fichier (`python -m helpers check FICHIER`)."
        )
    else:
        return None
    return Diagnosis(
        f"Le job {job_id} a échoué : le fichier n'est pas au format de sa méthode",
        cause,
        fix,
        code,
        scrub(message) or None,
    )


def _mode() -> Mode | None:
    try:
        return settings.get_mode()
    except Exception:  # an unusable setting: wording for no mode in particular
        return None


# Who checked a training file, who stopped a job: each mode's wording.
_WHO_CHECKS = {
    Mode.OPENAI: "OpenAI",
    Mode.LOCAL: "Le serveur local",
    Mode.SANDBOX: "Le bac à sable",
}
_WHO_STOPPED = {
    Mode.OPENAI: "OpenAI a arrêté l'entraînement",
    Mode.LOCAL: "L'entraînement local, sur cette machine, s'est arrêté",
    Mode.SANDBOX: "Le bac à sable a arrêté l'entraînement simulé",
}


def _failed_local_job(job_id: str, code: str, message: str) -> Diagnosis:
    """A local job that failed on this machine: no OpenAI involved, no validation problem."""
    if code == "model_unavailable":
        # the worker's message is the kit's own French explanation (`local.catalog`): what
        # is missing, then the ways out
        text = message or "Le modèle de base n'a pas pu être chargé."
        detail = re.search(r" \(détail : [^)]*\)$", text)
        if detail:  # the technical detail goes with the cause, not the way out
            text = text[: detail.start()]
        cause, _, ways = text.partition(" Deux solutions : ")
        cause += detail.group(0) if detail else ""
        fix = (
            f"Deux solutions : {ways}"
            if ways
            else "Corrige le réglage ATELIER_LOCAL_MODEL (ou, sans téléchargement : une cellule "
            "`%env ATELIER_LOCAL_MODEL=tiny`) puis relance la cellule ; le serveur local "
            "redémarre avec ce modèle."
        )
        return Diagnosis(
            f"Le job {job_id} a échoué : le modèle de base n'a pas pu être chargé ici",
            cause,
            fix + " Diagnostic complet : `python -m helpers doctor`.",
            "local_model_unavailable",
        )
    log = settings.workspace_dir_name().rstrip("/") + "/local/worker.log"
    return Diagnosis(
        f"Le job {job_id} a échoué pendant l'entraînement local",
        "L'entraînement sur cette machine s'est arrêté avant la fin : processus arrêté ou tué "
        "(machine en veille, mémoire insuffisante), ou erreur pendant le calcul.",
        f"Relance l'entraînement (notebook 05, ou la cellule qui l'attendait). Si ça recommence, "
        f"le détail est dans {log} ; un modèle plus petit (ATELIER_LOCAL_MODEL=tiny) demande "
        "moins de mémoire.",
        "local_job_failed",
        scrub(message) or None,
    )


# Rows of the guide's error table (step 10), matched on the text of a message.
def _from_text(text: str, today: date) -> Diagnosis:
    low = text.lower()
    if "invalid choice" in low:
        m = re.search(r"invalid choice:?\s*'?([\w.\-]+)", text)
        wrong = m.group(1) if m else "?"
        right = suggest(wrong)
        return Diagnosis(
            f"Commande inconnue : {wrong} (invalid choice)",
            "La syntaxe de la commande est fausse : les verbes s'écrivent avec des points, "
            "comme l'API (chat.completions.create, fine_tuning.jobs.create…).",
            f"Utilise `{right}`."
            if right
            else "Liste les commandes : `python -m helpers api --help`.",
            "invalid_choice",
        )
    if "enoent" in low and "package.json" in low:
        return Diagnosis(
            "Render ne trouve pas package.json (ENOENT)",
            "L'hébergeur Node cherche package.json (et server.js) dans ton dépôt : ils n'y ont pas "
            "été poussés, ou sont dans un sous-dossier.",
            "Pousse server.js et package.json à la racine du dépôt (ou indique le bon dossier "
            "« Root Directory » sur Render). Le proxy Python du kit (étape 8) évite ce problème.",
            "enoent_package_json",
        )
    if (
        "exceeded_quota" in low
        or "insufficient_quota" in low
        or "exceeded your current quota" in low
    ):
        return _rate_limit(Exception(text), text)
    if "invalid training_file" in low or "invalid_training_file" in low:
        cause, fix = _invalid_training_file()
        return Diagnosis(
            "Fichier d'entraînement invalide (invalid training_file)",
            cause,
            fix,
            "invalid_training_file",
            scrub(text),
        )
    if "invalid_n_examples" in low:
        return _failed_job({"id": "?", "error": {"code": "invalid_n_examples", "message": text}})
    if "invalid_request_error" in low or "not available for fine-tuning" in low:
        return _bad_request(Exception(text), text, today)
    if "incorrect api key" in low or "invalid_api_key" in low:
        return _auth(Exception(text), text)
    if "missing credentials" in low or "api_key client option" in low:
        return _missing_key()
    if "does not exist" in low and "model" in low:
        return _not_found(Exception(text), text, today)
    return Diagnosis(
        "Erreur",
        "Message non reconnu par le kit.",
        "Lis le message d'origine.",
        "unknown",
        scrub(text),
    )


def explain(exc: Any, *, today: date | None = None) -> Diagnosis:
    """A French `Diagnosis` for an exception, a failed job, or an error message. Never raises."""
    today = today or date.today()
    try:
        return _explain(exc, today)
    except Exception:  # last resort: explain must not fail
        return Diagnosis(
            f"Erreur inattendue ({type(exc).__name__})",
            "Le kit n'a pas su lire ce message.",
            "Relance la cellule ; si ça persiste, signale-le à ton formateur.",
            "unknown",
        )


def _explain(exc: Any, today: date) -> Diagnosis:
    if isinstance(exc, Diagnosis):
        return exc
    if isinstance(exc, str):
        return _from_text(exc, today)
    if not isinstance(exc, BaseException):
        if getattr(exc, "status", None) == "failed" or getattr(exc, "error", None) is not None:
            return _failed_job(exc)
        return _from_text(str(exc), today)

    if isinstance(exc, KitError):
        return _kit_error(exc)

    if "openai" in sys.modules:  # an SDK error (openai is never imported just to explain)
        diagnosis = _sdk_error(exc, today)
        if diagnosis is not None:
            return diagnosis

    if isinstance(exc, OSError) and workspace_problem(exc) is not None:
        where = settings.workspace_dir_name()
        if exc.filename:
            where = str(exc.filename)
        return _workspace(where, workspace_problem(exc) or "")
    if isinstance(exc, FileNotFoundError):
        name = exc.filename or str(exc)
        return Diagnosis(
            f"Fichier introuvable : {name}",
            "Ce chemin n'existe pas depuis le dossier courant.",
            "Vérifie le nom et le dossier (le fichier doit finir par .jsonl) ; `ls` ou l'explorateur "
            "de fichiers t'aide à le retrouver.",
            "file_missing",
        )
    if isinstance(exc, TimeoutError):
        return Diagnosis(
            "Attente trop longue",
            str(exc) or "Le délai d'attente est écoulé.",
            "Le job continue côté serveur : relance le suivi (helpers.jobs.follow()).",
            "wait_timeout",
        )
    if isinstance(exc, KeyboardInterrupt):
        return Diagnosis(
            "Interrompu", "Tu as arrêté l'opération.", "Relance-la quand tu veux.", "interrupted"
        )
    return Diagnosis(
        f"Erreur inattendue ({type(exc).__name__})",
        scrub(str(exc)) or "Pas de détail.",
        GENERIC_FIX,
        "unknown",
    )


def _kit_error(exc: KitError) -> Diagnosis:
    """The diagnosis of one of the kit's own errors (`helpers.exceptions`), by its type."""
    if isinstance(exc, MissingKeyError):
        return _missing_key()
    if isinstance(exc, DatasetError):
        errors = exc.report.errors
        first = "\n".join(f"  {p}" for p in errors[:5])
        more = f"\n  … et {len(errors) - 5} autre(s)" if len(errors) > 5 else ""
        return Diagnosis(
            f"Dataset pas prêt : {len(errors)} erreur(s)",
            "Le fichier ne respecte pas le format attendu par OpenAI :\n" + first + more,
            exc.fix,
            "dataset",
        )
    if isinstance(exc, SettingsError):
        return Diagnosis("Réglage invalide", str(exc), exc.fix, "settings")
    if isinstance(exc, WorkspaceError):
        return _workspace(exc.folder, exc.reason)
    if isinstance(exc, DamagedFileError):
        name = exc.path.replace("\\", "/").rsplit("/", 1)[-1]
        return Diagnosis(f"Fichier abîmé : {name}", str(exc), exc.fix, "damaged_file")
    if isinstance(exc, ServerStartError):
        title = {
            "workspace": "Espace de travail impossible à écrire",
            "damaged_file": "Fichier abîmé dans l'espace de travail",
        }.get(exc.kind, "Le serveur du kit n'a pas pu démarrer")
        code = {"workspace": "workspace", "damaged_file": "damaged_file"}
        return Diagnosis(title, str(exc), exc.fix, code.get(exc.kind, "server_start"))
    if isinstance(exc, JobFailedError):
        return _failed_job(exc.job)
    if isinstance(exc, EvaluationError):
        return Diagnosis("Évaluation impossible", str(exc), exc.fix, "evaluation")
    if isinstance(exc, UsageError):
        text = str(exc)
        if "invalid choice" in text:
            return Diagnosis("Commande inconnue (invalid choice)", text, exc.fix, "invalid_choice")
        return Diagnosis("Commande incorrecte", text, exc.fix, "cli_usage")
    return Diagnosis(
        f"Erreur inattendue ({type(exc).__name__})",
        scrub(str(exc)) or "Pas de détail.",
        exc.fix,
        "unknown",
    )


def _open_models() -> str:
    """The base models a new job can use today, in the active mode's world (never raises)."""
    try:
        today = models.world_today(settings.get_mode())
        names = [m.name for m in models.open_models(today)]
    except Exception:
        names = []
    if not names:
        return "aucun chez OpenAI depuis le 6 janvier 2027 ; passe en mode bac à sable ou local"
    return ", ".join(names)


def _workspace(folder: str, reason: str) -> Diagnosis:
    return Diagnosis(
        "Espace de travail impossible à écrire",
        f"Le kit range ton travail dans {folder}, mais {reason}.",
        WorkspaceError.fix,
        "workspace",
    )


def _kit_server_mode() -> bool:
    """True in the modes served by the kit's own server (sandbox, local)."""
    try:
        return settings.get_mode().traits.kit_server
    except Exception:
        return False


def _kit_server_error(exc: BaseException, message: str) -> Diagnosis:
    """A 5xx of the kit's own server: not OpenAI's status page, the workspace's log file."""
    code = getattr(exc, "code", None)
    if code == "workspace_not_writable":
        reason = re.search(r"\((.*)\)", message)
        return _workspace(settings.workspace_dir_name(), reason.group(1) if reason else "?")
    if code == "workspace_damaged":
        if settings.class_server() is not None:  # the class's server holds the file
            return Diagnosis(
                "Fichier abîmé sur le serveur de la classe",
                "La base de données de ton espace sur le serveur de la classe ne peut plus être "
                "lue (ce n'est pas ta faute).",
                "Préviens ton enseignant·e : `python -m helpers doctor --repair` sur le serveur "
                "de la classe (ATELIER_HOME = ton dossier d'élève) la met de côté et repart "
                "d'une base neuve.",
                "damaged_file",
                scrub(message),
            )
        from .sandbox.database import DB_NAME, damaged_error

        err = damaged_error(settings.workspace_dir_name().rstrip("/") + "/" + DB_NAME)
        return Diagnosis(f"Fichier abîmé : {DB_NAME}", str(err), err.fix, "damaged_file")
    log = settings.workspace_dir_name().rstrip("/") + "/logs/kit-server.log"
    return Diagnosis(
        "Erreur du bac à sable (5xx)",
        "Le serveur du kit a rencontré un problème interne (ce n'est pas ta faute).",
        f"Relance la cellule. Si ça recommence, le détail est dans le fichier {log} : "
        "montre-le à ton formateur ou ta formatrice.",
        "server_error",
        scrub(message),
    )


# The class server (`ATELIER_CLASS_URL`): its own refusals, said as the class meets them.


def _class_key(message: str) -> Diagnosis:
    return Diagnosis(
        "Clé refusée par le serveur de la classe (erreur 401)",
        "Le serveur de la classe ne reconnaît pas ta clé : elle est mal recopiée, ton "
        "enseignant·e en a donné une nouvelle, ou, sur un JupyterHub, le jeton de ton serveur "
        "a expiré.",
        "Recopie la clé que ton enseignant·e t'a donnée dans ATELIER_CLASS_KEY (fichier .env ou "
        "première cellule du notebook 00) ; sur un hub, arrête puis relance ton serveur (File › "
        "Hub Control Panel). Si ça continue, demande ta clé à ton enseignant·e.",
        "class_invalid_key",
        scrub(message),
    )


def _hub_unavailable(message: str) -> Diagnosis:
    return Diagnosis(
        "Le JupyterHub ne répond pas au serveur de la classe",
        "Le serveur de la classe demande au hub à qui appartient ton jeton ; le hub n'a pas "
        "répondu (arrêté, surchargé, ou le jeton de service du serveur de classe est refusé). "
        "Ta clé n'est pas en cause.",
        "Réessaie dans une minute. Si ça dure, préviens ton enseignant·e : le hub ou le service "
        "« classe » du hub est à vérifier.",
        "hub_unavailable",
        scrub(message),
    )


def _storage_full(message: str) -> Diagnosis:
    return Diagnosis(
        "Espace de stockage plein (fichiers)",
        "Tes fichiers envoyés (et tes réponses enregistrées) prennent toute la place permise : "
        "le serveur de la classe limite chaque élève, la vraie API chaque organisation. Rien "
        "n'a été enregistré.",
        "Supprime les fichiers dont tu n'as plus besoin (`python -m helpers api files.list`, "
        "puis `python -m helpers api files.delete -i file-…`) ou envoie un fichier plus petit, "
        "puis relance la cellule. En classe, ton enseignant·e peut aussi agrandir le quota.",
        "storage_quota",
        scrub(message),
    )


def _class_daily_quota(exc: BaseException, message: str) -> Diagnosis:
    wait = _retry_after(exc)
    hours = f"dans environ {max(1, round(wait / 3600))} h" if wait else "demain"
    what = "de jetons d'entraînement" if "tokens" in message.lower() else "de jobs"
    return Diagnosis(
        "Quota du jour atteint sur le serveur de la classe (erreur 429)",
        f"Ton enseignant·e limite le nombre {what} par élève et par jour ; tu l'as atteint. "
        "Ce n'est ni une panne ni un problème de crédit, et réessayer tout de suite ne sert à rien.",
        f"Continue avec le modèle que tu as déjà entraîné (il reste disponible), ou relance "
        f"{hours}. Ton enseignant·e peut relever le quota (`python -m helpers class quota`).",
        "class_quota",
        scrub(message),
    )


# SDK status errors whose diagnosis depends on their class alone: (class, title, cause, fix, code).
_PLAIN_STATUS_ERRORS = (
    (
        "ConflictError",
        "Conflit (erreur 409)",
        "L'objet a changé d'état entre-temps (par exemple un job déjà terminé ou déjà annulé).",
        "Relis son état (retrieve) avant de réessayer.",
        "conflict",
    ),
    (
        "UnprocessableEntityError",
        "Requête incompréhensible (erreur 422)",
        "Un champ a une forme inattendue.",
        "Relis le message d'origine.",
        "unprocessable",
    ),
    (
        "InternalServerError",
        "Erreur du serveur (5xx)",
        "Le problème vient du serveur, pas de toi.",
        "Réessaie dans une minute ; si ça dure, regarde https://status.openai.com.",
        "server_error",
    ),
)


def _sdk_error(exc: BaseException, today: date) -> Diagnosis | None:
    """The diagnosis of an `openai` SDK error (2.x or 3.x), or None for any other exception."""
    import openai

    message = _api_message(exc)
    if isinstance(exc, openai.APITimeoutError):
        return Diagnosis(
            "Délai dépassé (timeout)",
            "Le serveur n'a pas répondu à temps : réseau lent, serveur surchargé, ou bac à "
            "sable arrêté.",
            "Réessaie dans un moment ; vérifie ta connexion (`python -m helpers doctor`).",
            "timeout",
        )
    if isinstance(exc, openai.APIConnectionError):
        return Diagnosis(
            "Impossible de joindre l'API",
            "Pas de connexion réseau, pare-feu/proxy, adresse d'API erronée (OPENAI_BASE_URL), "
            "ou serveur du bac à sable arrêté.",
            "Vérifie ta connexion et lance `python -m helpers doctor` ; en mode bac à sable, "
            "redémarre le noyau (le serveur se relance tout seul).",
            "connection",
            scrub(message) if message != "Connection error." else None,
        )
    if isinstance(exc, openai.AuthenticationError):
        return _auth(exc, message)
    if isinstance(exc, openai.PermissionDeniedError):
        return _permission(exc, message, today)
    if isinstance(exc, openai.NotFoundError):
        return _not_found(exc, message, today)
    if isinstance(exc, openai.BadRequestError):
        return _bad_request(exc, message, today)
    if isinstance(exc, openai.RateLimitError):
        return _rate_limit(exc, message)
    if isinstance(exc, openai.APIStatusError) and getattr(exc, "code", None) == "hub_unavailable":
        return _hub_unavailable(message)
    if isinstance(exc, openai.InternalServerError) and _kit_server_mode():
        return _kit_server_error(exc, message)
    for name, title, cause, fix, code in _PLAIN_STATUS_ERRORS:
        if isinstance(exc, getattr(openai, name)):
            return Diagnosis(title, cause, fix, code, scrub(message))
    if isinstance(exc, openai.APIStatusError):
        status = getattr(exc, "status_code", "?")
        return Diagnosis(
            f"Erreur de l'API ({status})",
            "L'API a refusé la requête.",
            "Relis le message d'origine.",
            "api_error",
            scrub(message),
        )
    if isinstance(exc, openai.OpenAIError):
        text = str(exc)
        if "missing credentials" in text.lower() or "api_key client option" in text.lower():
            return _missing_key()
        return Diagnosis(
            "Erreur du client OpenAI",
            "Le SDK a refusé la requête.",
            "Relis le message d'origine.",
            "openai_error",
            scrub(text),
        )
    return None


class friendly(contextlib.AbstractContextManager):
    """`with friendly(): …` shows the French diagnosis instead of a traceback.

    The error is swallowed (the cell ends cleanly); `.diagnosis` keeps it for inspection.
    `reraise=True` shows the diagnosis and raises it again (for scripts that must stop).
    """

    def __init__(self, *, reraise: bool = False, today: date | None = None) -> None:
        self.reraise = reraise
        self.today = today
        self.diagnosis: Diagnosis | None = None

    def __exit__(self, exc_type, exc, tb) -> bool:  # type: ignore[override]
        if exc is None or not isinstance(exc, Exception):
            return False
        self.diagnosis = explain(exc, today=self.today)
        _show(self.diagnosis)
        return not self.reraise


def _show(diagnosis: Diagnosis) -> None:
    ipython = sys.modules.get("IPython")
    if ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None:
        from IPython.display import display

        display(diagnosis)
    else:
        print(diagnosis, file=sys.stderr)


GUIDE_TABLE = (
    "invalid training_file",
    "invalid choice: chat_completions.create",
    "exceeded_quota",
    "invalid_request_error",
    "ENOENT: package.json",
)


def iter_table(today: date | None = None) -> Iterator[tuple[str, Diagnosis]]:
    """The guide's error table (step 10), each message with the kit's diagnosis."""
    for msg in GUIDE_TABLE:
        yield msg, explain(msg, today=today)
