"""The class server's front door: who is asking, their quotas, and their own kit server.

Every `/v1/…` request is identified (`identity.py`) and handed to the person's own kit app
(`serving.build_app` over their workspace): isolation is the workspaces' own. A student's
writes pass their door one at a time (`ClassServer.door`): a job creation is checked against
the daily quotas, an upload or a stored response against the storage quota, each check and
the write it admits together, so concurrent requests cannot beat a quota; a student has at
most `IN_FLIGHT` requests in progress (the class shares the server's threads). Bodies are capped
(a file: the API's 512 MB and what the student's storage has left; JSON: 32 MB); a refused
body is read to its end first, so the client gets the answer instead of a broken pipe.
`/classe/…` is the teacher's page. Every answer, errors included, is the API's JSON envelope.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...modes import Engine
from .. import errors
from ..errors import ApiError
from ..file_store import MAX_FILE_BYTES
from .bodies import Receive, declared_length, drain, read_body, replay
from .roster import Person
from .tenants import ClassServer, bearer

log = logging.getLogger("helpers.kit_server")
MB = 1024 * 1024
JSON_MAX = 32 * MB  # a JSON request's body (the real API's own cap is unpublished)
FRAMING = 64 * 1024  # multipart framing around an uploaded file, at most


async def _send_json(send: Any, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "replace")
    head = [(b"content-type", b"application/json")]
    head += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw})


async def send_error(send: Any, err: ApiError) -> None:
    headers = {**err.headers, "x-request-id": f"req_{secrets.token_hex(16)}"}
    await _send_json(send, err.status, err.body(), headers)


def _missing_key() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    )


def _unknown_key() -> ApiError:
    # The real API masks and echoes the key; a class key is never echoed, even masked.
    return ApiError(
        401,
        "Incorrect API key provided for this class server. Ask your teacher for your key.",
        code="invalid_api_key",
    )


def file_too_large() -> ApiError:
    """The kit server's own answer to a file over the API's 512 MB (`app.upload`)."""
    return errors.bad_request(
        "File is too large: the maximum size is 512 MB.", param="file", code="file_too_large"
    )


def too_large(limit: int) -> ApiError:
    # Unconfirmed: the real API's answer to a body over its (unpublished) limit.
    return ApiError(
        413,
        f"Request body too large: the class server accepts up to {limit // MB} MB here.",
        code="request_too_large",
    )


def _write_kind(method: str, path: str) -> str | None:
    """Which quota a request writes against: job, file, response, or None (no write)."""
    if method != "POST":
        return None
    return {
        "/v1/fine_tuning/jobs": "job",
        "/v1/files": "file",
        "/v1/responses": "response",
    }.get(path.rstrip("/"))


# -- the app ----------------------------------------------------------------------------------


def create_class_app(
    home: Path, *, engine: Engine | str = Engine.SIMULATED, hub: bool = False, hub_auth: Any = None
) -> Any:
    """The class server's ASGI app over the class folder `home`."""
    from .evaluations import Evaluations
    from .teacher import TeacherPage

    state = ClassServer(Path(home), engine=engine, hub=hub, hub_auth=hub_auth)
    teacher = TeacherPage(state)
    evaluations = Evaluations(state)  # notebook 12's results: its own routes (evaluations.py)

    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(fn, *args)

    async def write(person: Person, kind: str, scope: Any, receive: Receive, send: Any) -> None:
        """A student's write, behind their door: check the quota, then let it through."""
        inner = await run(state.app_for, person)
        declared = declared_length(scope)
        async with state.door(person.name):
            if kind == "file":
                admitted = await upload(person, declared, receive, send)
                if admitted is not None:
                    await inner(scope, admitted, send)
                return
            if declared is not None and declared > JSON_MAX:
                await drain(receive)
                await send_error(send, too_large(JSON_MAX))
                return
            body = await read_body(receive, JSON_MAX)
            if body is None:
                await send_error(send, too_large(JSON_MAX))
                return
            try:
                if kind == "job":  # a job writes too (its sample of the data, its results)
                    await run(lambda: state.check_storage(person, 0, new_file=False))
                    await run(state.check_quota, person)
                elif _stores(body):
                    await run(lambda: state.check_storage(person, len(body), new_file=False))
            except ApiError as err:
                await send_error(send, err)
                return
            await inner(scope, replay(body, receive), send)

    async def upload(
        person: Person, declared: int | None, receive: Receive, send: Any
    ) -> Receive | None:
        """Admit an upload (the `receive` to read it with) or answer the refusal (None)."""

        def admit(size: int) -> None:  # size: the file's bytes, at most
            state.check_storage(person, size, new_file=True)
            if size > MAX_FILE_BYTES:
                raise file_too_large()

        try:
            await run(admit, max(0, (declared or 0) - FRAMING))
        except ApiError as err:
            await drain(receive)
            await send_error(send, err)
            return None
        if declared is not None:  # h11 holds the client to it: no longer body can come
            return receive
        used = await run(state.storage, person)
        room = state.roster.quotas()["storage_bytes"] - used["bytes"]
        limit = max(0, min(MAX_FILE_BYTES, room)) + FRAMING
        body = await read_body(receive, limit)  # chunked: read here, within what is left
        if body is None:
            try:
                await run(admit, limit + 1 - FRAMING)
                raise file_too_large()
            except ApiError as err:
                await send_error(send, err)
            return None
        return replay(body, receive)

    async def api(scope: Any, receive: Receive, send: Any) -> None:
        key = bearer(scope)
        if not key:
            await send_error(send, _missing_key())
            return
        try:
            person: Person | None = await run(state.identity.who, key)
        except ApiError as err:  # the hub did not answer
            await send_error(send, err)
            return
        if person is None:
            await send_error(send, _unknown_key())
            return
        try:
            state.enter(person)
        except ApiError as err:  # too many of their requests at once
            await drain(receive)
            await send_error(send, err)
            return
        try:
            await serve(person, scope, receive, send)
        finally:
            state.leave(person)

    async def serve(person: Person, scope: Any, receive: Receive, send: Any) -> None:
        kind = _write_kind(scope["method"], scope.get("path", ""))
        if kind is not None and not person.teacher:
            await write(person, kind, scope, receive, send)
            return
        declared = declared_length(scope)
        limit = MAX_FILE_BYTES + FRAMING if kind == "file" else JSON_MAX
        if declared is not None and declared > limit:
            await drain(receive)
            await send_error(send, too_large(limit))
            return
        inner = await run(state.app_for, person)
        await inner(scope, receive, send)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        started = False

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        path: str = scope.get("path", "")
        try:
            if evaluations.handles(path):
                await evaluations(scope, receive, tracked)
            elif path == "/classe" or path.startswith("/classe/"):
                await teacher(scope, receive, tracked)
            elif path == "/v1" or path.startswith("/v1/"):
                await api(scope, receive, tracked)
            else:
                await send_error(tracked, ApiError(404, f"Invalid URL ({scope['method']} {path})"))
        except Exception:  # a class server bug: the API's 500 envelope, the trace in the log
            log.exception("class server error on %s %s", scope.get("method"), path)
            if not started:
                await send_error(send, errors.server_error())

    app.state = state  # type: ignore[attr-defined]
    return app


def _stores(body: bytes) -> bool:
    """Whether a Responses request would be stored (`store` is true by default)."""
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return False  # refused by the API as it is (nothing stored)
    return not (isinstance(parsed, dict) and parsed.get("store") is False)
