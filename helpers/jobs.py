"""Fine-tuning jobs: upload a dataset, create a job, follow it, cancel, list, results.

Every function takes an optional `client` (an `openai.OpenAI`); by default the active mode's
client is used (`helpers.client()`). What each step produces is recorded in the workspace,
so a new kernel can resume: `follow()` without a job id follows the workspace's job.

`Follower.poll()` costs one `retrieve` and at most one events page. Events come newest
first from the API; the follower keeps the id of the newest event it has seen and, when a
page does not reach it (more new events than one page holds), walks older pages with the
`after` cursor, one page per poll, before yielding them all, oldest first. None is ever
yielded twice. The page size follows the flow of events (half as many as last poll, plus one; older pages doubling),
so a poll re-reads few known events: the API lists newest first and has no `before`
cursor, so the newest known event is how a page proves nothing was missed.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import i18n, models, workspace
from .exceptions import DatasetError, JobError, JobFailedError
from .i18n import N_, _
from .modes import Engine

TERMINAL = ("succeeded", "failed", "cancelled")
# The guide's table (step 6), plus the statuses the API added since; read in the learner's
# language (`i18n.Translated`).
STATUS_FR = i18n.Translated(
    {
        "validating_files": N_("Vérification du dataset"),
        "queued": N_("En attente de ressources"),
        "running": N_("Entraînement en cours"),
        "succeeded": N_("✅ Terminé"),
        "failed": N_("⚠️ Erreur (vérifie les logs)"),
        "cancelled": N_("Annulé"),
        "paused": N_("En pause"),
        "pending": N_("En attente"),
    }
)
EVENTS_PAGE = 100  # events asked per poll (the API's default is 20)
#: What a DPO job's metrics events add (the reward margin and the share of pairs won).
DPO_METRICS = ("train_reward_margin", "train_reward_accuracy", "valid_reward_margin")


def _client(client: Any = None) -> Any:
    if client is not None:
        return client
    from .client import client as make

    return make()


def resolve_job_id(job_id: str | None = None) -> str:
    """The given job id, else the workspace's job (a French `JobError` when there is none)."""
    job_id = job_id or workspace.get("job_id")
    if not job_id:
        raise JobError(
            _(
                "Aucun job à suivre : passe son identifiant (ftjob-…) ou lance d'abord un job "
                "(helpers.jobs.create / notebook 05)."
            )
        )
    return job_id


# ---------------------------------------------------------------------------------------
# Files and jobs


def upload(
    path: str | Path,
    *,
    check: bool = True,
    client: Any = None,
    model: str | None = None,
    method: models.Method | None = None,
    record: bool = True,
) -> Any:
    """Upload a JSONL file for fine-tuning; records `dataset_path` and `file_id`.

    With `check=True` (default) a file whose check finds errors is refused with a
    `DatasetError` carrying the full report, before anything is sent. The check is the one for
    `method` ("supervised": chat examples, "dpo": preference pairs; None: the file's format).
    `record=False`: a side file (e.g. preference pairs), never the course's.
    """
    from .preference_data import check_file

    path = Path(path)
    if check:
        report = check_file(path, model or models.DEFAULT_MODEL, method=method)
        if not report.ok:
            raise DatasetError(report)
    elif not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    api = _client(client)
    with path.open("rb") as f:
        file = api.files.create(file=(path.name, f), purpose="fine-tune")
    if record:
        workspace.record(dataset_path=str(path.resolve()), file_id=file.id)
    return file


