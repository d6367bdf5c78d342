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
        return workspace(exc.folder, exc.reason)
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
        return failed_job(exc.job)
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
