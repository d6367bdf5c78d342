"""The kit server's doors: who may come in, and how much a request may bring.

- `KeyLock`: the server of one workspace (a learner's own, started by `launcher` or in a
  thread) answers only the workspace's own clients. Every request must carry the
  workspace's key (`helpers.advert.workspace_key`, an owner-only file): as the API key
  (`Authorization: Bearer <key>`), or in the `X-Atelier-Kit-Key` header beside another key
  (a fault key `sk-sandbox-…`, a key the learner typed in the key form). Without it: the real
  API's 401 envelope. A fault on demand that answers an error at once (`faults.py`) reads and
  writes nothing: it needs no key, so faults stay usable from any client. The class server
  does not use this lock: it identifies each person by their own key (`classroom`).
- `capped_receive`: a request body bigger than a route's limit is refused with a 413 in the
  API's envelope, from its `Content-Length` before anything is read, or as soon as a body
  without one (chunked) goes past the limit.
"""

from __future__ import annotations

import hmac
import json
import secrets
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..advert import KEY_HEADER, workspace_key
from . import faults
from .errors import ApiError


def headers_of(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def bearer(headers: dict[str, str]) -> str:
    auth = headers.get("authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else ""


async def send_error(send: Send, err: ApiError, *, close: bool = False) -> None:
    """The API's error envelope; `close`: the body was not read, the connection ends here."""
    headers = [
        (b"content-type", b"application/json"),
        (b"x-request-id", f"req_{secrets.token_hex(16)}".encode()),
    ]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in err.headers.items()]
    if close and "connection" not in err.headers:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    body = json.dumps(err.body(), ensure_ascii=False).encode("utf-8", "replace")
    await send({"type": "http.response.body", "body": body})


def missing_key() -> ApiError:
    return ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    )


def wrong_key() -> ApiError:
    # Unconfirmed wording: the real API echoes a masked key; this server never echoes anything
    # of what it was sent (a learner's real key sent here by mistake stays unseen).
    return ApiError(
        401,
        "Incorrect API key provided for this kit server: it answers only the clients of its own "
        "workspace (the key in the workspace's kit-server.key file).",
        code="invalid_api_key",
    )


class KeyLock:
    """ASGI middleware: only requests carrying the workspace's key get through."""

    def __init__(self, app: ASGIApp, home: Path) -> None:
        self.app = app
        self.home = Path(home)
        self.key = workspace_key(self.home)

    def _matches(self, presented: str) -> bool:
        if not presented:
            return False
        if hmac.compare_digest(presented.encode(), self.key.encode()):
            return True
        # The key file may have been replaced (deleted, then made again by a client): read it.
        try:
            fresh = workspace_key(self.home)
        except OSError:
            return False
        if fresh != self.key and hmac.compare_digest(presented.encode(), fresh.encode()):
            self.key = fresh
            return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websocket route: nothing else gets in
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        headers = headers_of(scope)
        key = bearer(headers)
        if self._matches(headers.get(KEY_HEADER.lower(), "")) or self._matches(key):
            await self.app(scope, receive, send)
            return
        fault = faults.select(key, headers.get(faults.HEADER))
        method, path = scope.get("method", "GET"), scope.get("path", "")
        answered = fault is not None and path.startswith("/v1/")
        if answered and fault and faults.error_for(fault, api_key=key, method=method, path=path):
            await self.app(scope, receive, send)  # the Gate answers the fault's error
            return
        presented = bool(key or headers.get(KEY_HEADER.lower()))
        del key
        await send_error(send, wrong_key() if presented else missing_key(), close=True)


def too_large(limit: int) -> ApiError:
    # Unconfirmed: the real API's answer to an oversized request (its edge may answer in HTML);
    # the kit answers in the API's envelope, so every client reads it the same way.
    return ApiError(
        413,
        f"Request body too large: the limit is {limit} bytes.",
        code="request_too_large",
        headers={"connection": "close"},  # the rest of the body is not read
    )


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def capped_receive(scope: Scope, receive: Receive, limit: int) -> Receive:
    """`receive`, raising `too_large(limit)` once the body goes past `limit` bytes (a declared
    `Content-Length` over the limit raises at the first call, before anything is read)."""
    declared = declared_length(scope)
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        if declared is not None and declared > limit:
            raise too_large(limit)
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return capped
