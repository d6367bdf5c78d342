"""The Responses API (`/v1/responses`) over any engine's chat — one implementation for all.

A Responses request is turned into a chat request (instructions, the stored conversation of
`previous_response_id`, the new input; `text.format`, function tools, `tool_choice`), answered
by the engine's `chat` (so fine-tuned models of either engine work), and the answer shaped as a
`response` object. Stored responses (`store`, true by default) live in the workspace's
database with the conversation they continue, so `previous_response_id` works across
processes. Streaming replays the answer as the real API's semantic events.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import api_messages
from .. import errors, params, sse
from ..contract import Clock, Engine
from ..database import Database
from ..endpoints import JSONResponse, json_of, route, run
from ..file_store import FileService
from ..ids import random_id

#: Every parameter of `POST /v1/responses` in OpenAI's published description (CreateResponse).
PARAMETERS = frozenset(
    [
        "background",
        "context_management",
        "conversation",
        "include",
        "input",
        "instructions",
        "max_output_tokens",
        "max_tool_calls",
        "metadata",
        "model",
        "moderation",
        "parallel_tool_calls",
        "previous_response_id",
        "prompt",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning",
        "safety_identifier",
        "service_tier",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "text",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "truncation",
        "user",
    ]
)
MIN_OUTPUT_TOKENS = 16

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    response TEXT NOT NULL,      -- the response object (JSON)
    conversation TEXT NOT NULL,  -- chat messages it continues, its output included (JSON)
    inputs TEXT NOT NULL DEFAULT '[]'  -- its input items, as `input_items` lists them (JSON)
);
"""


class ResponseStore:
    """Stored responses of one workspace (every engine's)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)
        with db.transaction() as c:  # tables made before `inputs` existed
            have = {r[1] for r in c.execute("PRAGMA table_info(responses)").fetchall()}
            if "inputs" not in have:
                c.execute("ALTER TABLE responses ADD COLUMN inputs TEXT NOT NULL DEFAULT '[]'")

    def add(
        self,
        response: dict[str, Any],
        conversation: list[dict[str, Any]],
        inputs: list[dict[str, Any]] | None = None,
    ) -> None:
        with self.db.transaction() as c:
            c.execute(
                "INSERT INTO responses (id, created_at, response, conversation, inputs) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    response["id"],
                    response["created_at"],
                    json.dumps(response, ensure_ascii=False),
                    json.dumps(conversation, ensure_ascii=False),
                    json.dumps(inputs or [], ensure_ascii=False),
                ),
            )

    def inputs(self, response_id: str) -> list[dict[str, Any]] | None:
        row = (
            self.db.conn()
            .execute("SELECT inputs FROM responses WHERE id = ?", (response_id,))
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def get(self, response_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        row = (
            self.db.conn()
            .execute("SELECT response, conversation FROM responses WHERE id = ?", (response_id,))
            .fetchone()
        )
        return (json.loads(row[0]), json.loads(row[1])) if row else None

    def delete(self, response_id: str) -> bool:
        with self.db.transaction() as c:
            return c.execute("DELETE FROM responses WHERE id = ?", (response_id,)).rowcount > 0


def routes(engine: Engine, files: FileService, clock: Clock) -> list[Route]:
    stored = ResponseStore(files.db)

    async def create_response(request: Request) -> Response:
        body = await json_of(request)
        response = await run(create, body, engine.chat, stored, clock())
        if body.get("stream"):
            return sse.response(events(response))
        return JSONResponse(response)

    async def get_response(request: Request) -> Response:
        return JSONResponse(await run(retrieve, stored, request.path_params["id"]))

    async def list_items(request: Request) -> Response:
        q = request.query_params
        limit = params.int_param(q.get("limit"), "limit", 20, 1, 100)
        order = params.list_order(q.get("order", "desc"))
        args = (stored, request.path_params["id"], q.get("after"), limit, order)
        return JSONResponse(await run(list_input_items, *args))

    async def delete_response(request: Request) -> Response:
        return JSONResponse(await run(delete, stored, request.path_params["id"]))

    return [
        route("/v1/responses", "POST", create_response),
        route("/v1/responses/{id}", "GET", get_response),
        route("/v1/responses/{id}", "DELETE", delete_response),
        route("/v1/responses/{id}/input_items", "GET", list_items),
    ]


def not_found(response_id: str) -> errors.ApiError:
    # Unconfirmed wording (no public transcript found): modelled on the API's other 404s.
    return errors.ApiError(404, f"Response with id '{response_id}' not found.")


# -- request → chat ---------------------------------------------------------------------------


def _text(content: Any, where: str) -> Any:
    """A message's content as chat accepts it (parts `input_text` / `output_text` → text)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _invalid_type(where, "one of a string or array of objects")
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or "type" not in part:
            raise errors.missing(f"{where}[{j}].type")
        if part["type"] in ("input_text", "output_text", "text"):
            texts.append(str(part.get("text", "")))
    return "\n".join(texts)


