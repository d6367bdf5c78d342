"""`POST /v1/moderations`, imitated honestly: its checks and its response shape.

The shape is the real one (`CreateModerationResponse`, the omni-moderation models): one result
per text (one for a whole multimodal array), with the 13 real categories, their scores and the
input types each category was applied to. The sandbox judges nothing: it has no classifier,
so nothing is ever flagged and every score is a tiny constant — code that reads the results
runs unchanged, and a learner who needs real moderation sees at once that this is not it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import errors, params
from ..contract import Clock, Engine
from ..endpoints import JSONResponse, json_of, route, run
from ..file_store import FileService
from ..ids import random_id

#: The omni-moderation models (the real API's default: omni-moderation-latest).
MODELS = ("omni-moderation-latest", "omni-moderation-2024-09-26")
DEFAULT_MODEL = "omni-moderation-latest"
CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
#: The categories the omni models also apply to images (OpenAI's moderation guide).
IMAGE_CATEGORIES = frozenset(
    [
        "self-harm",
        "self-harm/intent",
        "self-harm/instructions",
        "sexual",
        "violence",
        "violence/graphic",
    ]
)
#: The score of every category: the sandbox has no classifier (nothing is ever flagged).
SCORE = 1e-6
PARAMETERS = frozenset(["model", "input"])


def routes(engine: Engine, files: FileService, clock: Clock) -> list[Route]:
    async def create_moderation(request: Request) -> Response:
        return JSONResponse(await run(create, await json_of(request)))

    return [route("/v1/moderations", "POST", create_moderation)]


def create(body: dict[str, Any]) -> dict[str, Any]:
    """Check a moderation request as the real API does, and answer it (nothing flagged)."""
    for name in body:
        if name not in PARAMETERS:
            raise params.unknown_argument(name)
    model = body.get("model") or DEFAULT_MODEL
    if model not in MODELS:
        # Unconfirmed: the real API's answer for another model on this route.
        raise errors.model_not_found(model)
    return {
        "id": random_id("modr-", 24),
        "model": model,
        "results": [_result(kinds) for kinds in _inputs(body.get("input"))],
    }


def _inputs(raw: Any) -> list[set[str]]:
    """The input types of each result: a string or an array of strings gives one result per
    text; an array of parts (`text`, `image_url`) is one input, one result."""
    if raw is None:
        raise errors.missing("input")
    if isinstance(raw, str):
        return [{"text"}]
    if not isinstance(raw, list) or not raw:
        raise errors.invalid_type("input", "one of a string or array", raw)
    if all(isinstance(x, str) for x in raw):
        return [{"text"} for _ in raw]
    kinds: set[str] = set()
    for i, part in enumerate(raw):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            kinds.add("text")
        elif kind == "image_url" and isinstance(part.get("image_url"), dict):
            kinds.add("image")
        else:
            raise errors.bad_request(
                f"Invalid value for 'input[{i}]': expected a string, or an object of type "
                "'text' or 'image_url'.",
                param=f"input[{i}]",
                code="invalid_value",
            )
    return [kinds]


def _result(kinds: set[str]) -> dict[str, Any]:
    applied = {
        c: [k for k in ("text", "image") if k in kinds and (k == "text" or c in IMAGE_CATEGORIES)]
        for c in CATEGORIES
    }
    return {
        "flagged": False,
        "categories": dict.fromkeys(CATEGORIES, False),
        "category_scores": dict.fromkeys(CATEGORIES, SCORE),
        "category_applied_input_types": applied,
    }
