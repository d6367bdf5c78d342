"""The simulated engine's timeline: where a job is at a given time.

Everything about a job's progress is a pure function of what was stored and the clock:
`state(job, now)`. Ids of events and checkpoints derive from the job id, so any number of
processes agree and nothing is emitted twice. A clock that jumps forward then back never
undoes a status: the furthest time the job was seen at (`JobRow.reached`, stored by the engine
when a status changes) is a floor of the time it is judged at.
"""

from __future__ import annotations

import base64
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ... import events as texts
from ...ids import derived_id
from ...resources.fine_tuning_jobs import checkpoint_object, event_object, job_object
from .jobs import JobRow
from .plan import (
    FINALIZE_S,
    QUEUE_S,
    VALIDATE_S,
    checkpoint_steps,
    computed_steps,
    event_steps,
    metrics_at,
)

ORGANIZATION_ID = "org-sandbox"


@dataclass
class Event:
    offset: float  # speed-1 seconds after creation
    level: str
    message: str
    type: str = "message"
    data: dict[str, Any] = field(default_factory=dict)


def _step_offset(plan: dict[str, Any], step: int) -> float:
    return VALIDATE_S + QUEUE_S + float(plan["run_s"]) * step / int(plan["steps"])


def _metrics_data(plan: dict[str, Any], step: int) -> dict[str, Any]:
    if plan.get("method") == "dpo":
        from .preference_plan import metrics_data

        return metrics_data(plan, metrics_at(plan, step), step)
    tl, ta, vl, va = metrics_at(plan, step)
    data: dict[str, Any] = {"step": step, "train_loss": tl, "train_mean_token_accuracy": ta}
    if vl is not None:
        data.update(valid_loss=vl, valid_mean_token_accuracy=va)
    if step == plan["steps"] and plan.get("full_valid"):
        data.update(
            full_valid_loss=plan["full_valid"][0],
            full_valid_mean_token_accuracy=plan["full_valid"][1],
        )
    return data


def schedule(job: JobRow) -> list[Event]:
    """Every event the job will ever emit if nobody cancels it, in order."""
    spec, plan = job.spec, job.plan
    events = [
        Event(0.0, "info", texts.CREATED.format(job_id=job.id)),
        Event(0.0, "info", texts.validating(spec["training_file"], spec.get("validation_file"))),
    ]
    if not job.planned:  # the files are still being validated
        return events
    failure = plan.get("failure")
    if failure is not None:
        events.append(Event(VALIDATE_S, "error", failure["message"]))
        return events
    events += [Event(VALIDATE_S, "warn", w) for w in plan["warnings"]]
    events.append(Event(VALIDATE_S, "info", texts.VALIDATED))
    events.append(Event(VALIDATE_S + QUEUE_S, "info", texts.STARTED))
    steps = plan["steps"]
    for step in event_steps(steps):
        data = texts.step_data(_metrics_data(plan, step), steps)
        events.append(
            Event(_step_offset(plan, step), "info", texts.step_message(data), "metrics", data)
        )
    end = plan["end_s"]
    name = job.ft_model or ""
    # As the real API: once training ends, the kept checkpoints (the last one is the model).
    events += [
        Event(end - FINALIZE_S / 2, "info", texts.checkpoint_created(s, f"{name}:ckpt-step-{s}"))
        for s in checkpoint_steps(plan)
        if s != steps
    ]
    events += [
        Event(end - FINALIZE_S / 2, "info", texts.model_created(name)),
        Event(end, "info", texts.SUCCEEDED),
    ]
    return events


def _pauses(job: JobRow) -> list[tuple[float, float]]:
    return sorted((start, math.inf if end is None else end) for start, end in job.pauses)


def effective(job: JobRow, t: float) -> float:
    """The job's own clock at real time `t`: real time minus the time spent paused."""
    return t - sum(max(0.0, min(t, end) - start) for start, end in _pauses(job) if start < t)