def _input_messages(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        raise _invalid_type("input", "one of a string or array of input items")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise _invalid_type(where, "an object")
        kind = item.get("type", "message")
        if kind == "message":
            if item.get("role") not in ("user", "assistant", "system", "developer"):
                raise errors.bad_request(
                    f"Invalid value: '{item.get('role')}'. Supported values are: 'assistant', "
                    "'system', 'developer', and 'user'.",
                    param=f"{where}.role",
                    code="invalid_value",
                )
            if "content" not in item:
                raise errors.missing(f"{where}.content")
            out.append(
                {"role": item["role"], "content": _text(item["content"], f"{where}.content")}
            )
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments", "{}")},
            }
            if out and out[-1]["role"] == "assistant" and out[-1].get("tool_calls"):
                out[-1]["tool_calls"].append(call)
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": item.get("call_id"),
                    "content": output if isinstance(output, str) else json.dumps(output),
                }
            )
        else:
            raise errors.bad_request(
                f"Invalid value: '{kind}'. The sandbox supports input items of type 'message', "
                "'function_call' and 'function_call_output'.",
                param=f"{where}.type",
                code="invalid_value",
            )
    return out


def _tools(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _invalid_type("tools", "an array of objects")
    out = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise errors.bad_request(
                f"The sandbox supports function tools only (tools[{i}].type 'function').",
                param=f"tools[{i}].type",
                code="invalid_value",
            )
        function = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
        # The Responses API's function tools are strict unless told otherwise.
        function["strict"] = tool.get("strict", True) is not False
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(value: Any) -> Any:
    if isinstance(value, dict) and value.get("type") == "function":
        return {"type": "function", "function": {"name": value.get("name")}}
    return value


def _format(text: Any) -> dict[str, Any] | None:
    if text is None:
        return None
    if not isinstance(text, dict):
        raise _invalid_type("text", "an object")
    fmt = text.get("format")
    if fmt is None or not isinstance(fmt, dict) or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_schema":
        spec = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        return {"type": "json_schema", "json_schema": spec}
    return {"type": fmt.get("type")}


def chat_request(
    body: dict[str, Any], store: ResponseStore
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the chat body the engine answers, the conversation the response continues)."""
    for name in body:
        if name not in PARAMETERS:
            # Wording of the real API's newer endpoints (code `unknown_parameter`); unconfirmed
            # for this route in a public transcript.
            raise errors.from_table(api_messages.UNKNOWN_PARAMETER_QUOTED, name=name)
    model = body.get("model")
    if not model or not isinstance(model, str):
        raise errors.missing("model")
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict) and reasoning.get("effort") is not None:
        # None of the fine-tunable models reasons. Unconfirmed wording and code.
        raise errors.bad_request(
            "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            param="reasoning.effort",
            code="unsupported_parameter",
        )
    history: list[dict[str, Any]] = []
    previous = body.get("previous_response_id")
    if previous is not None:
        found = store.get(previous) if isinstance(previous, str) else None
        if found is None:
            # Unconfirmed wording: the real API refuses an unknown or unstored previous id.
            raise errors.bad_request(
                f"Previous response with id '{previous}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        history = found[1]
    if "input" not in body:
        raise errors.missing("input")
    new = _input_messages(body["input"])
    conversation = history + new
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _invalid_type("instructions", "a string")
    # Instructions are not carried over to the next response (they are not in the history).
    messages = ([{"role": "system", "content": instructions}] if instructions else []) + [
        dict(m) for m in conversation
    ]
    chat: dict[str, Any] = {"model": model, "messages": messages}
    for src, dst in (("temperature", "temperature"), ("top_p", "top_p"), ("seed", "seed")):
        if body.get(src) is not None:
            chat[dst] = body[src]
    limit = body.get("max_output_tokens")
    if limit is not None:
        if isinstance(limit, int) and not isinstance(limit, bool) and limit < MIN_OUTPUT_TOKENS:
            raise errors.from_table(
                api_messages.VALUE_BELOW_MINIMUM,
                name="max_output_tokens",
                word="integer",
                bound=f">= {MIN_OUTPUT_TOKENS}",
                value=limit,
            )
        chat["max_completion_tokens"] = limit
    fmt = _format(body.get("text"))
    if fmt is not None:
        chat["response_format"] = fmt
    tools = _tools(body.get("tools"))
    if tools:
        chat["tools"] = tools
        if body.get("tool_choice") is not None:
            chat["tool_choice"] = _tool_choice(body["tool_choice"])
    if body.get("top_logprobs"):
        chat["logprobs"] = True
        chat["top_logprobs"] = body["top_logprobs"]
    return chat, conversation


# -- chat → response --------------------------------------------------------------------------


def _output(choice: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(the response's output items, the assistant message the conversation keeps)."""
    message = choice["message"]
    items: list[dict[str, Any]] = []
    for call in message.get("tool_calls") or []:
        items.append(
            {
                "id": random_id("fc_", 48),
                "type": "function_call",
                "status": "completed",
                "call_id": call["id"],
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
            }
        )
    if message.get("content") is not None:
        logprobs = [
            {
                "token": e["token"],
                "bytes": e["bytes"],
                "logprob": e["logprob"],
                "top_logprobs": e["top_logprobs"],
            }
            for e in ((choice.get("logprobs") or {}).get("content") or [])
        ]
        items.append(
            {
                "id": random_id("msg_", 48),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {
                        "type": "output_text",
                        "text": message["content"],
                        "annotations": [],
                        "logprobs": logprobs,
                    }
                ],
            }
        )
    kept = {"role": "assistant", "content": message.get("content")}
    if message.get("tool_calls"):
        kept["tool_calls"] = message["tool_calls"]
    return items, kept


