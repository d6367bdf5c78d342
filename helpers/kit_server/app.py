"""The kit server's HTTP side: the routes the `openai` SDK calls, given an engine.

`create_app(engine, files)` builds a plain Starlette (ASGI) app: files go to the file service
(shared by every engine), jobs, models and chat to the engine (`protocol.Engine`). Blocking
work runs in Starlette's thread pool. Every error leaves as the real API's envelope
`{"error": {"message", "type", "param", "code"}}` with its status code and an `x-request-id`
header, never as a traceback or a bare 500.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.responses import Response
from starlette.routing import Route

from ..exceptions import workspace_problem
from . import database, door, errors, faults, requests, shapes, streaming
from .contract import Engine
from .errors import ApiError
from .file_store import MAX_FILE_BYTES, FileService
from .resources import embeddings, moderations, not_imitated, responses, text_completions

log = logging.getLogger("helpers.kit_server")


class JSONResponse(StarletteJSONResponse):
    """JSON as the real API sends it; text that cannot be encoded (a lone surrogate in what a
    learner stored before the server refused them) is replaced, never a failed response."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "replace")


def _json_error(err: ApiError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


Handler = Callable[[Request], Awaitable[Response]]


def _endpoint(fn: Handler) -> Handler:
    """Turn every failure into the real API's envelope; never let a traceback out (it goes to
    the server's log file in the workspace, see `server.configure_log`)."""

    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as err:
            return _json_error(err)
        except ClientDisconnect:  # the client gave up (its timeout): nobody reads an answer
            log.info("client left before the answer: %s %s", request.method, request.url.path)
            return Response(status_code=499)
        except Exception as exc:
            if database.damaged(exc):
                log.error("damaged database on %s %s: %s", request.method, request.url.path, exc)
                return _json_error(errors.workspace_damaged(database.DB_NAME))
            reason = workspace_problem(exc)
            if reason is not None:
                log.error(
                    "workspace not writable on %s %s: %s", request.method, request.url.path, exc
                )
                return _json_error(errors.workspace_error(reason))
            # a kit server bug: answer like the real API's 500, keep the trace in the log file
            log.exception("server error on %s %s", request.method, request.url.path)
            return _json_error(errors.server_error())

    return wrapped


def create_app(
    engine: Engine, files: FileService, *, clock: Callable[[], float] = time.time
) -> Starlette:
    """The ASGI app serving `/v1` with `engine` (jobs, models, chat) and `files`."""

    stored = responses.ResponseStore(files.db)

    def run(fn, *args):
        return run_in_threadpool(fn, *args)

    async def body_of(request: Request) -> dict[str, Any]:
        return requests.json_body(await request.body())

    def synced(fn):
        """An operation that first lets the engine write the results files now due, so a results
        file appears (in list order too) when its job is seen to finish, as with the real API."""

        def call(*args):
            engine.sync_files()
            return fn(*args)

        return call

    async def upload(request: Request) -> Response:
        try:
            form = await request.form(max_files=4, max_fields=16)
        except ApiError:  # the body went past its limit (Gate)
            raise
        except Exception:
            raise errors.bad_request(
                "Could not parse the multipart form: send 'purpose' and 'file'."
            ) from None
        try:
            purpose = requests.purpose(form.get("purpose"))
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise errors.missing("file")
            if upload.size is not None and upload.size > MAX_FILE_BYTES:
                raise errors.bad_request(
                    "File is too large: the maximum size is 512 MB.",
                    param="file",
                    code="file_too_large",
                )
            content = await upload.read()
            filename = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
            row = await run(synced(files.upload), filename, purpose, content, clock())
            await run(engine.file_uploaded, purpose)
            return JSONResponse(shapes.file_object(row))
        finally:
            await form.close()

    async def list_files(request: Request) -> Response:
        q = request.query_params
        order = requests.list_order(q.get("order", "desc"))
        limit = requests.int_param(q.get("limit"), "limit", 10_000, 1, 10_000)

        def listing() -> dict[str, Any]:
            rows, has_more = files.list(
                purpose=q.get("purpose"), after=q.get("after"), limit=limit, order=order
            )
            page = {"object": "list", "data": [shapes.file_object(r) for r in rows]}
            return shapes.with_first_last({**page, "has_more": has_more})

        return JSONResponse(await run(synced(listing)))

    async def get_file(request: Request) -> Response:
        row = await run(synced(files.get), request.path_params["file_id"])
        return JSONResponse(shapes.file_object(row))

    async def delete_file(request: Request) -> Response:
        return JSONResponse(await run(files.delete, request.path_params["file_id"]))

    async def file_content(request: Request) -> Response:
        content = await run(synced(files.content), request.path_params["file_id"])
        return Response(content, media_type="application/octet-stream")

    async def create_job(request: Request) -> Response:
        body = await body_of(request)
        speed = requests.speed_header(request.headers.get(requests.SPEED_HEADER))
        return JSONResponse(await run(lambda: engine.create_job(body, speed=speed)))

    async def list_jobs(request: Request) -> Response:
        q = request.query_params
        limit = requests.int_param(q.get("limit"), "limit", 20, 1, 100)
        metadata = requests.metadata_filter(q.multi_items())
        listing = synced(engine.list_jobs)
        return JSONResponse(await run(listing, q.get("after"), limit, metadata))

    async def get_job(request: Request) -> Response:
        return JSONResponse(await run(synced(engine.retrieve_job), request.path_params["job_id"]))

    async def cancel_job(request: Request) -> Response:
        return JSONResponse(await run(engine.cancel_job, request.path_params["job_id"]))

    async def pause_job(request: Request) -> Response:
        return JSONResponse(await run(engine.pause_job, request.path_params["job_id"]))

    async def resume_job(request: Request) -> Response:
        return JSONResponse(await run(engine.resume_job, request.path_params["job_id"]))

    async def delete_model(request: Request) -> Response:
        return JSONResponse(await run(engine.delete_model, request.path_params["model"]))

    async def events(request: Request) -> Response:
        q = request.query_params
        limit = requests.int_param(q.get("limit"), "limit", 20, 1, 1000)
        job_id = request.path_params["job_id"]
        return JSONResponse(await run(engine.events, job_id, q.get("after"), limit))

    async def checkpoints(request: Request) -> Response:
        q = request.query_params
        limit = requests.int_param(q.get("limit"), "limit", 10, 1, 100)
        job_id = request.path_params["job_id"]
        return JSONResponse(await run(engine.checkpoints, job_id, q.get("after"), limit))

    async def list_models(request: Request) -> Response:
        return JSONResponse(await run(engine.list_models))

    async def get_model(request: Request) -> Response:
        return JSONResponse(await run(engine.retrieve_model, request.path_params["model"]))

    async def chat(request: Request) -> Response:
        body = await body_of(request)
        completion = await run(engine.chat, body)
        if body.get("stream"):  # checked by the engine (requests.chat_request)
            options = body.get("stream_options") or {}
            chunks = streaming.chat_chunks(
                completion,
                bool(options.get("include_usage")),
                obfuscate=options.get("include_obfuscation") is not False,
            )
            return streaming.response(chunks)
        return JSONResponse(completion)

    async def create_response(request: Request) -> Response:
        body = await body_of(request)
        response = await run(responses.create, body, engine.chat, stored, clock())
        if body.get("stream"):
            return streaming.response(responses.events(response))
        return JSONResponse(response)

    async def get_response(request: Request) -> Response:
        return JSONResponse(await run(responses.retrieve, stored, request.path_params["id"]))

    async def response_input_items(request: Request) -> Response:
        q = request.query_params
        limit = requests.int_param(q.get("limit"), "limit", 20, 1, 100)
        order = requests.list_order(q.get("order", "desc"))
        listing = responses.list_input_items
        args = (stored, request.path_params["id"], q.get("after"), limit, order)
        return JSONResponse(await run(listing, *args))

    async def delete_response(request: Request) -> Response:
        return JSONResponse(await run(responses.delete, stored, request.path_params["id"]))

    async def root(request: Request) -> Response:
        return JSONResponse(
            {
                "message": "🧪 Bac à sable Atelier fine-tuning : une API compatible OpenAI, locale et gratuite. "
                "Utilise l'adresse qui finit par /v1 avec le SDK openai.",
                "base_url": str(request.base_url).rstrip("/") + "/v1",
            }
        )

    async def invalid_url(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        elsewhere = not_imitated.answer(request.method, request.url.path)
        if status == 404 and elsewhere is not None:
            return _json_error(elsewhere)
        return _json_error(
            ApiError(
                404 if status == 404 else status,
                f"Invalid URL ({request.method} {request.url.path})",
            )
        )

    routes = [
        Route("/", _endpoint(root), methods=["GET"]),
        Route("/v1/files", _endpoint(upload), methods=["POST"]),
        Route("/v1/files", _endpoint(list_files), methods=["GET"]),
        Route("/v1/files/{file_id}", _endpoint(get_file), methods=["GET"]),
        Route("/v1/files/{file_id}", _endpoint(delete_file), methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", _endpoint(file_content), methods=["GET"]),
        Route("/v1/fine_tuning/jobs", _endpoint(create_job), methods=["POST"]),
        Route("/v1/fine_tuning/jobs", _endpoint(list_jobs), methods=["GET"]),
        Route("/v1/fine_tuning/jobs/{job_id}", _endpoint(get_job), methods=["GET"]),
        Route("/v1/fine_tuning/jobs/{job_id}/cancel", _endpoint(cancel_job), methods=["POST"]),
        Route("/v1/fine_tuning/jobs/{job_id}/pause", _endpoint(pause_job), methods=["POST"]),
        Route("/v1/fine_tuning/jobs/{job_id}/resume", _endpoint(resume_job), methods=["POST"]),
        Route("/v1/fine_tuning/jobs/{job_id}/events", _endpoint(events), methods=["GET"]),
        Route("/v1/fine_tuning/jobs/{job_id}/checkpoints", _endpoint(checkpoints), methods=["GET"]),
        Route("/v1/chat/completions", _endpoint(chat), methods=["POST"]),
        Route("/v1/responses", _endpoint(create_response), methods=["POST"]),
        Route("/v1/responses/{id}", _endpoint(get_response), methods=["GET"]),
        Route("/v1/responses/{id}", _endpoint(delete_response), methods=["DELETE"]),
        Route("/v1/responses/{id}/input_items", _endpoint(response_input_items), methods=["GET"]),
        Route("/v1/models", _endpoint(list_models), methods=["GET"]),
        Route("/v1/models/{model:path}", _endpoint(get_model), methods=["GET"]),
        Route("/v1/models/{model:path}", _endpoint(delete_model), methods=["DELETE"]),
    ]
    routes += _other_endpoints(engine, run)
    app = Starlette(routes=routes, exception_handlers={HTTPException: invalid_url})
    app.state.engine = engine
    app.state.files = files
    return Gate(app, engine.organization_id)  # type: ignore[return-value]


# -- OpenAI's other endpoints (issue 20) ---------------------------------------------------------
# Each resource in its own module, with its checks and response shapes: embeddings and
# moderations imitated, text completions refused as the real API refuses chat models. The
# routes the sandbox does not imitate answer from `not_imitated` (see `invalid_url`).


def _other_endpoints(engine: Engine, run: Callable[..., Awaitable[Any]]) -> list[Route]:
    async def create_embeddings(request: Request) -> Response:
        body = requests.json_body(await request.body())
        return JSONResponse(await run(embeddings.create, body))

    async def create_moderation(request: Request) -> Response:
        body = requests.json_body(await request.body())
        return JSONResponse(await run(moderations.create, body))

    async def create_text_completion(request: Request) -> Response:
        body = requests.json_body(await request.body())
        return JSONResponse(await run(text_completions.create, body, engine.retrieve_model))

    return [
        Route("/v1/embeddings", _endpoint(create_embeddings), methods=["POST"]),
        Route("/v1/moderations", _endpoint(create_moderation), methods=["POST"]),
        Route("/v1/completions", _endpoint(create_text_completion), methods=["POST"]),
    ]


class Gate:
    """ASGI middleware: request id, API key presence, and faults on demand (see faults.py).

    The key is read from the `Authorization` header, used to pick a fault, and dropped:
    never stored, never logged.
    """

    #: The biggest request bodies: an upload (the API's 512 MB file limit, plus the form's own
    #: bytes), any other request. Unconfirmed: the real API's limit on a JSON body (not
    #: published); 32 MiB holds a full context window of text many times over.
    MAX_UPLOAD_BODY = MAX_FILE_BYTES + 1024 * 1024
    MAX_JSON_BODY = 32 * 1024 * 1024

    #: The limits announced in `x-ratelimit-*` headers (a tier-1 organization's gpt-4o-mini
    #: limits); the sandbox counts requests per minute but never refuses one for this.
    LIMIT_REQUESTS = 500
    LIMIT_TOKENS = 200_000

    def __init__(self, app: Starlette, organization_id: str) -> None:
        self.app = app
        self.state = app.state
        self.organization = organization_id.encode()
        self._recent: collections.deque[float] = collections.deque()

    def rate_limit_headers(self) -> list[tuple[bytes, bytes]]:
        """The real API's `x-ratelimit-*` headers, from this server's requests of the last minute."""
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and self._recent[0] < now - 60:
            self._recent.popleft()
        used = len(self._recent)
        remaining = max(0, self.LIMIT_REQUESTS - used)
        reset = f"{max(1, int(60_000 / self.LIMIT_REQUESTS))}ms"
        return [
            (b"x-ratelimit-limit-requests", str(self.LIMIT_REQUESTS).encode()),
            (b"x-ratelimit-limit-tokens", str(self.LIMIT_TOKENS).encode()),
            (b"x-ratelimit-remaining-requests", str(remaining).encode()),
            (b"x-ratelimit-remaining-tokens", str(self.LIMIT_TOKENS).encode()),
            (b"x-ratelimit-reset-requests", reset.encode()),
            (b"x-ratelimit-reset-tokens", b"0s"),
        ]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{secrets.token_hex(16)}".encode()
        limits = self.rate_limit_headers() if scope.get("path", "").startswith("/v1/") else []

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                extra = limits if message.get("status", 200) < 400 else []
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id),
                    (b"openai-organization", self.organization),
                    *extra,
                ]
            await send(message)

        path: str = scope.get("path", "")
        if path.startswith("/v1/") or path == "/v1":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in scope.get("headers", [])
            }
            auth = headers.get("authorization", "")
            key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
            if not key:
                err = ApiError(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                )
                await _json_error(err)(scope, receive, send_with_id)
                return
            fault = faults.select(key, headers.get(faults.HEADER))
            if fault is not None:
                err = faults.error_for(
                    fault, api_key=key, method=scope.get("method", "GET"), path=path
                )
                del key
                if err is not None:
                    await _json_error(err)(scope, receive, send_with_id)
                    return
                if fault.name == "slow":
                    await asyncio.sleep(fault.value)
            upload = scope.get("method") == "POST" and path.rstrip("/") == "/v1/files"
            limit = self.MAX_UPLOAD_BODY if upload else self.MAX_JSON_BODY
            declared = door.declared_length(scope)
            if declared is not None and declared > limit:  # refused before anything is read
                await _json_error(door.too_large(limit))(scope, receive, send_with_id)
                return
            receive = door.capped_receive(scope, receive, limit)
        await self.app(scope, receive, send_with_id)
