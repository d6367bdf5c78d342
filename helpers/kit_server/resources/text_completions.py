"""`POST /v1/completions` (the legacy text completions): answered as the real API answers the
models the kit server has, which are all chat models.

The real API refuses a chat model on this route with its well-known 404 (« This is a chat model
and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions? »):
the sandbox does the same for its base models and every fine-tune. The legacy completion
models (gpt-3.5-turbo-instruct, davinci-002, babbage-002) are not imitated: the sandbox says
so, and what to use instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import api_messages
from .. import base_models, errors
from ..contract import Clock, Engine
from ..endpoints import JSONResponse, json_of, route, run
from ..file_store import FileService

#: OpenAI's models of this route, which the sandbox does not imitate.
COMPLETION_MODELS = ("gpt-3.5-turbo-instruct", "davinci-002", "babbage-002")
NOT_IMITATED_CODE = api_messages.LEGACY_COMPLETION_MODEL.code


def routes(engine: Engine, files: FileService, clock: Clock) -> list[Route]:
    async def create_text_completion(request: Request) -> Response:
        body = await json_of(request)
        return JSONResponse(await run(create, body, engine.retrieve_model))

    return [route("/v1/completions", "POST", create_text_completion)]


def create(body: dict[str, Any], retrieve_model: Callable[[str], Any]) -> dict[str, Any]:
    """Refuse as the real API does; `retrieve_model` is the engine's (unknown: its 404)."""
    model = body.get("model")
    if not model:
        raise errors.missing("model")
    if not isinstance(model, str):
        raise errors.from_table(api_messages.INVALID_TYPE_SHORT, name="model", expected="a string")
    if model in COMPLETION_MODELS or model.startswith(("ft:davinci-002", "ft:babbage-002")):
        raise errors.from_table(api_messages.LEGACY_COMPLETION_MODEL, model=model)
    retrieve_model(model)  # a model the sandbox does not know: the real 404
    if model in base_models.OTHER_MODELS:  # embeddings, moderation: not a text model either
        # Unconfirmed wording: the real API's answer for these models on this route.
        raise errors.ApiError(
            404, f"The model `{model}` does not support v1/completions.", param="model"
        )
    # Confirmed wording (many public transcripts of the real API): 404, param model, code null.
    raise errors.from_table(api_messages.CHAT_MODEL_ON_COMPLETIONS)
