"""Any error the course can meet → a short French diagnosis: what happened, why, what to do.

`explain(exc)` accepts an exception (SDK, dataset, key, CLI…), a failed `FineTuningJob`, or
the text of an error message (e.g. a row of the guide's error table). It never raises and
never shows more of an API key than the API itself did (a masked key is masked again).

Works with `openai` 2.x (httpx) and 3.x (httpx2): only `openai`'s own classes are used.

The diagnoses, by area (one module each; `explain` dispatches to them):

    diagnosis   Diagnosis, scrub (keys never shown), the active mode
    reading     what an SDK error says: message, path, headers, the model it names
    servers     the workspace, the kit's server (5xx, damaged base), the class server
    accounts    keys and accounts: missing, refused, no fine-tuning, no credit, too fast
    jobs        failed jobs: too few examples, a refused file, the wrong format, local mode
    refusals    refused requests (400) and what does not exist (404)
    kit         the kit's own exceptions (dataset, settings, workspace, CLI…)
    sdk         an SDK error → its area, by class
    guide       an error known by its text (the guide's table, step 10)
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import date
from typing import Any

from .. import settings
from ..exceptions import GENERIC_FIX, KitError, workspace_problem
from ..i18n import _
from .diagnosis import SANDBOX_HINT, Diagnosis, scrub
from .guide import from_text
from .jobs import failed_job
from .kit import kit_error
from .sdk import sdk_error
from .servers import workspace

__all__ = [
    "GUIDE_TABLE",
    "SANDBOX_HINT",
    "Diagnosis",
    "explain",
    "friendly",
    "iter_table",
    "scrub",
]


def explain(exc: Any, *, today: date | None = None) -> Diagnosis:
    """A `Diagnosis` (the learner's language) for an exception, a failed job, or an error message. Never raises."""
    today = today or date.today()
    try:
        return _explain(exc, today)
    except Exception:  # last resort: explain must not fail
        return Diagnosis(
            _("Erreur inattendue ({kind})").format(kind=type(exc).__name__),
            _("Le kit n'a pas su lire ce message."),
            _("Relance la cellule ; si ça persiste, signale-le à ton formateur."),
            "unknown",
        )


def _explain(exc: Any, today: date) -> Diagnosis:
    if isinstance(exc, Diagnosis):
        return exc
    if isinstance(exc, str):
        return from_text(exc, today)
    if not isinstance(exc, BaseException):
        if getattr(exc, "status", None) == "failed" or getattr(exc, "error", None) is not None:
            return failed_job(exc)
        return from_text(str(exc), today)

    if isinstance(exc, KitError):
        return kit_error(exc)

    if "openai" in sys.modules:  # an SDK error (openai is never imported just to explain)
        diagnosis = sdk_error(exc, today)
        if diagnosis is not None:
            return diagnosis

    if isinstance(exc, OSError) and workspace_problem(exc) is not None:
        where = settings.workspace_dir_name()
        if exc.filename:
            where = str(exc.filename)
        return workspace(where, workspace_problem(exc) or "")
    if isinstance(exc, FileNotFoundError):
        name = exc.filename or str(exc)
        return Diagnosis(
            _("Fichier introuvable : {name}").format(name=name),
            _("Ce chemin n'existe pas depuis le dossier courant."),
            _(
                "Vérifie le nom et le dossier (le fichier doit finir par .jsonl) ; `ls` ou "
                "l'explorateur de fichiers t'aide à le retrouver."
            ),
            "file_missing",
        )
    if isinstance(exc, TimeoutError):
        return Diagnosis(
            _("Attente trop longue"),
            str(exc) or _("Le délai d'attente est écoulé."),
            _("Le job continue côté serveur : relance le suivi (helpers.jobs.follow())."),
            "wait_timeout",
        )
    if isinstance(exc, KeyboardInterrupt):
        return Diagnosis(
            _("Interrompu"),
            _("Tu as arrêté l'opération."),
            _("Relance-la quand tu veux."),
            "interrupted",
        )
    return Diagnosis(
        _("Erreur inattendue ({kind})").format(kind=type(exc).__name__),
        scrub(str(exc)) or _("Pas de détail."),
        _(GENERIC_FIX),
        "unknown",
    )


class friendly(contextlib.AbstractContextManager):
    """`with friendly(): …` shows the diagnosis instead of a traceback.

    The error is swallowed (the cell ends cleanly); `.diagnosis` keeps it for inspection.
    `reraise=True` shows the diagnosis and raises it again (for scripts that must stop).
    """

    def __init__(self, *, reraise: bool = False, today: date | None = None) -> None:
        self.reraise = reraise
        self.today = today
        self.diagnosis: Diagnosis | None = None

    def __exit__(self, exc_type, exc, tb) -> bool:
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