def real(job: JobRow, t: float) -> float:
    """The real time at which the job's own clock reads `t` (inf: not before a resume)."""
    out = t
    for start, end in _pauses(job):
        if start <= out:
            out += end - start
    return out


def at(job: JobRow, offset: float) -> float:
    """Real time of a speed-1 offset for this job (pauses push it later)."""
    return real(job, job.start + offset / job.speed)


def unpaused_end(job: JobRow) -> float:
    """When the job ends on its own clock (the real end, had it never been paused)."""
    return job.start + float(job.plan["end_s"]) / job.speed


def paused_at(job: JobRow, now: float) -> float | None:
    """When the pause in force at `now` began (None if the job is not paused at `now`)."""
    for start, end in job.pauses:
        if start <= now and (end is None or now < end):
            return start
    return None


@dataclass
class JobState:
    status: str
    events: list[dict[str, Any]]  # oldest first, visible ones only
    finished_at: float | None
    progress: float  # fraction of steps done


_TIMELINES: OrderedDict[tuple[Any, ...], list[tuple[float, dict[str, Any]]]] = OrderedDict()
_TIMELINES_LOCK = threading.Lock()


def _timeline(job: JobRow) -> list[tuple[float, dict[str, Any]]]:
    """Every event with its time on the job's own clock, ids and real times included (cached:
    a job's inputs change only when it is paused or resumed)."""
    key = (job.id, job.start, job.speed, job.pauses, job.planned)
    with _TIMELINES_LOCK:
        cached = _TIMELINES.get(key)
        if cached is not None:
            _TIMELINES.move_to_end(key)
            return cached
    timeline = []
    for i, ev in enumerate(schedule(job)):
        # The first two (created, validating) happen at creation, before any slow validation.
        own = job.created_at if i < 2 else job.start + ev.offset / job.speed
        when = real(job, own)  # inf: after a resume that has not happened (never visible yet)
        timeline.append((own, _event_json(job, i, when if math.isfinite(when) else own, ev)))
    with _TIMELINES_LOCK:
        _TIMELINES[key] = timeline
        while len(_TIMELINES) > 256:
            _TIMELINES.popitem(last=False)
    return timeline


def _pause_events(job: JobRow, now: float) -> list[dict[str, Any]]:
    out = []
    for k, (start, end) in enumerate(job.pauses):
        if start <= now:
            out.append(_event_json(job, 20_000_000 + 2 * k, start, Event(0, "info", texts.PAUSED)))
        if end is not None and end <= now:
            out.append(_event_json(job, 20_000_001 + 2 * k, end, Event(0, "info", texts.RESUMED)))
    return out


def state(job: JobRow, now: float, *, events: bool = True) -> JobState:
    """Where a job is at `now`: a pure function of the stored job and the clock."""
    if job.reached is not None and now < job.reached:  # the clock went back: not the job
        now = job.reached
    plan = job.plan
    visible: list[dict[str, Any]] = []
    if not job.planned:
        visible = [event for _, event in _timeline(job)] if events else []
        if job.cancelled_at is not None and now >= job.cancelled_at:
            if events:
                cancel = Event(0, "info", texts.CANCELLED)
                visible.append(_event_json(job, 10_000_000, job.cancelled_at, cancel))
            return JobState("cancelled", visible, job.cancelled_at, 0.0)
        return JobState("validating_files", visible, None, 0.0)
    end = unpaused_end(job)
    own_now = effective(job, now)
    cancelled_at = job.cancelled_at  # None too when the job had ended before its cancel
    if cancelled_at is not None and effective(job, cancelled_at) >= end:
        cancelled_at = None
    horizon = min(own_now, effective(job, cancelled_at)) if cancelled_at is not None else own_now
    if events:
        visible = [event for t, event in _timeline(job) if t <= horizon]
        if job.pauses:
            visible = sorted(visible + _pause_events(job, now), key=lambda e: e["created_at"])
        if cancelled_at is not None and now >= cancelled_at:
            visible.append(
                _event_json(job, 10_000_000, cancelled_at, Event(0, "info", texts.CANCELLED))
            )
    failure = plan.get("failure")
    if failure is None:
        run = ((horizon - job.start) * job.speed - VALIDATE_S - QUEUE_S) / plan["run_s"]
        progress = min(1.0, max(0.0, run))
    else:
        progress = 0.0
    start = job.start
    if cancelled_at is not None and now >= cancelled_at:
        return JobState("cancelled", visible, cancelled_at, progress)
    if own_now < start + VALIDATE_S / job.speed and own_now < end:
        return JobState("validating_files", visible, None, 0.0)
    if failure is not None:
        return JobState("failed", visible, real(job, end), 0.0)
    if own_now < start + (VALIDATE_S + QUEUE_S) / job.speed:
        return JobState("queued", visible, None, 0.0)
    if own_now < end:
        status = "paused" if paused_at(job, now) is not None else "running"
        return JobState(status, visible, None, progress)
    return JobState("succeeded", visible, real(job, end), 1.0)


