"""The simulated training engine: validation, plan, timeline, and the small model behind answers.

Honest simulation (DESIGN.md):
- Validation is `helpers.dataset.check_bytes` (the learner's own check), its problems turned
  into the real API's English failure messages (`invalid_n_examples`, `invalid_training_file`).
- Steps = ceil(examples / batch) × epochs, `auto` epochs from `helpers.models`, trained tokens
  from real token counts (`Report.cost`).
- A small model is fitted on the examples: TF-IDF over character n-grams of the prompts,
  cosine similarity. It answers with the reply of the most similar training prompt (the most
  frequent reply when nothing is similar). During training it competes with the base model's
  generic answer, whose weight fades as training progresses; the loss of each step is the
  cross-entropy of that softmax over the step's batch (each example scored without itself),
  so it falls as epochs pass, and early checkpoints may still answer like the base model.
- Everything about a job's progress is a pure function of what was stored at creation and
  the clock: `state(job, now)`. Ids of events and checkpoints derive from the job id.

Durations below are "speed 1" seconds (≈ a one-minute COUCOU job); each job stores the
speed (`ATELIER_SANDBOX_SPEED`) read when it was created and divides them by it.
"""

from __future__ import annotations

import base64
import math
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .. import dataset, models
from . import shapes
from .errors import ApiError
from .store import JobRow, derived_id

ORGANIZATION_ID = "org-sandbox"
ORG_SLUG = "sandbox"
AUTO_LEARNING_RATE = 1.8  # what the real API reports for "auto" on small files

VALIDATE_S = 4.0
QUEUE_S = 6.0
STEP_S = 0.45
RUN_MIN_S = 15.0
RUN_MAX_S = 120.0
FINALIZE_S = 4.0
MAX_METRICS_EVENTS = 200

# The base model's side of the softmax, and how fast training overtakes it.
_GENERIC_LOGIT = 3.0
_ALPHA_START = 0.5
_ALPHA_GAIN = 8.0
_PRIOR_WEIGHT = 0.5


# ---------------------------------------------------------------------------------------
# Validation: helpers.dataset's problems → the real API's failure messages


def _example_ref(p: dataset.Problem) -> str:
    ref = f"Example {p.example or p.line}"
    if p.message_index:
        ref += f", message {p.message_index}"
    return ref


def _detail(p: dataset.Problem, report: dataset.Report) -> str:
    """The English text after "Invalid file format." for one problem."""
    ref = _example_ref(p)
    fld = (p.field or "").rsplit(".", 1)[-1]
    code = p.code
    if code in ("missing_messages", "legacy_format", "not_object"):
        return "Unexpected file format, expected either prompt/completion pairs or chat messages."
    if code == "invalid_json":
        return f"Invalid file format. Line {p.line}, the line is not valid JSON."
    if code == "blank_line":
        return f"Invalid file format. Line {p.line} is empty."
    if code == "bom":
        return "Invalid file format. Line 1, unexpected UTF-8 BOM (byte order mark) at the start of the file."
    if code == "not_utf8":
        return "Invalid file format. The file is not valid UTF-8 text."
    texts = {
        "missing_role": "Discriminator 'role' is missing in value",
        "bad_role": "Input tag found using 'role' does not match any of the expected tags: "
        "'system', 'developer', 'user', 'assistant', 'function', 'tool'",
        "missing_content": "Field required: content",
        "null_content": "Input should be a valid string: content",
        "bad_content": "Input should be a valid string: content",
        "message_not_object": "Input should be a valid dictionary",
        "unknown_message_key": f"Extra inputs are not permitted: {fld}",
        "unknown_key": f"Extra inputs are not permitted: {fld}",
        "messages_not_list": "Input should be a valid list: messages",
        "empty_messages": "List should have at least 1 item: messages",
        "no_assistant": "Training examples must contain at least one message with role 'assistant'",
        "all_weights_zero": "At least one assistant message must have weight 1",
        "bad_weight": "Input should be 0 or 1: weight",
        "weight_not_assistant": "Extra inputs are not permitted: weight",
        "missing_tool_call_id": "Field required: tool_call_id",
    }
    text = texts.get(code, f"Invalid value: {p.field or 'example'}")
    return f"Invalid file format. {ref} {text}"


