"""The kit's own routes beside the API: `GET /` (what this server is) and `POST /kit/tokens`.

`/kit/tokens` (`{"encoding", "texts"}` → `{"lengths"}`) counts tokens for the workspace's
kernels (`helpers.advert.RemoteLengths`), so no kernel loads an encoding. It stands in front
of the Gate (`KitTokens`, an ASGI wrapper): its body has its own cap (`TOKENS_MAX_BODY`, 413
beyond, the rest not read); errors use the API's envelope.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...advert import TOKENS_MAX_BODY, TOKENS_PATH
from ...i18n import _
from ..contract import Clock, Engine
from ..door import capped_receive, send_error
from ..endpoints import JSONResponse, route
from ..errors import ApiError
from ..file_store import FileService


def routes(engine: Engine, files: FileService, clock: Clock) -> list[Route]:
    async def root(request: Request) -> Response:
        return JSONResponse(
            {
                "message": _(
                    "🧪 Bac à sable Atelier fine-tuning : une API compatible OpenAI, locale et "
                    "gratuite. Utilise l'adresse qui finit par /v1 avec le SDK openai."
                ),
                "base_url": str(request.base_url).rstrip("/") + "/v1",
            }
        )

    return [route("/", "GET", root)]


class KitTokens:
    """ASGI wrapper: `POST /kit/tokens` answered here, everything else passed to `app`."""

    ENCODINGS = ("cl100k_base", "o200k_base")

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != TOKENS_PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await send_error(send, ApiError(405, f"Invalid URL ({scope['method']} {TOKENS_PATH})"))
            return
        receive = capped_receive(scope, receive, TOKENS_MAX_BODY)
        body = bytearray()
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client left
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
        except ApiError as err:  # too large: the rest is not read
            await send_error(send, err, close=True)
            return
        try:
            request = json.loads(body)
            name, texts = request["encoding"], request["texts"]
            if name not in self.ENCODINGS:
                raise ValueError(name)
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise ValueError("texts")
        except (ValueError, KeyError, TypeError, RecursionError):
            message = "Expected a JSON body {encoding: cl100k_base | o200k_base, texts: [str]}."
            await send_error(send, ApiError(400, message))
            return
        import anyio.to_thread

        from ... import tokens

        lengths = await anyio.to_thread.run_sync(tokens.local_lengths, name, texts)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send(
            {"type": "http.response.body", "body": json.dumps({"lengths": lengths}).encode()}
        )