def create(
    training_file: str | None = None,
    *,
    model: str = models.DEFAULT_MODEL,
    suffix: str | None = None,
    n_epochs: int | Literal["auto"] = "auto",
    batch_size: int | Literal["auto"] = "auto",
    learning_rate_multiplier: float | Literal["auto"] = "auto",
    validation_file: str | None = None,
    seed: int | None = None,
    method: models.Method = "supervised",
    beta: float | Literal["auto"] = "auto",
    record: bool = True,
    client: Any = None,
) -> Any:
    """Create a supervised fine-tuning job (the `method` form). Records `job_id`, `base_model`, `suffix`.

    Without `training_file` the workspace's file is used — except in `openai` mode, where a job
    is paid: there the file must be named (or use `notebook.launch`, which shows the cost and
    asks), so that `helpers.create_job()` never starts a paid job by itself.

    `method="dpo"`: preference fine-tuning on pairs (`helpers.preference_data`), `beta` its own
    hyperparameter (notebook 13); `model` may then be a fine-tune (`ft:…`), as OpenAI
    recommends. `record=False`: a side job, which never becomes the course's job or model.
    """
    from . import settings

    mode = settings.get_mode()
    if training_file is None and mode.traits.paid:
        raise JobError(
            _(
                "En mode openai, un job d'entraînement est payant : helpers.jobs.create() sans fichier "
                "ne lance rien tout seul."
            ),
            _(
                'Nomme le fichier (training_file="file-…", ou --training-file en ligne de commande), ou '
                "lance le job avec notebook.launch(), qui affiche le coût et demande ta confirmation "
                "(notebook 05)."
            ),
        )
    training_file = training_file or workspace.get("file_id")
    if not training_file:
        raise JobError(
            _(
                "Aucun fichier d'entraînement : envoie d'abord ton dataset (helpers.jobs.upload) ou "
                "passe son identifiant file-…."
            )
        )
    if suffix is not None and not 1 <= len(suffix) <= 64:
        raise JobError(_("Le suffixe doit faire entre 1 et 64 caractères."))
    hyper: dict[str, Any] = {
        "n_epochs": n_epochs,
        "batch_size": batch_size,
        "learning_rate_multiplier": learning_rate_multiplier,
    }
    if method not in models.METHODS:
        raise JobError(
            _(
                "Méthode inconnue : {method!r}. Choisis « supervised » (exemples de chat) ou "
                "« dpo » (paires de préférences)."
            ).format(method=method)
        )
    if method == "dpo":
        hyper = {"beta": beta, **hyper}
    elif beta != "auto":
        raise JobError(
            _('`beta` ne sert qu\'à un entraînement par préférences : ajoute method="dpo".')
        )
    params: dict[str, Any] = {
        "model": model,
        "training_file": training_file,
        "method": {"type": method, method: {"hyperparameters": hyper}},
    }
    if suffix:
        params["suffix"] = suffix
    if validation_file:
        params["validation_file"] = validation_file
    if seed is not None:
        params["seed"] = seed
    from .client import speed_header

    if mode.engine == Engine.SIMULATED:  # the speed at this moment (e.g. a fast replay)
        params["extra_headers"] = speed_header()
    job = _client(client).fine_tuning.jobs.create(**params)
    if record:
        workspace.record(
            job_id=job.id, base_model=job.model or model, suffix=suffix, fine_tuned_model=None
        )
    return job


def retrieve(job_id: str | None = None, *, client: Any = None) -> Any:
    return _client(client).fine_tuning.jobs.retrieve(resolve_job_id(job_id))


def cancel(job_id: str | None = None, *, client: Any = None) -> Any:
    return _client(client).fine_tuning.jobs.cancel(resolve_job_id(job_id))


def list_jobs(limit: int = 20, *, client: Any = None) -> list[Any]:
    """The most recent jobs (newest first), at most `limit`."""
    page = _client(client).fine_tuning.jobs.list(limit=limit)
    return list(page.data)


def find_jobs_for_file(
    file_id: str | None = None, *, client: Any = None, max_jobs: int = 200
) -> list[Any]:
    """Jobs already created on this training file (to avoid paying twice for the same run)."""
    file_id = file_id or workspace.get("file_id")
    if not file_id:
        return []
    found = []
    for i, job in enumerate(_client(client).fine_tuning.jobs.list(limit=100)):
        if i >= max_jobs:
            break
        if job.training_file == file_id:
            found.append(job)
    return found


def checkpoints(job_id: str | None = None, *, client: Any = None) -> list[Any]:
    """The job's checkpoints (the last epochs), newest first."""
    page = _client(client).fine_tuning.jobs.checkpoints.list(resolve_job_id(job_id))
    return list(page.data)


def events(job_id: str | None = None, *, client: Any = None, limit: int = 100) -> list[Any]:
    """Every event of a job, oldest first."""
    found = list(_client(client).fine_tuning.jobs.list_events(resolve_job_id(job_id), limit=limit))
    return found[::-1]


def _results_csv(job_id: str | None, client: Any) -> bytes:
    api = _client(client)
    job = api.fine_tuning.jobs.retrieve(resolve_job_id(job_id))
    if job.status == "failed":  # no results: say why it failed and what to do (French)
        from .errors import explain

        diagnosis = explain(job)
        raise JobFailedError(job, f"{diagnosis.title}. {diagnosis.cause}", diagnosis.fix)
    if not job.result_files:
        raise JobError(
            _("Le job {id} n'a pas (encore) de fichier de résultats : statut « {status} ».").format(
                id=job.id, status=job.status
            )
        )
    return _maybe_base64(api.files.content(job.result_files[0]).read())


