"""The kit server's app: every resource's routes, behind the Gate, for one engine.

`create_app(engine, files)` builds a plain Starlette (ASGI) app from the routes of each REST
resource (`resources/`, one module each: its routes, its request checks, its response
shapes), given the engine (`contract.Engine`: jobs, models, chat) and the workspace's file
service (shared by every engine). A URL the app does not serve answers the real API's
« Invalid URL », or, for a route of the real API the kit server does not imitate, what to do
instead (`resources/not_imitated.py`). The Gate (`gate.py`: request id, key presence, faults,
organization, rate-limit headers, body caps) stands in front of the routes, and the kit's
token counts (`resources/kit.py`) in front of the Gate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .contract import Engine
from .endpoints import json_error
from .errors import ApiError
from .file_store import FileService
from .gate import Gate
from .resources import (
    chat_completions,
    embeddings,
    files,
    fine_tuning_jobs,
    kit,
    models,
    moderations,
    not_imitated,
    responses,
    text_completions,
)

#: Every resource the kit server serves, each with `routes(engine, files, clock)`.
RESOURCES = (
    kit,
    files,
    fine_tuning_jobs,
    models,
    chat_completions,
    responses,
    embeddings,
    moderations,
    text_completions,
)


def create_app(
    engine: Engine, file_service: FileService, *, clock: Callable[[], float] = time.time
) -> kit.KitTokens:
    """The ASGI app serving `/v1` with `engine` (jobs, models, chat) and `file_service`."""
    routes = [r for resource in RESOURCES for r in resource.routes(engine, file_service, clock)]
    app = Starlette(routes=routes, exception_handlers={HTTPException: invalid_url})
    app.state.engine = engine
    app.state.files = file_service
    return kit.KitTokens(Gate(app, engine.organization_id))


async def invalid_url(request: Request, exc: Exception) -> Response:
    """No route here: the real API's « Invalid URL » (404, or 405 for a method the route does
    not have), or what to do instead of a route the kit server does not imitate."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    elsewhere = not_imitated.answer(request.method, request.url.path)
    if status == 404 and elsewhere is not None:
        return json_error(elsewhere)
    return json_error(
        ApiError(
            404 if status == 404 else status, f"Invalid URL ({request.method} {request.url.path})"
        )
    )
