"""The kit's own exceptions, all in one place: the bottom layer, importing nothing of the kit.

Each one says in French what happened (`str(err)`) and carries what to do (`err.fix`), so
`helpers.errors.explain` can turn any of them into a diagnosis by its type alone. The modules
that raise them import them from here (and so still offer them: `helpers.client.MissingKeyError`,
`helpers.jobs.JobFailedError`, `helpers.dataset.DatasetError`…).

Not here: `helpers.proxy`'s errors (the proxy imports nothing of the kit, it is deployed
alone) and the sandbox's `ApiError` (an HTTP answer of the server, not an error of the learner).
"""

from __future__ import annotations

from typing import Any

from .i18n import N_, _

GENERIC_FIX = N_(
    "Relis le message ; relance la cellule. Si ça persiste, signale-le à ton formateur."
)


class KitError(Exception):
    """Base of the kit's errors: the message says what happened, `fix` what to do (French)."""

    fix: str = GENERIC_FIX  # a class's fix is marked N_() and translated per error

    def __init__(self, message: str = "", fix: str | None = None):
        super().__init__(message)
        self.fix = fix if fix is not None else _(type(self).fix)

    def _render_traceback_(self) -> list[str]:
        """What IPython (Jupyter, Colab) shows instead of a Python traceback when a cell raises
        one of the kit's errors: what happened and what to do, in French."""
        return [f"❌ {self}", _("👉 Que faire : {fix}").format(fix=self.fix)]


class SettingsError(KitError, ValueError):
    """A setting has a value the kit cannot use (message in French)."""

    fix = N_("Corrige la valeur indiquée puis relance.")


class MissingKeyError(KitError, RuntimeError):
    """`openai` mode without a key (French message, never containing a key)."""

    fix = N_(
        "Donne ta clé dans le formulaire du notebook 02 (ou écris OPENAI_API_KEY=… dans le fichier "
        ".env à la racine du dossier), puis relance la cellule. Un `export`/`setx` fait dans un "
        "terminal n'atteint pas un serveur Jupyter déjà lancé."
    )


class DatasetError(KitError, ValueError):
    """A dataset is not ready to be sent; carries the full check report (`helpers.dataset.Report`)."""

    fix = N_(
        "Corrige chaque ligne indiquée (voir aussi `python -m helpers check ton_fichier.jsonl`), "
        "puis relance."
    )

    def __init__(self, report: Any):
        self.report = report
        super().__init__(report.summary())


class JobError(KitError, ValueError):
    """A job cannot be created/followed as asked (French message)."""


class JobFailedError(KitError, RuntimeError):
    """Raised by `jobs.wait(..., raise_on_failure=True)` when the job ends `failed`."""

    fix = N_(
        "Lis le message d'origine et les événements du job (helpers.jobs.follow) ; corrige puis "
        "relance un job. Un job échoué n'est pas facturé."
    )

    def __init__(self, job: Any, message: str | None = None, fix: str | None = None):
        self.job = job
        err = getattr(job, "error", None)
        super().__init__(
            message
            or _("Le job {job} a échoué : {message}").format(
                job=job.id, message=getattr(err, "message", None) or "?"
            ),
            fix,
        )


class NoModelError(KitError, ValueError):
    """No model given and none recorded in the workspace (French message)."""


class UsageError(KitError):
    """A command line the kit cannot run (French message and fix)."""

    fix = N_("Affiche l'aide : `python -m helpers --help`.")


class MissingStateError(KitError, RuntimeError):
    """An earlier step's result is missing and cannot be rebuilt here (French message)."""


class WebDemoError(KitError, RuntimeError):
    """The demo cannot start or be checked (French message, never containing a key)."""


class EvaluationError(KitError, ValueError):
    """An evaluation cannot run as asked: a file, an example, a setting (French message)."""

    fix = N_(
        "Vérifie le fichier et les réglages indiqués (un fichier .jsonl dont chaque exemple finit "
        "par la réponse « assistant » attendue), puis relance."
    )


class LocalModelError(KitError, RuntimeError):
    """Local mode cannot do what was asked (French message, with what to do)."""


class WorkspaceError(KitError, OSError):
    """The workspace folder cannot be written (read-only, full, no permission): French message
    naming the folder; the fix names `ATELIER_HOME`."""

    fix = N_(
        "Libère de la place ou choisis un dossier où tu peux écrire : définis ATELIER_HOME "
        "(par exemple ATELIER_HOME=~/atelier-travail) avant de lancer Jupyter, ou dans une cellule "
        "`import os; os.environ['ATELIER_HOME'] = '/un/dossier/à/toi'`, puis redémarre le noyau."
    )

    def __init__(self, folder: Any, reason: str | None = None):
        self.folder = str(folder)
        self.reason = reason if reason is not None else _("on ne peut pas y écrire")
        super().__init__(
            _("L'espace de travail {folder} n'est pas utilisable : {reason}.").format(
                folder=self.folder, reason=self.reason
            )
        )


class ServerStartError(KitError, RuntimeError):
    """The workspace's kit server could not start: its own reason (French), what to do, and
    `kind` ("workspace", "damaged_file" or "server")."""

    fix = N_(
        "Lance `python -m helpers doctor` (dans un terminal, ou `!python -m helpers doctor` dans "
        "une cellule) : il dit ce qui bloque et comment réparer. Puis relance la cellule."
    )

    def __init__(self, message: str, fix: str | None = None, kind: str = "server"):
        super().__init__(message, fix)
        self.kind = kind


_REPAIR = N_(
    "Lance `python -m helpers doctor --repair` (dans un terminal, ou "
    "`!python -m helpers doctor --repair` dans une cellule) : il met ce fichier de côté sous "
    "un autre nom, sans rien effacer{after}. Puis relance la cellule."
)


class DamagedFileError(KitError, OSError):
    """A file of the workspace that the kit can no longer read (hand-edited, truncated,
    corrupted): French message naming it; the fix is `python -m helpers doctor --repair`, which
    sets it aside (renamed, never deleted). `after`: what else the repair does (French)."""

    fix = _REPAIR.format(after="")

    def __init__(
        self,
        path: Any,
        what: str | None = None,
        reason: str | None = None,
        after: str = "",
    ):
        self.path = str(path)
        self.what = what if what is not None else _("un fichier du kit")
        self.reason = reason if reason is not None else _("illisible")
        super().__init__(
            _("Le fichier {path} ({what}) est abîmé : {reason}.").format(
                path=self.path, what=self.what, reason=self.reason
            ),
            _(_REPAIR).format(after=after),
        )


def workspace_problem(exc: BaseException) -> str | None:
    """In French, why a filesystem or SQLite error means the workspace cannot be written (None:
    another kind of error)."""
    import errno
    import sqlite3

    text = str(exc).lower()
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return _("le disque (ou ton quota) est plein")
        if exc.errno in (errno.EROFS,):
            return _("le dossier est en lecture seule")
        if exc.errno in (errno.EACCES, errno.EPERM):
            return _("tu n'as pas le droit d'y écrire")
        if exc.errno in (errno.ENOTDIR, errno.EEXIST):
            return _("ce chemin mène à un fichier, pas à un dossier")
        return None
    if isinstance(exc, sqlite3.OperationalError):
        if "disk is full" in text or "disk i/o error" in text:
            return _("le disque (ou ton quota) est plein")
        if "readonly" in text or "read-only" in text:
            return _("le dossier est en lecture seule")
        if "unable to open database" in text:
            return _("impossible d'y créer la base de données du bac à sable (droits ou place)")
    return None
