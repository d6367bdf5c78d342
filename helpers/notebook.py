"""Notebook niceties: the mode banner, and "rebuild missing earlier state".

Every notebook starts with `notebook.banner()` (which mode, which workspace, what earlier
steps left behind) and asks for what it needs with `notebook.ensure("file_id")` & co.

`ensure` (docs/ARCHITECTURE.md, "Workspace, state, re-runs"): when an earlier step's result is missing
— a fresh Colab runtime, a notebook opened out of order, a reset —
- in `sandbox` mode it replays the earlier steps at high speed, saying so;
- in `local` mode it replays them too (same local server, nothing paid), saying so — the
  replayed job really trains the local model: seconds with `tiny`, minutes with a hub model;
- in `openai` mode it never spends money by itself: it reads a state file saved on Drive
  (Colab) when there is one, else asks the learner for the id, else stops with a French
  message naming the notebook to run first.

Nothing here prints or stores the key.
"""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from . import heap, settings, workspace
from .exceptions import DamagedFileError, KitError, MissingStateError
from .fileio import write_atomic
from .i18n import N_, _
from .modes import Engine, Mode
from .tables import decimal

# What each step produces, in course order: (record name, notebook, label: translate when shown).
STEPS: list[tuple[str, str, str]] = [
    ("dataset_path", "03_dataset", N_("ton dataset (fichier JSONL)")),
    ("file_id", "04_envoi", N_("l'identifiant du fichier envoyé (file-…)")),
    ("job_id", "05_lancement", N_("l'identifiant du job d'entraînement (ftjob-…)")),
    ("fine_tuned_model", "06_suivi", N_("le nom de ton modèle fine-tuné (ft:…)")),
]
_ORDER = [name for name, _, _ in STEPS]
_PREFIX = {"file_id": "file-", "job_id": "ftjob-", "fine_tuned_model": "ft:"}

COURSE_DATASET = "coucou.jsonl"
COURSE_SUFFIX = "coucou"  # the suffix step 05 gives the course's job
# Speed used when replaying a missing job in the sandbox (≈ 0.06 s for COUCOU).
REPLAY_SPEED = 1000.0
# How long a replayed job may take before `ensure` gives up waiting (seconds), in the modes
# whose earlier steps are replayed (`Mode.traits.replayable`: free, on this machine).
REPLAY_TIMEOUT = {Mode.SANDBOX: 120.0, Mode.LOCAL: 3600.0}
# Banner colours (background, border) per mode.
_COLORS = {
    Mode.SANDBOX: ("#e8f5e9", "#43a047"),
    Mode.LOCAL: ("#e3f2fd", "#1e88e5"),
    Mode.OPENAI: ("#fff3e0", "#fb8c00"),
}
# The banner's last line: how to leave this mode.
_WAY_OUT = {
    Mode.SANDBOX: N_(
        "Pour passer au vrai OpenAI : helpers.use_mode('openai') (voir notebook 02) ; "
        "au mode local : helpers.use_mode('local') (voir notebook 00)."
    ),
    Mode.LOCAL: N_(
        "Rien ne quitte cette machine. Pour revenir au bac à sable : helpers.use_mode('sandbox')."
    ),
    Mode.OPENAI: N_("Pour revenir au bac à sable : helpers.use_mode('sandbox')."),
}
# Where a replay happens (sandbox and local modes).
_WHERE = {Mode.SANDBOX: N_("dans le bac à sable"), Mode.LOCAL: N_("sur le serveur local")}
# Where `export_state` / `ensure` look on Colab when Google Drive is mounted.
DRIVE_STATE = Path("/content/drive/MyDrive/atelier-fine-tuning/state.json")


# --------------------------------------------------------------------------- paths


