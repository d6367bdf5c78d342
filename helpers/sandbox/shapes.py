"""The JSON objects of the real API that more than one engine returns.

One place for the fields every `fine_tuning.job` and `chat.completion` carries, so the
simulated engine and the local engine (helpers.local) cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from .store import random_id

NULL_ERROR = {"code": None, "message": None, "param": None}


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
    """A `fine_tuning.job`; `spec` is what the learner asked for (files, seed, suffix, metadata)."""
    return {
        "id": id,
        "object": "fine_tuning.job",
        "created_at": int(created_at),
        # The real API null-fills `error` on jobs that did not fail.
        "error": error or dict(NULL_ERROR),
        "fine_tuned_model": fine_tuned_model,
        "finished_at": int(finished_at) if finished_at is not None else None,
        "hyperparameters": hyperparameters,
        "model": model,
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
        "method": {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}},
        "user_provided_suffix": spec.get("suffix"),
        "usage_metrics": None,
        "shared_with_openai": False,
    }


def chat_choice(index: int, text: str, finish_reason: str) -> dict[str, Any]:
    return {
        "index": index,
        "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
        "logprobs": None,
        "finish_reason": finish_reason,
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
