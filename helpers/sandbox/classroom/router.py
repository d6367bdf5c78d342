"""The class server's front door: who is asking, their quotas, and their own kit server.

Every `/v1/…` request is identified (`identity.py`), checked against the class's quotas when it
creates a job, and handed to the person's own kit app (`server.build_app` over
`CLASS/students/<name>/`): isolation is the workspaces' own. `/classe/…` is the teacher's page.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from ..errors import ApiError
from .roster import Person
from .tenants import ClassServer, bearer


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


def create_class_app(
    home: Path, *, engine: str = "simulated", hub: bool = False, hub_auth: Any = None
) -> Any:
    """The class server's ASGI app over the class folder `home`."""
    from .evaluations import Evaluations
    from .teacher import TeacherPage

    state = ClassServer(Path(home), engine=engine, hub=hub, hub_auth=hub_auth)
    teacher = TeacherPage(state)
    evaluations = Evaluations(state)  # notebook 12's results: its own routes (evaluations.py)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path: str = scope.get("path", "")
        if evaluations.handles(path):
            await evaluations(scope, receive, send)
            return
        if path == "/classe" or path.startswith("/classe/"):
            await teacher(scope, receive, send)
            return
        if not path.startswith("/v1"):
            await send_error(send, ApiError(404, f"Invalid URL ({scope['method']} {path})"))
            return
        key = bearer(scope)
        if not key:
            await send_error(send, _missing_key())
            return
        import anyio.to_thread

        person: Person | None = await anyio.to_thread.run_sync(state.identity.who, key)
        if person is None:
            await send_error(send, _unknown_key())
            return
        if scope["method"] == "POST" and path.rstrip("/") == "/v1/fine_tuning/jobs":
            try:
                await anyio.to_thread.run_sync(state.check_quota, person.name)
            except ApiError as err:
                await send_error(send, err)
                return
        inner = await anyio.to_thread.run_sync(state.app_for, person.name)
        await inner(scope, receive, send)

    app.state = state  # type: ignore[attr-defined]
    return app
