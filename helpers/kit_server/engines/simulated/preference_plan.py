"""The simulated engine's plan of a DPO job: everything decided when the job is created.

As for a supervised job (`plan.py`): the pairs are validated by the learner's own check
(`validation.check`, method "dpo"), then steps = ceil(pairs / batch) × epochs, trained tokens
from the pairs' token counts, and each step's metrics. What differs:

- the metrics are DPO's: the loss −log σ(β·Δ), where Δ is how much more the model (against
  the model it started from) prefers the preferred answer than the other one, the reward
  margin β·Δ and the share of pairs whose margin is positive. Δ grows with training
  (simulated: up to `MAX_DELTA` nats, scaled by the learning rate multiplier, each pair its
  own spread, drawn from the job's seed); so a small β keeps the loss high for longer and a
  large one drops it fast — the real DPO's arithmetic, on simulated log-probabilities;
- the model it becomes answers like the preferred answer of the nearest pair's question, and
  like the model it started from elsewhere (its parent's corpus, when it continues a sandbox
  fine-tune): the non-preferred answers are never said.
"""

from __future__ import annotations

import math
from typing import Any

from .... import models
from ...validation import check, failure_for
from . import replies
from .plan import (
    AUTO_LEARNING_RATE,
    checkpoint_steps,
    failed_plan,
    metric_steps,
    record_run,
    resolve_hyperparameters,
)

MAX_DELTA = 30.0  # nats: the log-ratio difference a pair reaches at the end (lr multiplier 1.8)
SPREAD = 0.35  # each pair's own share of it varies by this much (relative)


def pair_corpus(examples: list[Any], parent: dict[str, Any] | None) -> dict[str, Any]:
    """What the DPO model answers: each pair's preferred answer to its question; then the
    parent's own (prompt, reply) pairs whose prompt no pair asks."""
    from .... import preference_data

    prompts, answers = [], []
    for ex in examples:
        inp = ex.data.get("input") or {}
        preferred, _ = preference_data.answers(ex.data)
        prompts.append(replies.prompt_of(inp.get("messages") or []))
        answers.append(preferred)
    asked = set(prompts)
    if parent:
        for prompt, reply in zip(
            parent.get("prompts", []), parent.get("replies", []), strict=False
        ):
            if prompt not in asked:
                prompts.append(prompt)
                answers.append(reply)
    followups = (parent or {}).get("followups") or {"prompts": [], "replies": []}
    return {"prompts": prompts, "replies": answers, "followups": followups}


def resolve(requested: dict[str, Any], n_pairs: int) -> dict[str, Any]:
    """`auto` → numbers for a DPO job (beta: `models.DPO_AUTO_BETA`, Unconfirmed; the others
    as a supervised job's, Unconfirmed for DPO)."""
    from ...resources.fine_tuning_jobs import resolve_beta

    return {
        "beta": resolve_beta(requested.get("beta")),
        **resolve_hyperparameters(requested, n_pairs),
    }


def _losses(deltas: Any, beta: float) -> tuple[float, float, float]:
    """(mean DPO loss, mean reward margin, share of pairs won) of some pairs."""
    import numpy as np

    margins = beta * deltas
    loss = float(np.mean(np.logaddexp(0.0, -margins)))  # −log σ(m), computed stably
    return loss, float(np.mean(margins)), float(np.mean(margins > 0))


def make_plan(
    job_id: str,
    spec: dict[str, Any],
    train: bytes,
    valid: bytes | None,
    parent: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate the pairs and simulate the whole training. Returns (plan, corpus)."""
    import numpy as np

    model = spec["model"]
    report = check(train, model, "dpo")
    failure = failure_for(report)
    v_report = check(valid, model, "dpo") if valid is not None else None
    if failure is None and v_report is not None:
        failure = failure_for(v_report, "validation")
    if failure is not None:
        return failed_plan(failure), {"prompts": [], "replies": []}
    plan: dict[str, Any] = {"failure": None, "warnings": [], "method": "dpo"}
    too_long = [p for p in report.warnings if p.code == "too_long"]
    if too_long:
        info = models.get(model)
        limit = info.example_token_limit if info is not None else 65_536
        plan["warnings"].append(
            f"{len(too_long)} example(s) exceed the maximum of {limit} tokens "
            "and will be truncated during training"
        )
    n = len(report.examples)
    hp = resolve(spec["hyperparameters"], n)
    spe = math.ceil(n / hp["batch_size"])
    steps = models.total_steps(n, hp["n_epochs"], hp["batch_size"])
    rng = np.random.default_rng(spec["seed"])
    own = 1.0 + SPREAD * rng.standard_normal(n)  # each pair's own ease
    v_n = len(v_report.examples) if v_report is not None else 0
    v_own = 1.0 + SPREAD * rng.standard_normal(v_n) if v_n else None
    rate = hp["learning_rate_multiplier"] / AUTO_LEARNING_RATE
    b = hp["batch_size"]
    checkpoints = checkpoint_steps({"hyperparameters": hp, "steps_per_epoch": spe, "failure": None})
    sampled = metric_steps(steps, checkpoints)
    metrics: list[list[float | None]] = []
    perm = np.arange(n)
    for s in sorted(set(sampled)):
        epoch, j = divmod(s - 1, spe)
        progress = (s - 1) / steps  # a step's loss is measured before its update: ln 2 first
        perm = np.random.default_rng([spec["seed"], epoch]).permutation(n)
        rows = perm[j * b : (j + 1) * b]
        reach = MAX_DELTA * (1.0 - math.exp(-3.0 * progress * rate))
        noise = rng.normal(0, 0.5, len(rows)) * min(1.0, reach)
        tl, tm, ta = _losses(reach * own[rows] + noise, hp["beta"])
        vl = vm = va = None
        if v_own is not None:
            pick = [(s * b + i) % v_n for i in range(min(b, v_n))]
            # held-out pairs: what was learned carries over, less surely
            vl, vm, va = _losses(0.6 * reach * v_own[pick], hp["beta"])
        metrics.append([_r(tl), _r(ta), _r(vl), _r(va), _r(tm), _r(vm)])
    full = None
    if v_own is not None:
        fl, fm, fa = _losses(0.6 * MAX_DELTA * (1 - math.exp(-3.0 * rate)) * v_own, hp["beta"])
        full = [_r(fl), _r(fa), _r(fm)]
    record_run(plan, n, hp, steps, spe, report, metrics, sampled, full)
    return plan, pair_corpus(report.examples, parent)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 5)


def metrics_data(plan: dict[str, Any], row: list[float | None], step: int) -> dict[str, Any]:
    """A DPO step's metrics as an event's `data` (Unconfirmed keys: no public transcript of a
    real DPO job's metrics events; the kit keeps the supervised names where they mean the
    same — train_loss, valid_loss, full_valid_loss — and adds the reward margin and accuracy
    under the names of TRL's logs, `rewards/margins` and `rewards/accuracies`)."""
    tl, ta, vl, va, tm, vm = (row + [None, None])[:6]
    data: dict[str, Any] = {
        "step": step,
        "train_loss": tl,
        "train_reward_margin": tm,
        "train_reward_accuracy": ta,
    }
    if vl is not None:
        data.update(valid_loss=vl, valid_reward_margin=vm, valid_reward_accuracy=va)
    if step == plan["steps"] and plan.get("full_valid"):
        fl, fa, fm = plan["full_valid"]
        data.update(full_valid_loss=fl, full_valid_reward_margin=fm, full_valid_reward_accuracy=fa)
    return data