def failure_for(report: dataset.Report, kind: str = "training") -> dict[str, Any] | None:
    """The job `error` object a file would cause, or None if it trains."""
    errors = [p for p in report.errors if p.code != "too_few_examples"]
    param = f"{kind}_file"
    if errors:
        first = min(errors, key=lambda p: p.line or 0)
        return {
            "code": f"invalid_{kind}_file",
            "message": f"The job failed due to an invalid {kind} file. {_detail(first, report)}",
            "param": param,
        }
    n = len(report.examples)
    if kind == "training" and n < models.MIN_EXAMPLES:
        return {
            "code": "invalid_n_examples",
            "message": f"Training file has {n} example(s), but must have at least {models.MIN_EXAMPLES} examples",
            "param": param,
        }
    if kind == "validation" and n == 0:
        return {
            "code": "invalid_validation_file",
            "message": "The job failed due to an invalid validation file. The file has no examples.",
            "param": param,
        }
    return None


# ---------------------------------------------------------------------------------------
# The small model


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p.get("text", "")
            for p in content
            if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""


def prompt_of(messages: list[Any]) -> str:
    """What the model is asked: the last user message (else the last message with text)."""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return _text(msg.get("content"))
    for msg in reversed(messages):
        if isinstance(msg, dict) and _text(msg.get("content")):
            return _text(msg.get("content"))
    return ""


def corpus_of(examples: list[dataset.Example]) -> dict[str, list[str]]:
    """(prompt, reply) pairs: each example's last trained assistant reply and the prompt before it."""
    prompts, replies = [], []
    for ex in examples:
        msgs = ex.messages
        for i in range(len(msgs) - 1, -1, -1):
            m = msgs[i]
            if (
                isinstance(m, dict)
                and m.get("role") == "assistant"
                and m.get("weight", 1) != 0
                and isinstance(m.get("content"), str)
                and m["content"].strip()
            ):
                prompts.append(prompt_of(msgs[:i]))
                replies.append(m["content"])
                break
    return {"prompts": prompts, "replies": replies}


