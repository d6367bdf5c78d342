"""Every response the kit server gives, checked against OpenAI's published OpenAPI description.

`recording_server(home, engine)` serves the kit server's app behind a recorder (ASGI
middleware): each response (JSON, server-sent events, errors) is kept with its route, and
`check_all(recorded)` validates each against the schema the description gives that route
(`tests/openapi/openai-openapi.trimmed.json`, from openai/openai-openapi; see its README)
with `jsonschema`. Known, documented differences between the description and the real API are
normalized first (`KNOWN_DIFFERENCES`).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPEC = json.loads((HERE / "openapi" / "openai-openapi.trimmed.json").read_text(encoding="utf-8"))

#: (method, path pattern) → schema of a 2xx JSON body (None: not JSON, nothing to check).
ROUTES: list[tuple[str, str, str | None]] = [
    ("POST", r"/v1/files", "OpenAIFile"),
    ("GET", r"/v1/files", "ListFilesResponse"),
    ("GET", r"/v1/files/[^/]+/content", None),
    ("GET", r"/v1/files/[^/]+", "OpenAIFile"),
    ("DELETE", r"/v1/files/[^/]+", "DeleteFileResponse"),
    ("POST", r"/v1/fine_tuning/jobs", "FineTuningJob"),
    ("GET", r"/v1/fine_tuning/jobs", "ListPaginatedFineTuningJobsResponse"),
    ("GET", r"/v1/fine_tuning/jobs/[^/]+/events", "ListFineTuningJobEventsResponse"),
    ("GET", r"/v1/fine_tuning/jobs/[^/]+/checkpoints", "ListFineTuningJobCheckpointsResponse"),
    ("GET", r"/v1/fine_tuning/jobs/[^/]+", "FineTuningJob"),
    ("POST", r"/v1/fine_tuning/jobs/[^/]+/(cancel|pause|resume)", "FineTuningJob"),
    ("GET", r"/v1/models", "ListModelsResponse"),
    ("GET", r"/v1/models/.+", "Model"),
    ("DELETE", r"/v1/models/.+", "DeleteModelResponse"),
    ("POST", r"/v1/chat/completions", "CreateChatCompletionResponse"),
    ("POST", r"/v1/responses", "Response"),
    ("GET", r"/v1/responses/[^/]+/input_items", "ResponseItemList"),
    ("GET", r"/v1/responses/[^/]+", "Response"),
    # The description documents no body for a deleted response (checked by hand below).
    ("DELETE", r"/v1/responses/[^/]+", None),
    ("POST", r"/v1/embeddings", "CreateEmbeddingResponse"),
    ("POST", r"/v1/moderations", "CreateModerationResponse"),
]
STREAMS = {"/v1/chat/completions": "CreateChatCompletionStreamResponse"}
STREAMS["/v1/responses"] = "ResponseStreamEvent"


def _normalize_job(job: dict[str, Any]) -> dict[str, Any]:
    job = dict(job)
    # 1. The real API null-fills `error` on jobs that did not fail (public transcripts:
    #    `error=Error(code=None, message=None, param=None)`); the description wants null there.
    if job.get("error") == {"code": None, "message": None, "param": None}:
        job["error"] = None
    # 2. `paused` (POST …/pause) is missing from the description's status enum.
    if job.get("status") == "paused":
        job["status"] = "running"
    return job


def decode_embeddings(page: dict[str, Any]) -> dict[str, Any]:
    # 3. `encoding_format: "base64"` (what the SDKs ask by default) returns each embedding as
    #    the base64 of little-endian float32 values; the description types it as an array.
    import base64
    import struct

    def floats(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        raw = base64.b64decode(value, validate=True)
        assert len(raw) % 4 == 0, "base64 embedding: not float32 values"
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))

    return {**page, "data": [{**d, "embedding": floats(d.get("embedding"))} for d in page["data"]]}


KNOWN_DIFFERENCES = {
    "CreateEmbeddingResponse": decode_embeddings,
    "FineTuningJob": _normalize_job,
    "ListPaginatedFineTuningJobsResponse": lambda page: {
        **page,
        "data": [_normalize_job(j) for j in page["data"]],
    },
}


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    content_type: str
    body: bytes


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 keywords still used in places of the 3.1 description, as JSON Schema says
    them: `nullable: true` (which `jsonschema` ignores) → the schema or null; boolean
    exclusive bounds → numeric ones."""
    if isinstance(node, dict):
        out = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
        # OpenAPI 3.0's boolean `exclusiveMinimum: true` + `minimum: x` is JSON Schema's
        # `exclusiveMinimum: x` (as a boolean, `jsonschema` would read it as the number 1).
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if isinstance(out.get(exclusive), bool):
                flag = out.pop(exclusive)
                if flag and bound in out:
                    out[exclusive] = out.pop(bound)
        if node.get("nullable") is True:
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


