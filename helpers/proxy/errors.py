"""What the browser receives when the proxy refuses: `{"error": {"message", "code"}}`."""

from __future__ import annotations

import math
from collections.abc import Mapping

from starlette.responses import JSONResponse


class ProxyError(Exception):
    """An answer for the browser: status, French message, short code, extra headers."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}


def error_response(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "code": code}},
        status_code=status,
        headers=dict(headers or {}),
    )


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