def data_dir() -> Path:
    """The course's `data/` folder (tracked files: read them, never write over them)."""
    root = settings.repo_root()
    if root is None:  # installed without the checkout: look beside the current folder
        for candidate in (Path.cwd() / "data", Path.cwd().parent / "data"):
            if candidate.is_dir():
                return candidate
        raise MissingStateError(_("Je ne trouve pas le dossier data/ du cours."))
    return root / "data"


def data_file(name: str) -> Path:
    """A course data file in the learner's language (`settings.language()`): the edition's
    own copy, `data/<lang>/<name>`, when there is one (the English `coucou.jsonl`), else
    `data/<name>`; a file only another edition has (`subjects.jsonl`) is found in its folder."""
    folder = data_dir()
    lang = settings.language()
    others = [code for code in settings.LANGUAGES if code not in (lang, settings.DEFAULT_LANGUAGE)]
    candidates = [folder / lang / name] if lang != settings.DEFAULT_LANGUAGE else []
    candidates += [folder / name, *(folder / code / name for code in others)]
    return next((path for path in candidates if path.exists()), folder / name)


def course_dataset_copy() -> Path:
    """Copy the COUCOU dataset into the workspace (the learner's copy) and return its path."""
    target = settings.workspace_dir() / "dataset.jsonl"
    shutil.copyfile(data_file(COURSE_DATASET), target)
    return target


# --------------------------------------------------------------------------- banner


class Banner:
    """What a notebook shows first: mode, workspace, earlier results. HTML in Jupyter."""

    def __init__(
        self,
        mode: str | Mode,
        home: Path,
        state: dict[str, Any],
        key_source: str | None,
        local: list[str] | None = None,
        job_seconds: float | None = None,
    ):
        self.mode = settings.check_mode(mode)
        self.home = home
        self.state = state
        self.key_source = key_source
        self.local = local or []  # local mode: which base model, whether usable (French lines)
        self.job_seconds = job_seconds  # sandbox: the COUCOU job's duration (teacher's setting)

    def lines(self) -> list[str]:
        out = [_("Mode : {mode}").format(mode=_(settings.MODE_LABELS[self.mode]))]
        if self.mode.traits.needs_key:
            out.append(
                _("Clé : trouvée ({source})").format(source=self.key_source)
                if self.key_source
                else _("Clé : aucune pour l'instant → notebook 02")
            )
        out.extend(self.local)
        served = settings.class_server() if self.mode.traits.kit_server else None
        if served is not None:
            out.append(
                _("🏫 Serveur de la classe : {url} (réglage ATELIER_CLASS_URL)").format(
                    url=served[0]
                )
            )
        if self.mode.engine == Engine.SIMULATED and self.job_seconds is not None:
            out.append(
                _(
                    "⏱️ Durée d'un entraînement COUCOU ici : {duration} "
                    "(réglage de l'enseignant·e : ATELIER_JOB_SECONDS)"
                ).format(duration=duration_fr(self.job_seconds))
            )
        out.append(_("Espace de travail : {folder}").format(folder=self.home))
        done = [f"{_(label)} ✔" for name, _nb, label in STEPS if self.state.get(name)]
        out.append(
            _("Déjà fait : {steps}").format(steps=", ".join(done) if done else _("rien encore"))
        )
        out.append(_(_WAY_OUT[self.mode]))
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        color, border = _COLORS[self.mode]
        rows = "".join(f"<div>{html.escape(line)}</div>" for line in self.lines())
        return (
            f'<div style="background:{color};border-left:6px solid {border};'
            f'padding:8px 12px;margin:4px 0;color:#222">{rows}</div>'
        )


def duration_fr(seconds: float) -> str:
    """« environ 52 s », « environ 3 min », « moins d'une seconde » (rounded, in the learner's
    language: "about 52 s", "about 3.0 min", "less than a second")."""
    if seconds < 1:
        return _("moins d'une seconde")
    if seconds < 90:
        return _("environ {seconds} s").format(seconds=round(seconds))
    minutes = seconds / 60
    return _("environ {minutes} min").format(
        minutes=f"{minutes:.0f}" if minutes >= 10 else decimal(minutes, 1)
    )


