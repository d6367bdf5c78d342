"""The kit's own errors (`helpers.exceptions`), diagnosed by their type."""

from __future__ import annotations

from ..exceptions import (
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
)
from ..i18n import _
from .accounts import missing_key
from .diagnosis import Diagnosis, scrub
from .jobs import failed_job
from .servers import workspace


def kit_error(exc: KitError) -> Diagnosis:
    """The diagnosis of one of the kit's own errors (`helpers.exceptions`), by its type."""
    if isinstance(exc, MissingKeyError):
        return missing_key()
    if isinstance(exc, DatasetError):
        errors = exc.report.errors
        first = "\n".join(f"  {p}" for p in errors[:5])
        more = "\n  " + _("… et {n} autre(s)").format(n=len(errors) - 5) if len(errors) > 5 else ""
        return Diagnosis(
            _("Dataset pas prêt : {n} erreur(s)").format(n=len(errors)),
            _("Le fichier ne respecte pas le format attendu par OpenAI :") + "\n" + first + more,
            exc.fix,
            "dataset",
        )
    if isinstance(exc, SettingsError):
        return Diagnosis(_("Réglage invalide"), str(exc), exc.fix, "settings")
    if isinstance(exc, WorkspaceError):
        return workspace(exc.folder, exc.reason)
    if isinstance(exc, DamagedFileError):
        name = exc.path.replace("\\", "/").rsplit("/", 1)[-1]
        return Diagnosis(
            _("Fichier abîmé : {name}").format(name=name), str(exc), exc.fix, "damaged_file"
        )
    if isinstance(exc, ServerStartError):
        title = {
            "workspace": _("Espace de travail impossible à écrire"),
            "damaged_file": _("Fichier abîmé dans l'espace de travail"),
        }.get(exc.kind, _("Le serveur du kit n'a pas pu démarrer"))
        code = {"workspace": "workspace", "damaged_file": "damaged_file"}
        return Diagnosis(title, str(exc), exc.fix, code.get(exc.kind, "server_start"))
    if isinstance(exc, JobFailedError):
        return failed_job(exc.job)
    if isinstance(exc, EvaluationError):
        return Diagnosis(_("Évaluation impossible"), str(exc), exc.fix, "evaluation")
    if isinstance(exc, UsageError):
        text = str(exc)
        if "invalid choice" in text:
            return Diagnosis(
                _("Commande inconnue (invalid choice)"), text, exc.fix, "invalid_choice"
            )
        return Diagnosis(_("Commande incorrecte"), text, exc.fix, "cli_usage")
    return Diagnosis(
        _("Erreur inattendue ({kind})").format(kind=type(exc).__name__),
        scrub(str(exc)) or _("Pas de détail."),
        exc.fix,
        "unknown",
    )
