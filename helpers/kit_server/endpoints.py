"""What every resource's routes share: the real API's JSON, its error envelope for every
failure, and the thread pool where blocking work runs.

A resource declares each route with `route(path, method, handler)`: whatever the handler
raises leaves as the real API's envelope `{"error": {"message", "type", "param", "code"}}`
with its status code (`errors.ApiError`), never as a traceback or a bare 500 — a kit server
bug is the real API's 500, its traceback in the workspace's log file (`serving.configure_log`).
Blocking work (an engine, the database) runs in Starlette's thread pool (`run`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.responses import Response
from starlette.routing import Route

from ..exceptions import workspace_problem
from . import database, errors, params
from .errors import ApiError

log = logging.getLogger("helpers.kit_server")
T = TypeVar("T")


class JSONResponse(StarletteJSONResponse):
    """JSON as the real API sends it; text that cannot be encoded (a lone surrogate in what a
    learner stored before the server refused them) is replaced, never a failed response."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "replace")


def json_error(err: ApiError) -> JSONResponse:
    """The real API's error envelope, with the error's status and headers."""
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


Handler = Callable[[Request], Awaitable[Response]]


def endpoint(fn: Handler) -> Handler:
    """Turn every failure into the real API's envelope; never let a traceback out (it goes to
    the server's log file in the workspace, see `serving.configure_log`)."""

    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as err:
            return json_error(err)
        except ClientDisconnect:  # the client gave up (its timeout): nobody reads an answer
            log.info("client left before the answer: %s %s", request.method, request.url.path)
            return Response(status_code=499)
        except Exception as exc:
            if database.damaged(exc):
                log.error("damaged database on %s %s: %s", request.method, request.url.path, exc)
                return json_error(errors.workspace_damaged(database.DB_NAME))
            reason = workspace_problem(exc)
            if reason is not None:
                log.error(
                    "workspace not writable on %s %s: %s", request.method, request.url.path, exc
                )
                return json_error(errors.workspace_error(reason))
            # a kit server bug: answer like the real API's 500, keep the trace in the log file
            log.exception("server error on %s %s", request.method, request.url.path)
            return json_error(errors.server_error())

    return wrapped


def route(path: str, method: str, handler: Handler) -> Route:
    """A route of the API: `handler` answers `method` on `path`, its failures as envelopes."""
    return Route(path, endpoint(handler), methods=[method])


async def run(fn: Callable[..., T], *args: Any) -> T:
    """Blocking work (an engine, the database) in Starlette's thread pool."""
    return await run_in_threadpool(fn, *args)


async def json_of(request: Request) -> dict[str, Any]:
    """The request's JSON object, checked as the real API checks it (`params.json_body`)."""
    return params.json_body(await request.body())


def synced(sync: Callable[[], None], fn: Callable[..., T]) -> Callable[..., T]:
    """`fn`, once `sync` (the engine's `sync_files`) has written the results files now due: a
    results file appears (in list order too) when its job is seen to finish, as with the real
    API."""

    def call(*args: Any) -> T:
        sync()
        return fn(*args)

    return call
