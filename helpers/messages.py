"""Chat messages as text: the one rule for turning a message's content into a string.

A message's `content` is either a string or a list of content parts
(`[{"type": "text", "text": "…"}, {"type": "image_url", …}]`). Its text is:

- a string: itself;
- a list of parts: the `text` of every part that has a string `text`, joined with nothing
  between them (the parts are one message, cut where the sender chose; no space is added);
- anything else (None, a number, a dict…): the empty string.

Token counting needs the text of *any* field of a message (`tool_calls`, `function_call`…):
`value_text` gives the content rule above when the value is a string or a list made only of
text parts, and the value's JSON text otherwise (what the model reads for a tool call).

Leaf module: imports nothing from the kit.
"""

from __future__ import annotations

import json
from typing import Any

# A value whose JSON cannot be produced (too deep, not JSON) is counted on its repr, cut here.
_REPR_LIMIT = 100_000


def content_text(content: Any) -> str:
    """The text of a message's `content`: a string as is, text parts joined with "", else ""."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""


def _all_text_parts(value: list[Any]) -> bool:
    return all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in value)


def value_text(value: Any) -> str:
    """The text a tokenizer sees for one field of a message (never raises).

    A string, or a list made only of text parts: `content_text`. Anything else (tool calls,
    mixed parts, numbers, dicts): its JSON text (`ensure_ascii=False`); a value JSON cannot
    write (too deep, not JSON) falls back to its `repr`, cut to 100,000 characters (or
    to nothing when even that fails).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list) and _all_text_parts(value):
        return content_text(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError, TypeError):
        pass
    try:
        return str(value)[:_REPR_LIMIT]
    except (ValueError, RecursionError):  # too deep even for repr: nothing to count
        return ""