class ReplyModel:
    """TF-IDF (character n-grams) nearest-prompt model over the training pairs."""

    def __init__(self, prompts: list[str], replies: list[str]) -> None:
        import numpy as np

        self.np = np
        counts = Counter(replies)
        first = {r: i for i, r in reversed(list(enumerate(replies)))}
        self.candidates = sorted(counts, key=lambda r: (-counts[r], first[r]))
        index = {r: i for i, r in enumerate(self.candidates)}
        self.labels = np.array([index[r] for r in replies], dtype=int)
        n_c = len(self.candidates)
        self.prior = np.bincount(self.labels, minlength=n_c) / max(1, len(replies))
        self.order = np.argsort(self.labels, kind="stable")
        self.starts = np.searchsorted(self.labels[self.order], np.arange(n_c))
        self.matrix = None
        self.vectorizer = None
        self._loo = None
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        if prompts:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vectorizer = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(2, 4),
                sublinear_tf=True,
                strip_accents="unicode",
                lowercase=True,
            )
            try:
                self.matrix = vectorizer.fit_transform(prompts)
                self.vectorizer = vectorizer
            except ValueError:  # empty vocabulary (prompts without any letter)
                self.matrix = None

    @property
    def size(self) -> int:
        return len(self.labels)

    def _sims_texts(self, texts: list[str]):
        if self.matrix is None or self.vectorizer is None:
            return self.np.zeros((len(texts), self.size))
        return (self.vectorizer.transform(texts) @ self.matrix.T).toarray()

    def _prompt_sims(self, prompt: str):
        """Similarities of one prompt (a small per-model cache: classes re-ask the same prompts)."""
        with self._lock:
            cached = self._cache.get(prompt)
        if cached is None:
            cached = self._sims_texts([prompt])
            with self._lock:
                self._cache[prompt] = cached
                if len(self._cache) > 512:
                    self._cache.pop(next(iter(self._cache)))
        return cached

    def _sims_rows(self, rows):
        if self.matrix is None:
            return self.np.zeros((len(rows), self.size))
        sims = (self.matrix[rows] @ self.matrix.T).toarray()
        sims[self.np.arange(len(rows)), rows] = 0.0  # leave one out: an example never scores itself
        return sims

    def _scores(self, sims):
        """Per candidate reply: the best similarity to a training prompt with that reply."""
        return (
            self.np.maximum.reduceat(sims[:, self.order], self.starts, axis=1)
            if self.size
            else sims[:, :0]
        )

    def _loo_scores(self, rows):
        """Leave-one-out scores of training rows (all rows computed once for small corpora)."""
        if self.size > 3000:
            return self._scores(self._sims_rows(rows))
        if self._loo is None:
            self._loo = self._scores(self._sims_rows(self.np.arange(self.size)))
        return self._loo[rows]

    def logits(self, sims, progress: float, *, scores=None):
        """(rows, candidates + 1): each training reply, then the base model's generic answer."""
        np = self.np
        if scores is None:
            scores = self._scores(sims)
        alpha = _ALPHA_START + _ALPHA_GAIN * progress
        z = alpha * (scores + _PRIOR_WEIGHT * self.prior)
        generic = np.full((scores.shape[0], 1), _GENERIC_LOGIT * (1.0 - progress))
        return np.concatenate([z, generic], axis=1)

    def loss(
        self, rows, progress: float, *, texts: list[str] | None = None, labels=None
    ) -> tuple[float, float]:
        """Mean cross-entropy and mean probability of the right reply over a batch."""
        np = self.np
        if texts is not None:
            z = self.logits(self._sims_texts(texts), progress)
        else:
            # Training rows: similarity to the other examples, plus what the model has memorized of
            # the example itself (it has seen it `progress` of the way): train loss tends to 0.
            scores = self._loo_scores(rows).copy()
            idx = np.arange(len(rows)), self.labels[rows]
            scores[idx] = np.maximum(scores[idx], progress)
            z = self.logits(None, progress, scores=scores)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        target = labels if labels is not None else self.labels[rows]
        picked = logp[np.arange(len(target)), target]
        return float(-picked.mean()), float(np.exp(picked).mean())

    def answer(
        self, prompt: str, progress: float = 1.0, temperature: float = 0.0, rng=None
    ) -> str | None:
        """The reply for a prompt (None: the base model's generic answer wins)."""
        np = self.np
        if not self.size:
            return None
        z = self.logits(self._prompt_sims(prompt), progress)[0]
        if temperature <= 1e-6 or rng is None:
            k = int(np.argmax(z))
        else:
            w = (z - z.max()) / temperature
            p = np.exp(w) / np.exp(w).sum()
            k = int(rng.choice(len(p), p=p))
        return None if k == len(self.candidates) else self.candidates[k]


_MODELS: OrderedDict[str, ReplyModel] = OrderedDict()
_MODELS_LOCK = threading.Lock()


def reply_model(job_id: str, load_corpus) -> ReplyModel:
    """The fitted model of a job (cached per process; the corpus is loaded on a miss)."""
    with _MODELS_LOCK:
        cached = _MODELS.get(job_id)
        if cached is not None:
            _MODELS.move_to_end(job_id)
            return cached
    corpus = load_corpus()
    fitted = ReplyModel(corpus.get("prompts", []), corpus.get("replies", []))
    with _MODELS_LOCK:
        _MODELS[job_id] = fitted
        while len(_MODELS) > 64:
            _MODELS.popitem(last=False)
    return fitted


def generic_answer(model: str, prompt: str) -> str:
    """What a base model says in the sandbox: a polite, generic answer (it knows nothing)."""
    words = prompt.strip().lower().split()
    if words and words[0].strip("!,.?") in {
        "bonjour",
        "salut",
        "coucou",
        "hello",
        "bonsoir",
        "hey",
        "hi",
    }:
        return "Bonjour ! Comment puis-je t'aider aujourd'hui ?"
    short = " ".join(prompt.split())
    if len(short) > 80:
        short = short[:77] + "…"
    return (
        f"Bonne question ! Je suis {model}, un modèle généraliste (réponse simulée par le bac à sable). "
        f"À « {short} », je répondrais de façon détaillée et nuancée, sans style particulier."
    )


