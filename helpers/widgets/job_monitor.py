"""Job monitor: follow a fine-tuning job live, without blocking the kernel.

A background thread polls the job with `helpers.jobs.Follower` (one `retrieve` and at most one
events page per poll) and **only sets widget values**: it never prints and never writes into
an `Output` widget, whose text would land in whatever cell runs next (docs/ARCHITECTURE.md,
"Kernels, widgets, Colab"). One poller per job: a new monitor for the same job stops the previous one.
Errors are explained (`helpers.errors.explain`) and polling backs off (×2, up to a ceiling);
errors that waiting cannot fix (unknown job, refused key) stop it.

`wait()` blocks until the job ends while updating the widget: that is what notebooks and
nbval call. `JobMonitor()` without an id follows the job recorded in the workspace, so a
notebook reopened after a kernel restart picks the job up where it is.
"""

from __future__ import annotations

import html
import re
import threading
import time
from typing import Any

import ipywidgets as widgets

from .. import jobs
from ..french import event_fr
from ..i18n import _, ngettext
from ..local.events import stopped_early_at
from ..tables import decimal
from ._common import box, diagnosis_html, esc
from .compat import set_tooltip

TRANSIENT_CODES = {"connection", "timeout", "server_error", "rate_limit", "unknown"}
STATUS_ICON = {
    "validating_files": "🔎",
    "queued": "⏳",
    "running": "🏃",
    "succeeded": "✅",
    "failed": "❌",
    "cancelled": "🚫",
    "paused": "⏸️",
    "pending": "⏳",
}
STATUS_KIND = {"succeeded": "ok", "failed": "error", "cancelled": "muted"}
EVENTS_SHOWN = 60
CHART_EVERY = 1.0  # seconds between two chart renders while the job runs
_STEP_RE = re.compile(r"[Ss]tep (\d+)\s*/\s*(\d+)")

_REGISTRY: dict[str, JobMonitor] = {}
_REGISTRY_LOCK = threading.Lock()


class MonitorError(RuntimeError):
    """`wait()` gave up: the job could not be followed any more (French message)."""

    def __init__(self, message: str, diagnosis: Any = None) -> None:
        super().__init__(message)
        self.diagnosis = diagnosis


def stop_all() -> None:
    """Stop every background poller of this kernel."""
    with _REGISTRY_LOCK:
        monitors = list(_REGISTRY.values())
    for monitor in monitors:
        monitor.stop()


def loss_chart_svg(rows: list[dict[str, Any]], *, title: str = "") -> bytes:
    """An SVG of the training loss (and validation loss when present) per step, from
    `Follower.metric_rows()`: `helpers.charts`, not matplotlib (≈ 35 MiB less in the kernel of
    notebook 06, for one student's 1 GiB on a hub). Plain text: safe from a thread."""
    from ..charts import lines

    series: dict[str, tuple[list[float], list[float]]] = {}
    valid_name = _("perte de validation (valid loss)")
    for name, column in (
        (_("perte d'entraînement (train loss)"), "train_loss"),
        (valid_name, "valid_loss"),
    ):
        points = [
            (float(r["step"]), float(r[column]))
            for r in rows
            if _is_number(r.get("step")) and _is_number(r.get(column))
        ]
        if points:
            series[name] = ([p[0] for p in points], [p[1] for p in points])
    chart = lines(
        series,
        title=title or _("Courbe de perte"),
        xlabel=_("étape (step)"),
        ylabel=_("perte (loss)"),
        markers=(valid_name,),
    )
    return chart.svg.encode("utf-8")


def _is_number(v: Any) -> bool:
    try:
        return v is not None and float(v) == float(v)
    except (TypeError, ValueError):
        return False


