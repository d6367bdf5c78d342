"""Fine-tuning jobs that failed: too few examples, a training file refused (or in the other
format than the job's method), and in local mode a base model that could not be loaded or a
training stopped on this machine."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from .. import models, settings
from ..exceptions import JobFailedError
from ..i18n import N_, _, ngettext
from ..modes import Mode
from .diagnosis import Diagnosis, current_mode, scrub


def invalid_training_file() -> tuple[str, str]:
    return (
        _(
            "Le fichier d'entraînement est refusé : mauvais format JSONL (virgule finale, JSON sur "
            "plusieurs lignes, BOM, message assistant manquant…), ou l'id file-… ne désigne pas un "
            "fichier envoyé avec purpose « fine-tune » (supprimé, mal recopié, autre mode)."
        ),
        _(
            "Vérifie chaque ligne : `python -m helpers check dataset.jsonl` (un objet JSON par ligne, "
            "pas de virgule finale), corrige, renvoie le fichier et utilise le nouvel id file-…."
        ),
    )


def failed_job(job: Any) -> Diagnosis:
    if isinstance(job, dict):  # a job known only by its text (helpers.errors.guide)
        job = SimpleNamespace(**job)
    err = getattr(job, "error", None)
    code = getattr(err, "code", None) if err is not None else None
    message = getattr(err, "message", None) if err is not None else None
    if isinstance(err, dict):
        code, message = err.get("code"), err.get("message")
    message = message or ""
    job_id = getattr(job, "id", "?")
    mode = current_mode()
    if mode == Mode.LOCAL and code in ("model_unavailable", "server_error"):
        return _failed_local_job(job_id, code, message)
    if code == "invalid_n_examples":
        m = re.search(r"has (\d+) example", message)
        count = int(m.group(1)) if m else 0
        n = (
            ngettext("{n} exemple(s)", "{n} exemple(s)", count).format(n=count)
            if m
            else _("trop peu d'exemples")
        )
        who = _("OpenAI en exige") if mode == Mode.OPENAI else _("OpenAI (et donc le kit) en exige")
        return Diagnosis(
            _("Le job {job_id} a échoué : pas assez d'exemples").format(job_id=job_id),
            _("Ton fichier contient {n} ; {who} au moins {minimum}.").format(
                n=n, who=who, minimum=models.MIN_EXAMPLES
            ),
            _(
                "Ajoute des exemples (au moins {minimum}, 50 à 100 c'est mieux), vérifie avec "
                "`python -m helpers check`, renvoie le fichier et relance un job."
            ).format(minimum=models.MIN_EXAMPLES),
            "invalid_n_examples",
            scrub(message) or None,
        )
    mismatch = _method_mismatch(job, code, message) if code == "invalid_training_file" else None
    if mismatch is not None:
        return mismatch
    if code == "invalid_training_file":
        cause, fix = invalid_training_file()
        m = re.search(r"Example (\d+)", message)
        if m:
            who = _(_WHO_CHECKS.get(mode, N_("Le bac à sable")))
            cause = (
                _("{who} a rejeté l'exemple n° {n} du fichier. ").format(who=who, n=m.group(1))
                + cause
            )
        return Diagnosis(
            _("Le job {job_id} a échoué : fichier d'entraînement invalide").format(job_id=job_id),
            cause,
            fix,
            "invalid_training_file",
            scrub(message) or None,
        )
    stopped = _(_WHO_STOPPED.get(mode, N_("L'entraînement s'est arrêté")))
    return Diagnosis(
        _("Le job {job_id} a échoué").format(job_id=job_id),
        stopped + (f" (code {code})" if code else "") + ".",
        _(JobFailedError.fix),
        f"job_failed:{code}" if code else "job_failed",
        scrub(message) or None,
    )


def _method_mismatch(job: Any, code: str, message: str) -> Diagnosis | None:
    """A DPO job given chat examples, or a supervised job given preference pairs (the file's
    format is not the job's method)."""
    method = getattr(getattr(job, "method", None), "type", None)
    job_id = getattr(job, "id", "?")
    if "expected preference pairs" in message:
        cause = _(
            "Ce job est un entraînement par préférences (DPO), mais ton fichier contient des "
            'exemples de chat ({"messages": [...]}) : un job DPO attend des paires (input, '
            "preferred_output, non_preferred_output)."
        )
        fix = _(
            "Pour un entraînement supervisé, relance le job sans method DPO ; pour DPO, écris des "
            "paires (notebook 13) et vérifie-les avec `python -m helpers check FICHIER --method dpo`."
        )
    elif method == "supervised" and "expected either prompt/completion pairs or chat" in message:
        cause = _(
            "Le fichier n'est pas au format des exemples de chat ({\"messages\": [...]}). S'il "
            "contient des paires de préférences (input, preferred_output, non_preferred_output), "
            "c'est un job DPO qu'il faut lancer."
        )
        fix = _(
            'Relance le job avec method={"type": "dpo"} (helpers.jobs.create(..., method="dpo"), '
            "notebook 13) ; sinon corrige le fichier (`python -m helpers check FICHIER`)."
        )
    else:
        return None
    return Diagnosis(
        _("Le job {job_id} a échoué : le fichier n'est pas au format de sa méthode").format(
            job_id=job_id
        ),
        cause,
        fix,
        code,
        scrub(message) or None,
    )


# Who checked a training file, who stopped a job: each mode's wording.
_WHO_CHECKS: dict[Mode | None, str] = {
    Mode.OPENAI: "OpenAI",
    Mode.LOCAL: N_("Le serveur local"),
    Mode.SANDBOX: N_("Le bac à sable"),
}

_WHO_STOPPED: dict[Mode | None, str] = {
    Mode.OPENAI: N_("OpenAI a arrêté l'entraînement"),
    Mode.LOCAL: N_("L'entraînement local, sur cette machine, s'est arrêté"),
    Mode.SANDBOX: N_("Le bac à sable a arrêté l'entraînement simulé"),
}


def _failed_local_job(job_id: str, code: str, message: str) -> Diagnosis:
    """A local job that failed on this machine: no OpenAI involved, no validation problem."""
    if code == "model_unavailable":
        # the worker's message is the kit's own French explanation (`local.catalog`): what
        # is missing, then the ways out
        text = message or _("Le modèle de base n'a pas pu être chargé.")
        detail = re.search(r" \((?:détail :|detail:) [^)]*\)$", text)  # i18n: keep (a pattern)
        if detail:  # the technical detail goes with the cause, not the way out
            text = text[: detail.start()]
        cause, _sep, ways = text.partition(" " + _("Deux solutions : "))
        cause += detail.group(0) if detail else ""
        fix = (
            _("Deux solutions : ") + ways
            if ways
            else _(
                "Corrige le réglage ATELIER_LOCAL_MODEL (ou, sans téléchargement : une cellule "
                "`%env ATELIER_LOCAL_MODEL=tiny`) puis relance la cellule ; le serveur local "
                "redémarre avec ce modèle."
            )
        )
        return Diagnosis(
            _("Le job {job_id} a échoué : le modèle de base n'a pas pu être chargé ici").format(
                job_id=job_id
            ),
            cause,
            fix + " " + _("Diagnostic complet : `python -m helpers doctor`."),
            "local_model_unavailable",
        )
    log = settings.workspace_dir_name().rstrip("/") + "/local/worker.log"
    return Diagnosis(
        _("Le job {job_id} a échoué pendant l'entraînement local").format(job_id=job_id),
        _(
            "L'entraînement sur cette machine s'est arrêté avant la fin : processus arrêté ou tué "
            "(machine en veille, mémoire insuffisante), ou erreur pendant le calcul."
        ),
        _(
            "Relance l'entraînement (notebook 05, ou la cellule qui l'attendait). Si ça "
            "recommence, le détail est dans {log} ; un modèle plus petit "
            "(ATELIER_LOCAL_MODEL=tiny) demande moins de mémoire."
        ).format(log=log),
        "local_job_failed",
        scrub(message) or None,
    )