# ---------------------------------------------------------------------------------------
# Plan: everything decided when the job is created


def resolve_hyperparameters(requested: dict[str, Any], n_examples: int) -> dict[str, Any]:
    n_epochs = requested.get("n_epochs", "auto")
    batch = requested.get("batch_size", "auto")
    lr = requested.get("learning_rate_multiplier", "auto")
    return {
        "n_epochs": models.resolve_epochs(n_epochs, n_examples),
        "batch_size": models.auto_batch_size(n_examples) if batch in (None, "auto") else int(batch),
        "learning_rate_multiplier": AUTO_LEARNING_RATE if lr in (None, "auto") else float(lr),
    }


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
        plan["end_s"] = VALIDATE_S
        return plan, {"prompts": [], "replies": []}

    too_long = [p for p in report.warnings if p.code == "too_long"]
    if too_long:
        limit = models.get(model).example_token_limit if models.get(model) else 65_536
        plan["warnings"].append(
            f"{len(too_long)} example(s) exceed the maximum of {limit} tokens "
            "and will be truncated during training"
        )
    n = len(report.examples)
    hp = resolve_hyperparameters(spec["hyperparameters"], n)
    spe = math.ceil(n / hp["batch_size"])
    steps = models.total_steps(n, hp["n_epochs"], hp["batch_size"])
    seed = spec["seed"]
    rm = ReplyModel(corpus["prompts"], corpus["replies"])
    v_corpus = (
        corpus_of(v_report.examples) if v_report is not None else {"prompts": [], "replies": []}
    )
    v_labels = None
    if v_corpus["prompts"]:
        known = {r: i for i, r in enumerate(rm.candidates)}
        # A validation reply never seen in training can only be scored as the generic answer.
        v_labels = np.array([known.get(r, len(rm.candidates)) for r in v_corpus["replies"]])
    rng = np.random.default_rng(seed)
    metrics: list[list[float | None]] = []
    perm = np.arange(0)
    b = hp["batch_size"]
    for s in range(steps):
        epoch, j = divmod(s, spe)
        if j == 0:
            perm = rng.permutation(rm.size) if rm.size else perm
        progress = (s + 1) / steps
        if rm.size:
            rows = perm[(j * b) % rm.size :][:b]
            tl, ta = rm.loss(rows, progress)
        else:
            tl, ta = _GENERIC_LOGIT * (1 - progress) + 0.01, 1 - 0.9 * (1 - progress)
        vl = va = None
        if v_labels is not None and rm.size:
            k = len(v_labels)
            pick = [(s * b + i) % k for i in range(min(b, k))]
            vl, va = rm.loss(
                None, progress, texts=[v_corpus["prompts"][i] for i in pick], labels=v_labels[pick]
            )
        metrics.append(
            [
                round(tl, 5),
                round(ta, 5),
                None if vl is None else round(vl, 5),
                None if va is None else round(va, 5),
            ]
        )
    full = None
    if v_labels is not None and rm.size:
        full = [round(x, 5) for x in rm.loss(None, 1.0, texts=v_corpus["prompts"], labels=v_labels)]
    run_s = min(RUN_MAX_S, max(RUN_MIN_S, steps * STEP_S))
    plan.update(
        {
            "n_examples": n,
            "hyperparameters": hp,
            "steps": steps,
            "steps_per_epoch": spe,
            "trained_tokens": report.cost(hp["n_epochs"]).billed_tokens,
            "metrics": metrics,
            "full_valid": full,
            "run_s": run_s,
            "end_s": VALIDATE_S + QUEUE_S + run_s + FINALIZE_S,
        }
    )
    return plan, corpus


def fine_tuned_name(job_id: str, model: str, suffix: str | None) -> str:
    return f"ft:{model}:{ORG_SLUG}:{suffix or ''}:{derived_id('', job_id, 'model', length=8)}"


