"""The OpenAI base models every engine answers to, and the real API's errors about them.

The sandbox is a world frozen in time: it lives on `models.SANDBOX_TODAY`, whatever the clock
says, and follows `helpers.models` (the one source of model facts) on that day: it lists the
models not shut down yet, answers with them, and trains the ones still open; the guide's
`gpt-3.5-turbo-0125` is shut down, so notebook 10 can show that error. What a base model is
(`BaseModel`) lives here; its `model` object is the models resource's (`resources/models.py`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from .. import models
from . import errors


def _created(name: str) -> int:
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


#: Context windows (tokens) of the base models, as OpenAI publishes them.
CONTEXT_WINDOWS = {
    "gpt-4o-mini": 128_000,
    "gpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-3.5-turbo": 16_385,
}
DEFAULT_CONTEXT_WINDOW = 128_000


def context_window(snapshot: str) -> int:
    """The context window of a base model (its snapshot or family name)."""
    for family in sorted(CONTEXT_WINDOWS, key=len, reverse=True):
        if snapshot.startswith(family):
            return CONTEXT_WINDOWS[family]
    return DEFAULT_CONTEXT_WINDOW


#: OpenAI's other base models the kit server serves, on their own routes only (embeddings,
#: moderations; never chat): name → `created` as the real model list gives it (omni-moderation:
#: a public transcript; the embedding models' dates: unconfirmed).
OTHER_MODELS: dict[str, int] = {
    "text-embedding-3-small": 1705948997,
    "text-embedding-3-large": 1705953180,
    "text-embedding-ada-002": 1671217299,
    "omni-moderation-latest": 1731689265,
    "omni-moderation-2024-09-26": 1732734466,
}


def shutdown_date(snapshot: str) -> str | None:
    info = models.get(snapshot)
    return info.shutdown_date.isoformat() if info and info.shutdown_date else None


@dataclass(frozen=True)
class BaseModel:
    """A base model as `GET /v1/models` shows it (an alias keeps the name it was asked by)."""

    id: str
    created: int
    shutdown_date: str | None = None


def _model(snapshot: str, shown: str) -> BaseModel:
    return BaseModel(shown, _created(snapshot), shutdown_date(snapshot))


def listed() -> list[BaseModel]:
    """The base models `GET /v1/models` lists: the chat models, then the others."""
    chat = [_model(m.name, m.name) for m in models.listed(models.SANDBOX_TODAY)]
    return chat + [BaseModel(n, c) for n, c in OTHER_MODELS.items()]


def snapshot(name: str) -> str:
    """The snapshot a chat model's name stands for, or the real API's 404 (shut down, unknown,
    not a chat model)."""
    if name in OTHER_MODELS:
        # The real API's answer for a model of another route on chat (its wording for the
        # legacy completion models; unconfirmed for the embedding and moderation models).
        raise errors.ApiError(
            404,
            "This is not a chat model and thus not supported in the v1/chat/completions "
            "endpoint. Did you mean to use v1/completions?",
            param="model",
        )
    snap = models.base_model_of(name)
    state = models.availability(snap, models.SANDBOX_TODAY)
    if state == "shut_down":
        raise errors.model_shut_down(name)
    if state == "unknown":
        raise errors.model_not_found(name)
    return snap


def trainable(name: str) -> bool:
    """True when a new job may start on this base model in the sandbox's world."""
    return models.availability(name, models.SANDBOX_TODAY) == "open"


def retrieve(name: str) -> BaseModel:
    """The base model `name` stands for (an alias keeps its name), or the real API's 404."""
    if name in OTHER_MODELS:
        return BaseModel(name, OTHER_MODELS[name])
    return _model(snapshot(name), name)
