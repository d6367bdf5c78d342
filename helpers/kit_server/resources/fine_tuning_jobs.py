"""`/v1/fine_tuning/jobs`: create, list, retrieve, cancel, pause, resume, events, checkpoints.

Routes: each calls the engine (`contract.Engine`), which runs the jobs; this module never
imports an engine. Checks, the same for every engine: a job-creation request as the real API
checks it, in its order and words (`job_request`: parameters, model, files, suffix, seed,
metadata, and the job's `method`, below), the list's `metadata` filter, the states a job must
be in to be paused, resumed or cancelled. Shapes: a job, an event, a checkpoint.

The method:

    method: {"type": "supervised", "supervised": {"hyperparameters": {…}}}
    method: {"type": "dpo", "dpo": {"hyperparameters": {"beta", "n_epochs", "batch_size",
                                                         "learning_rate_multiplier"}}}

(or the deprecated top-level `hyperparameters`, supervised only). Bounds are the published
OpenAPI description's (FineTuneSupervisedHyperparameters, FineTuneDPOHyperparameters): n_epochs
1–50, batch_size 1–256, learning_rate_multiplier > 0, beta in ]0, 2]; each may be "auto".
`reinforcement` is not imitated. The job stores the method's type (`spec["method"]`) and its
requested hyperparameters; `resolve_beta` turns `auto` into a number when the job starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import api_messages, models
from .. import errors, params
from ..contract import Clock, Engine
from ..endpoints import JSONResponse, json_of, route, run, synced
from ..file_store import FileService
from ..ids import derived_id, derived_seed


def routes(engine: Engine, files: FileService, clock: Clock) -> list[Route]:
    async def create_job(request: Request) -> Response:
        body = await json_of(request)
        speed = speed_header(request.headers.get(SPEED_HEADER))
        return JSONResponse(await run(lambda: engine.create_job(body, speed=speed)))

    async def list_jobs(request: Request) -> Response:
        q = request.query_params
        limit = params.int_param(q.get("limit"), "limit", 20, 1, 100)
        metadata = metadata_filter(q.multi_items())
        listing = synced(engine.sync_files, engine.list_jobs)
        return JSONResponse(await run(listing, q.get("after"), limit, metadata))

    async def get_job(request: Request) -> Response:
        job_id = request.path_params["job_id"]
        return JSONResponse(await run(synced(engine.sync_files, engine.retrieve_job), job_id))

    async def cancel_job(request: Request) -> Response:
        return JSONResponse(await run(engine.cancel_job, request.path_params["job_id"]))

    async def pause_job(request: Request) -> Response:
        return JSONResponse(await run(engine.pause_job, request.path_params["job_id"]))

    async def resume_job(request: Request) -> Response:
        return JSONResponse(await run(engine.resume_job, request.path_params["job_id"]))

    async def events(request: Request) -> Response:
        q = request.query_params
        limit = params.int_param(q.get("limit"), "limit", 20, 1, 1000)
        job_id = request.path_params["job_id"]
        return JSONResponse(await run(engine.events, job_id, q.get("after"), limit))

    async def checkpoints(request: Request) -> Response:
        q = request.query_params
        limit = params.int_param(q.get("limit"), "limit", 10, 1, 100)
        job_id = request.path_params["job_id"]
        return JSONResponse(await run(engine.checkpoints, job_id, q.get("after"), limit))

    jobs = "/v1/fine_tuning/jobs"
    return [
        route(jobs, "POST", create_job),
        route(jobs, "GET", list_jobs),
        route(jobs + "/{job_id}", "GET", get_job),
        route(jobs + "/{job_id}/cancel", "POST", cancel_job),
        route(jobs + "/{job_id}/pause", "POST", pause_job),
        route(jobs + "/{job_id}/resume", "POST", resume_job),
        route(jobs + "/{job_id}/events", "GET", events),
        route(jobs + "/{job_id}/checkpoints", "GET", checkpoints),
    ]


# -- checks ---------------------------------------------------------------------------------------

#: The kit's own header: the sandbox speed of the kernel that creates a job (a class setting,
#: or a fast replay), since one kit server serves every kernel of a workspace.
SPEED_HEADER = "x-atelier-sandbox-speed"


def speed_header(raw: str | None) -> float | None:
    """The speed a client asks for (None: absent or unusable, the server's setting applies)."""
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and 0 < value < float("inf") else None


#: Every parameter of `POST /v1/fine_tuning/jobs` (CreateFineTuningJobRequest).
JOB_PARAMETERS = frozenset(
    [
        "hyperparameters",
        "integrations",
        "metadata",
        "method",
        "model",
        "seed",
        "suffix",
        "training_file",
        "validation_file",
    ]
)


@dataclass(frozen=True)
class JobRequest:
    """A checked job-creation request (see `job_request`)."""

    model: str  # as the learner wrote it
    resolved: Any  # what the engine made of it
    suffix: str | None
    hyperparameters: dict[str, Any]
    seed: int | None
    metadata: dict[str, str] | None
    training_file: str
    validation_file: str | None
    method: str = "supervised"  # `method.type`: "supervised" or "dpo"

    def spec(self, job_id: str) -> dict[str, Any]:
        """What the job stores of the request; an unset seed is derived from the job id."""
        return {
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "suffix": self.suffix,
            "seed": self.seed if self.seed is not None else derived_seed(job_id),
            "metadata": self.metadata,
            "hyperparameters": self.hyperparameters,
            "method": self.method,
            # a job continued from a fine-tune shows it as its model (Unconfirmed: the real
            # API's `model` for such a job; its documentation says a fine-tune may be continued)
            **({"parent_model": self.model} if self.model.startswith("ft:") else {}),
        }


def job_request(
    body: dict[str, Any], resolve_model: Callable[[str], Any], files: FileService
) -> JobRequest:
    """Check a job-creation body as the real API does, in its order; `resolve_model` turns the
    requested model into the engine's own (or raises the API's error). A fine-tuned model
    (`ft:…`) may be continued, as with the real API (OpenAI recommends a DPO job on top of a
    supervised fine-tune): `resolve_model` accepts the engine's own fine-tunes only."""
    for name in body:
        if name not in JOB_PARAMETERS:
            # Unconfirmed for this route: the chat route's wording (confirmed) is assumed.
            raise params.unknown_argument(name)
    model = body.get("model")
    if not model:
        raise errors.missing("model")
    if not isinstance(model, str):
        raise errors.from_table(api_messages.INVALID_TYPE_SHORT, name="model", expected="a string")
    if "training_file" not in body or body["training_file"] in (None, ""):
        raise errors.missing("training_file")
    known = models.availability(models.base_model_of(model), models.SANDBOX_TODAY)
    if (
        known in ("shut_down", "inference_only")
        or models.dated_name(model) is not None  # an alias: a job needs the dated snapshot
    ):
        raise model_not_available(model)
    method = requested_method(body)
    if models.get(model) is not None and not models.supports(model, method.type):
        raise model_not_available(model)  # Unconfirmed: the real API's answer, same wording
    resolved = resolve_model(model)
    suffix = job_suffix(body.get("suffix"))
    seed = body.get("seed")
    if seed is not None and (
        not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2**31 - 1
    ):
        raise errors.bad_request(
            "Invalid 'seed': expected an integer between 0 and 2147483647.",
            param="seed",
            code="invalid_value",
        )
    pairs = params.metadata(body.get("metadata"))
    files.check_training_file(body["training_file"], "training_file")
    validation_file = body.get("validation_file") or None
    if validation_file:
        files.check_training_file(validation_file, "validation_file")
    return JobRequest(
        model,
        resolved,
        suffix or None,
        method.hyperparameters,
        seed,
        pairs,
        body["training_file"],
        validation_file,
        method.type,
    )


def model_not_available(model: str) -> errors.ApiError:
    # Confirmed (a transcript of a real call with the alias gpt-4o-mini, Aug 2025, in a public
    # issue): this wording, code model_not_available, param null.
    return errors.from_table(api_messages.MODEL_NOT_AVAILABLE, model=model)


SUFFIX = re.compile(r"^[A-Za-z0-9_-]+$")


def job_suffix(suffix: Any) -> str | None:
    """A job's `suffix`: 1 to 64 characters (OpenAI's description), letters, digits, `-` and `_`.

    Unconfirmed: the real API's rule on characters (no public transcript). What the sandbox
    chose: the pattern the real API applies to its other names (functions, schemas), so that
    a space, « ! » or « : » (the separator of `ft:` names) never ends up in a model id.
    """
    if suffix is None:
        return None
    if not isinstance(suffix, str):
        raise errors.invalid_type("suffix", "a string", suffix)
    if not suffix:
        raise errors.from_table(api_messages.SUFFIX_EMPTY)
    if len(suffix) > 64:
        raise errors.from_table(api_messages.SUFFIX_TOO_LONG, length=len(suffix))
    if not SUFFIX.match(suffix):
        raise errors.from_table(api_messages.SUFFIX_PATTERN)
    return suffix


def metadata_filter(pairs: list[tuple[str, str]]) -> dict[str, str] | None:
    """`metadata[k]=v` query parameters (deepObject style) → a filter; `metadata=null` → {}."""
    out: dict[str, str] = {}
    found = False
    for key, value in pairs:
        if key == "metadata":
            if value != "null":
                raise errors.bad_request(
                    "Invalid 'metadata': use metadata[key]=value, or metadata=null.",
                    param="metadata",
                    code="invalid_value",
                )
            found = True
        elif key.startswith("metadata[") and key.endswith("]"):
            out[key[len("metadata[") : -1]] = value
            found = True
    return out if found else None


def metadata_matches(spec: dict[str, Any], wanted: dict[str, str] | None) -> bool:
    """Whether a job (its stored request) passes a metadata filter."""
    if wanted is None:
        return True
    own = spec.get("metadata") or {}
    if not wanted:
        return not own
    return bool(own) and all(own.get(k) == v for k, v in wanted.items())


def invalid_job_state(job_id: str, status: str, verb: str) -> errors.ApiError:
    """A pause/resume/cancel the job's status forbids (the cancel wording is the real API's;
    the pause and resume ones follow it, unconfirmed)."""
    return errors.from_table(api_messages.JOB_STATE, job_id=job_id, status=status, verb=verb)


# -- the method (supervised, DPO) ---------------------------------------------------------------

TYPES = ("supervised", "dpo", "reinforcement")
IMITATED = ("supervised", "dpo")

#: name → (lowest, highest, integer). A decimal's lowest bound is exclusive.
BOUNDS: dict[str, dict[str, tuple[float, float | None, bool]]] = {
    "supervised": {
        "n_epochs": (1, models.MAX_EPOCHS, True),
        "batch_size": (1, models.MAX_BATCH_SIZE, True),
        "learning_rate_multiplier": (0, None, False),
    },
}
BOUNDS["dpo"] = {"beta": (0, models.DPO_BETA_MAX, False), **BOUNDS["supervised"]}


@dataclass(frozen=True)
class Method:
    """A checked `method`: its type and the hyperparameters asked for ("auto" or a number)."""

    type: str
    hyperparameters: dict[str, Any]


def requested_method(body: dict[str, Any]) -> Method:
    """The method a job-creation body asks for, checked in the real API's words."""
    method = body.get("method")
    raw: Any = body.get("hyperparameters")
    where = "hyperparameters"
    kind = "supervised"
    if method is not None:
        if not isinstance(method, dict) or "type" not in method:
            raise errors.missing("method.type")
        kind = method["type"]
        if kind not in TYPES:
            # Unconfirmed wording: the real API's message for a value outside an enum.
            raise errors.from_table(api_messages.METHOD_TYPE_INVALID, kind=kind)
        if kind not in IMITATED:
            raise errors.from_table(api_messages.METHOD_NOT_SIMULATED, kind=kind)
        for other in TYPES:
            if other != kind and method.get(other) is not None:
                # Unconfirmed: what the real API does with another method's settings.
                raise errors.from_table(api_messages.METHOD_MISPLACED, other=other, kind=kind)
        unknown = sorted(set(method) - {"type", *TYPES})
        if unknown:
            raise errors.from_table(api_messages.UNKNOWN_PARAMETER, name=f"method.{unknown[0]}")
        own = method.get(kind)
        if own is None:
            own = {}
        if not isinstance(own, dict):
            raise errors.invalid_type(f"method.{kind}", "an object", own)
        unknown = sorted(set(own) - {"hyperparameters"})
        if unknown:
            raise errors.from_table(
                api_messages.UNKNOWN_PARAMETER, name=f"method.{kind}.{unknown[0]}"
            )
        if own.get("hyperparameters") is not None:
            raw, where = own["hyperparameters"], f"method.{kind}.hyperparameters"
        elif kind != "supervised":
            raw = None  # the deprecated field is the supervised method's
    return Method(kind, _hyperparameters(raw, where, BOUNDS[kind]))


def _hyperparameters(
    raw: Any, where: str, bounds: dict[str, tuple[float, float | None, bool]]
) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):  # `[]` too: an array is not an object
        raise errors.invalid_type(where, "an object", raw)
    unknown = sorted(set(raw) - set(bounds))
    if unknown:
        raise errors.from_table(api_messages.UNKNOWN_PARAMETER, name=f"{where}.{unknown[0]}")
    out: dict[str, Any] = {}
    for key, (low, high, integer) in bounds.items():
        value = raw.get(key, "auto")
        name = f"{where}.{key}"
        if value in (None, "auto"):
            out[key] = "auto"
            continue
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            # Unconfirmed wording: the real API's type message with its "auto" alternative.
            raise errors.invalid_type(
                name, f"{'an integer' if integer else 'a decimal'} or 'auto'", value
            )
        word = "integer" if integer else "decimal"
        if high is not None and value > high:
            raise errors.from_table(
                api_messages.VALUE_ABOVE_MAXIMUM,
                name=name,
                word=word,
                high=f"{high:g}",
                value=value,
            )
        if value < low or (not integer and value <= 0):
            bound = f">= {low}" if integer else "> 0"
            raise errors.from_table(
                api_messages.VALUE_BELOW_MINIMUM, name=name, word=word, bound=bound, value=value
            )
        out[key] = value
    return out