def checkpoint_steps(plan: dict[str, Any]) -> list[int]:
    """Steps at the end of each of the last 3 epochs (the real API keeps only those)."""
    if plan.get("failure") is not None:
        return []
    epochs, spe = plan["hyperparameters"]["n_epochs"], plan["steps_per_epoch"]
    return [e * spe for e in range(max(1, epochs - 2), epochs + 1)]


# ---------------------------------------------------------------------------------------
# Timeline: the state of a job at a given time


@dataclass
class Event:
    offset: float  # speed-1 seconds after creation
    level: str
    message: str
    type: str = "message"
    data: dict[str, Any] = field(default_factory=dict)


def _step_offset(plan: dict[str, Any], step: int) -> float:
    return VALIDATE_S + QUEUE_S + plan["run_s"] * step / plan["steps"]


def _metrics_data(plan: dict[str, Any], step: int) -> dict[str, Any]:
    tl, ta, vl, va = plan["metrics"][step - 1]
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
        Event(0.0, "info", f"Created fine-tuning job: {job.id}"),
        Event(
            0.0,
            "info",
            f"Validating training file: {spec['training_file']}"
            + (
                f" and validation file: {spec['validation_file']}"
                if spec.get("validation_file")
                else ""
            ),
        ),
    ]
    failure = plan.get("failure")
    if failure is not None:
        events.append(Event(VALIDATE_S, "error", failure["message"]))
        return events
    events += [Event(VALIDATE_S, "warn", w) for w in plan["warnings"]]
    events.append(Event(VALIDATE_S, "info", "Files validated, moving job to queued state"))
    events.append(Event(VALIDATE_S + QUEUE_S, "info", "Fine-tuning job started"))
    steps = plan["steps"]
    every = max(1, math.ceil(steps / MAX_METRICS_EVENTS))
    ckpts = set(checkpoint_steps(plan))
    for step in range(1, steps + 1):
        if step % every == 0 or step == steps or step == 1:
            data = _metrics_data(plan, step)
            msg = f"Step {step}/{steps}: training loss={data['train_loss']:.2f}"
            if "valid_loss" in data:
                msg += f", validation loss={data['valid_loss']:.2f}"
            if "full_valid_loss" in data:
                msg += f", full validation loss={data['full_valid_loss']:.2f}"
            events.append(
                Event(
                    _step_offset(plan, step), "info", msg, "metrics", {**data, "total_steps": steps}
                )
            )
        if step in ckpts:
            events.append(
                Event(_step_offset(plan, step), "info", f"Checkpoint created at step {step}")
            )
    end = plan["end_s"]
    name = job.ft_model
    events += [
        Event(end - FINALIZE_S / 2, "info", f"New fine-tuned model created: {name}"),
        Event(end - FINALIZE_S / 4, "info", "Evaluating model against our usage policies"),
        Event(end, "info", "Usage policy evaluations completed, model is now enabled for sampling"),
        Event(end, "info", "Fine tuning job successfully completed"),
    ]
    return events


def at(job: JobRow, offset: float) -> float:
    """Absolute time of a speed-1 offset for this job."""
    return job.created_at + offset / job.speed


@dataclass
class JobState:
    status: str
    events: list[dict[str, Any]]  # oldest first, visible ones only
    finished_at: float | None
    progress: float  # fraction of steps done


_TIMELINES: OrderedDict[tuple, list[tuple[float, dict[str, Any]]]] = OrderedDict()
_TIMELINES_LOCK = threading.Lock()


def _timeline(job: JobRow) -> list[tuple[float, dict[str, Any]]]:
    """Every event with its absolute time, ids included (cached: a job's inputs never change)."""
    key = (job.id, job.created_at, job.speed)
    with _TIMELINES_LOCK:
        cached = _TIMELINES.get(key)
        if cached is not None:
            _TIMELINES.move_to_end(key)
            return cached
    timeline = []
    for i, ev in enumerate(schedule(job)):
        t = at(job, ev.offset)
        timeline.append((t, _event_json(job, i, t, ev)))
    with _TIMELINES_LOCK:
        _TIMELINES[key] = timeline
        while len(_TIMELINES) > 256:
            _TIMELINES.popitem(last=False)
    return timeline


