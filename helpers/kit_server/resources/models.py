"""`/v1/models`: list, retrieve and delete models.

Routes: each calls the engine, which lists exactly the models it can retrieve and use — the
frozen OpenAI base models (`base_models`, shaped here), its own fine-tunes, and whatever else
it serves. Check: only a fine-tune of one's own can be deleted. Shape: the `model` object.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import api_messages
from .. import base_models, errors
from ..contract import Clock, Engine
from ..endpoints import JSONResponse, route, run
from ..file_store import FileService


def routes(engine: Engine, files: FileService, clock: Clock) -> list[Route]:
    async def list_models(request: Request) -> Response:
        return JSONResponse(await run(engine.list_models))

    async def get_model(request: Request) -> Response:
        return JSONResponse(await run(engine.retrieve_model, request.path_params["model"]))

    async def delete_model(request: Request) -> Response:
        return JSONResponse(await run(engine.delete_model, request.path_params["model"]))

    return [
        route("/v1/models", "GET", list_models),
        route("/v1/models/{model:path}", "GET", get_model),
        route("/v1/models/{model:path}", "DELETE", delete_model),
    ]


def cannot_delete(model: str) -> errors.ApiError:
    # Unconfirmed wording: deleting a model one does not own is refused with a 403.
    return errors.from_table(api_messages.MODEL_NOT_OWNED, model=model)


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


def base_model_object(model: base_models.BaseModel) -> dict[str, Any]:
    """A base model as the real API lists it (owned by `system`)."""
    return model_object(model.id, model.created, "system", model.shutdown_date)


def listed_base_models() -> list[dict[str, Any]]:
    """The base models `GET /v1/models` lists in every engine: the chat models, then the others."""
    return [base_model_object(m) for m in base_models.listed()]


def base_model(name: str) -> dict[str, Any]:
    """`GET /v1/models/{name}` for a base model (an alias keeps the name it was asked by), or
    the real API's 404."""
    return base_model_object(base_models.retrieve(name))
