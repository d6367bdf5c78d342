"""Request parameters checked as the real API checks them, in its words.

What every resource shares: the JSON body (`json_body`), query parameters (`int_param`,
`list_order`), the typed values of a body (`number`, `boolean`, `metadata`) and the answer to
a parameter a route does not know (`unknown_argument`). Each resource (`resources/`) checks
its own parameters with these; the messages are the real API's English (`helpers.errors`
explains them in French on the learner's side).
"""

from __future__ import annotations

import json
from typing import Any

from . import errors

MAX_JSON_DEPTH = 64  # deeper bodies are refused (the real API's own limit is unpublished)


def json_body(raw: bytes) -> dict[str, Any]:
    """A request's JSON object (an empty body is an empty object), or the real API's 400.

    Refused as unparsable, like JSON that is not: NaN/Infinity literals (not JSON), strings
    with a lone UTF-16 surrogate (`"\\ud800"`: not Unicode text) and nesting deeper than
    `MAX_JSON_DEPTH`. (Unconfirmed: the exact answer of the real API to each of these.)
    """
    try:
        body = json.loads(raw or b"{}", parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise errors.invalid_json_body() from None
    if not isinstance(body, dict) or not _sound(body):
        raise errors.invalid_json_body()
    return body


def _not_json(literal: str) -> Any:
    raise ValueError(f"{literal} is not JSON")


def _sound(value: Any) -> bool:
    """No lone surrogate in any string or key, and no nesting deeper than MAX_JSON_DEPTH."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        if isinstance(item, str):
            if not _is_text(item):
                return False
        elif isinstance(item, dict):
            for key, child in item.items():
                if not _is_text(key):
                    return False
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def int_param(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(
            f"Invalid '{name}': expected an integer, but got '{raw}' instead.",
            param=name,
            code="invalid_type",
        ) from None
    if not low <= value <= high:
        raise errors.bad_request(
            f"Invalid '{name}': expected a value between {low} and {high}, "
            f"but got {value} instead.",
            param=name,
            code="invalid_value",
        )
    return value


def list_order(value: str) -> str:
    if value not in ("asc", "desc"):
        raise errors.bad_request(
            f"Invalid 'order': expected 'asc' or 'desc', but got '{value}'.",
            param="order",
            code="invalid_value",
        )
    return value


def unknown_argument(name: str) -> errors.ApiError:
    # Confirmed (public transcripts of the real API, 2025): param and code are null.
    return errors.bad_request(f"Unrecognized request argument supplied: {name}")


def number(
    value: Any, name: str, default: float, low: float, high: float, *, integer: bool = False
) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        # Confirmed wording (public transcripts): "Invalid type for 'temperature': expected a
        # decimal, but got a string instead." — "an integer" for integers.
        raise errors.invalid_type(name, "an integer" if integer else "a decimal", value)
    word = "integer" if integer else "decimal"
    if value > high:
        raise errors.bad_request(
            f"Invalid '{name}': {word} above maximum value. Expected a value <= {high:g}, "
            f"but got {value} instead.",
            param=name,
            code=f"{word}_above_max_value",
        )
    if value < low:
        raise errors.bad_request(
            f"Invalid '{name}': {word} below minimum value. Expected a value >= {low:g}, "
            f"but got {value} instead.",
            param=name,
            code=f"{word}_below_min_value",
        )
    return value


def boolean(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise errors.invalid_type(name, "a boolean", value)
    return value


MAX_METADATA_PAIRS = 16


def metadata(value: Any) -> dict[str, str] | None:
    """A `metadata` object (chat and jobs): at most 16 pairs of strings, keys ≤ 64 characters,
    values ≤ 512 (OpenAI's Metadata schema). Unconfirmed: the real API's exact wordings; these
    follow its usual type and length messages."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.invalid_type("metadata", "an object", value)
    if len(value) > MAX_METADATA_PAIRS:
        raise errors.bad_request(
            f"Invalid 'metadata': too many properties. Expected an object with at most "
            f"{MAX_METADATA_PAIRS} properties, but got an object with {len(value)} properties "
            "instead.",
            param="metadata",
            code="object_above_max_properties",
        )
    for key, item in value.items():
        if len(key) > 64:
            raise errors.bad_request(
                f"Invalid 'metadata': string too long. Expected a string with maximum length 64, "
                f"but got a string with length {len(key)} instead.",
                param="metadata",
                code="string_above_max_length",
            )
        if not isinstance(item, str):
            raise errors.invalid_type(f"metadata.{key}", "a string", item)
        if len(item) > 512:
            raise errors.bad_request(
                f"Invalid 'metadata.{key}': string too long. Expected a string with maximum "
                f"length 512, but got a string with length {len(item)} instead.",
                param=f"metadata.{key}",
                code="string_above_max_length",
            )
    return value