def results(job_id: str | None = None, *, client: Any = None):  # -> pandas.DataFrame
    """The job's results CSV (step, train_loss, train_accuracy, valid_loss, …) as a DataFrame."""
    import pandas as pd

    return pd.read_csv(io.BytesIO(_results_csv(job_id, client)))


def result_rows(job_id: str | None = None, *, client: Any = None) -> list[dict[str, float | None]]:
    """The same results as plain rows (numbers, None for an empty cell), without pandas: for
    a kernel that must stay light (notebook 12)."""
    import csv

    text = _results_csv(job_id, client).decode("utf-8-sig")
    rows = []
    for record in csv.DictReader(io.StringIO(text)):
        row: dict[str, float | None] = {}
        for name, value in record.items():
            try:
                row[name] = float(value) if value not in (None, "") else None
            except ValueError:
                row[name] = None
        rows.append(row)
    return rows


def _maybe_base64(raw: bytes) -> bytes:
    head = raw.lstrip()[:5]
    if head.startswith(b"step"):
        return raw
    try:
        decoded = base64.b64decode(raw, validate=False)
    except ValueError:
        return raw
    return decoded if decoded.lstrip()[:4] == b"step" else raw


# ---------------------------------------------------------------------------------------
# Following a job


@dataclass
class Update:
    """What one poll learned: the job now, the events that are new since the last poll."""

    job: Any
    new_events: list[Any] = field(default_factory=list)  # oldest first
    done: bool = False  # the job is finished and every event was delivered
    requests: int = 0  # API requests this poll made (1 retrieve + ≤ 1 events page)

    @property
    def status(self) -> str:
        return self.job.status

    @property
    def status_fr(self) -> str:
        return STATUS_FR.get(self.job.status, self.job.status)

    def lines(self) -> list[str]:
        """The new events as printable lines (`[hh:mm:ss] message`)."""
        return [
            f"[{time.strftime('%H:%M:%S', time.localtime(e.created_at))}] {e.message}"
            for e in self.new_events
        ]


