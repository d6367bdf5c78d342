"""Every response shape of the kit server, as the real API returns it.

One place for the fields of a file, job, event, checkpoint, model, list page and chat
completion, so the simulated engine and the local engine (helpers.local) cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from .ids import derived_id, random_id

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


def chat_completion(
    *,
    model: str,
    choices: list[dict[str, Any]],
    prompt_tokens: int,
    completion_tokens: int,
    created: float,
    fingerprint: str,
) -> dict[str, Any]:
    """A non-streamed `chat.completion` with the real API's usage details."""
    return {
        "id": random_id("chatcmpl-", 29),
        "object": "chat.completion",
        "created": int(created),
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": fingerprint,
    }


def page(items: list[dict[str, Any]], after: str | None, limit: int) -> dict[str, Any]:
    """A cursor page over items already in list order: those after the `after` id."""
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit}


def with_first_last(page: dict[str, Any]) -> dict[str, Any]:
    """A page that also names its first and last ids (files, checkpoints)."""
    page["first_id"] = page["data"][0]["id"] if page["data"] else None
    page["last_id"] = page["data"][-1]["id"] if page["data"] else None
    return page


def file_object(row: Any) -> dict[str, Any]:
    """A `file` from a stored file row."""
    return {
        "id": row.id,
        "object": "file",
        "bytes": row.bytes,
        "created_at": row.created_at,
        "filename": row.filename,
        "purpose": row.purpose,
        "status": "processed",
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


def model_object(
    name: str, created: float, owned_by: str, shutdown_date: str | None = None
) -> dict[str, Any]:
    return {
        "id": name,
        "object": "model",
        "created": int(created),
        "owned_by": owned_by,
        "shutdown_date": shutdown_date,
    }
