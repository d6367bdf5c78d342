"""The simulated engine's plan: everything decided when a job is created.

Steps = ceil(examples / batch) × epochs, `auto` epochs from `helpers.models`, trained tokens
from real token counts (`Report.cost`), and every step's metrics from the small model
(`replies.ReplyModel`). Durations are "speed 1" seconds (≈ a one-minute COUCOU job); each
job stores the speed (`ATELIER_SANDBOX_SPEED`) read when it was created and divides them by it.
"""

from __future__ import annotations

import math
from typing import Any

from .... import dataset, models
from ...errors import ApiError
from ...events import VALIDATION_EVERY
from ...ids import derived_id
from ...validation import failure_for
from .replies import GENERIC_LOGIT, corpus_of, reply_model, sample_corpus

ORG_SLUG = "sandbox"
AUTO_LEARNING_RATE = 1.8  # what the real API reports for "auto" on small files

VALIDATE_S = 4.0
QUEUE_S = 6.0
STEP_S = 0.45
RUN_MIN_S = 15.0
RUN_MAX_S = 120.0
FINALIZE_S = 4.0
MAX_METRICS_EVENTS = 200  # metrics events of a job, at most (about: first and last step too)
MAX_METRIC_STEPS = 2000  # beyond, metrics are computed at sampled steps only
# The small model is fitted on at most this many training pairs, and validation losses are
# computed on at most this many validation pairs: a sample, drawn with the job's seed. So a
# 100,000-example job plans in seconds, like a 2,000-example one, once its file is checked
# (the check itself is linear in the file); its first chat fits the same bounded model.
MAX_MODEL_EXAMPLES = 2000
MAX_VALID_EXAMPLES = 500
MAX_MODEL_CHARS = 400_000  # and at most this many characters of them (long prompts)
MAX_VALID_CHARS = 200_000


def event_every(steps: int) -> int:
    """A metrics event every this many steps."""
    return max(1, math.ceil(steps / MAX_METRICS_EVENTS))


def event_steps(steps: int) -> list[int]:
    """The steps with a metrics event: the first, the last, every `event_every` steps and,
    when that skips steps, the validation steps (every VALIDATION_EVERY steps; on a very long
    job fewer, so that a job never has more than about 2 × MAX_METRICS_EVENTS of them — a
    5,000,000-step job once had 500,000 events to build on every look)."""
    every = event_every(steps)
    picked = {1, steps, *range(every, steps + 1, every)}
    if every > 1:
        validate = VALIDATION_EVERY * math.ceil(steps / (VALIDATION_EVERY * MAX_METRICS_EVENTS))
        picked.update(range(validate, steps + 1, validate))
    return sorted(s for s in picked if s >= 1)


def metric_steps(steps: int, checkpoints: list[int]) -> list[int]:
    """The steps whose metrics a job computes: all of them for a normal job; for a very long
    one (e.g. 3,500 examples × 50 epochs at batch 1 = 175,000 steps), a sample that keeps every
    step an event, a checkpoint or the results file shows — computing each step's loss would
    take minutes."""
    if steps <= MAX_METRIC_STEPS:
        return list(range(1, steps + 1))
    every, shown = math.ceil(steps / MAX_METRIC_STEPS), event_every(steps)
    picked = {1, steps, *checkpoints}
    picked.update(range(every, steps + 1, every))
    picked.update(range(shown, steps + 1, shown))
    return sorted(picked)


def metrics_at(plan: dict[str, Any], step: int) -> list[float | None]:
    """[train loss, train accuracy, valid loss, valid accuracy] at a computed step."""
    steps = plan.get("metric_steps")
    metrics: list[list[float | None]] = plan["metrics"]
    if steps is None:  # every step computed (and jobs stored by earlier versions)
        return metrics[step - 1]
    import bisect

    return metrics[bisect.bisect_left(steps, step)]


def computed_steps(plan: dict[str, Any]) -> list[int]:
    return plan.get("metric_steps") or list(range(1, len(plan["metrics"]) + 1))


def resolve_hyperparameters(requested: dict[str, Any], n_examples: int) -> dict[str, Any]:
    n_epochs = requested.get("n_epochs", "auto")
    batch = requested.get("batch_size", "auto")
    lr = requested.get("learning_rate_multiplier", "auto")
    return {
        "n_epochs": models.resolve_epochs(n_epochs, n_examples),
        "batch_size": models.auto_batch_size(n_examples) if batch in (None, "auto") else int(batch),
        "learning_rate_multiplier": AUTO_LEARNING_RATE if lr in (None, "auto") else float(lr),
    }


def failed_plan(failure: dict[str, Any]) -> dict[str, Any]:
    """The plan of a job whose files cannot be validated."""
    return {"failure": failure, "warnings": [], "end_s": VALIDATE_S}


