"""Reading an `openai` SDK error (2.x on httpx, 3.x on httpx2: only the SDK's own attributes):
its message, the request's path, a header, the wait it asks for, the model it names."""

from __future__ import annotations

import contextlib
import re


def api_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        msg = body.get("message")
        if isinstance(msg, str) and msg:
            return msg
    msg = getattr(exc, "message", None)
    return msg if isinstance(msg, str) else str(exc)


def request_path(exc: BaseException) -> str:
    try:
        return str(exc.request.url)  # type: ignore[attr-defined]
    except Exception:
        return ""


def header(exc: BaseException, name: str) -> str | None:
    try:
        return exc.response.headers.get(name)  # type: ignore[attr-defined]
    except Exception:
        return None


def retry_after(exc: BaseException) -> float | None:
    ms = header(exc, "retry-after-ms")
    if ms:
        with contextlib.suppress(ValueError):
            return float(ms) / 1000
    value = header(exc, "retry-after")
    if value:
        with contextlib.suppress(ValueError):
            return float(value)
    return None


_MODEL_RE = re.compile(r"[Tt]he model [`'\"]?([^`'\" ]+)[`'\"]? does not exist")


def model_in(message: str) -> str | None:
    m = _MODEL_RE.search(message)
    if m:
        return m.group(1)
    m = re.search(r"\b((?:ft:)?gpt-[\w.\-:]+)", message)
    return m.group(1).rstrip(".") if m else None