_SCHEMAS = _nullable(SPEC["components"]["schemas"])


def _validator(schema_name: str):
    from jsonschema import Draft202012Validator

    root = {"components": {"schemas": _SCHEMAS}, "$ref": f"#/components/schemas/{schema_name}"}
    return Draft202012Validator(root)


_VALIDATORS: dict[str, Any] = {}


def validate(schema_name: str, instance: Any) -> None:
    """Raise AssertionError naming every place the instance breaks the described schema."""
    instance = KNOWN_DIFFERENCES.get(schema_name, lambda x: x)(instance)
    if schema_name not in _VALIDATORS:
        _VALIDATORS[schema_name] = _validator(schema_name)
    errors = list(_VALIDATORS[schema_name].iter_errors(instance))
    if errors:
        best = sorted(errors, key=lambda e: len(list(e.absolute_path)))[:5]
        lines = [f"{list(e.absolute_path)}: {e.message[:300]}" for e in best]
        raise AssertionError(f"{schema_name}: " + " | ".join(lines))


def _event_schemas() -> dict[str, str]:
    """Stream event type → its schema (the branches of ResponseStreamEvent)."""
    out = {}
    root = SPEC["components"]["schemas"]["ResponseStreamEvent"]
    for branch in root.get("anyOf", root.get("oneOf", [])):
        name = branch["$ref"].rsplit("/", 1)[-1]
        kind = SPEC["components"]["schemas"][name].get("properties", {}).get("type", {})
        for value in kind.get("enum", [kind.get("const")]):
            out[value] = name
    return out


EVENT_SCHEMAS = _event_schemas()


def schema_for(method: str, path: str) -> str | None:
    for m, pattern, schema in ROUTES:
        if m == method and re.fullmatch(pattern, path):
            return schema
    raise AssertionError(f"no schema for {method} {path}")


def sse_payloads(body: bytes) -> list[Any]:
    out = []
    for line in body.decode().splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[len("data: ") :]))
    return out


def check(ex: Exchange) -> str:
    """Validate one exchange; returns what it was checked against."""
    if ex.status >= 400:
        validate("ErrorResponse", json.loads(ex.body))
        return "ErrorResponse"
    if ex.content_type.startswith("text/event-stream"):
        schema = STREAMS[ex.path]
        payloads = sse_payloads(ex.body)
        assert payloads, f"empty stream from {ex.path}"
        for payload in payloads:
            if schema == "ResponseStreamEvent":  # the event's own schema: precise errors
                assert payload.get("type") in EVENT_SCHEMAS, payload.get("type")
                validate(EVENT_SCHEMAS[payload["type"]], payload)
            validate(schema, payload)
        return schema
    schema = schema_for(ex.method, ex.path)
    if schema is None:
        if ex.method == "DELETE":
            body = json.loads(ex.body)
            assert body["deleted"] is True and body["object"] == "response", body
        return "-"
    validate(schema, json.loads(ex.body))
    return schema


def check_all(recorded: list[Exchange]) -> dict[str, int]:
    """Validate every recorded exchange; how many of each schema were checked."""
    seen: dict[str, int] = {}
    failures = []
    for ex in recorded:
        if not ex.path.startswith("/v1/"):
            continue
        try:
            name = check(ex)
        except AssertionError as err:
            failures.append(f"{ex.method} {ex.path} → {ex.status}: {err}")
            continue
        seen[name] = seen.get(name, 0) + 1
    assert not failures, "\n".join(failures[:20])
    return seen


class Recorder:
    """ASGI middleware keeping every HTTP response with its request's method and path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
                    self.exchanges.append(
                        Exchange(
                            scope["method"],
                            scope["path"],
                            start.get("status", 0),
                            headers.get("content-type", ""),
                            b"".join(chunks),
                        )
                    )
            await send(message)

        await self.app(scope, receive, keep)


@contextlib.contextmanager
def recording_server(home: Path, engine: str = "simulated") -> Iterator[tuple[str, Recorder]]:
    """A kit server (its real app, in a thread, behind its workspace's key: `kit_server.key(home)`)
    whose responses are all recorded."""
    from sandboxkit import register_key

    from helpers.asgi_thread import serve_in_thread
    from helpers.kit_server.door import KeyLock
    from helpers.kit_server.serving import build_app

    recorder = Recorder(build_app(home, engine=engine))
    locked = KeyLock(recorder, home)
    running = serve_in_thread(locked, name="contract-sandbox")
    url = f"http://127.0.0.1:{running.port}/v1"
    register_key(url, locked.key)
    try:
        yield url, recorder
    finally:
        running.stop()