def response_object(
    body: dict[str, Any], completion: dict[str, Any], output: list[dict[str, Any]], now: float
) -> dict[str, Any]:
    choice = completion["choices"][0]
    usage = completion["usage"]
    incomplete = choice["finish_reason"] == "length"
    fmt = (body.get("text") or {}).get("format") or {"type": "text"}
    return {
        "id": random_id("resp_", 48),
        "object": "response",
        "created_at": int(completion["created"]),
        "status": "incomplete" if incomplete else "completed",
        "completed_at": None if incomplete else int(now),
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": completion["model"],
        "output": output,
        "parallel_tool_calls": _or(body.get("parallel_tool_calls"), True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": body.get("store", True) is not False,
        "temperature": _or(body.get("temperature"), 1.0),
        "text": {"format": fmt, "verbosity": "medium"},
        "tool_choice": _or(body.get("tool_choice"), "auto"),
        "tools": body.get("tools") or [],
        "top_logprobs": _or(body.get("top_logprobs"), 0),
        "top_p": _or(body.get("top_p"), 1.0),
        "truncation": _or(body.get("truncation"), "disabled"),
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["total_tokens"],
        },
        "metadata": body.get("metadata") or {},
    } | ({"user": body["user"]} if isinstance(body.get("user"), str) else {})


def create(
    body: dict[str, Any],
    chat: Callable[[dict[str, Any]], dict[str, Any]],
    store: ResponseStore,
    now: float,
) -> dict[str, Any]:
    """Answer a Responses request with the engine's `chat`; store it unless `store: false`."""
    chat_body, conversation = chat_request(body, store)
    completion = chat(chat_body)
    output, kept = _output(completion["choices"][0])
    response = response_object(body, completion, output, now)
    if response["store"]:
        store.add(response, [*conversation, kept], input_items(body["input"]))
    return response