def resolve_beta(requested_beta: Any) -> float:
    """`beta`: the number asked for, or what "auto" becomes (`models.DPO_AUTO_BETA`,
    Unconfirmed)."""
    return models.DPO_AUTO_BETA if requested_beta in (None, "auto") else float(requested_beta)


# -- shapes --------------------------------------------------------------------------------------

NULL_ERROR = {"code": None, "message": None, "param": None}

#: The hyperparameters a job shows at its top level: the deprecated field, which the
#: description and the SDK's type give the supervised three only (Unconfirmed for DPO jobs:
#: their `beta` is shown in `method.dpo.hyperparameters`).
TOP_LEVEL_HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")


def method_object(kind: str, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """A job's `method`: `{"type": kind, kind: {"hyperparameters": …}}`."""
    return {"type": kind, kind: {"hyperparameters": dict(hyperparameters)}}


def top_level(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hyperparameters.items() if k in TOP_LEVEL_HYPERPARAMETERS}


def job_object(
    *,
    id: str,
    created_at: float,
    status: str,
    model: str,
    organization_id: str,
    spec: dict[str, Any],
    hyperparameters: dict[str, Any],
    error: dict[str, Any] | None = None,
    fine_tuned_model: str | None = None,
    finished_at: float | None = None,
    result_files: list[str] | None = None,
    trained_tokens: int | None = None,
    estimated_finish: float | None = None,
) -> dict[str, Any]:
    """A `fine_tuning.job`; `spec` is what the learner asked for (files, seed, suffix, metadata,
    method); `hyperparameters` the method's (requested, or resolved once the job runs)."""
    return {
        "id": id,
        "object": "fine_tuning.job",
        "created_at": int(created_at),
        # The real API null-fills `error` on jobs that did not fail.
        "error": error or dict(NULL_ERROR),
        "fine_tuned_model": fine_tuned_model,
        "finished_at": int(finished_at) if finished_at is not None else None,
        "hyperparameters": top_level(hyperparameters),
        "model": spec.get("parent_model") or model,
        "organization_id": organization_id,
        "result_files": result_files or [],
        "seed": spec.get("seed", 0),
        "status": status,
        "trained_tokens": trained_tokens,
        "training_file": spec.get("training_file", ""),
        "validation_file": spec.get("validation_file"),
        "estimated_finish": int(estimated_finish) if estimated_finish is not None else None,
        "integrations": [],
        "metadata": spec.get("metadata"),
        "method": method_object(spec.get("method", "supervised"), hyperparameters),
        "user_provided_suffix": spec.get("suffix"),
        "usage_metrics": None,
        "shared_with_openai": False,
    }


def event_object(
    job_id: str, index: object, created_at: float, level: str, message: str, kind: str, data: dict
) -> dict[str, Any]:
    """A `fine_tuning.job.event`; its id derives from the job id and its index."""
    return {
        "id": derived_id("ftevent-", job_id, index),
        "object": "fine_tuning.job.event",
        "created_at": int(created_at),
        "level": level,
        "message": message,
        "data": data,
        "type": kind,
    }


def checkpoint_object(
    job_id: str, step: int, created_at: float, model: str, metrics: dict[str, Any]
) -> dict[str, Any]:
    """A `fine_tuning.job.checkpoint` named `{model}:ckpt-step-{step}`."""
    return {
        "id": derived_id("ftckpt_", job_id, "checkpoint", step),
        "object": "fine_tuning.job.checkpoint",
        "created_at": int(created_at),
        "fine_tuned_model_checkpoint": f"{model}:ckpt-step-{step}",
        "fine_tuning_job_id": job_id,
        "metrics": metrics,
        "step_number": step,
    }
