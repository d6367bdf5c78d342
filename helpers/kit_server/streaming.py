"""Server-sent events as the real API streams them: chat completion chunks.

A completed answer is replayed as the chunks the real API sends: the role first, then the
content piece by piece (one token per chunk, with its logprobs, when they were asked for),
tool calls (name, then arguments), the finish reason, and the usage chunk when
`stream_options.include_usage` is set (every other chunk then carries `"usage": null`).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.responses import StreamingResponse


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


def response(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


def _pieces(message: dict[str, Any], logprobs: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """(content piece, its logprobs entries or None) in order."""
    content = message.get("content") or ""
    entries = (logprobs or {}).get("content") or []
    if entries and "".join(e["token"] for e in entries) == content:
        return [(e["token"], [e]) for e in entries]
    pieces = re.findall(r"\s*\S+|\s+", content)
    if entries and pieces:  # tokens that do not split the text cleanly: all on the first piece
        return [(pieces[0], entries)] + [(p, None) for p in pieces[1:]]
    return [(p, None) for p in pieces]


def _choice_deltas(choice: dict[str, Any]) -> Iterable[dict[str, Any]]:
    message, i = choice["message"], choice["index"]
    calls = message.get("tool_calls")
    asked_logprobs = choice.get("logprobs") is not None

    def delta(d: dict[str, Any], lp: Any = None, finish: str | None = None) -> dict[str, Any]:
        logprobs = {"content": lp, "refusal": None} if asked_logprobs and lp is not None else None
        return {"index": i, "delta": d, "logprobs": logprobs, "finish_reason": finish}

    legacy = message.get("function_call")
    first: dict[str, Any] = {
        "role": "assistant",
        "content": None if calls or legacy else "",
        "refusal": None,
    }
    if legacy:  # the 2023 format: the name first, then the arguments piece by piece
        yield delta({**first, "function_call": {"name": legacy["name"], "arguments": ""}})
        for part in re.findall(r".{1,16}", legacy["arguments"], re.S):
            yield delta({"function_call": {"arguments": part}})
        yield delta({}, finish=choice["finish_reason"])
        return
    yield delta(first)
    if calls:
        for j, call in enumerate(calls):
            head = {
                "index": j,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            yield delta({"tool_calls": [head]})
            for part in re.findall(r".{1,16}", call["function"]["arguments"], re.S):
                yield delta({"tool_calls": [{"index": j, "function": {"arguments": part}}]})
    else:
        for piece, lp in _pieces(message, choice.get("logprobs")):
            yield delta({"content": piece}, lp)
    yield delta({}, finish=choice["finish_reason"])


def obfuscation() -> str:
    """The `obfuscation` field of a chunk: random characters of a random length, which the real
    API adds to every chunk (by default) so that a chunk's size does not reveal its text."""
    return secrets.token_urlsafe(12)[: secrets.randbelow(12) + 1]


def chat_chunks(
    completion: dict[str, Any], include_usage: bool, *, obfuscate: bool = True
) -> AsyncIterator[bytes]:
    """The chunks of a `chat.completion`, ending with `data: [DONE]`; each carries an
    `obfuscation` string unless `stream_options.include_obfuscation` is false."""
    base = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "service_tier": completion.get("service_tier", "default"),
        "system_fingerprint": completion.get("system_fingerprint"),
    }
    if include_usage:
        base["usage"] = None

    def chunk(payload: dict[str, Any]) -> bytes:
        return sse({**payload, "obfuscation": obfuscation()} if obfuscate else payload)

    async def chunks() -> AsyncIterator[bytes]:
        for choice in completion["choices"]:
            for d in _choice_deltas(choice):
                yield chunk({**base, "choices": [d]})
                await asyncio.sleep(0)
        if include_usage:
            yield chunk({**base, "choices": [], "usage": completion["usage"]})
        yield b"data: [DONE]\n\n"

    return chunks()