def _job_seconds() -> float | None:
    try:
        return settings.job_seconds()
    except Exception:  # a bad setting: the sandbox says why when a job starts
        return None


def _local_lines() -> list[str]:
    """Local mode: the base model that trains, and whether this machine can (no torch import)."""
    from .local import catalog

    try:
        doc = catalog.doctor(check_device=False)
    except Exception as exc:  # never let the banner fail
        return [
            _("⚠️ Mode local : diagnostic impossible ({error}) → python -m helpers doctor").format(
                error=type(exc).__name__
            )
        ]
    out = []
    if doc.model is not None:
        state = (
            _("prêt")
            if doc.model_ready
            else (
                _("pas sur cette machine")
                if catalog.offline()
                else _("téléchargé au premier usage")
            )
        )
        size = catalog.parameters_fr(doc.model)
        out.append(
            (
                _(
                    "Modèle ouvert entraîné : {model} ({size} paramètres, {state}) — à changer "
                    "avec {variable}"
                )
                if size
                else _("Modèle ouvert entraîné : {model} ({state}) — à changer avec {variable}")
            ).format(model=doc.model.id, size=size, state=state, variable=catalog.LOCAL_MODEL_VAR)
        )
        out.extend(_served_lines(catalog.wanted_spec()))
    if not doc.usable:
        why = "; ".join(doc.problems) or _("voir le diagnostic")
        out.append(
            _(
                "⚠️ Mode local pas utilisable ici : {why}. Diagnostic : python -m helpers doctor"
            ).format(why=why)
        )
    out.extend(f"❌ {b}" for b in doc.blocking)
    out.extend(f"⚠️ {w}" for w in doc.warnings)
    return out


def _served_lines(wanted: str) -> list[str]:
    """Local mode: a running server that still serves another model (started before the
    setting changed) is restarted by the next request; say so (never starts a server)."""
    if settings.class_server() is not None:
        return []
    try:
        from . import kit_server

        served = kit_server.local_model_served()
    except Exception:  # never let the banner fail
        return []
    if served is None or served == wanted:
        return []
    was = _("un autre modèle") if served == "?" else _("« {model} »").format(model=served)
    return [
        _(
            "ℹ️ Le serveur local en marche sert encore {was} : il redémarre avec « {wanted} » "
            "à ta prochaine requête (un entraînement en cours continue)."
        ).format(was=was, wanted=wanted)
    ]


def banner() -> Any:
    """The mode banner shown at the top of every notebook (a `Banner`). A workspace whose
    state file is damaged shows, instead, the French diagnosis naming the file and the repair.
    From here on, in a notebook, a kit error shows its diagnosis instead of a traceback, and
    the kernel gives its freed memory back after each cell (`helpers.heap`: one student's
    kernels, none shut down, within 1 GiB on a hub)."""
    french_errors()
    heap.release_after_each_cell(_ipython())
    try:
        mode = settings.get_mode()
        state = workspace.snapshot(mode)
        edition = settings.notebook_edition()
        if edition:  # the terminal's commands will speak the edition the learner uses
            with suppress(OSError):
                settings.save_edition(edition)
    except DamagedFileError as err:
        from .errors import explain

        return explain(err)
    return Banner(
        mode=mode,
        home=settings.workspace_dir(),
        state=state,
        key_source=settings.key_source() if mode.traits.needs_key else None,
        local=_local_lines() if mode.engine == Engine.LOCAL else None,
        job_seconds=_job_seconds() if mode.engine == Engine.SIMULATED else None,
    )


_french_errors_on = False


