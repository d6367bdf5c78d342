"""Server-sent events: how a streamed answer leaves (chat completion chunks, the Responses
API's semantic events)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse


def data(payload: dict[str, Any]) -> bytes:
    """One `data:` event (a JSON payload)."""
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


def response(events: AsyncIterator[bytes]) -> StreamingResponse:
    """The streamed answer: `text/event-stream`, never cached."""
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )
