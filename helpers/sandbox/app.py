"""The sandbox's HTTP API: the routes the `openai` SDK calls, with the real API's shapes.

`create_app(home)` builds a plain Starlette (ASGI) app over the SQLite store of a workspace.
Blocking work (SQLite, fitting the small model) runs in Starlette's thread pool. Every error
leaves as the real API's envelope `{"error": {"message", "type", "param", "code"}}` with its
status code and an `x-request-id` header, never as a traceback or a bare 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import models, settings, tokens
from . import engine, errors, faults, shapes
from .errors import ApiError
from .store import FileRow, JobRow, Store, random_id

log = logging.getLogger("helpers.sandbox")

MAX_FILE_BYTES = 512 * 1024 * 1024
FILE_PURPOSES = ("fine-tune", "assistants", "batch", "user_data", "vision", "evals")
CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_CKPT = re.compile(r"(ft:.+?)(?::ckpt-step-(\d+))?")


def _json_error(err: ApiError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


def _int_param(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(
            f"Invalid '{name}': expected an integer, but got '{raw}' instead.",
            param=name,
            code="invalid_type",
        ) from None
    if not low <= value <= high:
        raise errors.bad_request(
            f"Invalid '{name}': expected a value between {low} and {high}, "
            f"but got {value} instead.",
            param=name,
            code="invalid_value",
        )
    return value


def _page(items: list[dict[str, Any]], after: str | None, limit: int) -> dict[str, Any]:
    """A cursor page over items already in list order: those after the `after` id."""
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit}


def _file_json(row: FileRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "file",
        "bytes": row.bytes,
        "created_at": row.created_at,
        "filename": row.filename,
        "purpose": row.purpose,
        "status": "processed",
        "expires_at": None,
        "status_details": None,
    }


def _model_created(name: str) -> int:
    match = re.search(r"(\d{4})-(\d{2})-(\d{2})", name)
    if not match:
        match = re.search(r"-(\d{2})(\d{2})$", name)  # gpt-3.5-turbo-0125 (2024)
        return (
            int(time.mktime((2024, int(match.group(1)), int(match.group(2)), 0, 0, 0, 0, 0, -1)))
            if match
            else 0
        )
    y, m, d = map(int, match.groups())
    return int(time.mktime((y, m, d, 0, 0, 0, 0, 0, -1)))


def _base_model_json(name: str) -> dict[str, Any]:
    info = models.get(name)
    shutdown = info.shutdown_date.isoformat() if info and info.shutdown_date else None
    return {
        "id": name,
        "object": "model",
        "created": _model_created(models.base_model_of(name)),
        "owned_by": "system",
        "shutdown_date": shutdown,
    }


class Api:
    """The blocking side of every route (runs in the thread pool)."""

    def __init__(self, home: Path, clock: Callable[[], float] = time.time) -> None:
        self.store = Store(home)
        self.clock = clock

    # -- files ----------------------------------------------------------------------------

    def upload(self, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
        if purpose == "fine-tune" and not filename.lower().endswith(".jsonl"):
            raise errors.bad_request(
                "Invalid file format for Fine-Tuning API. Must be .jsonl", param="file"
            )
        if not content:
            raise errors.bad_request(
                "The file is empty: it must contain at least one line.",
                param="file",
                code="empty_file",
            )
        row = self.store.add_file(filename, purpose, content, self.clock())
        return _file_json(row)

    def _settle(self, now: float) -> None:
        """Write the results file of every job that has finished by now (idempotent)."""
        for job in self.store.due_settlements(now):
            if engine.state(job, now, events=False).status == "succeeded":
                results = (
                    engine.results_file_id(job.id),
                    "step_metrics.csv",
                    engine.results_csv(job),
                    job.end_at,
                )
                self.store.settle(job.id, results)
            else:
                self.store.settle(job.id, None)

    def list_files(
        self, purpose: str | None, after: str | None, limit: int, order: str
    ) -> dict[str, Any]:
        self._settle(self.clock())
        rows, has_more = self.store.list_files(
            purpose=purpose, after=after, limit=limit, order=order
        )
        return {
            "object": "list",
            "data": [_file_json(r) for r in rows],
            "has_more": has_more,
            "first_id": rows[0].id if rows else None,
            "last_id": rows[-1].id if rows else None,
        }

    def get_file(self, file_id: str) -> FileRow:
        self._settle(self.clock())
        row = self.store.get_file(file_id)
        if row is None:
            raise errors.not_found("File", file_id)
        return row

    def file_content(self, file_id: str) -> bytes:
        self.get_file(file_id)
        content = self.store.file_content(file_id)
        if content is None:  # deleted in between
            raise errors.not_found("File", file_id)
        return content

    def delete_file(self, file_id: str) -> dict[str, Any]:
        self.get_file(file_id)
        self.store.delete_file(file_id)
        return {"id": file_id, "object": "file", "deleted": True}

    # -- jobs -----------------------------------------------------------------------------

    def _training_file(self, file_id: Any, param: str) -> bytes:
        if not isinstance(file_id, str) or not file_id:
            raise errors.bad_request(f"invalid {param}: {file_id}", param=param)
        row = self.store.get_file(file_id)
        if row is None:
            raise errors.bad_request(f"invalid {param}: {file_id}", param=param)
        if row.purpose != "fine-tune":
            raise errors.bad_request(
                f"File {file_id} has purpose '{row.purpose}': fine-tuning requires a file uploaded with "
                "purpose 'fine-tune'.",
                param=param,
            )
        content = self.store.file_content(file_id)
        if content is None:
            raise errors.bad_request(f"invalid {param}: {file_id}", param=param)
        return content

    def job_request(self, body: dict[str, Any], resolve_model: Callable[[str], Any]) -> JobRequest:
        """Check a job-creation body as the real API does, in its order; `resolve_model` turns the
        requested model into the engine's own (or raises the API's error)."""
        model = body.get("model")
        if not model:
            raise errors.missing("model")
        if not isinstance(model, str):
            raise errors.bad_request(
                "Invalid type for 'model': expected a string.", param="model", code="invalid_type"
            )
        if "training_file" not in body or body["training_file"] in (None, ""):
            raise errors.missing("training_file")
        if model.startswith("ft:") or models.base_model_of(model) == models.GUIDE_MODEL:
            raise model_not_available(model)
        resolved = resolve_model(model)
        suffix = body.get("suffix")
        if suffix is not None and not isinstance(suffix, str):
            raise errors.bad_request(
                "Invalid type for 'suffix': expected a string.", param="suffix", code="invalid_type"
            )
        if suffix is not None and len(suffix) > 64:
            raise errors.bad_request(
                f"Invalid 'suffix': string too long. Expected a string with maximum length 64, but got a "
                f"string with length {len(suffix)} instead.",
                param="suffix",
                code="string_above_max_length",
            )
        hyper = _hyperparameters(body)
        seed = body.get("seed")
        if seed is not None and (
            not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2**31 - 1
        ):
            raise errors.bad_request(
                "Invalid 'seed': expected an integer between 0 and 2147483647.",
                param="seed",
                code="invalid_value",
            )
        metadata = body.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict)
            or len(metadata) > 16
            or not all(
                isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 512
                for k, v in metadata.items()
            )
        ):
            raise errors.bad_request(
                "Invalid 'metadata': at most 16 pairs of strings (keys ≤ 64 characters, "
                "values ≤ 512 characters).",
                param="metadata",
                code="invalid_value",
            )
        train = self._training_file(body["training_file"], "training_file")
        validation_file = body.get("validation_file") or None
        valid = self._training_file(validation_file, "validation_file") if validation_file else None
        return JobRequest(
            model,
            resolved,
            suffix or None,
            hyper,
            seed,
            metadata,
            body["training_file"],
            validation_file,
            train,
            valid,
        )

    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        def snapshot_of(model: str) -> str:
            snapshot = models.base_model_of(model)
            if snapshot not in models.FINE_TUNABLE:
                raise model_not_available(model)
            return snapshot

        req = self.job_request(body, snapshot_of)
        snapshot = req.resolved
        job_id = random_id("ftjob-")
        spec = {"model": snapshot, **req.spec(job_id)}
        plan, corpus = engine.make_plan(job_id, spec, req.train, req.valid)
        speed = engine.check_speed(settings.sandbox_speed())
        now = self.clock()
        failed = plan.get("failure") is not None
        job = JobRow(
            id=job_id,
            created_at=now,
            model=snapshot,
            spec=spec,
            plan=plan,
            speed=speed,
            end_at=now + plan["end_s"] / speed,
            outcome="failed" if failed else "succeeded",
            ft_model=None if failed else engine.fine_tuned_name(job_id, snapshot, req.suffix),
            cancelled_at=None,
            settled=False,
        )
        self.store.add_job(job, corpus)
        return engine.job_json(job, now)

    def job(self, job_id: str) -> JobRow:
        job = self.store.get_job(job_id)
        if job is None:
            raise errors.not_found("FineTuningJob", job_id)
        return job

    def retrieve_job(self, job_id: str) -> dict[str, Any]:
        now = self.clock()
        self._settle(now)
        return engine.job_json(self.job(job_id), now)

    def list_jobs(self, after: str | None, limit: int) -> dict[str, Any]:
        now = self.clock()
        self._settle(now)
        rows, has_more = self.store.list_jobs(after=after, limit=limit)
        return {
            "object": "list",
            "data": [engine.job_json(r, now) for r in rows],
            "has_more": has_more,
        }

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        job = self.job(job_id)
        now = self.clock()
        if not self.store.cancel_job(job_id, now):
            status = engine.state(job, now, events=False).status
            raise errors.bad_request(
                f"Job {job_id} has already {'been ' if status == 'cancelled' else ''}"
                f"{status} and cannot be cancelled.",
                param="fine_tuning_job_id",
                code="invalid_job_state",
            )
        return engine.job_json(self.job(job_id), now)

    def events(self, job_id: str, after: str | None, limit: int) -> dict[str, Any]:
        st = engine.state(self.job(job_id), self.clock())
        return _page(list(reversed(st.events)), after, limit)

    def checkpoints(self, job_id: str, after: str | None, limit: int) -> dict[str, Any]:
        items = engine.checkpoints_json(self.job(job_id), self.clock())
        page = _page(items, after, limit)
        page["first_id"] = page["data"][0]["id"] if page["data"] else None
        page["last_id"] = page["data"][-1]["id"] if page["data"] else None
        return page

    # -- models ---------------------------------------------------------------------------

    def list_models(self) -> dict[str, Any]:
        now = self.clock()
        data = [
            _base_model_json(name) for name in models.FINE_TUNABLE if name != models.GUIDE_MODEL
        ]
        for job in self.store.succeeded_jobs(now):
            data.append(self._ft_model_json(job))
        return {"object": "list", "data": data}

    def _ft_model_json(self, job: JobRow) -> dict[str, Any]:
        info = models.get(job.model)
        return {
            "id": job.ft_model,
            "object": "model",
            "created": int(job.end_at),
            "owned_by": engine.ORGANIZATION_ID,
            "shutdown_date": info.shutdown_date.isoformat()
            if info and info.shutdown_date
            else None,
        }

    def retrieve_model(self, name: str) -> dict[str, Any]:
        if name.startswith("ft:"):
            job, _ = self._fine_tune(name)
            out = self._ft_model_json(job)
            out["id"] = name
            return out
        snapshot = models.base_model_of(name)
        if snapshot == models.GUIDE_MODEL:
            raise errors.model_shut_down(name)
        if snapshot not in models.FINE_TUNABLE:
            raise errors.model_not_found(name)
        out = _base_model_json(snapshot)
        out["id"] = name
        return out

    def _fine_tune(self, name: str) -> tuple[JobRow, float]:
        """The job behind a fine-tuned model or checkpoint name, and its training progress."""
        match = _CKPT.fullmatch(name)
        job = self.store.job_by_model(match.group(1)) if match else None
        if job is None or engine.state(job, self.clock(), events=False).status != "succeeded":
            raise errors.model_not_found(name)
        if match.group(2) is None:
            return job, 1.0
        progress = engine.checkpoint_progress(job, int(match.group(2)))
        if progress is None:
            raise errors.model_not_found(name)
        return job, progress

    # -- chat -----------------------------------------------------------------------------

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        model, messages, temperature, _top_p, n, max_tokens, seed = chat_parameters(body, max_n=128)

        reply_model, progress = None, 1.0
        if model.startswith("ft:"):
            job, progress = self._fine_tune(model)
            base, shown = job.model, model
            reply_model = engine.reply_model(job.id, lambda: self.store.corpus(job.id))
        else:
            base = models.base_model_of(model)
            if base == models.GUIDE_MODEL:
                raise errors.model_shut_down(model)
            if base not in models.FINE_TUNABLE:
                raise errors.model_not_found(model)
            shown = base
        prompt = engine.prompt_of(messages)
        rng = None
        if reply_model is not None and temperature > 0:
            import numpy as np

            rng = np.random.default_rng(seed if isinstance(seed, int) and seed >= 0 else None)
        encoder = tokens.encoding_for(base)
        choices = []
        completion_tokens = 0
        for index in range(n):
            reply = (
                reply_model.answer(prompt, progress, temperature, rng)
                if reply_model is not None
                else None
            )
            text = reply if reply is not None else engine.generic_answer(base, prompt)
            ids = encoder.encode(text, disallowed_special=())
            finish = "stop"
            if max_tokens is not None and len(ids) > max_tokens:
                ids = ids[:max_tokens]
                text = encoder.decode(ids)  # type: ignore[attr-defined]
                finish = "length"
            completion_tokens += len(ids)
            choices.append(shapes.chat_choice(index, text, finish))
        prompt_tokens = tokens.count_messages(messages, base, encoder=encoder)
        return shapes.chat_completion(
            model=shown,
            choices=choices,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            created=self.clock(),
            fingerprint="fp_sandbox",
        )


def model_not_available(model: str) -> ApiError:
    return errors.bad_request(
        f"Model {model} is not available for fine-tuning or does not exist.",
        param="model",
        code="model_not_available",
    )


@dataclass(frozen=True)
class JobRequest:
    """A checked job-creation request (see `Api.job_request`)."""

    model: str  # as the learner wrote it
    resolved: Any  # what the engine made of it
    suffix: str | None
    hyperparameters: dict[str, Any]
    seed: int | None
    metadata: dict[str, str] | None
    training_file: str
    validation_file: str | None
    train: bytes
    valid: bytes | None

    def spec(self, job_id: str) -> dict[str, Any]:
        """What the job stores of the request; an unset seed is derived from the job id."""
        return {
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "suffix": self.suffix,
            "seed": self.seed if self.seed is not None else _derived_seed(job_id),
            "metadata": self.metadata,
            "hyperparameters": self.hyperparameters,
        }


def chat_parameters(
    body: dict[str, Any], *, max_n: int
) -> tuple[str, list[dict[str, Any]], float, float, int, int | None, int | None]:
    """The checked parameters of a chat request: model, messages, temperature, top_p, n,
    max_tokens (or max_completion_tokens), seed — with the real API's error for each."""
    model = body.get("model")
    if not model or not isinstance(model, str):
        raise errors.bad_request("you must provide a model parameter")
    messages = _messages(body.get("messages"))
    temperature = _number(body.get("temperature"), "temperature", 1.0, 0.0, 2.0)
    top_p = _number(body.get("top_p"), "top_p", 1.0, 0.0, 1.0)
    n = int(_number(body.get("n"), "n", 1, 1, max_n, integer=True))
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None:
        max_tokens = int(_number(max_tokens, "max_tokens", 1, 1, 1_000_000, integer=True))
    seed = body.get("seed")
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    return model, messages, temperature, top_p, n, max_tokens, seed