def french_errors() -> None:
    """In a notebook's kernel, an error of the kit (`KitError`) shows its French diagnosis
    (what happened, what to do) in place of Python's traceback; the cell still fails."""
    global _french_errors_on
    if _french_errors_on:
        return
    shell = _ipython()
    if shell is None:
        return

    def show(_shell: Any, _etype: Any, value: BaseException, _tb: Any, tb_offset: Any = None):
        from IPython.display import display

        from .errors import explain

        display(explain(value))  # IPython does not show what a custom handler returns
        return []

    shell.set_custom_exc((KitError,), show)
    _french_errors_on = True


def _ipython() -> Any:
    import sys

    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return shell if hasattr(shell, "set_custom_exc") else None


# --------------------------------------------------------------------------- rebuild


def _say(message: str) -> None:
    print(message)


@contextmanager
def fast_sandbox():
    """Replay jobs quickly: the sandbox reads the speed when a job is created."""
    with settings.overridden(sandbox_speed=max(settings.sandbox_speed(), REPLAY_SPEED)):
        yield


def _still_there(name: str, value: str) -> tuple[bool, dict[str, Any] | None]:
    """On the local server (sandbox or local mode), check a recorded id is still usable (the
    workspace may have been reset, a job may have failed): (usable, what the server keeps of
    it — None when it does not know it)."""
    if name == "dataset_path":
        return Path(value).is_file(), None
    if not settings.get_mode().traits.replayable:
        return True, None  # never spend a call (or money) on the real API just to check
    from .client import served

    try:
        found = served(name, value)
    except Exception:  # no server can start here: the rebuild that follows says why
        return False, None
    if found is None:
        return False, None
    return name != "job_id" or found.get("status") not in ("failed", "cancelled"), found


#: Failures that a new job on the same file and settings would meet again.
_FAILS_AGAIN = ("invalid_training_file", "invalid_validation_file", "invalid_n_examples")


def _ended_job(job: dict[str, Any], say: Callable[[str], None]) -> None:
    """A recorded job that failed or was cancelled: say so (it still exists) and replay it
    when a new job can succeed; otherwise stop here with the diagnosis and the way out."""
    from types import SimpleNamespace

    job_id = job.get("id", "?")
    if job.get("status") == "cancelled":
        say(_("↻ Le job {job} a été annulé : j'en relance un.").format(job=job_id))
        return
    from .errors import explain

    found = job.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    diagnosis = explain(SimpleNamespace(id=job_id, status="failed", error=error))
    code = error.get("code")
    same_file = workspace.get("file_id") in (None, job.get("training_file"))
    if (code in _FAILS_AGAIN and same_file) or (
        code == "model_unavailable" and not _local_model_ready()
    ):
        raise MissingStateError(f"{diagnosis.title}. {diagnosis.cause}", fix=diagnosis.fix)
    say(_("↻ {title} — je relance l'entraînement.").format(title=diagnosis.title))


def _local_model_ready() -> bool:
    """Local mode's default model can be loaded (or downloaded) now (no torch import)."""
    try:
        from .local import catalog

        return not catalog.doctor(check_device=False).blocking
    except Exception:
        return False


def _failed_job_error(job: Any) -> MissingStateError:
    """A replayed job that did not succeed: the French diagnosis and its way out."""
    from .errors import explain

    if job.status == "failed":
        diagnosis = explain(job)
        return MissingStateError(
            _("{title} : pas de modèle. {cause}").format(
                title=diagnosis.title, cause=diagnosis.cause
            ),
            fix=diagnosis.fix,
        )
    return MissingStateError(
        _("Le job {job} s'est terminé avec le statut « {status} » : pas de modèle.").format(
            job=job.id, status=job.status
        ),
        fix=_("Relance les notebooks 05 et 06 (ou `python -m helpers reset --step 5`)."),
    )


