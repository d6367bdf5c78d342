"""Requests the API refused (400) or could not find (404): unknown parameters, values of the
wrong type, models that do not exist or cannot be fine-tuned, files, jobs, a job's method,
the routes the sandbox does not imitate and the Evals API (shut down)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .. import models, settings
from .diagnosis import Diagnosis, scrub
from .jobs import invalid_training_file
from .reading import model_in, request_path
from .servers import storage_full


def not_found(exc: BaseException, message: str, today: date) -> Diagnosis:
    path = request_path(exc)
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
        model = model_in(message) or "?"
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


def bad_request(exc: BaseException, message: str, today: date | None = None) -> Diagnosis:
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
        cause, fix = invalid_training_file()
        return Diagnosis(
            "Fichier d'entraînement invalide (invalid training_file)",
            cause,
            fix,
            "invalid_training_file",
            scrub(message),
        )
    if "file storage quota" in low:
        return storage_full(message)
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
        alias = named.group(1) if named else None
        advice = models.alias_advice(alias, today or date.today()) if alias else None
        if alias is not None and advice is not None:
            return Diagnosis(
                "Ce nom de modèle est un alias : le fine-tuning demande le nom daté",
                f"« {alias} » est un alias (un nom sans date), et {advice}.",
                f"Relance le job avec model=« {models.dated_name(alias)} » (le même nom "
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