class JobMonitor(widgets.VBox):
    """The job monitor of notebook 06.

    `JobMonitor(job_id=None, *, client=None, interval=None, autostart=True)` — without an id,
    the workspace's job. Methods: `start()`, `stop()`, `refresh()` (one poll), `wait(timeout=None)`
    (blocks until the end; returns the job), `cancel()`. State: `job`, `status`, `events`
    (every event shown, oldest first), `metrics`, `done`, `diagnosis`, `fine_tuned_model`,
    `checkpoints`. Widgets: `status_html`, `progress`, `progress_label`, `chart`, `events_html`,
    `checkpoints_html`, `model_html`, `diagnosis_html`, `connection_html`, `cancel_button`.
    """

    def __init__(
        self,
        job_id: str | None = None,
        *,
        client: Any = None,
        interval: float | None = None,
        max_interval: float | None = None,
        max_failures: int = 8,
        autostart: bool = True,
    ) -> None:
        self.job_id: str | None = None
        self.job: Any = None
        self.events: list[Any] = []
        self.metrics: list[dict[str, Any]] | None = None  # Follower.metric_rows()
        self.done = False
        self.diagnosis: Any = None
        self.fine_tuned_model: str | None = None
        self.checkpoints: list[Any] = []
        self.failures = 0  # consecutive failed polls
        self.polls = 0
        self.delays: list[float] = []  # the background thread's waits (tests look at the back-off)
        self._client = client
        self._seen: set[str] = set()
        self._total_steps: int | None = None
        self._last_step = 0
        self._stopped_early_at: int | None = None  # local training stopped before total_steps
        self._chart_rows = -1
        self._chart_time = 0.0
        self._fatal = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._poll_lock = threading.RLock()
        self._confirm_until = 0.0
        self.interval = interval if interval is not None else jobs.default_interval()
        self.max_interval = (
            max_interval if max_interval is not None else max(30.0, self.interval * 8)
        )
        self.max_failures = max_failures

        self.title_html = widgets.HTML()
        self.status_html = widgets.HTML()
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, bar_style="info", layout=widgets.Layout(width="360px")
        )
        self.progress_label = widgets.HTML()
        self.chart = widgets.Image(
            format="svg+xml", layout=widgets.Layout(display="none", max_width="640px")
        )
        self.events_html = widgets.HTML()
        self.checkpoints_html = widgets.HTML()
        self.model_html = widgets.HTML()
        self.diagnosis_html = widgets.HTML()
        self.connection_html = widgets.HTML()
        self.cancel_button = widgets.Button(
            description=_("Annuler le job"), icon="stop", button_style="warning"
        )
        set_tooltip(
            self.cancel_button,
            _("Arrêter l'entraînement sur le serveur (deux clics pour confirmer)"),
        )
        self.cancel_button.on_click(self._on_cancel)
        super().__init__(
            children=[
                self.title_html,
                widgets.HBox(
                    [self.status_html, self.cancel_button],
                    layout=widgets.Layout(align_items="center"),
                ),
                widgets.HBox(
                    [self.progress, self.progress_label],
                    layout=widgets.Layout(align_items="center"),
                ),
                self.connection_html,
                self.chart,
                self.model_html,
                self.checkpoints_html,
                self.diagnosis_html,
                self.events_html,
            ]
        )
        self.add_class("atelier-job-monitor")

        self.follower: jobs.Follower | None
        try:
            self.follower = jobs.Follower(job_id, client=client)
        except Exception as exc:  # no job recorded yet, typically
            self.follower = None
            self._fatal = True
            self.done = True
            self.cancel_button.disabled = True
            self._show_error(exc, fatal=True)
            return
        self.job_id = self.follower.job_id
        self.title_html.value = f"<b>Job</b> <code>{esc(self.job_id)}</code>"
        self.status_html.value = box(_("⏳ Connexion au job…"), "muted")
        self.refresh()
        if autostart and not self.done:
            self.start()

    # --------------------------------------------------------------------- state
    @property
    def status(self) -> str | None:
        return getattr(self.job, "status", None)

    def __repr__(self) -> str:
        return f"<JobMonitor {self.job_id} {self.status}>"

    def _api(self) -> Any:
        """The follower's client (one client per monitor)."""
        return self.follower.api if self.follower is not None else self._client

    # --------------------------------------------------------------------- polling
    def refresh(self) -> bool:
        """One poll (any thread). Returns True when it worked."""
        if self.follower is None or self._fatal:
            return False
        with self._poll_lock:
            try:
                update = self.follower.poll()
            except Exception as exc:
                self.failures += 1
                self._show_error(exc)
                return False
            self.polls += 1
            if self.failures:
                self.connection_html.value = box(_("🔌 Connexion rétablie."), "ok")
            self.failures = 0
            self._apply(update)
            return True

    def _show_error(self, exc: BaseException, *, fatal: bool = False) -> None:
        from .. import errors

        d = errors.explain(exc)
        if not fatal and d.code not in TRANSIENT_CODES:
            fatal = True
        if fatal:
            self._fatal = True
            self.done = True
            self.diagnosis = d
            self.connection_html.value = ""
            self.diagnosis_html.value = diagnosis_html(d)
            self.status_html.value = box(_("⏹️ Suivi arrêté."), "error")
            self._stop.set()
            return
        self.diagnosis = d
        wait = self._next_delay()
        retry = _(
            "🔌 {title} — tentative {attempt}. Je réessaie dans {seconds} s "
            "(le job, lui, continue sur le serveur)."
        ).format(title=d.title, attempt=self.failures, seconds=f"{wait:.0f}")
        self.connection_html.value = box(
            f"{retry}<br><span style='font-size:90%'>{esc(d.cause)} {esc(d.fix)}</span>",
            "warning",
            raw=True,
        )

    def _next_delay(self) -> float:
        if not self.failures:
            return self.interval
        return min(self.max_interval, max(self.interval, 1.0) * 2 ** min(self.failures, 10))

    def _apply(self, update: Any) -> None:
        job = update.job
        self.job = job
        status = job.status
        fresh = [e for e in update.new_events if getattr(e, "id", None) not in self._seen]
        for e in fresh:
            self._seen.add(e.id)
            self._note_step(e)
        if fresh:
            self.events.extend(fresh)
            self._render_events()
        # metrics: what the follower gathered from the events (plain rows, no pandas)
        metrics = self.follower.metric_rows() if self.follower is not None else []
        self.metrics = metrics
        n_rows = len(metrics)
        if (
            n_rows
            and n_rows != self._chart_rows
            and (time.monotonic() - self._chart_time >= CHART_EVERY or status in jobs.TERMINAL)
        ):
            self._render_chart(metrics)
        # title, status, progress
        base = getattr(job, "model", "") or ""
        suffix = getattr(job, "user_provided_suffix", None) or ""
        self.title_html.value = (
            f"<b>Job</b> <code>{esc(job.id)}</code> · "
            + _("modèle de base {model}").format(model=f"<code>{esc(base)}</code>")
            + (
                " · " + _("suffixe {suffix}").format(suffix=f"<code>{esc(suffix)}</code>")
                if suffix
                else ""
            )
        )
        meaning = _(jobs.STATUS_FR.get(status, status))
        icon = (
            "" if meaning[:1] and not meaning[:1].isalnum() else STATUS_ICON.get(status, "•") + " "
        )
        self.status_html.value = box(
            f"{icon}<b>{esc(status)}</b> — {esc(meaning)}",
            STATUS_KIND.get(status, "info"),
            raw=True,
        )
        self._render_progress(status)
        if update.done:
            self._finish(job)

    def _note_step(self, event: Any) -> None:
        data = getattr(event, "data", None)
        step = total = None
        if isinstance(data, dict):
            step, total = data.get("step"), data.get("total_steps")
        if step is None:
            m = _STEP_RE.search(getattr(event, "message", "") or "")
            if m:
                step, total = int(m.group(1)), int(m.group(2))
        if isinstance(step, int):
            self._last_step = max(self._last_step, step)
        if isinstance(total, int) and total > 0:
            self._total_steps = total
        stopped = stopped_early_at(getattr(event, "message", "") or "")
        if stopped is not None:
            self._stopped_early_at = stopped

    def _render_progress(self, status: str) -> None:
        total = self._total_steps
        step = self._last_step
        early = self._stopped_early_at
        label = None
        if status == "succeeded" and total and early is not None and early < total:
            # local training stopped early: the real step count (a full bar: it is finished)
            total = step = early
            label = _(
                "terminé à l'étape {step} sur {total} prévues : arrêt anticipé, "
                "plus rien à apprendre"
            ).format(step=early, total=self._total_steps)
        elif status == "succeeded" and total:
            step = total
        if total:
            self.progress.max = total
            self.progress.value = min(step, total)
            label = label or _("étape {step} / {total} ({percent} %)").format(
                step=step, total=total, percent=100 * step // total
            )
        elif status in ("validating_files", "queued", "pending"):
            self.progress.max, self.progress.value = 1, 0
            label = _("pas encore commencé")
        elif status == "succeeded":
            self.progress.max, self.progress.value = 1, 1
            label = _("terminé")
        if label:
            self.progress_label.value = f"<span style='padding-left:.5em'>{esc(label)}</span>"
        self.progress.bar_style = {
            "succeeded": "success",
            "failed": "danger",
            "cancelled": "warning",
        }.get(status, "info")

    def _render_events(self) -> None:
        shown = self.events[-EVENTS_SHOWN:]
        older = len(self.events) - len(shown)
        lines = []
        if older:
            earlier = ngettext(
                "… {n} événement(s) plus ancien(s)", "… {n} événement(s) plus ancien(s)", older
            ).format(n=older)
            lines.append(f"<div style='color:#57606a'>{earlier}</div>")
        for e in shown:
            when = time.strftime("%H:%M:%S", time.localtime(getattr(e, "created_at", 0) or 0))
            level = getattr(e, "level", "info")
            color = {"warn": "#9a6700", "error": "#cf222e"}.get(level, "inherit")
            original = str(getattr(e, "message", "") or "")
            french = event_fr(original) or _("message de l'API")
            title = _("original anglais")
            quoted = _("(anglais : {message})").format(message=html.escape(original))
            lines.append(
                f"<div style='color:{color};margin:0'>[{when}] {html.escape(french)} "
                f"<span style='color:#57606a' title='{title}'>{quoted}</span></div>"
            )
        heading = _("Journal du job")
        count = ngettext(
            "({n} événement(s), les plus récents en bas ; en français, suivis du message "
            "original de l'API, en anglais)",
            "({n} événement(s), les plus récents en bas ; en français, suivis du message "
            "original de l'API, en anglais)",
            len(self.events),
        ).format(n=len(self.events))
        self.events_html.value = (
            f"<details open><summary><b>{heading}</b> {count}</summary>"
            "<div style='display:flex;flex-direction:column-reverse;max-height:220px;overflow:auto;"
            "font-family:monospace;font-size:85%;line-height:1.35;background:#f6f8fa;padding:.3em .6em'>"
            f"<div>{''.join(lines)}</div></div></details>"
        )

    def _render_chart(self, metrics: list[dict[str, Any]]) -> None:
        try:
            svg = loss_chart_svg(metrics, title=_("Courbe de perte : elle doit descendre"))
        except Exception:  # a chart must never break the monitor (nothing to draw yet)
            return
        self._chart_rows = len(metrics)
        self._chart_time = time.monotonic()
        self.chart.value = svg
        self.chart.layout.display = None

    def _finish(self, job: Any) -> None:
        self.done = True
        self._stop.set()
        self.cancel_button.disabled = True
        self.cancel_button.layout.display = "none"
        self.connection_html.value = ""
        status = job.status
        if self.metrics is not None and len(self.metrics) and self._chart_rows != len(self.metrics):
            self._render_chart(self.metrics)
        if status == "succeeded":
            self.fine_tuned_model = getattr(job, "fine_tuned_model", None)
            if self.fine_tuned_model:
                ready = _(
                    "🎉 Ton modèle est prêt. Son nom (clique dessus pour le sélectionner, puis "
                    "Ctrl+C / ⌘+C) :"
                )
                kept = _(
                    "Il est aussi enregistré dans l'espace de travail : les notebooks suivants le "
                    "retrouvent seuls."
                )
                self.model_html.value = box(
                    f"{ready}<br><code style='user-select:all;font-size:110%;padding:.2em .4em;"
                    f"background:#fff;border:1px solid #d0d7de;display:inline-block;margin-top:.3em'>"
                    f"{esc(self.fine_tuned_model)}</code><br><span style='font-size:90%'>{kept}</span>",
                    "ok",
                    raw=True,
                )
            self._load_checkpoints()
        elif status == "failed":
            from .. import errors

            self.diagnosis = errors.explain(job)
            self.diagnosis_html.value = diagnosis_html(self.diagnosis)
        elif status == "cancelled":
            self.diagnosis_html.value = box(
                _(
                    "🚫 Job annulé : l'entraînement s'est arrêté. Tu peux en relancer un "
                    "(notebook 05)."
                ),
                "muted",
            )

    def _load_checkpoints(self) -> None:
        try:
            self.checkpoints = list(jobs.checkpoints(self.job_id, client=self._api()))
        except Exception:
            self.checkpoints = []
            return
        if not self.checkpoints:
            return
        rows = []
        for c in sorted(self.checkpoints, key=lambda c: getattr(c, "step_number", 0)):
            m = getattr(c, "metrics", None)
            loss = getattr(m, "train_loss", None) if m is not None else None
            vloss = getattr(m, "valid_loss", None) if m is not None else None
            rows.append(
                f"<tr><td>{getattr(c, 'step_number', '?')}</td>"
                f"<td>{'' if loss is None else decimal(loss, 3)}</td>"
                f"<td>{'' if vloss is None else decimal(vloss, 3)}</td>"
                f"<td><code style='user-select:all'>{esc(getattr(c, 'fine_tuned_model_checkpoint', ''))}</code></td></tr>"
            )
        summary = _(
            "<b>Points de contrôle (checkpoints)</b> : des versions intermédiaires du modèle, "
            "utilisables elles aussi ({n})"
        ).format(n=len(rows))
        heads = "".join(
            f"<th>{h}</th>" for h in (_("étape"), _("perte"), _("perte valid."), _("modèle"))
        )
        self.checkpoints_html.value = (
            f"<details><summary>{summary}</summary>"
            f"<table style='font-size:90%'><tr>{heads}</tr>" + "".join(rows) + "</table></details>"
        )

    # --------------------------------------------------------------------- thread
    def start(self) -> None:
        """Start (or restart) the background poller; stops any other poller of the same job."""
        if self.follower is None or self.done:
            return
        with _REGISTRY_LOCK:
            other = _REGISTRY.get(self.job_id)  # type: ignore[arg-type]
            _REGISTRY[self.job_id] = self  # type: ignore[index]
        if other is not None and other is not self:
            other.stop()
            other.connection_html.value = box(
                _("⏸️ Ce moniteur s'est arrêté : un moniteur plus récent suit le même job."), "muted"
            )
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"atelier-monitor-{self.job_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background poller (the job itself goes on)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with _REGISTRY_LOCK:
            if _REGISTRY.get(self.job_id) is self:  # type: ignore[arg-type]
                del _REGISTRY[self.job_id]  # type: ignore[arg-type]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set() and not self.done:
            self.refresh()
            if self.done or self._stop.is_set():
                break
            delay = self._next_delay()
            self.delays.append(delay)
            self._stop.wait(delay)
        with _REGISTRY_LOCK:
            if _REGISTRY.get(self.job_id) is self:  # type: ignore[arg-type]
                del _REGISTRY[self.job_id]  # type: ignore[arg-type]

    def close(self) -> None:
        self.stop()
        super().close()

    # --------------------------------------------------------------------- blocking
    def wait(self, timeout: float | None = None, *, raise_on_failure: bool = False) -> Any:
        """Block until the job ends, updating the widget; return the job.

        The background poller is paused meanwhile (one poller per job). `TimeoutError` after
        `timeout` seconds (the job goes on; the poller resumes); `MonitorError` when the job
        cannot be followed (unknown job, `max_failures` failed polls in a row).
        """
        if self.follower is None:
            raise MonitorError(str(self.diagnosis or _("Aucun job à suivre.")), self.diagnosis)
        self.stop()
        start = time.monotonic()
        try:
            while not self.done:
                self.refresh()
                if self._fatal:
                    break
                if self.failures >= self.max_failures:
                    raise MonitorError(
                        _(
                            "Je n'arrive plus à suivre le job {job} ({n} essais ratés) : "
                            "{diagnosis}"
                        ).format(job=self.job_id, n=self.failures, diagnosis=self.diagnosis),
                        self.diagnosis,
                    )
                if self.done:
                    break
                delay = self._next_delay()
                if timeout is not None and time.monotonic() - start + delay > timeout:
                    self.start()  # the widget keeps following in the background
                    raise TimeoutError(
                        _(
                            "Le job {job} n'est pas fini après {seconds} s (statut « {status} ») ; "
                            "il continue sur le serveur et ce moniteur continue de le suivre."
                        ).format(job=self.job_id, seconds=decimal(timeout), status=self.status)
                    )
                time.sleep(delay)
        except KeyboardInterrupt:
            self.start()
            raise
        if self._fatal and self.status not in jobs.TERMINAL:
            raise MonitorError(str(self.diagnosis), self.diagnosis)
        if raise_on_failure and self.status == "failed":
            raise jobs.JobFailedError(self.job)
        return self.job

    # --------------------------------------------------------------------- cancel
    def _on_cancel(self, _button: Any = None) -> None:
        now = time.monotonic()
        if now > self._confirm_until:
            self._confirm_until = now + 10
            self.cancel_button.description = _("Confirmer l'annulation")
            self.cancel_button.button_style = "danger"
            self.connection_html.value = box(
                _(
                    "Clique encore sur « Confirmer l'annulation » dans les 10 s pour "
                    "arrêter l'entraînement (ce qui est déjà fait reste facturé)."
                ),
                "warning",
            )
            return
        self._confirm_until = 0.0
        self.cancel()

    def cancel(self) -> Any:
        """Cancel the job on the server, then refresh the widget."""
        self.cancel_button.description = _("Annuler le job")
        self.cancel_button.button_style = "warning"
        if self.job_id is None:
            return None
        try:
            job = jobs.cancel(self.job_id, client=self._api())
        except Exception as exc:
            from .. import errors

            self.diagnosis_html.value = diagnosis_html(errors.explain(exc))
            return None
        self.connection_html.value = box(_("🚫 Annulation demandée."), "muted")
        self.refresh()
        return job