def _local_model_hint() -> str:
    """Which open model a replayed local job trains, and roughly how long (French)."""
    try:
        from .local import catalog

        model = catalog.default_model()
    except Exception:  # an unusable ATELIER_LOCAL_MODEL: the server will say why
        return _("quelques secondes à quelques minutes")
    if catalog.is_tiny(model):
        return _("modèle « {model} » : quelques secondes").format(model=model.id)
    return _("modèle « {model} » : quelques minutes sur CPU, moins avec un GPU").format(
        model=model.id
    )


def _rebuild(name: str, mode: Mode, say: Callable[[str], None]) -> str:
    """Replay the earlier steps on the local server (sandbox: simulated; local: real training)."""
    from . import jobs

    where = _(_WHERE[mode])
    simulated = mode.engine == Engine.SIMULATED
    if name == "dataset_path":
        path = course_dataset_copy()
        workspace.record(dataset_path=path)
        say(
            _(
                "↻ Pas de dataset dans l'espace de travail : je prends celui du cours ({file})."
            ).format(file=COURSE_DATASET)
        )
        return str(path)
    if name == "file_id":
        dataset = ensure("dataset_path", say=say)
        say(_("↻ Je rejoue l'étape 04 (envoi du fichier) {where}…").format(where=where))
        return jobs.upload(dataset).id
    if name == "job_id":
        file_id = ensure("file_id", say=say)
        if simulated:
            say(_("↻ Je rejoue l'étape 05 (lancement du job) en accéléré dans le bac à sable…"))
            with fast_sandbox():
                return jobs.create(file_id, suffix=COURSE_SUFFIX).id
        say(
            _(
                "↻ Je rejoue l'étape 05 (lancement du job) sur le serveur local : en mode local, "
                "c'est un vrai entraînement ({hint})…"
            ).format(hint=_local_model_hint())
        )
        return jobs.create(file_id, suffix=COURSE_SUFFIX).id
    if name == "fine_tuned_model":
        job_id = ensure("job_id", say=say)
        if simulated:
            say(_("↻ J'attends la fin du job (étape 06) — en accéléré, quelques secondes au plus…"))
        else:
            say(
                _("↻ J'attends la fin de l'entraînement (étape 06) — {hint}…").format(
                    hint=_local_model_hint()
                )
            )
        job = jobs.wait(job_id, timeout=REPLAY_TIMEOUT[mode])
        if job.status != "succeeded" or not job.fine_tuned_model:
            raise _failed_job_error(job)
        workspace.record(fine_tuned_model=job.fine_tuned_model)
        return job.fine_tuned_model
    raise KeyError(name)


def _ask_openai(name: str, say: Callable[[str], None]) -> str:
    notebook = dict((n, nb) for n, nb, _label in STEPS)[name]
    label = _(dict((n, lab) for n, _nb, lab in STEPS)[name])
    if DRIVE_STATE.is_file():
        try:
            saved = import_state(DRIVE_STATE)
        except DamagedFileError as err:  # a copy that cannot be read: the other ways remain
            say(f"⚠️ {err}")
            saved = {}
        if saved.get(name):
            say(
                _("↻ Repris depuis ton Drive ({path}) : {label}.").format(
                    path=DRIVE_STATE, label=label
                )
            )
            return saved[name]
    help_text = _(
        "Il me manque {label}, produit par le notebook {notebook}. En mode « openai », je ne "
        "relance rien tout seul (ça coûte). Exécute d'abord ce notebook, ou colle l'identifiant "
        "ci-dessous (tu le trouves sur https://platform.openai.com/finetune), ou enregistre-le "
        "avec helpers.workspace.record({name}='…')."
    ).format(label=label, notebook=notebook, name=name)
    if name == "dataset_path":
        raise MissingStateError(help_text)
    try:
        answer = input(help_text + "\n→ ").strip()
    except Exception:  # no standard input (nbval, scripts): say what to do instead
        raise MissingStateError(help_text) from None
    prefix = _PREFIX[name]
    if not answer.startswith(prefix):
        raise MissingStateError(
            _("« {answer} » ne ressemble pas à un identifiant {prefix}… : recommence.").format(
                answer=answer[:40], prefix=prefix
            )
        )
    workspace.record(**{name: answer})
    return answer


