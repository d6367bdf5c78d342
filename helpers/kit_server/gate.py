"""The Gate: the ASGI middleware in front of every route of a kit server.

Every answer gets an `x-request-id` and the engine's `openai-organization` header, and the
real API's `x-ratelimit-*` headers on the `/v1` routes (counted, never enforced). A `/v1`
request without an API key gets the real API's 401; a fault on demand (`faults.py`, by key or
header) answers its error or slows the answer; a body past its route's cap is refused with a
413 (`door.py`) before it is read.
"""

from __future__ import annotations

import asyncio
import collections
import secrets
import time

from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from . import door, faults
from .endpoints import json_error
from .file_store import MAX_FILE_BYTES


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{secrets.token_hex(16)}".encode()
        limits = self.rate_limit_headers() if scope.get("path", "").startswith("/v1/") else []

        async def send_with_id(message: Message) -> None:
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
            headers = door.headers_of(scope)
            key = door.bearer(headers)
            if not key:
                await json_error(door.missing_key())(scope, receive, send_with_id)
                return
            fault = faults.select(key, headers.get(faults.HEADER))
            if fault is not None:
                err = faults.error_for(
                    fault, api_key=key, method=scope.get("method", "GET"), path=path
                )
                del key
                if err is not None:
                    await json_error(err)(scope, receive, send_with_id)
                    return
                if fault.name == "slow":
                    await asyncio.sleep(fault.value)
            upload = scope.get("method") == "POST" and path.rstrip("/") == "/v1/files"
            limit = self.MAX_UPLOAD_BODY if upload else self.MAX_JSON_BODY
            declared = door.declared_length(scope)
            if declared is not None and declared > limit:  # refused before anything is read
                await json_error(door.too_large(limit))(scope, receive, send_with_id)
                return
            receive = door.capped_receive(scope, receive, limit)
        await self.app(scope, receive, send_with_id)
