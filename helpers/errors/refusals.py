"""Requests the API refused (400) or could not find (404): unknown parameters, values of the
wrong type, models that do not exist or cannot be fine-tuned, files, jobs, a job's method,
the routes the sandbox does not imitate and the Evals API (shut down).

The API's messages are recognised by their table (`helpers.api_messages`, the one the kit
server sends them from); the older wordings the real API may still send are matched beside."""

from __future__ import annotations

from datetime import date
from typing import Any

from .. import api_messages as api
from .. import models, settings
from ..i18n import N_, _
from .diagnosis import Diagnosis, scrub
from .jobs import invalid_training_file
from .reading import model_in, request_path
from .servers import storage_full


def not_found(exc: BaseException, message: str, today: date) -> Diagnosis:
    path = request_path(exc)
    code = getattr(exc, "code", None)
    low = message.lower()
    entry = api.find(message)
    elsewhere = _not_served(code, low, message, entry)
    if elsewhere is not None:
        return elsewhere
    if entry is api.NO_SUCH_FILE:
        return _file_not_found(message)
    if (
        entry in (api.MODEL_NOT_FOUND, api.MODEL_DEPRECATED)
        or code == "model_not_found"
        or "model" in low
        and ("does not exist" in low or "not found" in low)
    ):
        named = entry.match(message) if entry is not None else None
        model = (named or {}).get("model") or model_in(message) or "?"
        info = models.get(model) if model != "?" else None
        if info is not None and (info.is_shut_down(today) or info.name == models.GUIDE_MODEL):
            when = models.day_text(info.shutdown_date) if info.shutdown_date else "?"
            return Diagnosis(
                _("Le modèle {model} n'existe plus").format(model=model),
                _(
                    "OpenAI a arrêté {name} le {when} (ainsi que les modèles fine-tunés construits "
                    "dessus). Le guide d'origine utilisait gpt-3.5-turbo-0125, arrêté le 23/10/2026."
                ).format(name=info.name, when=when),
                _(
                    "Prends un modèle encore ouvert, par exemple {model} "
                    "(voir helpers.models.open_models(today))."
                ).format(model=models.DEFAULT_MODEL),
                "model_shut_down",
                scrub(message),
            )
        if model.startswith("ft:"):
            return Diagnosis(
                _("Modèle fine-tuné introuvable : {model}").format(model=model),
                _(
                    "Ce nom est mal recopié, le job n'a pas encore réussi, ou le modèle appartient à un "
                    "autre mode (un modèle « :sandbox: » n'existe que dans le bac à sable) ou à un autre "
                    "compte."
                ),
                _(
                    "Recopie le nom exact donné par `fine_tuning.jobs.retrieve` (champ fine_tuned_model) "
                    "une fois le job en « succeeded », dans le même mode."
                ),
                "model_not_found",
                scrub(message),
            )
        return Diagnosis(
            _("Modèle introuvable : {model}").format(model=model),
            _("Ce nom de modèle n'existe pas, est mal écrit, ou ta clé n'y a pas accès."),
            _(
                "Vérifie l'orthographe ; pour le fine-tuning, prends un modèle encore ouvert : "
                "{models}."
            ).format(models=_open_models()),
            "model_not_found",
            scrub(message),
        )
    if "/files" in path or "file" in low:
        return _file_not_found(message)
    if "fine_tuning" in path or "job" in low:
        return Diagnosis(
            _("Job de fine-tuning introuvable"),
            _(
                "Cet identifiant ftjob-… n'existe pas dans ce mode ou ce compte (id mal recopié, ou job "
                "créé dans l'autre mode)."
            ),
            _(
                "Liste tes jobs (`python -m helpers api fine_tuning.jobs.list`) et recopie l'id exact."
            ),
            "job_not_found",
            scrub(message),
        )
    return Diagnosis(
        _("Ressource introuvable (erreur 404)"),
        _("L'objet demandé n'existe pas, ou l'adresse de l'API est mauvaise (OPENAI_BASE_URL ?)."),
        _("Vérifie l'identifiant utilisé et le mode actif (`python -m helpers doctor`)."),
        "not_found",
        scrub(message),
    )