def ensure(name: str, *, say: Callable[[str], None] = _say) -> str:
    """The workspace's `name` (dataset_path, file_id, job_id, fine_tuned_model), rebuilt if missing.

    Sandbox and local: replay the earlier steps on the local server and say so (local mode
    really trains). OpenAI: Drive, else asks, else stops.
    """
    if name not in _ORDER:
        raise KeyError(f"unknown step result {name!r}; expected one of {_ORDER}")
    mode = settings.get_mode()
    value = workspace.get(name, mode=mode)
    if value:
        usable, found = _still_there(name, value)
        if usable:
            return value
        if found is not None and name == "job_id":  # it exists, but failed or was cancelled
            _ended_job(found, say)
        else:
            say(
                (
                    _("↻ {value} n'existe plus dans le bac à sable (espace remis à zéro ?).")
                    if mode.engine == Engine.SIMULATED
                    else _("↻ {value} n'existe plus dans le serveur local (espace remis à zéro ?).")
                ).format(value=value)
            )
        workspace.record(**{name: None}, mode=mode)
    if mode.traits.replayable:
        return _rebuild(name, mode, say)
    return _ask_openai(name, say)


# --------------------------------------------------------------------------- save / restore


def export_state(path: str | Path = DRIVE_STATE) -> Path:
    """Save this mode's records (ids only, never the key) to a JSON file, e.g. on Drive."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = settings.get_mode()
    return write_atomic(path, json.dumps({"mode": mode, **workspace.snapshot(mode)}, indent=2))


def import_state(path: str | Path) -> dict[str, Any]:
    """Load records saved by `export_state` into this mode's workspace (same mode only). A file
    that cannot be read as such raises `DamagedFileError` (nothing is loaded)."""
    path = Path(path)
    what = _("l'état enregistré par notebook.export_state")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k, ""), str) for k in ("mode", *_ORDER)
    ):
        err = DamagedFileError(path, what, _("ce n'est pas un état lisible"))
        err.fix = _(
            "Enregistre-le à nouveau avec notebook.export_state() depuis un notebook qui a ces "
            "identifiants, ou donne l'identifiant quand le notebook le demande."
        )
        raise err
    mode = settings.get_mode()
    if data.get("mode", mode) != mode:
        return {}
    values = {k: v for k, v in data.items() if k in _ORDER}
    if values:
        workspace.record(mode=mode, **values)
    return values


def start_over(step: int) -> list[str]:
    """Forget what step `step` and the later ones produced (this mode only). Says what."""
    gone = workspace.reset(step=step)
    print(_("🧹 Oublié : {what}.").format(what=", ".join(gone) if gone else _("rien (déjà vide)")))
    return gone


# --------------------------------------------------------------------------- step 5


def launch(
    file_id: str | None = None,
    *,
    model: str | None = None,
    suffix: str | None = "coucou",
    again: bool = False,
    say: Callable[[str], None] = _say,
    **hyperparameters: Any,
):
    """Start the fine-tuning job of step 5 — or reuse the one already started for this file.

    Re-running the cell must not start a second job by accident (in `openai` mode it costs):
    an existing job for the same file and model that did not fail is reused unless
    `again=True`. In `openai` mode the cost is shown and the learner must type « oui ».
    """
    from . import jobs, models, preference_data

    model = model or models.DEFAULT_MODEL
    file_id = file_id or ensure("file_id", say=say)
    mode = settings.get_mode()
    if not again:
        for job in jobs.find_jobs_for_file(file_id):
            if job.model == model and job.status not in ("failed", "cancelled"):
                workspace.record(job_id=job.id, base_model=job.model, suffix=suffix)
                say(
                    _(
                        "ℹ️ Un job existe déjà pour ce fichier ({job}, statut « {status} ») : je le "
                        "reprends au lieu d'en payer un second. Pour en lancer un autre : again=True."
                    ).format(job=job.id, status=job.status)
                )
                return job
    if mode.traits.paid:
        path = workspace.get("dataset_path")
        cost = (  # (a DPO job's file is checked as pairs: its tokens and price are DPO's)
            preference_data.check_file(path, model, method=hyperparameters.get("method")).cost(
                hyperparameters.get("n_epochs", "auto")
            )
            if path
            else None
        )
        question = (
            _("Lancer un entraînement payant sur {model} ?").format(model=model)
            + " "
            + (
                _("Coût estimé : {cost}.").format(cost=cost.describe())
                if cost
                else _("Coût : voir le notebook 05.")
            )
            + " "
            + _("Tape « oui » pour confirmer : ")
        )
        try:
            answer = input(question).strip().lower()
        except Exception:
            raise MissingStateError(
                _("Pas de confirmation possible ici : rien n'a été lancé.")
            ) from None
        if answer not in ("oui", "o", "yes", "y"):  # i18n: keep (what either edition types)
            raise MissingStateError(_("Pas confirmé : rien n'a été lancé (et rien n'a été payé)."))
    return jobs.create(file_id, model=model, suffix=suffix, **hyperparameters)


# --------------------------------------------------------------------------- step 9

_RUN_KEYS = ("dataset_path", "file_id", "job_id", "suffix", "base_model", "fine_tuned_model")


@contextmanager
def side_project():
    """Run a second project without losing the course's records (notebook 09).

    `jobs.upload/create/wait` record what they produce; inside this block they may, and the
    course's COUCOU records are put back afterwards, so notebooks 04–08 stay replayable.
    """
    mode = settings.get_mode()
    saved = workspace.snapshot(mode)
    try:
        yield
    finally:
        workspace.record(mode=mode, **{k: saved.get(k) for k in _RUN_KEYS})


# --------------------------------------------------------------------------- step 10


class ErrorTable:
    """Notebook 10's summary: each error provoked, its kind, the kit's diagnosis (French).

    Shown as an HTML table that wraps between words; its text form (one block per error) is
    what nbval compares. Ids that change on every run are shortened to `file-…`/`ftjob-…`.
    """

    HEADERS = (
        N_("Erreur du guide"),
        N_("Ce que Python reçoit"),
        N_("Code du diagnostic"),
        N_("Diagnostic du kit"),
    )

    def __init__(self, rows: list[tuple[str, str, str, str]]):
        self.rows = rows

    def __repr__(self) -> str:
        blocks = []
        for name, kind, code, title in self.rows:
            blocks.append(f"• {name}\n    {kind} · {code}\n    {title}")
        return "\n".join(blocks)

    def _repr_html_(self) -> str:
        head = "".join(
            f"<th style='text-align:left'>{html.escape(_(h))}</th>" for h in self.HEADERS
        )
        body = "".join(
            "<tr>"
            + "".join(
                f"<td style='text-align:left;vertical-align:top'>{html.escape(c)}</td>" for c in row
            )
            + "</tr>"
            for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kind(error: Any) -> str:
    if isinstance(error, Exception):
        return _("exception {name}").format(name=type(error).__name__)
    if hasattr(error, "status"):
        return _("job au statut « {status} »").format(status=error.status)
    return _("un texte (hors API)")


def error_table(cases: dict[str, Any]) -> ErrorTable:
    """The diagnosis of each provoked error, as the sandbox's frozen date sees it."""
    import re

    from . import errors, models

    rows = []
    for name, error in cases.items():
        diagnosis = errors.explain(error, today=models.SANDBOX_TODAY)
        title = re.sub(r"\b(ftjob|file)-\w+", r"\1-…", diagnosis.title)
        rows.append((name, _kind(error), diagnosis.code, title))
    return ErrorTable(rows)