class Follower:
    """Follows one job, poll by poll. Thread-safe; never prints (safe from a background thread)."""

    def __init__(
        self,
        job_id: str | None = None,
        *,
        client: Any = None,
        page_size: int = EVENTS_PAGE,
        record: bool = True,
    ):
        self.job_id = resolve_job_id(job_id)
        self._client = client
        self.record = record  # False: a side project's job never becomes the course's model
        self.page_size = page_size
        self.job: Any = None
        self.events: list[Any] = []  # every event delivered, oldest first
        self._newest_seen: str | None = None  # id of the newest event delivered
        self._pending: list[Any] = []  # fetched newest-first, waiting for older pages
        self._pending_cursor: str | None = None
        self._last_new = 0  # events delivered by the last complete read
        self._asked = page_size  # the last page size asked for
        self._round_terminal = False  # the job had ended when this read began from the top
        self._lock = threading.Lock()

    @property
    def api(self) -> Any:
        if self._client is None:
            self._client = _client()
        return self._client

    def poll(self) -> Update:
        """One `retrieve` and at most one events page."""
        with self._lock:
            job = self.api.fine_tuning.jobs.retrieve(self.job_id)
            self.job = job
            terminal = job.status in TERMINAL
            if self._pending_cursor is None:  # this poll reads from the newest event
                self._round_terminal = terminal
            new = self._fetch_events()
            # Finished when every event is delivered and the read began from the newest event
            # after the job had ended (events added during a walk are read from the top next).
            done = terminal and self._round_terminal and not self._pending
            if job.status == "succeeded" and job.fine_tuned_model and self.record:
                self._record_success(job)
            return Update(job=job, new_events=new, done=done, requests=2)

    @property
    def catching_up(self) -> bool:
        """True while the last poll walked older pages of events (more to read right away)."""
        return self._pending_cursor is not None

    def _limit(self) -> int:
        """Events to ask for. The API lists newest first and has no `before` cursor, so the
        page that reaches the newest event already delivered re-reads it and anything after
        it in the page: ask for about as many as came last time, plus the one we know."""
        if self._newest_seen is None:
            self._asked = self.page_size
        elif self._pending_cursor:  # walking older pages: grow the page each time
            self._asked = min(self.page_size, self._asked * 2)
        else:
            self._asked = max(1, min(self.page_size, self._last_new // 2 + 1))
        return self._asked

    def _fetch_events(self) -> list[Any]:
        kwargs: dict[str, Any] = {"limit": self._limit()}
        if self._pending_cursor:
            kwargs["after"] = self._pending_cursor
        page = self.api.fine_tuning.jobs.list_events(self.job_id, **kwargs)
        data = list(page.data)  # newest first
        reached = False
        fresh: list[Any] = []
        for event in data:
            if self._newest_seen is not None and event.id == self._newest_seen:
                reached = True
                break
            fresh.append(event)
        self._pending.extend(fresh)
        if not reached and page.has_more and data:
            self._pending_cursor = data[-1].id  # walk older pages next polls
            return []
        delivered = self._pending[::-1]
        first_read = self._newest_seen is None
        self._pending, self._pending_cursor = [], None
        # The history read first says nothing about the flow to come: start small.
        self._last_new = 4 if first_read else len(delivered)
        if delivered:
            self._newest_seen = delivered[-1].id
            self.events.extend(delivered)
        return delivered

    def _record_success(self, job: Any) -> None:
        if workspace.get("job_id") in (None, job.id):
            workspace.record(
                job_id=job.id, fine_tuned_model=job.fine_tuned_model, base_model=job.model
            )

    def metric_rows(self) -> list[dict[str, Any]]:
        """The metrics events so far as plain rows, one per step (the first one seen): step,
        train_loss, valid_loss, train_mean_token_accuracy, and a DPO job's measures when given.
        No pandas: the job monitor's kernel stays light (one student's 1 GiB on a hub)."""
        rows: list[dict[str, Any]] = []
        steps: set[Any] = set()
        for e in self.events:
            data = getattr(e, "data", None)
            if getattr(e, "type", None) == "metrics" and isinstance(data, dict) and "step" in data:
                if data.get("step") in steps:
                    continue
                steps.add(data.get("step"))
                rows.append(
                    {
                        "step": data.get("step"),
                        "train_loss": data.get("train_loss"),
                        "valid_loss": data.get("valid_loss"),
                        "train_mean_token_accuracy": data.get("train_mean_token_accuracy"),
                        **{k: data[k] for k in DPO_METRICS if k in data},
                    }
                )
        return rows

    @property
    def metrics(self):  # -> pandas.DataFrame
        """`metric_rows()` as a DataFrame (columns step / train_loss / valid_loss / …)."""
        import pandas as pd

        rows = self.metric_rows()
        cols = ["step", "train_loss", "valid_loss", "train_mean_token_accuracy"]
        cols += [k for k in DPO_METRICS if any(k in r for r in rows)]  # a DPO job's
        return pd.DataFrame(rows, columns=cols)


def default_interval() -> float:
    """Seconds between polls: short in the sandbox, gentle with the real API."""
    from .settings import get_mode, sandbox_speed

    if not get_mode().traits.kit_server:
        return 10.0
    # A sandbox job lasts about 60 s / speed: poll ~20 times over it, between 0.05 and 0.5 s.
    return max(0.05, min(0.5, 3.0 / sandbox_speed()))


def follow(
    job_id: str | None = None,
    *,
    interval: float | None = None,
    timeout: float | None = None,
    client: Any = None,
    record: bool = True,
) -> Iterator[Update]:
    """Yield an `Update` per poll until the job is finished (succeeded, failed or cancelled).

    `validating_files` and `queued` count as unfinished. After `timeout` seconds a
    `TimeoutError` (French) is raised: the job keeps running on the server. With
    `record=False` a success is not recorded as the workspace's model (a side project).
    """
    follower = Follower(job_id, client=client, record=record)
    interval = default_interval() if interval is None else interval
    start = time.monotonic()
    while True:
        update = follower.poll()
        yield update
        if update.done:
            return
        if timeout is not None and time.monotonic() - start > timeout:
            raise TimeoutError(
                _(
                    "Le job {job_id} n'est pas fini après {timeout:g} s (statut « {status} ») ; "
                    "il continue sur le serveur : relance helpers.jobs.follow() pour reprendre."
                ).format(job_id=follower.job_id, timeout=timeout, status=update.status)
            )
        if not follower.catching_up:  # a long history is read page after page without waiting
            time.sleep(interval)


def wait(
    job_id: str | None = None,
    *,
    timeout: float | None = None,
    interval: float | None = None,
    client: Any = None,
    raise_on_failure: bool = False,
    record: bool = True,
) -> Any:
    """Block until the job is finished; return it (a `failed` job is returned, or raised).
    `record=False`: its model does not become the workspace's (a side project, notebooks 09, 12)."""
    job = None
    for update in follow(job_id, interval=interval, timeout=timeout, client=client, record=record):
        job = update.job
    if raise_on_failure and job is not None and job.status == "failed":
        raise JobFailedError(job)
    return job
