"""Structured outputs and tools, shared by every engine: `response_format` and `tools`.

- Requests: `response_format` (`text`, `json_object`, `json_schema` with `strict`), `tools`
  and `tool_choice` are checked as the real API checks them; a strict schema must close every
  object (`additionalProperties: false`) and require every property, as with OpenAI.
- Answers: an engine's own text becomes the content or the tool call the request asks for. A
  text that already is a valid instance (a model fine-tuned on JSON answers) is kept as is;
  otherwise an instance of the schema is built from the text (strings carry it). Every
  instance is validated with `jsonschema` before it leaves: the sandbox never answers an
  instance its schema refuses.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..messages import content_text
from . import errors

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: How an engine's reply says "these tool calls" (a fine-tuned model trained on tool calls).
TOOL_CALLS_MARK = "\u2063tool_calls:"


def _validator(schema: dict[str, Any]):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


def check_schema(schema: Any, param: str, what: str) -> None:
    """A JSON Schema the `jsonschema` library accepts (else the API's 400)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, dict):
        raise errors.bad_request(
            f"Invalid schema for {what}: schema must be a JSON Schema of 'type: \"object\"'.",
            param=param,
            code="invalid_json_schema",
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise errors.bad_request(
            f"Invalid schema for {what}: {exc.message}", param=param, code="invalid_json_schema"
        ) from None


def strict_problem(schema: Any, context: tuple[str, ...] = ()) -> str | None:
    """Why a schema is not valid for strict mode (None if it is): every object closed and
    requiring all its properties, recursively (the real API's two most common refusals)."""
    if not isinstance(schema, dict):
        return None
    if schema.get("type") == "object" or "properties" in schema:
        where = f"In context={context!r}"
        if schema.get("additionalProperties") is not False:
            return f"{where}, 'additionalProperties' is required to be supplied and to be false."
        props = schema.get("properties") or {}
        missing = [k for k in props if k not in (schema.get("required") or [])]
        if missing:
            return (
                f"{where}, 'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
        for key, sub in props.items():
            problem = strict_problem(sub, (*context, "properties", key))
            if problem:
                return problem
    for key in ("items",):
        problem = strict_problem(schema.get(key), (*context, key))
        if problem:
            return problem
    for key in ("anyOf", "allOf"):
        for i, sub in enumerate(schema.get(key) or []):
            problem = strict_problem(sub, (*context, key, str(i)))
            if problem:
                return problem
    for key in ("$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            problem = strict_problem(sub, (*context, key, name))
            if problem:
                return problem
    return None


# -- requests ------------------------------------------------------------------------------


def _mentions_json(messages: list[dict[str, Any]]) -> bool:
    return any("json" in content_text(msg.get("content")).lower() for msg in messages)


def response_format(value: Any, messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """`{"type": "json_object"}`, `{"type": "json_schema", "name", "schema", "strict"}` or
    None (plain text)."""
    if value is None:
        return None
    if not isinstance(value, dict) or "type" not in value:
        raise errors.missing("response_format.type")
    kind = value["type"]
    if kind == "text":
        return None
    if kind == "json_object":
        if not _mentions_json(messages):
            # The rule is documented (JSON mode needs the word in the messages); the wording and
            # param are unconfirmed (no public transcript found).
            raise errors.bad_request(
                "'messages' must contain the word 'json' in some form, to use 'response_format' "
                "of type 'json_object'.",
                param="messages",
            )
        return {"type": "json_object"}
    if kind != "json_schema":
        raise errors.bad_request(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and "
            "'json_schema'.",
            param="response_format.type",
            code="invalid_value",
        )
    spec = value.get("json_schema")
    if not isinstance(spec, dict):
        raise errors.missing("response_format.json_schema")
    name = spec.get("name")
    if not isinstance(name, str):
        raise errors.missing("response_format.json_schema.name")
    if not NAME.match(name):
        raise errors.bad_request(
            "Invalid 'response_format.json_schema.name': string does not match pattern. "
            "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            param="response_format.json_schema.name",
            code="invalid_value",
        )
    schema = spec.get("schema", {"type": "object"})
    what = f"response_format '{name}'"
    check_schema(schema, "response_format", what)
    strict = spec.get("strict") is True
    if strict:
        problem = strict_problem(schema)
        if problem:
            # Wording as reported from the real API; the code is unconfirmed.
            raise errors.bad_request(
                f"Invalid schema for {what}: {problem}",
                param="response_format",
                code="invalid_json_schema",
            )
    return {"type": "json_schema", "name": name, "schema": schema, "strict": strict}


def tools(value: Any) -> tuple[dict[str, Any], ...]:
    """Function tools as `{"name", "description", "parameters", "strict"}`."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise errors.bad_request(
            "Invalid type for 'tools': expected an array of objects.",
            param="tools",
            code="invalid_type",
        )
    out = []
    for i, tool in enumerate(value):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise errors.bad_request(
                f"Invalid type for '{where}': expected an object.", param=where, code="invalid_type"
            )
        if tool.get("type", "function") != "function":
            raise errors.bad_request(
                f"Invalid value: '{tool.get('type')}'. Supported values are: 'function' and "
                "'custom'.",
                param=f"{where}.type",
                code="invalid_value",
            )
        function = tool.get("function")
        if not isinstance(function, dict):
            raise errors.missing(f"{where}.function")
        out.append(function_tool(function, f"{where}.function"))
    return tuple(out)


def function_tool(function: dict[str, Any], where: str) -> dict[str, Any]:
    """One function definition, checked (chat's `tools[i].function`, a Responses tool)."""
    name = function.get("name")
    if not isinstance(name, str):
        raise errors.missing(f"{where}.name")
    if not NAME.match(name):
        raise errors.bad_request(
            f"Invalid '{where}.name': string does not match pattern. Expected a string that "
            "matches the pattern '^[a-zA-Z0-9_-]+$'.",
            param=f"{where}.name",
            code="invalid_value",
        )
    parameters = function.get("parameters")
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    check_schema(parameters, f"{where}.parameters", f"function '{name}'")
    strict = function.get("strict") is True
    if strict:
        problem = strict_problem(parameters)
        if problem:
            # Wording and code as reported from the real API (unconfirmed in a public source).
            raise errors.bad_request(
                f"Invalid schema for function '{name}': {problem}",
                param=f"{where}.parameters",
                code="invalid_function_parameters",
            )
    return {
        "name": name,
        "description": function.get("description") or "",
        "parameters": parameters,
        "strict": strict,
    }


def functions(value: Any) -> tuple[dict[str, Any], ...]:
    """The 2023 `functions` (deprecated, still served): function definitions, unwrapped."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise errors.bad_request(
            "Invalid type for 'functions': expected an array of objects.",
            param="functions",
            code="invalid_type",
        )
    out = []
    for i, function in enumerate(value):
        if not isinstance(function, dict):
            raise errors.bad_request(
                f"Invalid type for 'functions[{i}]': expected an object.",
                param=f"functions[{i}]",
                code="invalid_type",
            )
        out.append(function_tool(function, f"functions[{i}]"))
    return tuple(out)


def function_call(value: Any, defined: tuple[dict[str, Any], ...]) -> str | dict[str, Any]:
    """The 2023 `function_call`: `none`, `auto` or `{"name": …}` (forces that function)."""
    if value is None:
        return "auto" if defined else "none"
    if not defined:
        # Confirmed (public transcript, 2024): param function_call, code null.
        raise errors.bad_request(
            "Invalid value for 'function_call': 'function_call' is only allowed when "
            "'functions' are specified.",
            param="function_call",
        )
    if isinstance(value, str):
        if value not in ("none", "auto"):
            raise errors.bad_request(
                f"Invalid value: '{value}'. Supported values are: 'none' and 'auto'.",
                param="function_call",
                code="invalid_value",
            )
        return value
    if isinstance(value, dict):
        name = value.get("name")
        if not isinstance(name, str):
            raise errors.missing("function_call.name")
        if name not in {f["name"] for f in defined}:
            # Unconfirmed wording (the tool_choice one, for functions).
            raise errors.bad_request(
                f"Invalid value for 'function_call': function '{name}' not found in 'functions'.",
                param="function_call",
            )
        return {"name": name}
    raise errors.bad_request(
        "Invalid type for 'function_call': expected one of a string or an object.",
        param="function_call",
        code="invalid_type",
    )


def tool_choice(value: Any, defined: tuple[dict[str, Any], ...]) -> str | dict[str, Any]:
    """`none`, `auto`, `required` or `{"name": …}` (a named function)."""
    if value is None:
        return "auto" if defined else "none"
    if not defined:
        # Wording as reported from the real API (unconfirmed in a public source).
        raise errors.bad_request(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            param="tool_choice",
        )
    if isinstance(value, str):
        if value not in ("none", "auto", "required"):
            raise errors.bad_request(
                f"Invalid value: '{value}'. Supported values are: 'none', 'auto', and 'required'.",
                param="tool_choice",
                code="invalid_value",
            )
        return value
    if isinstance(value, dict):
        name = (
            (value.get("function") or {}).get("name") if value.get("type") == "function" else None
        )
        name = name or value.get("name")  # the Responses API's flat form
        if not isinstance(name, str):
            raise errors.missing("tool_choice.function.name")
        if name not in {t["name"] for t in defined}:
            raise errors.bad_request(
                f"Invalid value for 'tool_choice': function '{name}' not found in 'tools'.",
                param="tool_choice",
            )
        return {"name": name}
    raise errors.bad_request(
        "Invalid type for 'tool_choice': expected one of a string or an object.",
        param="tool_choice",
        code="invalid_type",
    )


# -- answers -------------------------------------------------------------------------------


def valid(instance: Any, schema: dict[str, Any]) -> bool:
    return _validator(schema).is_valid(instance)


def instance(schema: dict[str, Any], text: str) -> Any:
    """An instance of `schema` whose strings carry `text`, validated with `jsonschema`."""
    value = _build(schema, schema, text, 0)
    errs = sorted(_validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if errs:  # a schema the builder cannot satisfy: say so, never answer an invalid instance
        raise errors.ApiError(
            500,
            f"The sandbox could not build an instance of this schema: {errs[0].message}",
            type="server_error",
        )
    return value


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        if part:
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
    return node if isinstance(node, dict) else {}


def _with_defs(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """A sub-schema that can still resolve the root's `$defs` / `definitions`."""
    defs: dict[str, Any] = {k: root[k] for k in ("$defs", "definitions") if k in root}
    return {**schema, **defs}


def _build(schema: Any, root: dict[str, Any], text: str, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > 12:
        return None
    if "$ref" in schema:
        return _build(_resolve(schema["$ref"], root), root, text, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            branches = schema[key]
            for branch in branches:
                candidate = _build(branch, root, text, depth + 1)
                if _validator(_with_defs(branch, root)).is_valid(candidate):
                    return candidate
            return _build(branches[0], root, text, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part["$ref"], root) if "$ref" in part else part)
        return _build(merged, root, text, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: _build(sub, root, text, depth + 1) for key, sub in props.items()}
    if kind == "array":
        low = schema.get("minItems", 1)
        high = schema.get("maxItems", max(1, low))
        count = max(low, min(1, high))
        return [_build(schema.get("items", {}), root, text, depth + 1) for _ in range(count)]
    if kind == "string":
        return _string(schema, text)
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    return None


_FORMATS = {
    "date-time": "2024-07-18T12:00:00Z",
    "date": "2024-07-18",
    "time": "12:00:00",
    "email": "eleve@example.com",
    "uri": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _string(schema: dict[str, Any], text: str) -> str:
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    value = text
    high = schema.get("maxLength")
    if isinstance(high, int):
        value = value[:high]
    low = schema.get("minLength", 0)
    if len(value) < low:
        value = value + "…" * (low - len(value))
    return value


def _number(schema: dict[str, Any], kind: str) -> int | float:
    value: float = 0
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "exclusiveMinimum" in schema:
        value = max(value, schema["exclusiveMinimum"] + (1 if kind == "integer" else 0.5))
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        value = schema["exclusiveMaximum"] - (1 if kind == "integer" else 0.5)
    if kind == "integer":
        import math

        return int(math.ceil(value))
    return float(value)


def json_content(fmt: dict[str, Any], text: str) -> str:
    """The content a `response_format` asks for, from an engine's text."""
    parsed = _parse(text)
    if fmt["type"] == "json_object":
        value = parsed if isinstance(parsed, dict) else {"response": text}
    else:
        schema = fmt["schema"]
        value = parsed if parsed is not None and valid(parsed, schema) else instance(schema, text)
    return json.dumps(value, ensure_ascii=False)


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def encode_tool_calls(calls: list[dict[str, Any]]) -> str:
    """A reply standing for tool calls (`[{"name", "arguments"}]`, arguments as JSON text)."""
    return TOOL_CALLS_MARK + json.dumps(calls, ensure_ascii=False, sort_keys=True)


def tool_calls_in(text: str | None, defined: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """Tool calls an engine's text stands for: the mark of a fine-tuned reply, or a JSON object
    `{"name", "arguments"}` (optionally in `<tool_call>` tags) naming a defined function."""
    if not text:
        return []
    names = {t["name"] for t in defined}
    if text.startswith(TOOL_CALLS_MARK):
        calls = _parse(text[len(TOOL_CALLS_MARK) :]) or []
    else:
        inner = re.search(r"<tool_call>\s*(.*?)\s*</tool_call>", text, re.S)
        found = _parse(inner.group(1) if inner else text.strip())
        calls = [found] if isinstance(found, dict) else found if isinstance(found, list) else []
    out = []
    for call in calls:
        if isinstance(call, dict) and isinstance(call.get("function"), dict):
            call = call["function"]  # the API's own form, as a model trained on it writes it
        if not isinstance(call, dict) or call.get("name") not in names:
            continue
        args = call.get("arguments", call.get("parameters", {}))
        out.append({"name": call["name"], "arguments": args})
    return out


def arguments(tool: dict[str, Any], proposed: Any, hint: str) -> str:
    """The JSON arguments of a call: the proposed ones if valid against the function's
    parameters, else an instance built from the hint."""
    schema = tool["parameters"]
    value = _parse(proposed) if isinstance(proposed, str) else proposed
    if value is None or not valid(value, schema):
        value = instance(schema, hint)
    return json.dumps(value, ensure_ascii=False)


def best_tool(defined: tuple[dict[str, Any], ...], prompt: str) -> tuple[dict[str, Any], int]:
    """The defined function whose name and description share the most words with the prompt."""
    words = {w for w in re.findall(r"\w{4,}", prompt.lower())}

    def overlap(tool: dict[str, Any]) -> int:
        own = re.findall(r"\w{4,}", f"{tool['name'].replace('_', ' ')} {tool['description']}")
        return len(words & {w.lower() for w in own})

    scored = [(overlap(t), -i, t) for i, t in enumerate(defined)]
    score, _, tool = max(scored, key=lambda s: (s[0], s[1]))
    return tool, score
