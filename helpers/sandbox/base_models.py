"""The OpenAI base models every engine answers to, and the real API's errors about them.

The sandbox is a world frozen in time: it lives on `models.SANDBOX_TODAY`, whatever the clock
says, and follows `helpers.models` (the one source of model facts) on that day: it lists the
models not shut down yet, answers with them, and trains the ones still open; the guide's
`gpt-3.5-turbo-0125` is shut down, so notebook 10 can show that error.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .. import models
from . import errors, shapes


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


def shutdown_date(snapshot: str) -> str | None:
    info = models.get(snapshot)
    return info.shutdown_date.isoformat() if info and info.shutdown_date else None


def _object(snapshot: str, shown: str) -> dict[str, Any]:
    return shapes.model_object(shown, _created(snapshot), "system", shutdown_date(snapshot))


def listed() -> list[dict[str, Any]]:
    """The base models `GET /v1/models` lists."""
    return [_object(m.name, m.name) for m in models.listed(models.SANDBOX_TODAY)]


def snapshot(name: str) -> str:
    """The snapshot a base-model name stands for, or the real API's 404 (shut down, unknown)."""
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


def retrieve(name: str) -> dict[str, Any]:
    """`GET /v1/models/{name}` for a base model (an alias keeps the name it was asked by)."""
    return _object(snapshot(name), name)