def _event_json(job: JobRow, index: int, t: float, ev: Event) -> dict[str, Any]:
    return event_object(job.id, index, t, ev.level, ev.message, ev.type, ev.data)


def results_file_id(job_id: str) -> str:
    return derived_id("file-", job_id, "results", length=22)


def job_json(job: JobRow, now: float) -> dict[str, Any]:
    """The `fine_tuning.job` object as the real API returns it."""
    st = state(job, now, events=False)
    spec, plan = job.spec, job.plan
    started = st.status in ("running", "paused", "succeeded") or (
        st.status == "cancelled" and st.progress > 0
    )
    hp = (
        dict(plan["hyperparameters"])
        if started and "hyperparameters" in plan
        else dict(spec["hyperparameters"])
    )
    succeeded = st.status == "succeeded"
    failure = plan.get("failure") if st.status == "failed" else None
    return job_object(
        id=job.id,
        created_at=job.created_at,
        status=st.status,
        model=job.model,
        organization_id=ORGANIZATION_ID,
        spec=spec,
        hyperparameters=hp,
        error=failure,
        fine_tuned_model=job.ft_model if succeeded else None,
        finished_at=st.finished_at,
        result_files=[results_file_id(job.id)] if succeeded else [],
        trained_tokens=plan.get("trained_tokens") if succeeded else None,
        estimated_finish=job.end_at if st.status in ("queued", "running") else None,
    )


def checkpoints_json(job: JobRow, now: float) -> list[dict[str, Any]]:
    """Checkpoints reached so far, newest first (only once the job has succeeded)."""
    if state(job, now, events=False).status != "succeeded":
        return []
    return [
        checkpoint_object(
            job.id,
            step,
            at(job, _step_offset(job.plan, step)),
            job.ft_model or "",
            texts.checkpoint_metrics(_metrics_data(job.plan, step)),
        )
        for step in reversed(checkpoint_steps(job.plan))
    ]


def checkpoint_progress(job: JobRow, step: int) -> float | None:
    """Training progress of a checkpoint (None if the job has no such checkpoint)."""
    if step not in checkpoint_steps(job.plan):
        return None
    return step / int(job.plan["steps"])


def results_csv(job: JobRow) -> bytes:
    """The results file: the real columns, one row per step, base64-encoded like the real API's."""
    lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
    for step in computed_steps(job.plan):
        tl, ta, vl, va = metrics_at(job.plan, step)[:4]  # (a DPO row has its margins after)
        if job.plan.get("method") == "dpo":  # no token accuracy in DPO (as the local engine's)
            ta = va = None
        if not texts.validation_due(step):  # validated every few steps, as the real API
            vl = va = None
        lines.append(f"{step},{tl},{ta},{'' if vl is None else vl},{'' if va is None else va}")
    return base64.b64encode(("\n".join(lines) + "\n").encode())
