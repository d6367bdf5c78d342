"""The simulated engine: jobs that follow a computed timeline, answers from a small model."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .... import models, settings, tokens
from ... import base_models, errors, structured, validation
from ...contract import MetadataFilter
from ...database import Database
from ...file_store import FileService
from ...ids import random_id
from ...pages import page, with_first_last
from ...resources import chat_completions, fine_tuning_jobs
from ...resources.models import base_model, cannot_delete, listed_base_models, model_object
from .. import completions
from . import plan as planning
from . import preference_plan, replies, timeline
from .jobs import PENDING_END, JobRow, JobStore
from .planners import PLANNERS

log = logging.getLogger("helpers.kit_server")
_CKPT = re.compile(r"(ft:.+?)(?::ckpt-step-(\d+))?")
_PLANNING: set[str] = set()  # jobs being planned by this process
_PLANNING_LOCK = threading.Lock()


class SimulatedEngine:
    """Jobs, models and chat of the simulated engine (see the package docstring)."""

    organization_id = timeline.ORGANIZATION_ID

    def __init__(
        self, home: Path, files: FileService, clock: Callable[[], float] = time.time
    ) -> None:
        self.files = files
        self.jobs = JobStore(Database(home))
        self.clock = clock
        self.workspace = str(Path(home).resolve())  # whose turn it is to plan (planners.py)

    # -- jobs -----------------------------------------------------------------------------

    def file_uploaded(self, purpose: str) -> None:
        """Nothing to get ready: a simulated job needs no model."""

    def sync_files(self) -> None:
        now = self.clock()
        for job in self.jobs.unsettled(now):
            if self._status(job, now) == "succeeded":
                content = timeline.results_csv(job)
                file_id = timeline.results_file_id(job.id)
                self.files.add(
                    "step_metrics.csv", "fine-tune-results", content, job.end_at, file_id
                )
            self.jobs.mark_settled(job.id)

    def create_job(self, body: dict[str, Any], *, speed: float | None = None) -> dict[str, Any]:
        """Answer at once, like the real API (`validating_files`): the files are validated and
        the training planned in the background, so no client timeout can orphan a job."""

        def snapshot_of(model: str) -> str:
            if model.startswith("ft:"):  # continue one of this engine's fine-tunes
                try:
                    return self._fine_tune(model)[0].model
                except errors.ApiError:
                    raise fine_tuning_jobs.model_not_available(model) from None
            snapshot = models.base_model_of(model)
            if not base_models.trainable(snapshot):
                raise fine_tuning_jobs.model_not_available(model)
            return snapshot

        req = fine_tuning_jobs.job_request(body, snapshot_of, self.files)
        speed = planning.check_speed(speed or settings.sandbox_speed())
        job_id = random_id("ftjob-")
        now = self.clock()
        job = JobRow(
            id=job_id,
            created_at=now,
            model=req.resolved,
            spec={"model": req.resolved, **req.spec(job_id)},
            plan={},
            speed=speed,
            end_at=PENDING_END,
            outcome="pending",
            ft_model=None,
            cancelled_at=None,
            settled=False,
        )
        self.jobs.add(job, {})
        self._plan_later(job_id)
        return timeline.job_json(job, now)

    def _plan_later(self, job_id: str) -> None:
        """Plan a job in a background thread of this process (once per process)."""
        with _PLANNING_LOCK:
            if job_id in _PLANNING:
                return
            _PLANNING.add(job_id)
        threading.Thread(
            target=self._plan, args=(job_id,), name=f"atelier-plan-{job_id}", daemon=True
        ).start()

    def _plan_pending(self, rows: list[JobRow]) -> None:
        for row in rows:
            if not row.planned:
                self._plan_later(row.id)

    def _plan(self, job_id: str) -> None:
        try:
            # CPU-bound: one plan at a time per workspace, fair between workspaces.
            with PLANNERS.turn(self.workspace):
                job = self.jobs.get(job_id)
                if job is None or job.planned:
                    return
                spec = job.spec
                try:
                    train = self.files.content(spec["training_file"])
                    valid_id = spec.get("validation_file")
                    valid = self.files.content(valid_id) if valid_id else None
                    size = len(train) + len(valid or b"")
                    args = (job_id, spec, train, valid)
                    parent = self._parent_corpus(spec)
                    if spec.get("method") == "dpo":
                        plan, corpus = PLANNERS.compute(
                            size, preference_plan.make_plan, *args, parent
                        )
                    else:
                        plan, corpus = PLANNERS.compute(size, planning.make_plan, *args)
                        if parent and plan.get("failure") is None:
                            corpus = _continued(corpus, parent)
                            replies.forget(job_id)  # fitted by the plan on its own examples
                except errors.ApiError:  # a file deleted before it was validated
                    plan, corpus = planning.failed_plan(validation.deleted_file()), {}
                except Exception:
                    log.exception("planning job %s failed", job_id)
                    plan, corpus = planning.failed_plan(validation.internal_failure()), {}
                # Validation lasts VALIDATE_S at the job's speed, or as long as it really took.
                base = max(job.created_at, self.clock() - planning.VALIDATE_S / job.speed)
                failed = plan.get("failure") is not None
                name = planning.fine_tuned_name(job_id, job.model, spec.get("suffix"))
                try:
                    self.jobs.set_plan(
                        job_id,
                        plan,
                        corpus,
                        base_at=base,
                        end_at=base + plan["end_s"] / job.speed,
                        outcome="failed" if failed else "succeeded",
                        ft_model=None if failed else name,
                    )
                except Exception:  # never leave a job validating forever
                    log.exception("storing the plan of job %s failed", job_id)
                    failure = planning.failed_plan(validation.internal_failure())
                    self.jobs.set_plan(
                        job_id,
                        failure,
                        {},
                        base_at=base,
                        end_at=base + failure["end_s"] / job.speed,
                        outcome="failed",
                        ft_model=None,
                    )
        finally:
            with _PLANNING_LOCK:
                _PLANNING.discard(job_id)

    def _parent_corpus(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        """The corpus of the fine-tune a job continues (None: it starts from a base model)."""
        parent = spec.get("parent_model")
        if not parent:
            return None
        try:
            job, _ = self._fine_tune(parent)
        except errors.ApiError:  # deleted since: the job starts from its base model
            return None
        return self.jobs.corpus(job.id)

    def _job(self, job_id: str) -> JobRow:
        job = self.jobs.get(job_id)
        if job is None:
            raise errors.not_found("FineTuningJob", job_id)
        if not job.planned:  # e.g. the process that created it stopped before planning it
            self._plan_later(job_id)
        return job

    def _now(self, job: JobRow) -> float:
        """The clock for this job: never before the furthest time it was seen at."""
        now = self.clock()
        return now if job.reached is None or now > job.reached else job.reached

    def _status(self, job: JobRow, now: float) -> str:
        """The job's status at `now`; a new status is remembered with the time it was seen at,
        so a clock that goes back (a corrected clock, another process's) never undoes it."""
        status = timeline.state(job, now, events=False).status
        if job.reached is None or now > job.reached:
            before = job.created_at if job.reached is None else job.reached
            if status != timeline.state(job, before, events=False).status:
                self.jobs.reach(job.id, now)
        return status

    def retrieve_job(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        now = self._now(job)
        self._status(job, now)
        return timeline.job_json(job, now)

    def list_jobs(
        self, after: str | None, limit: int, metadata: MetadataFilter = None
    ) -> dict[str, Any]:
        now = self.clock()
        if metadata is None:
            rows, has_more = self.jobs.page(after=after, limit=limit)
            self._plan_pending(rows)
            data = [self._seen_json(r, now) for r in rows]
            return {"object": "list", "data": data, "has_more": has_more}
        rows = [r for r in self.jobs.all() if fine_tuning_jobs.metadata_matches(r.spec, metadata)]
        self._plan_pending(rows)
        return page([self._seen_json(r, now) for r in rows], after, limit)

    def _seen_json(self, job: JobRow, now: float) -> dict[str, Any]:
        self._status(job, now)
        return timeline.job_json(job, now)

    def pause_job(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        now = self._now(job)
        status = self._status(job, now)
        if status != "running" or not self.jobs.pause(job_id, now):
            raise fine_tuning_jobs.invalid_job_state(job_id, status, "paused")
        return timeline.job_json(self._job(job_id), now)

    def resume_job(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        now = self._now(job)
        status = self._status(job, now)
        if status != "paused":
            raise fine_tuning_jobs.invalid_job_state(job_id, status, "resumed")
        start = timeline.paused_at(job, now) or now
        resumed = JobRow(**{**job.__dict__, "pauses": (*job.pauses[:-1], (start, now))})
        end = timeline.real(resumed, timeline.unpaused_end(resumed))
        if not self.jobs.resume(job_id, now, end):
            raise fine_tuning_jobs.invalid_job_state(job_id, status, "resumed")
        return timeline.job_json(self._job(job_id), now)

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        now = self._now(job)
        if not self.jobs.cancel(job_id, now):
            status = self._status(job, now)
            raise errors.bad_request(
                f"Job {job_id} has already {'been ' if status == 'cancelled' else ''}"
                f"{status} and cannot be cancelled.",
                param="fine_tuning_job_id",
                code="invalid_job_state",
            )
        return timeline.job_json(self._job(job_id), now)

    def events(self, job_id: str, after: str | None, limit: int) -> dict[str, Any]:
        job = self._job(job_id)
        now = self._now(job)
        self._status(job, now)
        st = timeline.state(job, now)
        return page(list(reversed(st.events)), after, limit)

    def checkpoints(self, job_id: str, after: str | None, limit: int) -> dict[str, Any]:
        job = self._job(job_id)
        now = self._now(job)
        self._status(job, now)
        items = timeline.checkpoints_json(job, now)
        return with_first_last(page(items, after, limit))

    # -- models ---------------------------------------------------------------------------

    def _ft_model_json(self, job: JobRow, name: str) -> dict[str, Any]:
        shutdown = base_models.shutdown_date(job.model)
        return model_object(name, job.end_at, self.organization_id, shutdown)

    def list_models(self) -> dict[str, Any]:
        now = self.clock()
        succeeded = self.jobs.succeeded(now)
        for job in succeeded:  # listed once: listed for good, whatever the clock does next
            if job.reached is None or job.reached < job.end_at:
                self.jobs.reach(job.id, now)
        data = listed_base_models()
        data += [self._ft_model_json(j, j.ft_model or "") for j in succeeded]
        return {"object": "list", "data": data}

    def retrieve_model(self, name: str) -> dict[str, Any]:
        if name.startswith("ft:"):
            job, _ = self._fine_tune(name)
            return self._ft_model_json(job, name)
        return base_model(name)

    def delete_model(self, name: str) -> dict[str, Any]:
        if not name.startswith("ft:"):
            base_models.retrieve(name)  # unknown or shut down: the API's 404
            raise cannot_delete(name)
        job, _ = self._fine_tune(name)
        if name != job.ft_model or not self.jobs.delete_model(name):
            raise errors.model_not_found(name)  # checkpoints are not deleted on their own here
        return {"id": name, "object": "model", "deleted": True}

    def _fine_tune(self, name: str) -> tuple[JobRow, float]:
        """The job behind a fine-tuned model or checkpoint name, and its training progress."""
        match = _CKPT.fullmatch(name)
        job = self.jobs.by_model(match.group(1)) if match else None
        if match is None or job is None or self._status(job, self._now(job)) != "succeeded":
            raise errors.model_not_found(name)
        if job.model_deleted and match.group(2) is None:
            raise errors.model_not_found(name)
        if match.group(2) is None:
            return job, 1.0
        progress = timeline.checkpoint_progress(job, int(match.group(2)))
        if progress is None:
            raise errors.model_not_found(name)
        return job, progress

    # -- chat -----------------------------------------------------------------------------

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        req = chat_completions.chat_request(body, max_n=128)
        reply_model, follow_model, progress = None, None, 1.0
        # Tool results are back and nothing forces another call: the model answers in text
        # (the whole conversation decides, not only its last user message).
        answering = replies.answers_tool_results(req.messages) and not completions.forced_call(req)
        if req.model.startswith("ft:"):
            job, progress = self._fine_tune(req.model)
            base, shown = job.model, req.model
            reply_model = replies.reply_model(job.id, lambda: self.jobs.corpus(job.id))
            if answering:
                follow_model = replies.reply_model(
                    f"{job.id}:followups",
                    lambda: self.jobs.corpus(job.id).get("followups") or {},
                )
        else:
            base = shown = base_models.snapshot(req.model)
        chat_completions.check_context(req.messages, base, base_models.context_window(base))
        prompt = replies.prompt_of(req.messages)
        rng = None
        if reply_model is not None and req.temperature > 0:
            import numpy as np

            seed = req.seed if req.seed is not None and req.seed >= 0 else None
            rng = np.random.default_rng(seed)
        encoder: Any = tokens.encoding_for(base)  # tiktoken's Encoding
        generic = replies.generic_answer(base, prompt)
        usable = reply_model if reply_model is not None and reply_model.size else None
        choices = []
        completion_tokens = 0
        for index in range(req.n):
            reply = None
            if usable is not None:
                k = usable.pick(prompt, progress, req.temperature, rng)
                reply = usable.candidates[k] if k < len(usable.candidates) else None
            text = reply if reply is not None else generic
            if answering:
                text = self._answer_to_results(req, follow_model, reply, progress, rng)
                reply, scored = text, None
            else:
                scored = usable
            finish = "stop"
            if not text.startswith(structured.TOOL_CALLS_MARK):
                ids = encoder.encode(text, disallowed_special=())
                if req.max_tokens is not None and len(ids) > req.max_tokens:
                    text = encoder.decode(ids[: req.max_tokens])
                    finish = "length"
            gen = completions.Generation(text, finish, generic=reply is None)
            scorer = _scorer(encoder, scored, prompt, progress, generic)
            choice, counted = completions.choice(req, index, gen, scorer)
            completion_tokens += len(encoder.encode(counted, disallowed_special=()))
            choices.append(choice)
        prompt_tokens = tokens.count_messages(req.messages, base, encoder=encoder)
        return chat_completions.chat_completion(
            model=shown,
            choices=choices,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            created=self.clock(),
            fingerprint="fp_sandbox",
        )

    @staticmethod
    def _answer_to_results(
        req: chat_completions.ChatRequest,
        follow_model: replies.ReplyModel | None,
        reply: str | None,
        progress: float,
        rng: Any,
    ) -> str:
        """The text a model answers once its tools' results are back: what it was trained to
        say after results (the follow-up replies of its dataset), else its own trained text
        reply, else (it was trained on tool calls only, or is a base model) the results put in
        a sentence. Never the same tool call again: a tool loop ends."""
        if follow_model is not None and follow_model.size:
            key = replies.followup_prompt_of(req.messages)
            k = follow_model.pick(key, progress, req.temperature, rng)
            if k < len(follow_model.candidates):
                trained = follow_model.candidates[k]
                # a next step of a chain (another tool), never a call already made
                if not replies.calls_again(req.messages, trained):
                    return trained
        if reply is not None and not reply.startswith(structured.TOOL_CALLS_MARK):
            return reply
        return replies.tool_result_answer(req.messages)


def _continued(corpus: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    """A continued supervised job's corpus: its own examples, then its parent's."""
    out: dict[str, Any] = {
        k: list(corpus.get(k, [])) + list(parent.get(k, [])) for k in ("prompts", "replies")
    }
    own, old = corpus.get("followups") or {}, parent.get("followups") or {}
    out["followups"] = {
        k: list(own.get(k, [])) + list(old.get(k, [])) for k in ("prompts", "replies")
    }
    return out


def _scorer(
    encoder: Any, model: replies.ReplyModel | None, prompt: str, progress: float, generic: str
) -> completions.Scorer:
    """The small model's own token probabilities: its replies are whole sequences, so the
    probability of each next token is the mass of the replies that continue the text so far
    with it (the base model's generic answer is one of them)."""

    def score(content: str, top: int) -> list[dict[str, Any]]:
        ids = encoder.encode(content, disallowed_special=())
        raw = [encoder.decode_bytes([i]) for i in ids]
        if model is None:  # a base model in the sandbox knows one answer: probability 1
            return completions.certain_logprobs(raw, top)
        p = model.distribution(prompt, progress)
        texts = [*model.candidates, generic]
        ranked = sorted(range(len(texts)), key=lambda i: -p[i])[:64]
        alive = [(encoder.encode(texts[i], disallowed_special=()), float(p[i])) for i in ranked]
        entries = []
        for t, tok in enumerate(ids):
            mass: dict[int, float] = {}
            for seq, prob in alive:
                if len(seq) > t:
                    mass[seq[t]] = mass.get(seq[t], 0.0) + prob
            total = sum(mass.values())
            if tok not in mass or total <= 0:
                entries += completions.certain_logprobs(raw[t:], top)
                break
            best = sorted(mass.items(), key=lambda kv: -kv[1])[:top]
            entries.append(
                completions.token_entry(
                    raw[t],
                    math.log(mass[tok] / total),
                    [(encoder.decode_bytes([i]), math.log(m / total)) for i, m in best],
                )
            )
            alive = [(seq, prob) for seq, prob in alive if len(seq) > t and seq[t] == tok]
        return entries

    return score