def _file_not_found(message: str) -> Diagnosis:
    return Diagnosis(
        _("Fichier introuvable"),
        _(
            "Cet identifiant file-… n'existe pas (ou plus) : fichier supprimé, id mal recopié, ou "
            "envoyé dans un autre mode (bac à sable ≠ OpenAI) ou un autre compte."
        ),
        _(
            "Renvoie ton dataset (`python -m helpers api files.create -p fine-tune -f dataset.jsonl` "
            "ou helpers.jobs.upload) et utilise le nouvel id file-…."
        ),
        "file_not_found",
        scrub(message),
    )


def _not_served(
    code: Any, low: str, message: str, entry: api.ApiMessage | None
) -> Diagnosis | None:
    """A route the sandbox does not imitate, the Evals API (shut down), or a chat model on the
    legacy text completions route."""
    if (
        entry is api.EVALS_SHUT_DOWN
        or code == "evals_api_shut_down"
        or "evals api shut down" in low
    ):
        return Diagnosis(
            _("L'API Evals d'OpenAI est fermée (depuis le 30/11/2026)"),
            _(
                "OpenAI a arrêté son API d'évaluation (client.evals) le 30 novembre 2026 ; le bac à "
                "sable ne l'imite donc pas non plus."
            ),
            _(
                "Évalue ton modèle avec le kit : `python -m helpers eval MODELE FICHIER.jsonl` ou "
                "`helpers.evaluate(...)` (notebook 12), ou avec Promptfoo (outil libre, npm "
                "promptfoo), qui interroge n'importe quelle API compatible OpenAI."
            ),
            "evals_api_shut_down",
            scrub(message),
        )
    if (
        entry in (api.NOT_IMITATED, api.LEGACY_COMPLETION_MODEL)
        or code == "not_imitated_by_sandbox"
        or "does not imitate" in low
    ):
        instead = message.split("Instead: ", 1)[1] if "Instead: " in message else ""
        return Diagnosis(
            _("Le bac à sable n'imite pas cette partie de l'API"),
            _(
                "Ton adresse est juste (c'est bien une route de l'API d'OpenAI), mais le bac à sable "
                "ne reproduit que les fichiers, le fine-tuning, les modèles, le chat, l'API Responses, "
                "les embeddings et la modération."
            ),
            _('Pour cette route, passe en mode openai (`helpers.use_mode("openai")`, payant)')
            + (
                _(" ; ou, d'après le message d'origine : {instead}").format(instead=instead)
                if instead
                else ""
            )
            + ".",
            "not_imitated_by_sandbox",
            scrub(message),
        )
    if entry is api.CHAT_MODEL_ON_COMPLETIONS:
        return Diagnosis(
            _("Modèle de chat appelé sur l'ancienne route des complétions de texte"),
            _(
                "client.completions.create (/v1/completions) ne sert que les anciens modèles de "
                "complétion ; gpt-4o-mini et tes modèles fine-tunés sont des modèles de chat."
            ),
            _(
                'Utilise client.chat.completions.create avec messages=[{"role": "user", '
                '"content": ton_texte}].'
            ),
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
        return _("aucun chez OpenAI depuis le 6 janvier 2027 ; passe en mode bac à sable ou local")
    return ", ".join(names)


_TYPE_FR = {
    "a decimal": N_("un nombre (décimal)"),
    "an integer": N_("un nombre entier"),
    "a string": N_("du texte (une chaîne)"),
    "a boolean": N_("un booléen (True ou False)"),
    "an object": N_("un dictionnaire (objet JSON)"),
    "an array": N_("une liste"),
    "a null": "None (null)",  # the same in every language
}


def _wrong_type(fields: dict[str, str], message: str) -> Diagnosis:
    """A parameter of the wrong JSON type; the classic case: a number typed in a widget or read
    with input(), which arrives as a string."""
    name, expected, got = fields["name"], fields["expected"], fields.get("got")
    expected_fr = _(_TYPE_FR.get(expected.removesuffix(" or 'auto'"), expected))
    if got is None:  # the short form: « Invalid type for 'model': expected a string. »
        cause = _("Le paramètre « {name} » doit être {expected}.").format(
            name=name, expected=expected_fr
        )
        got = ""
    else:
        cause = _(
            "Le paramètre « {name} » doit être {expected}, mais ton code a envoyé {got}."
        ).format(name=name, expected=expected_fr, got=_(_TYPE_FR.get(got, got)))
    if got == "a string" and expected.startswith(("a decimal", "an integer")):
        convert = _("int(valeur)") if expected.startswith("an integer") else _("float(valeur)")
        cause += _(
            " C'est le cas classique d'une valeur lue dans un widget texte (ipywidgets.Text) ou "
            "avec input() : elle arrive toujours sous forme de texte, même si tu as tapé 0.7."
        )
        fix = _(
            "Convertis-la avant l'appel : {name}={convert} ; ou prends un widget numérique "
            "(FloatSlider, FloatText, IntText), dont la valeur est déjà un nombre."
        ).format(name=name, convert=convert)
    else:
        fix = _("Passe à « {name} » une valeur du bon type ({expected}).").format(
            name=name, expected=expected_fr
        )
    return Diagnosis(
        _("Mauvais type pour le paramètre {name}").format(name=name),
        cause,
        fix,
        "invalid_type",
        scrub(message),
    )


def bad_request(exc: BaseException, message: str, today: date | None = None) -> Diagnosis:
    low = message.lower()
    param = getattr(exc, "param", None)
    entry = api.find(message)
    fields = (entry.match(message) if entry is not None else None) or {}
    if entry in (api.UNKNOWN_PARAMETER, api.UNKNOWN_PARAMETER_QUOTED):
        name = fields.get("name") or param or "?"
        return Diagnosis(
            _("Paramètre inconnu : {name}").format(name=name),
            _(
                "L'API ne connaît pas le paramètre « {name} » pour cette requête : une faute de "
                "frappe, ou une option d'une autre route ou d'autres modèles (`reasoning_effort` "
                "n'existe que pour les modèles de raisonnement, pas pour gpt-4o-mini)."
            ).format(name=name),
            _(
                "Vérifie son nom dans la documentation de l'API, ou retire-le. Le bac à sable refuse "
                "les mêmes paramètres que l'API réelle."
            ),
            "unknown_parameter",
            scrub(message),
        )
    if entry is api.MISSING_PARAMETER:
        return _missing_parameter(fields.get("name") or param or "?", message)
    if entry in _METHOD_REFUSALS or (
        isinstance(param, str) and param.startswith(("method.", "hyperparameters."))
    ):
        return _method_refused(param or fields.get("name") or "method", message)
    if entry in (api.INVALID_TYPE, api.INVALID_TYPE_SHORT) and "name" in fields:
        return _wrong_type(fields, message)
    if "invalid training_file" in low or param == "training_file" or "training file" in low:
        cause, fix = invalid_training_file()
        return Diagnosis(
            _("Fichier d'entraînement invalide (invalid training_file)"),
            cause,
            fix,
            "invalid_training_file",
            scrub(message),
        )
    if entry is api.STORAGE_QUOTA or "file storage quota" in low:
        return storage_full(message)
    if (
        entry is api.INVALID_TRAINING_FILE_FORMAT
        or "must be .jsonl" in low
        or "invalid file format" in low
    ):
        return Diagnosis(
            _("Format de fichier refusé"),
            _("Le fine-tuning n'accepte que des fichiers .jsonl (un exemple JSON par ligne)."),
            _("Renomme ton fichier en .jsonl et vérifie-le avec `python -m helpers check`."),
            "invalid_file_format",
            scrub(message),
        )
    if (
        entry is api.MODEL_NOT_AVAILABLE
        or "not available for fine-tuning" in low
        or ("model" in low and "fine-tun" in low)
        or (param == "model" and "fine_tuning" in request_path(exc))
    ):
        alias = fields.get("model") if entry is api.MODEL_NOT_AVAILABLE else None
        advice = models.alias_advice(alias, today or date.today()) if alias else None
        if alias is not None and advice is not None:
            return Diagnosis(
                _("Ce nom de modèle est un alias : le fine-tuning demande le nom daté"),
                _("« {alias} » est un alias (un nom sans date), et {advice}.").format(
                    alias=alias, advice=advice
                ),
                _(
                    "Relance le job avec model=« {dated} » (le même nom que dans le tableau des "
                    "modèles du notebook 05)."
                ).format(dated=models.dated_name(alias)),
                "model_alias",
                scrub(message),
            )
        return Diagnosis(
            _("Ce modèle ne peut pas être fine-tuné"),
            _(
                "Seuls certains modèles (instantanés datés) acceptent le fine-tuning ; d'autres sont "
                "arrêtés (gpt-3.5-turbo-0125 depuis le 23/10/2026)."
            ),
            _("Prends un modèle encore ouvert au fine-tuning : {models}.").format(
                models=_open_models()
            ),
            "model_not_fine_tunable",
            scrub(message),
        )
    if entry is api.MAX_TOKENS_TOO_LARGE or ("is too large" in low and "completion tokens" in low):
        limit = fields.get("limit") if entry is api.MAX_TOKENS_TOO_LARGE else None
        return Diagnosis(
            _("max_tokens trop grand pour ce modèle"),
            _("Tu demandes une réponse plus longue que ce que le modèle peut écrire d'un coup")
            + (_(" (au plus {n} jetons)").format(n=limit) if limit else "")
            + ".",
            _(
                "Baisse max_tokens (ou max_completion_tokens) sous cette limite, ou ne le donne pas du "
                "tout : le modèle s'arrête de lui-même à la fin de sa réponse."
            ),
            "max_tokens_too_large",
            scrub(message),
        )
    if entry in _SUFFIX_REFUSALS or param == "suffix" or "suffix" in low:
        return Diagnosis(
            _("Suffixe refusé"),
            _("Le suffixe doit faire de 1 à 64 caractères (lettres, chiffres, tirets)."),
            _("Choisis un suffixe court, par exemple « coucou »."),
            "bad_suffix",
            scrub(message),
        )
    return Diagnosis(
        _("Requête refusée (invalid_request_error, erreur 400)"),
        _(
            "Un paramètre est invalide ; le cas le plus courant : un fichier supprimé ou un mauvais "
            "identifiant (file-…, ftjob-…), ou une option mal écrite."
        ),
        _(
            "Relis le message d'origine ci-dessous (il nomme le paramètre fautif) ; si c'est un "
            "fichier, recrée un file-… en renvoyant ton dataset."
        ),
        "invalid_request",
        scrub(message),
    )


_METHOD_REFUSALS = (
    api.METHOD_TYPE_INVALID,
    api.METHOD_NOT_SIMULATED,
    api.METHOD_MISPLACED,
)
_SUFFIX_REFUSALS = (api.SUFFIX_EMPTY, api.SUFFIX_TOO_LONG, api.SUFFIX_PATTERN)


def _missing_parameter(name: str, message: str) -> Diagnosis:
    return Diagnosis(
        _("Paramètre obligatoire manquant : {name}").format(name=name),
        _(
            "L'API exige le paramètre « {name} » pour cette requête, et ton appel ne le donne pas."
        ).format(name=name),
        _(
            "Ajoute-le à l'appel (son nom exact est dans le message d'origine) ; pour un job : "
            "model et training_file, pour le chat : model et messages."
        ),
        "missing_parameter",
        scrub(message),
    )


def _method_refused(param: str, message: str) -> Diagnosis:
    """A job's `method` refused: its type, or one of its hyperparameters (DPO's `beta`…)."""
    name = param.rsplit(".", 1)[-1]
    if param == "method.type":
        cause = _(
            "`method.type` doit valoir « supervised » (exemples de chat) ou « dpo » (paires de "
            "préférences, notebook 13) ; « reinforcement » n'est ni dans le cours ni dans le bac à sable."
        )
        fix = _('Écris method={"type": "dpo", "dpo": {"hyperparameters": {…}}} (ou "supervised").')
    elif name == "beta":
        cause = _(
            "`beta` (DPO seulement) doit être un nombre plus grand que 0 et au plus 2, ou « auto »."
        )
        fix = _("Essaie beta=0.1 (la valeur habituelle), ou « auto » : le fournisseur choisit.")
    else:
        cause = _(
            "Le réglage « {param} » est refusé : un nombre hors limites (n_epochs 1 à 50, "
            "batch_size 1 à 256, learning_rate_multiplier plus grand que 0), ou un réglage rangé "
            "au mauvais endroit."
        ).format(param=param)
        fix = _(
            "Corrige la valeur (ou mets « auto »), dans method → "
            '{"type": …, TYPE: {"hyperparameters": {…}}} avec TYPE le même que type.'
        )
    return Diagnosis(
        _("Réglage d'entraînement refusé : {param}").format(param=param),
        cause,
        fix,
        "bad_method",
        scrub(message),
    )