def make_plan(
    job_id: str, spec: dict[str, Any], train: bytes, valid: bytes | None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate the files and simulate the whole training. Returns (plan, corpus)."""
    import numpy as np

    model = spec["model"]
    report = dataset.check_bytes(train, model)
    plan: dict[str, Any] = {"failure": failure_for(report), "warnings": []}
    corpus = corpus_of(report.examples)
    v_report = dataset.check_bytes(valid, model) if valid is not None else None
    if plan["failure"] is None and v_report is not None:
        plan["failure"] = failure_for(v_report, "validation")
    if plan["failure"] is not None:
        return failed_plan(plan["failure"]), {"prompts": [], "replies": []}

    too_long = [p for p in report.warnings if p.code == "too_long"]
    if too_long:
        info = models.get(model)
        limit = info.example_token_limit if info is not None else 65_536
        plan["warnings"].append(
            f"{len(too_long)} example(s) exceed the maximum of {limit} tokens "
            "and will be truncated during training"
        )
    n = len(report.examples)
    hp = resolve_hyperparameters(spec["hyperparameters"], n)
    spe = math.ceil(n / hp["batch_size"])
    steps = models.total_steps(n, hp["n_epochs"], hp["batch_size"])
    seed = spec["seed"]
    corpus = sample_corpus(corpus, MAX_MODEL_EXAMPLES, seed, MAX_MODEL_CHARS)
    # Fitted once: the job's first chat finds it in the per-process cache.
    rm = reply_model(job_id, lambda: corpus)
    v_corpus = (
        sample_corpus(corpus_of(v_report.examples), MAX_VALID_EXAMPLES, seed, MAX_VALID_CHARS)
        if v_report is not None
        else {"prompts": [], "replies": []}
    )
    v_labels = None
    if v_corpus["prompts"]:
        known = {r: i for i, r in enumerate(rm.candidates)}
        # A validation reply never seen in training can only be scored as the generic answer.
        v_labels = np.array([known.get(r, len(rm.candidates)) for r in v_corpus["replies"]])
    v_scores = rm.text_scores(v_corpus["prompts"]) if v_labels is not None and rm.size else None
    rng = np.random.default_rng(seed)
    metrics: list[list[float | None]] = []
    perm = np.arange(0)
    b = hp["batch_size"]
    sampled = metric_steps(steps, _checkpoints(hp["n_epochs"], spe))
    wanted = iter(sampled)
    step = next(wanted, None)
    for epoch in range(hp["n_epochs"] if spe else 0):
        # One permutation per epoch, drawn in order even for epochs without a computed step:
        # every step's batch is the same whichever steps are computed.
        perm = rng.permutation(rm.size) if rm.size else perm
        while step is not None and step <= (epoch + 1) * spe:
            s, j = step - 1, step - 1 - epoch * spe
            metrics.append(_step_metrics(rm, perm, s, j, b, step / steps, v_scores, v_labels))
            step = next(wanted, None)
    full = None
    if v_scores is not None:
        full = [round(x, 5) for x in rm.loss(None, 1.0, scores=v_scores, labels=v_labels)]
    record_run(plan, n, hp, steps, spe, report, metrics, sampled, full)
    return plan, corpus


def _step_metrics(
    rm: Any, perm: Any, s: int, j: int, b: int, progress: float, v_scores: Any, v_labels: Any
) -> list[float | None]:
    """[train loss, train accuracy, valid loss, valid accuracy] of step `s + 1` (0-based `s`,
    `j`-th batch of its epoch, examples in the epoch's order `perm`)."""
    if rm.size:
        rows = perm[(j * b) % rm.size :][:b]
        tl, ta = rm.loss(rows, progress)
    else:
        tl, ta = GENERIC_LOGIT * (1 - progress) + 0.01, 1 - 0.9 * (1 - progress)
    vl = va = None
    if v_scores is not None:
        k = len(v_labels)
        pick = [(s * b + i) % k for i in range(min(b, k))]
        vl, va = rm.loss(None, progress, scores=v_scores[pick], labels=v_labels[pick])
    return [
        round(tl, 5),
        round(ta, 5),
        None if vl is None else round(vl, 5),
        None if va is None else round(va, 5),
    ]


def fine_tuned_name(job_id: str, model: str, suffix: str | None) -> str:
    return f"ft:{model}:{ORG_SLUG}:{suffix or ''}:{derived_id('', job_id, 'model', length=8)}"


def _checkpoints(epochs: int, steps_per_epoch: int) -> list[int]:
    return [e * steps_per_epoch for e in range(max(1, epochs - 2), epochs + 1)]


def checkpoint_steps(plan: dict[str, Any]) -> list[int]:
    """Steps at the end of each of the last 3 epochs (the real API keeps only those)."""
    if plan.get("failure") is not None:
        return []
    return _checkpoints(plan["hyperparameters"]["n_epochs"], plan["steps_per_epoch"])


def check_speed(speed: float) -> float:
    if not speed > 0 or math.isinf(speed):
        raise ApiError(500, "ATELIER_SANDBOX_SPEED must be a positive number", type="server_error")
    return speed


def record_run(
    plan: dict[str, Any],
    n: int,
    hp: dict[str, Any],
    steps: int,
    spe: int,
    report: Any,
    metrics: list[Any],
    sampled: list[int],
    full: list[float | None] | list[float] | None,
) -> None:
    """What a planned job records, supervised or DPO: its size, hyperparameters, billed tokens,
    the sampled steps' metrics, the full validation and the run's timeline."""
    run_s = min(RUN_MAX_S, max(RUN_MIN_S, steps * STEP_S))
    plan.update(
        {
            "n_examples": n,
            "hyperparameters": hp,
            "steps": steps,
            "steps_per_epoch": spe,
            "trained_tokens": report.cost(hp["n_epochs"]).billed_tokens,
            "metrics": metrics,
            **({"metric_steps": sampled} if len(sampled) < steps else {}),
            "full_valid": full,
            "run_s": run_s,
            "end_s": VALIDATE_S + QUEUE_S + run_s + FINALIZE_S,
        }
    )
