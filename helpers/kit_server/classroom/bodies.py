"""Request bodies at the class server's door: how long one says it is, read it (within a
limit), give it again to the app behind, or read and drop the rest of a refused one so that
the client, still sending, reads the answer instead of a broken pipe."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ..file_store import MAX_FILE_BYTES

DRAIN_MAX = 2 * MAX_FILE_BYTES  # a refused body is read (and dropped) up to this, then cut
DRAIN_IDLE = 5.0  # seconds without any of it: the rest is not coming

Receive = Callable[[], Awaitable[dict[str, Any]]]


def declared_length(scope: dict[str, Any]) -> int | None:
    """The request's Content-Length (uvicorn holds the client to it), None if absent."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return None
    return None


async def drain(receive: Receive, seen: int = 0) -> None:
    """Read the rest of a refused body (dropped), up to DRAIN_MAX bytes, while it comes (a
    client that announced more than it sends is answered after DRAIN_IDLE seconds)."""
    while seen <= DRAIN_MAX:
        try:
            message = await asyncio.wait_for(receive(), DRAIN_IDLE)
        except asyncio.TimeoutError:
            return
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body"):
            return


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None (drained) when it is longer than `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            if message.get("more_body"):
                await drain(receive, size)
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then whatever comes next."""
    given = False

    async def again() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
