"""`POST /v1/chat/completions`: the request's checks, the completion's shape and its stream.

Checks (`chat_request` → `ChatRequest`), as the real API checks every parameter, in its words:
messages and roles, tool calls and their answers, sampling (temperature, top_p, penalties,
n, seed), `max_completion_tokens` against the model's limit, stop, logprobs, tools and the 2023
`functions`, `response_format`, stream options; and the context window (`check_context`).
The engine answers (`contract.Engine.chat`): it checks the body with `chat_request`, generates
its text, makes each choice (`engines/completions.py`) and shapes the `chat.completion`
(`chat_completion`); a streamed answer leaves as the real API's chunks (`chat_chunks`).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import api_messages, models, tokens
from .. import errors, params, sse, structured
from ..contract import Clock, Engine
from ..endpoints import JSONResponse, json_of, route, run
from ..file_store import FileService
from ..ids import random_id


def routes(engine: Engine, files: FileService, clock: Clock) -> list[Route]:
    async def create(request: Request) -> Response:
        body = await json_of(request)
        completion = await run(engine.chat, body)
        if body.get("stream"):  # checked by the engine (chat_request)
            options = body.get("stream_options") or {}
            chunks = chat_chunks(
                completion,
                bool(options.get("include_usage")),
                obfuscate=options.get("include_obfuscation") is not False,
            )
            return sse.response(chunks)
        return JSONResponse(completion)

    return [route("/v1/chat/completions", "POST", create)]


# -- checks ---------------------------------------------------------------------------------------

CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")

#: Every parameter of `POST /v1/chat/completions` in OpenAI's published description
#: (CreateChatCompletionRequest); anything else is refused as the real API refuses it.
CHAT_PARAMETERS = frozenset(
    [
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "messages",
        "metadata",
        "modalities",
        "model",
        "moderation",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    ]
)

#: Parameters only reasoning models accept (none of the fine-tunable models is one).
REASONING_ONLY = ("reasoning_effort",)

MAX_STOP = 4

MAX_TOP_LOGPROBS = 20


@dataclass(frozen=True)
class ChatRequest:
    """The checked parameters of a chat completion request."""

    model: str
    messages: list[dict[str, Any]]
    temperature: float
    top_p: float
    n: int
    max_tokens: int | None  # max_completion_tokens, else max_tokens
    seed: int | None
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    response_format: dict[str, Any] | None = None  # json_object / json_schema (None: text)
    tools: tuple[dict[str, Any], ...] = ()  # function definitions ({"name", "parameters"…})
    tool_choice: str | dict[str, Any] = "none"  # none | auto | required | {"name": …}
    #: The tools came as the 2023 `functions` (and `function_call`): answer in that format.
    legacy_functions: bool = False
    stream: bool = False
    include_usage: bool = False


def chat_request(body: dict[str, Any], *, max_n: int) -> ChatRequest:
    """Check a chat request with the real API's error for each parameter."""
    for name in body:
        if name not in CHAT_PARAMETERS:
            raise params.unknown_argument(name)
    model = body.get("model")
    if not model or not isinstance(model, str):
        raise errors.bad_request("you must provide a model parameter")
    for name in REASONING_ONLY:
        if body.get(name) is not None:  # an explicit null is accepted, as by the real API
            raise params.unknown_argument(name)
    messages = _messages(body.get("messages"))
    temperature = params.number(body.get("temperature"), "temperature", 1.0, 0.0, 2.0)
    top_p = params.number(body.get("top_p"), "top_p", 1.0, 0.0, 1.0)
    for name in ("frequency_penalty", "presence_penalty"):
        params.number(body.get(name), name, 0.0, -2.0, 2.0)
    n = int(params.number(body.get("n"), "n", 1, 1, max_n, integer=True))
    max_tokens = _max_tokens(body, model)
    for name in ("user", "safety_identifier", "prompt_cache_key"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise errors.invalid_type(name, "a string", body[name])
    params.metadata(body.get("metadata"))
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise errors.invalid_type("seed", "an integer", seed)
    stream = params.boolean(body.get("stream"), "stream")
    options = body.get("stream_options")
    if options is not None and not stream:
        # Confirmed (public transcripts): param "stream_options", code null.
        raise errors.bad_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    if options is not None and not isinstance(options, dict):
        raise errors.invalid_type("stream_options", "an object", options)
    include_usage = params.boolean(
        (options or {}).get("include_usage"), "stream_options.include_usage"
    )
    params.boolean((options or {}).get("include_obfuscation"), "stream_options.include_obfuscation")
    logprobs = params.boolean(body.get("logprobs"), "logprobs")
    top = body.get("top_logprobs")
    top_logprobs = 0
    if top is not None:
        top_logprobs = int(params.number(top, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS, integer=True))
        if not logprobs:
            # Unconfirmed wording: the real API refuses top_logprobs without logprobs.
            raise errors.bad_request(
                "Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
                "'top_logprobs' is used.",
                param="top_logprobs",
                code="invalid_value",
            )
    tools = structured.tools(body.get("tools"))
    tool_choice = structured.tool_choice(body.get("tool_choice"), tools)
    functions = structured.functions(body.get("functions"))
    function_call = structured.function_call(body.get("function_call"), functions)
    legacy = bool(functions) and not tools
    if legacy:
        # Unconfirmed: what the real API does with both `tools` and `functions`; the sandbox
        # answers in the current format then (tools), in the 2023 one with functions only.
        tools, tool_choice = functions, function_call
    response_format = structured.response_format(body.get("response_format"), messages)
    return ChatRequest(
        model,
        messages,
        temperature,
        top_p,
        n,
        max_tokens,
        seed,
        stop=_stop(body.get("stop")),
        logprobs=logprobs,
        top_logprobs=top_logprobs,
        response_format=response_format,
        tools=tools,
        tool_choice=tool_choice,
        legacy_functions=legacy,
        stream=stream,
        include_usage=include_usage,
    )


def _max_tokens(body: dict[str, Any], model: str) -> int | None:
    """`max_completion_tokens` (else the older `max_tokens`): an integer ≥ 1, at most what the
    model can write in one answer (`helpers.models`: 16,384 for gpt-4o-mini)."""
    name = (
        "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    )
    value = body.get(name)
    if value is None:
        return None
    value = int(params.number(value, name, 1, 1, 2**31 - 1, integer=True))
    info = models.get(model)
    if info is not None and value > info.completion_token_limit:
        # Confirmed wording (public transcripts of the real API, 2025, for max_tokens; the
        # max_completion_tokens form is quoted by clients). Unconfirmed: param and code.
        raise errors.from_table(
            api_messages.MAX_TOKENS_TOO_LARGE,
            name=name,
            value=value,
            limit=info.completion_token_limit,
        )
    return value


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise errors.invalid_type("stop", "one of a string or array of strings", value)
    if len(value) > MAX_STOP:
        raise errors.bad_request(
            f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
            f"but got an array with length {len(value)} instead.",
            param="stop",
            code="array_above_max_length",
        )
    return tuple(s for s in value if s)


def _messages(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        raise errors.missing("messages")
    if not isinstance(raw, list):
        raise errors.from_table(
            api_messages.INVALID_TYPE_SHORT, name="messages", expected="an array of objects"
        )
    if not raw:
        raise errors.bad_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but "
            "got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    answered: set[Any] = set()  # ids of the tool calls made so far (one pass: no re-scan)
    for i, msg in enumerate(raw):
        if not isinstance(msg, dict):
            raise errors.invalid_type(f"messages[{i}]", "an object", msg)
        if "role" not in msg:
            raise errors.missing(f"messages[{i}].role")
        if msg["role"] not in CHAT_ROLES:
            raise errors.bad_request(
                f"Invalid value: '{msg['role']}'. Supported values are: 'system', 'assistant', 'user', "
                "'function', 'tool', and 'developer'.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        _message(i, msg, answered)
        if msg["role"] == "assistant" and isinstance(msg.get("tool_calls"), list):
            answered.update(
                c["id"]
                for c in msg["tool_calls"]
                if isinstance(c, dict) and isinstance(c.get("id"), str)
            )
    return raw


def _message(i: int, msg: dict[str, Any], answered: set[Any]) -> None:
    """One message's content and tool fields, as the real API checks them; `answered`: the
    ids of the tool calls of the messages before it."""
    role, where = msg["role"], f"messages[{i}]"
    content = msg.get("content")
    calls = msg.get("tool_calls") if role == "assistant" else None
    if "content" not in msg or content is None:
        # An assistant message may carry tool calls (or a function call) instead of text.
        if not (role == "assistant" and (calls or msg.get("function_call"))):
            raise errors.missing(f"{where}.content")
    elif not isinstance(content, (str, list)):
        # Confirmed wording and code (public transcripts of the real API).
        raise errors.invalid_type(
            f"{where}.content", "one of a string or array of objects", content
        )
    elif isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict) or "type" not in part:
                raise errors.missing(f"{where}.content[{j}].type")
    if calls is not None:
        if not isinstance(calls, list):
            raise errors.invalid_type(f"{where}.tool_calls", "an array of objects", calls)
        for j, call in enumerate(calls):
            if not isinstance(call, dict):
                raise errors.invalid_type(f"{where}.tool_calls[{j}]", "an object", call)
            for key in ("id", "type", "function"):
                if key not in call:
                    raise errors.missing(f"{where}.tool_calls[{j}].{key}")
    if role == "function" and not isinstance(msg.get("name"), str):
        # Unconfirmed wording: a 2023 `function` message names the function it answers.
        raise errors.missing(f"{where}.name")
    if role == "tool":
        if "tool_call_id" not in msg:
            # Unconfirmed: the wording follows the real API's other missing parameters.
            raise errors.missing(f"{where}.tool_call_id")
        call_id = msg["tool_call_id"]
        if not isinstance(call_id, str) or call_id not in answered:
            # Confirmed (a gpt-4-turbo transcript, smarter-sh/smarter#264): wording with the
            # real API's spelling, param messages.[i].role, code null.
            raise errors.bad_request(
                "Invalid parameter: messages with role 'tool' must be a response to a "
                "preceeding message with 'tool_calls'.",
                param=f"messages.[{i}].role",
            )


_CHUNK = 200_000  # characters encoded at a time when a prompt may exceed the context


def check_context(messages: list[dict[str, Any]], encoding_model: str, limit: int) -> None:
    """The real API's `context_length_exceeded` 400 when the messages exceed `limit` tokens.

    Cheap for every normal request: a prompt cannot have more tokens than UTF-8 bytes, so only
    prompts longer than `limit` bytes are counted — in chunks, stopping at twice the limit (a
    50 MB message is refused in well under a second instead of being encoded whole).
    """
    texts = [
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for message in messages
        for value in message.values()
        if value is not None
    ]
    if sum(len(t) for t in texts) * 4 + 4 * len(messages) + 3 <= limit:  # ≤ 4 bytes a char
        return
    encoder = tokens.encoding_for(encoding_model)
    total, exact = 3 + 4 * len(messages), True
    for text in texts:
        for start in range(0, len(text), _CHUNK):
            total += len(encoder.encode(text[start : start + _CHUNK], disallowed_special=()))
            if total > 2 * limit:
                exact = False
                break
        if not exact:
            break
    if total <= limit:
        return
    resulted = f"resulted in {total}" if exact else f"resulted in more than {2 * limit}"
    raise errors.bad_request(
        f"This model's maximum context length is {limit} tokens. However, your messages "
        f"{resulted} tokens. Please reduce the length of the messages.",
        param="messages",
        code="context_length_exceeded",
    )


# -- shapes --------------------------------------------------------------------------------------


def chat_completion(
    *,
    model: str,
    choices: list[dict[str, Any]],
    prompt_tokens: int,
    completion_tokens: int,
    created: float,
    fingerprint: str,
) -> dict[str, Any]:
    """A non-streamed `chat.completion` with the real API's usage details."""
    return {
        "id": random_id("chatcmpl-", 29),
        "object": "chat.completion",
        "created": int(created),
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": fingerprint,
    }


# -- the stream ----------------------------------------------------------------------------------


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
        return sse.data({**payload, "obfuscation": obfuscation()} if obfuscate else payload)

    async def chunks() -> AsyncIterator[bytes]:
        for choice in completion["choices"]:
            for d in _choice_deltas(choice):
                yield chunk({**base, "choices": [d]})
                await asyncio.sleep(0)
        if include_usage:
            yield chunk({**base, "choices": [], "usage": completion["usage"]})
        yield b"data: [DONE]\n\n"

    return chunks()