def _derived_seed(job_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{job_id}:seed".encode()).digest()[:8], "big") % (
        2**31 - 1
    )


def _number(
    value: Any, name: str, default: float, low: float, high: float, *, integer: bool = False
) -> float:
    if value is None:
        return default
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise errors.bad_request(
            f"Invalid type for '{name}': expected {kind}, but got {type(value).__name__} instead.",
            param=name,
            code="invalid_type",
        )
    word = "integer" if integer else "decimal"
    if value > high:
        raise errors.bad_request(
            f"Invalid '{name}': {word} above maximum value. Expected a value <= {high:g}, "
            f"but got {value} instead.",
            param=name,
            code=f"{word}_above_max_value",
        )
    if value < low:
        raise errors.bad_request(
            f"Invalid '{name}': {word} below minimum value. Expected a value >= {low:g}, "
            f"but got {value} instead.",
            param=name,
            code=f"{word}_below_min_value",
        )
    return value


def _messages(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        raise errors.missing("messages")
    if not isinstance(raw, list):
        raise errors.bad_request(
            "Invalid type for 'messages': expected an array of objects.",
            param="messages",
            code="invalid_type",
        )
    if not raw:
        raise errors.bad_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but "
            "got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    for i, msg in enumerate(raw):
        if not isinstance(msg, dict):
            raise errors.bad_request(
                f"Invalid type for 'messages[{i}]': expected an object.",
                param=f"messages[{i}]",
                code="invalid_type",
            )
        if "role" not in msg:
            raise errors.bad_request(
                f"Missing required parameter: 'messages[{i}].role'.",
                param=f"messages[{i}].role",
                code="missing_required_parameter",
            )
        if msg["role"] not in CHAT_ROLES:
            raise errors.bad_request(
                f"Invalid value: '{msg['role']}'. Supported values are: 'system', 'assistant', 'user', "
                "'function', 'tool', and 'developer'.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
    return raw


_HYPER = {
    "n_epochs": (1, models.MAX_EPOCHS, True),
    "batch_size": (1, models.MAX_BATCH_SIZE, True),
    "learning_rate_multiplier": (0, None, False),
}


def _hyperparameters(body: dict[str, Any]) -> dict[str, Any]:
    """Requested hyperparameters from `method` (current form) or `hyperparameters` (deprecated)."""
    method = body.get("method")
    raw: Any = body.get("hyperparameters")
    where = "hyperparameters"
    if method is not None:
        if not isinstance(method, dict) or "type" not in method:
            raise errors.bad_request(
                "Missing required parameter: 'method.type'.",
                param="method.type",
                code="missing_required_parameter",
            )
        if method["type"] != "supervised":
            raise errors.bad_request(
                f"The sandbox simulates supervised fine-tuning only (method.type 'supervised', not "
                f"'{method['type']}').",
                param="method.type",
                code="invalid_value",
            )
        supervised = method.get("supervised") or {}
        if not isinstance(supervised, dict):
            raise errors.bad_request(
                "Invalid type for 'method.supervised': expected an object.",
                param="method.supervised",
                code="invalid_type",
            )
        if supervised.get("hyperparameters") is not None:
            raw, where = supervised["hyperparameters"], "method.supervised.hyperparameters"
    raw = raw or {}
    if not isinstance(raw, dict):
        raise errors.bad_request(
            f"Invalid type for '{where}': expected an object.", param=where, code="invalid_type"
        )
    unknown = sorted(set(raw) - set(_HYPER))
    if unknown:
        raise errors.bad_request(
            f"Unrecognized request argument supplied: {where}.{unknown[0]}",
            param=f"{where}.{unknown[0]}",
            code="unknown_parameter",
        )
    out: dict[str, Any] = {}
    for key, (low, high, integer) in _HYPER.items():
        value = raw.get(key, "auto")
        name = f"{where}.{key}"
        if value in (None, "auto"):
            out[key] = "auto"
            continue
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            raise errors.bad_request(
                f"Invalid type for '{name}': expected {'an integer' if integer else 'a number'} or 'auto', but got "
                f"{type(value).__name__} instead.",
                param=name,
                code="invalid_type",
            )
        word = "integer" if integer else "decimal"
        if high is not None and value > high:
            raise errors.bad_request(
                f"Invalid '{name}': {word} above maximum value. Expected a value <= {high}, "
                f"but got {value} instead.",
                param=name,
                code=f"{word}_above_max_value",
            )
        if value < low or (not integer and value <= 0):
            bound = f">= {low}" if integer else "> 0"
            raise errors.bad_request(
                f"Invalid '{name}': {word} below minimum value. Expected a value {bound}, "
                f"but got {value} instead.",
                param=name,
                code=f"{word}_below_min_value",
            )
        out[key] = value
    return out


def _engine_api(name: str, home: Path, clock: Callable[[], float]) -> Api:
    """The training engine behind the routes: simulated (this module) or local (helpers.local)."""
    if name == "local":
        from ..local.engine import LocalApi, check_usable

        check_usable()
        return LocalApi(home, clock)
    if name != "simulated":
        raise ValueError(f"unknown sandbox engine: {name!r}")
    return Api(home, clock)


# ---------------------------------------------------------------------------------------
# ASGI side


Handler = Callable[[Request], Awaitable[Response]]


def _endpoint(fn: Handler) -> Handler:
    """Turn every failure into the real API's envelope; never let a traceback out."""

    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as err:
            return _json_error(err)
        except (
            Exception
        ):  # a sandbox bug: answer like the real API's 500, keep the trace in the log
            log.exception("sandbox error on %s %s", request.method, request.url.path)
            return _json_error(errors.server_error())

    return wrapped


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise errors.invalid_json_body() from None
    if not isinstance(body, dict):
        raise errors.invalid_json_body()
    return body


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


def _stream(completion: dict[str, Any], include_usage: bool):
    base = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "service_tier": "default",
        "system_fingerprint": "fp_sandbox",
    }

    async def chunks():
        for choice in completion["choices"]:
            i = choice["index"]
            first = {"role": "assistant", "content": "", "refusal": None}
            yield _sse(
                {
                    **base,
                    "choices": [
                        {"index": i, "delta": first, "logprobs": None, "finish_reason": None}
                    ],
                }
            )
            for piece in re.findall(r"\s*\S+|\s+", choice["message"]["content"] or ""):
                yield _sse(
                    {
                        **base,
                        "choices": [
                            {
                                "index": i,
                                "delta": {"content": piece},
                                "logprobs": None,
                                "finish_reason": None,
                            }
                        ],
                    }
                )
                await asyncio.sleep(0)
            yield _sse(
                {
                    **base,
                    "choices": [
                        {
                            "index": i,
                            "delta": {},
                            "logprobs": None,
                            "finish_reason": choice["finish_reason"],
                        }
                    ],
                }
            )
        if include_usage:
            yield _sse({**base, "choices": [], "usage": completion["usage"]})
        yield b"data: [DONE]\n\n"

    return StreamingResponse(
        chunks(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


def create_app(
    home: Path, *, clock: Callable[[], float] = time.time, engine: str = "simulated"
) -> Starlette:
    """The ASGI app serving `/v1` for the workspace `home`.

    `engine="local"`: the same routes over `helpers.local.engine.LocalApi` (real training).
    """
    api = _engine_api(engine, home, clock)

    def run(fn, *args):
        return run_in_threadpool(fn, *args)

    async def upload(request: Request) -> Response:
        try:
            form = await request.form(max_files=4, max_fields=16)
        except Exception:
            raise errors.bad_request(
                "Could not parse the multipart form: send 'purpose' and 'file'."
            ) from None
        try:
            purpose = form.get("purpose")
            upload = form.get("file")
            if not purpose:
                raise errors.missing("purpose")
            if not isinstance(purpose, str) or purpose not in FILE_PURPOSES:
                allowed = ", ".join(f"'{p}'" for p in FILE_PURPOSES)
                raise errors.bad_request(
                    f"'{purpose}' is not one of [{allowed}] - 'purpose'",
                    param="purpose",
                    code="invalid_value",
                )
            if not isinstance(upload, UploadFile):
                raise errors.missing("file")
            if upload.size is not None and upload.size > MAX_FILE_BYTES:
                raise errors.bad_request(
                    "File is too large: the maximum size is 512 MB.",
                    param="file",
                    code="file_too_large",
                )
            content = await upload.read()
            filename = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
            return JSONResponse(await run(api.upload, filename, purpose, content))
        finally:
            await form.close()

    async def list_files(request: Request) -> Response:
        q = request.query_params
        order = q.get("order", "desc")
        if order not in ("asc", "desc"):
            raise errors.bad_request(
                f"Invalid 'order': expected 'asc' or 'desc', but got '{order}'.",
                param="order",
                code="invalid_value",
            )
        limit = _int_param(q.get("limit"), "limit", 10_000, 1, 10_000)
        return JSONResponse(
            await run(api.list_files, q.get("purpose"), q.get("after"), limit, order)
        )

    async def get_file(request: Request) -> Response:
        row = await run(api.get_file, request.path_params["file_id"])
        return JSONResponse(_file_json(row))

    async def delete_file(request: Request) -> Response:
        return JSONResponse(await run(api.delete_file, request.path_params["file_id"]))

    async def file_content(request: Request) -> Response:
        content = await run(api.file_content, request.path_params["file_id"])
        return Response(content, media_type="application/octet-stream")

    async def create_job(request: Request) -> Response:
        body = await _body(request)
        return JSONResponse(await run(api.create_job, body))

    async def list_jobs(request: Request) -> Response:
        q = request.query_params
        return JSONResponse(
            await run(
                api.list_jobs, q.get("after"), _int_param(q.get("limit"), "limit", 20, 1, 100)
            )
        )

    async def get_job(request: Request) -> Response:
        return JSONResponse(await run(api.retrieve_job, request.path_params["job_id"]))

    async def cancel_job(request: Request) -> Response:
        return JSONResponse(await run(api.cancel_job, request.path_params["job_id"]))

    async def events(request: Request) -> Response:
        q = request.query_params
        limit = _int_param(q.get("limit"), "limit", 20, 1, 1000)
        return JSONResponse(
            await run(api.events, request.path_params["job_id"], q.get("after"), limit)
        )

    async def checkpoints(request: Request) -> Response:
        q = request.query_params
        limit = _int_param(q.get("limit"), "limit", 10, 1, 100)
        return JSONResponse(
            await run(api.checkpoints, request.path_params["job_id"], q.get("after"), limit)
        )

    async def list_models(request: Request) -> Response:
        return JSONResponse(await run(api.list_models))

    async def get_model(request: Request) -> Response:
        return JSONResponse(await run(api.retrieve_model, request.path_params["model"]))

    async def chat(request: Request) -> Response:
        body = await _body(request)
        completion = await run(api.chat, body)
        if body.get("stream"):
            options = body.get("stream_options") or {}
            return _stream(
                completion, bool(isinstance(options, dict) and options.get("include_usage"))
            )
        return JSONResponse(completion)

    async def root(request: Request) -> Response:
        return JSONResponse(
            {
                "message": "🧪 Bac à sable Atelier fine-tuning : une API compatible OpenAI, locale et gratuite. "
                "Utilise l'adresse qui finit par /v1 avec le SDK openai.",
                "base_url": str(request.base_url).rstrip("/") + "/v1",
            }
        )

    async def invalid_url(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        return _json_error(
            ApiError(
                404 if status == 404 else status,
                f"Invalid URL ({request.method} {request.url.path})",
            )
        )

    routes = [
        Route("/", _endpoint(root), methods=["GET"]),
        Route("/v1/files", _endpoint(upload), methods=["POST"]),
        Route("/v1/files", _endpoint(list_files), methods=["GET"]),
        Route("/v1/files/{file_id}", _endpoint(get_file), methods=["GET"]),
        Route("/v1/files/{file_id}", _endpoint(delete_file), methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", _endpoint(file_content), methods=["GET"]),
        Route("/v1/fine_tuning/jobs", _endpoint(create_job), methods=["POST"]),
        Route("/v1/fine_tuning/jobs", _endpoint(list_jobs), methods=["GET"]),
        Route("/v1/fine_tuning/jobs/{job_id}", _endpoint(get_job), methods=["GET"]),
        Route("/v1/fine_tuning/jobs/{job_id}/cancel", _endpoint(cancel_job), methods=["POST"]),
        Route("/v1/fine_tuning/jobs/{job_id}/events", _endpoint(events), methods=["GET"]),
        Route("/v1/fine_tuning/jobs/{job_id}/checkpoints", _endpoint(checkpoints), methods=["GET"]),
        Route("/v1/chat/completions", _endpoint(chat), methods=["POST"]),
        Route("/v1/models", _endpoint(list_models), methods=["GET"]),
        Route("/v1/models/{model:path}", _endpoint(get_model), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: invalid_url})
    app.state.api = api
    return Gate(app)  # type: ignore[return-value]


class Gate:
    """ASGI middleware: request id, API key presence, and faults on demand (see faults.py).

    The key is read from the `Authorization` header, used to pick a fault, and dropped:
    never stored, never logged.
    """

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{secrets.token_hex(16)}".encode()

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id),
                    (b"openai-organization", engine.ORGANIZATION_ID.encode()),
                ]
            await send(message)

        path: str = scope.get("path", "")
        if path.startswith("/v1/") or path == "/v1":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in scope.get("headers", [])
            }
            auth = headers.get("authorization", "")
            key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
            if not key:
                err = ApiError(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                )
                await _json_error(err)(scope, receive, send_with_id)
                return
            fault = faults.select(key, headers.get(faults.HEADER))
            if fault is not None:
                err = faults.error_for(
                    fault, api_key=key, method=scope.get("method", "GET"), path=path
                )
                del key
                if err is not None:
                    await _json_error(err)(scope, receive, send_with_id)
                    return
                if fault.name == "slow":
                    await asyncio.sleep(fault.value)
        await self.app(scope, receive, send_with_id)