def state(job: JobRow, now: float, *, events: bool = True) -> JobState:
    """Where a job is at `now`: a pure function of the stored job and the clock."""
    plan = job.plan
    cancelled = job.cancelled_at is not None and job.cancelled_at < job.end_at
    horizon = min(now, job.cancelled_at) if cancelled else now
    visible: list[dict[str, Any]] = []
    if events:
        timeline = _timeline(job)
        visible = [event for t, event in timeline if t <= horizon]
        if cancelled and now >= job.cancelled_at:
            visible.append(
                _event_json(
                    job, 10_000_000, job.cancelled_at, Event(0, "info", "Fine-tuning job cancelled")
                )
            )
    failure = plan.get("failure")
    if failure is None:
        run = ((horizon - job.created_at) * job.speed - VALIDATE_S - QUEUE_S) / plan["run_s"]
        progress = min(1.0, max(0.0, run))
    else:
        progress = 0.0
    if cancelled and now >= job.cancelled_at:
        return JobState("cancelled", visible, job.cancelled_at, progress)
    if now < at(job, VALIDATE_S) and now < job.end_at:
        return JobState("validating_files", visible, None, 0.0)
    if failure is not None:
        return JobState("failed", visible, job.end_at, 0.0)
    if now < at(job, VALIDATE_S + QUEUE_S):
        return JobState("queued", visible, None, 0.0)
    if now < job.end_at:
        return JobState("running", visible, None, progress)
    return JobState("succeeded", visible, job.end_at, 1.0)


def _event_json(job: JobRow, index: int, t: float, ev: Event) -> dict[str, Any]:
    return {
        "id": derived_id("ftevent-", job.id, index),
        "object": "fine_tuning.job.event",
        "created_at": int(t),
        "level": ev.level,
        "message": ev.message,
        "data": ev.data,
        "type": ev.type,
    }


def results_file_id(job_id: str) -> str:
    return derived_id("file-", job_id, "results", length=22)


def job_json(job: JobRow, now: float) -> dict[str, Any]:
    """The `fine_tuning.job` object as the real API returns it."""
    st = state(job, now, events=False)
    spec, plan = job.spec, job.plan
    started = st.status in ("running", "succeeded") or (
        st.status == "cancelled" and st.progress > 0
    )
    hp = (
        dict(plan["hyperparameters"])
        if started and "hyperparameters" in plan
        else dict(spec["hyperparameters"])
    )
    succeeded = st.status == "succeeded"
    failure = plan.get("failure") if st.status == "failed" else None
    return shapes.job_object(
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
    out = []
    for step in reversed(checkpoint_steps(job.plan)):
        metrics = _metrics_data(job.plan, step)
        metrics.setdefault("valid_loss", None)
        metrics.setdefault("valid_mean_token_accuracy", None)
        metrics.setdefault("full_valid_loss", None)
        metrics.setdefault("full_valid_mean_token_accuracy", None)
        out.append(
            {
                "id": derived_id("ftckpt_", job.id, "checkpoint", step),
                "object": "fine_tuning.job.checkpoint",
                "created_at": int(at(job, _step_offset(job.plan, step))),
                "fine_tuned_model_checkpoint": f"{job.ft_model}:ckpt-step-{step}",
                "fine_tuning_job_id": job.id,
                "metrics": metrics,
                "step_number": step,
            }
        )
    return out


def checkpoint_progress(job: JobRow, step: int) -> float | None:
    """Training progress of a checkpoint (None if the job has no such checkpoint)."""
    if step not in checkpoint_steps(job.plan):
        return None
    return step / job.plan["steps"]


def results_csv(job: JobRow) -> bytes:
    """The results file: the real columns, one row per step, base64-encoded like the real API's."""
    lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
    for step, (tl, ta, vl, va) in enumerate(job.plan["metrics"], start=1):
        lines.append(f"{step},{tl},{ta},{'' if vl is None else vl},{'' if va is None else va}")
    return base64.b64encode(("\n".join(lines) + "\n").encode())


def check_speed(speed: float) -> float:
    if not speed > 0 or math.isinf(speed):
        raise ApiError(500, "ATELIER_SANDBOX_SPEED must be a positive number", type="server_error")
    return speed