def input_items(value: Any) -> list[dict[str, Any]]:
    """A request's input as the items `GET /v1/responses/{id}/input_items` lists (oldest
    first), each with an id. (Unconfirmed: whether the real list also holds the items of
    `previous_response_id`'s conversation; here, only this response's own input.)"""
    items = (
        [{"type": "message", "role": "user", "content": value}] if isinstance(value, str) else value
    )
    out = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            text = _text(item.get("content"), "input")
            if item.get("role") == "assistant":
                part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
            else:
                part = {"type": "input_text", "text": text}
            out.append(
                {
                    "id": random_id("msg_", 48),
                    "type": "message",
                    "role": item.get("role"),
                    "status": "completed",
                    "content": [part],
                }
            )
        elif kind == "function_call":
            out.append(
                {
                    "id": random_id("fc_", 48),
                    "type": "function_call",
                    "status": "completed",
                    "call_id": item.get("call_id"),
                    "name": item.get("name"),
                    "arguments": item.get("arguments", "{}"),
                }
            )
        else:
            output = item.get("output")
            out.append(
                {
                    "id": random_id("fco_", 48),
                    "type": "function_call_output",
                    "status": "completed",
                    "call_id": item.get("call_id"),
                    "output": output if isinstance(output, str) else json.dumps(output),
                }
            )
    return out


def list_input_items(
    store: ResponseStore, response_id: str, after: str | None, limit: int, order: str
) -> dict[str, Any]:
    items = store.inputs(response_id)
    if items is None:
        raise not_found(response_id)
    if order == "desc":
        items = list(reversed(items))
    if after:
        ids = [i["id"] for i in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    data = items[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(items) > limit,
    }


def retrieve(store: ResponseStore, response_id: str) -> dict[str, Any]:
    found = store.get(response_id)
    if found is None:
        raise not_found(response_id)
    return found[0]


def delete(store: ResponseStore, response_id: str) -> dict[str, Any]:
    if not store.delete(response_id):
        raise not_found(response_id)
    # The published description documents no body; this is what the real API answers.
    return {"id": response_id, "object": "response", "deleted": True}


# -- streaming ----------------------------------------------------------------------------------


def _event(kind: str, seq: int, **fields: Any) -> bytes:
    payload = {"type": kind, "sequence_number": seq, **fields}
    data = json.dumps(payload, ensure_ascii=False)
    return f"event: {kind}\ndata: {data}\n\n".encode()


def events(response: dict[str, Any]) -> AsyncIterator[bytes]:
    """The real API's semantic events for a finished response, in order."""
    pending = {**response, "status": "in_progress", "output": [], "completed_at": None}
    del pending["usage"]  # not known yet (the description has no null usage)

    async def gen() -> AsyncIterator[bytes]:
        seq = 0

        def nxt() -> int:
            nonlocal seq
            seq += 1
            return seq - 1

        yield _event("response.created", nxt(), response=pending)
        yield _event("response.in_progress", nxt(), response=pending)
        for i, item in enumerate(response["output"]):
            if item["type"] == "function_call":
                start = {**item, "status": "in_progress", "arguments": ""}
                yield _event("response.output_item.added", nxt(), output_index=i, item=start)
                for part in re.findall(r".{1,16}", item["arguments"], re.S):
                    yield _event(
                        "response.function_call_arguments.delta",
                        nxt(),
                        item_id=item["id"],
                        output_index=i,
                        delta=part,
                    )
                    await asyncio.sleep(0)
                yield _event(
                    "response.function_call_arguments.done",
                    nxt(),
                    item_id=item["id"],
                    output_index=i,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            else:
                part = item["content"][0]
                start = {**item, "status": "in_progress", "content": []}
                empty = {**part, "text": "", "logprobs": []}
                where = {"item_id": item["id"], "output_index": i, "content_index": 0}
                yield _event("response.output_item.added", nxt(), output_index=i, item=start)
                yield _event("response.content_part.added", nxt(), **where, part=empty)
                for piece in re.findall(r"\s*\S+|\s+", part["text"]):
                    yield _event(
                        "response.output_text.delta", nxt(), **where, delta=piece, logprobs=[]
                    )
                    await asyncio.sleep(0)
                yield _event(
                    "response.output_text.done",
                    nxt(),
                    **where,
                    text=part["text"],
                    logprobs=part["logprobs"],
                )
                yield _event("response.content_part.done", nxt(), **where, part=part)
            yield _event("response.output_item.done", nxt(), output_index=i, item=item)
        kind = "response.completed" if response["status"] == "completed" else "response.incomplete"
        yield _event(kind, nxt(), response=response)

    return gen()


def _or(value: Any, default: Any) -> Any:
    """A request field echoed in the response: an explicit null means the default."""
    return default if value is None else value


def _invalid_type(name: str, expected: str) -> errors.ApiError:
    """« Invalid type for 'input': expected … » (the short form, without what was sent)."""
    return errors.from_table(api_messages.INVALID_TYPE_SHORT, name=name, expected=expected)
