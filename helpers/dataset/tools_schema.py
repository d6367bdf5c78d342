"""Tools and function calls in a chat example: their shape is checked against a JSON Schema
(`TOOLS_SCHEMA`, jsonschema), one French problem per mistake with its field."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..i18n import N_, _
from .problem import Problem

_JSON_TEXT = "json-text"  # format: a string that holds JSON (function arguments)
_FUNCTION = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
        "description": {"type": "string"},
        "parameters": {"type": "object"},
        "strict": {"type": ["boolean", "null"]},
    },
    "additionalProperties": False,
}
_CALL = {
    "type": "object",
    "required": ["name", "arguments"],
    "properties": {
        "name": {"type": "string"},
        "arguments": {"type": "string", "format": _JSON_TEXT},
    },
    "additionalProperties": False,
}
TOOLS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "tools": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "function"],
                "properties": {"type": {"const": "function"}, "function": _FUNCTION},
                "additionalProperties": False,
            },
        },
        "functions": {"type": "array", "items": _FUNCTION},
        "parallel_tool_calls": {"type": "boolean"},
        "messages": {
            "type": "array",
            "items": {  # only messages that are objects (the other checks report the rest)
                "properties": {
                    "function_call": _CALL,
                    "tool_calls": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["id", "type", "function"],
                            "properties": {
                                "id": {"type": "string"},
                                "type": {"const": "function"},
                                "function": _CALL,
                            },
                            "additionalProperties": False,
                        },
                    },
                },
            },
        },
    },
}
_TOOL_FIXES = {
    "tools": N_(
        'Écris "tools": [{"type": "function", "function": {"name": "meteo", '
        '"description": "…", "parameters": {"type": "object", "properties": {…}}}}].'
    ),
    "functions": N_(
        'Écris "functions": [{"name": "meteo", "description": "…", '
        '"parameters": {"type": "object", "properties": {…}}}] (ou mieux : "tools").'
    ),
    "parallel_tool_calls": N_('Écris "parallel_tool_calls": true ou false, sans guillemets.'),
    "function_call": N_(
        'Écris "function_call": {"name": "meteo", "arguments": "{\\"ville\\": \\"Paris\\"}"} '
        "(arguments : un objet JSON encodé en texte)."
    ),
    "tool_calls": N_(
        'Écris "tool_calls": [{"id": "call_1", "type": "function", "function": '
        '{"name": "meteo", "arguments": "{\\"ville\\": \\"Paris\\"}"}}].'
    ),
}
_JSON_TYPES = {
    "array": N_("une liste [...]"),
    "object": N_("un objet {…}"),
    "string": N_("un texte entre guillemets"),
    "boolean": N_("true ou false (sans guillemets)"),
    "null": "null",
}


def has_tool_fields(obj: dict[str, Any]) -> bool:
    if "tools" in obj or "functions" in obj or "parallel_tool_calls" in obj:
        return True
    messages = obj.get("messages")
    return isinstance(messages, list) and any(
        isinstance(m, dict) and ("function_call" in m or "tool_calls" in m) for m in messages
    )


_tools_validator: Any = None


def _validator() -> Any:
    global _tools_validator
    if _tools_validator is None:
        import jsonschema  # only lines with tools or function calls need it

        formats = jsonschema.FormatChecker(formats=())

        @formats.checks(_JSON_TEXT, raises=(ValueError, RecursionError))
        def _json_text(value: object) -> bool:
            if isinstance(value, str):  # strict JSON: NaN and Infinity are not JSON (the API
                json.loads(value, parse_constant=_refuse_constant)  # refuses them)
            return True

        cls = jsonschema.validators.validator_for(TOOLS_SCHEMA)
        _tools_validator = cls(TOOLS_SCHEMA, format_checker=formats)
    return _tools_validator


def _refuse_constant(literal: str) -> Any:
    raise ValueError(f"{literal} is not JSON")


def _field_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def tool_problems(obj: dict[str, Any], line: int, ex: int) -> list[Problem]:
    """The tools / functions / parallel_tool_calls / function_call / tool_calls of one example
    against `TOOLS_SCHEMA`: one French problem per mistake, with its field."""
    out: list[Problem] = []
    for err in sorted(_validator().iter_errors(obj), key=lambda e: list(map(str, e.path))):
        path = list(err.path)
        index = None
        if path[:1] == ["messages"] and len(path) >= 3:
            index, path = path[1], path[2:]
        top = str(path[0]) if path else ""
        fld = _field_path(path)
        if index is not None:
            fld = f"messages[{index}].{fld}"
        name = f'"{fld.rsplit(".", 1)[-1]}"'
        value = json.dumps(err.instance, ensure_ascii=False)
        value = value if len(value) <= 40 else value[:37] + "…"
        kind = err.validator
        if kind == "type":
            types = err.validator_value
            types = [types] if isinstance(types, str) else types
            want = _(" ou ").join(_(_JSON_TYPES[t]) if t in _JSON_TYPES else t for t in types)
            message = _("{name} doit être {want}, pas {value}").format(
                name=name, want=want, value=value
            )
        elif kind == "const":
            message = _("{name} doit valoir {expected}, pas {value}").format(
                name=name, expected=json.dumps(err.validator_value), value=value
            )
        elif kind == "required":
            missing = next((k for k in err.validator_value if k not in err.instance), "?")
            message = _('il manque "{missing}" dans {name}').format(missing=missing, name=name)
        elif kind == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            message = _("clé inconnue {keys} dans {name}").format(
                keys=", ".join(map(repr, extra)), name=name
            )
        elif kind == "format":
            message = _("{name} n'est pas un JSON valide : {value}").format(name=name, value=value)
        elif kind == "minItems":
            message = _("{name} est une liste vide").format(name=name)
        elif kind == "pattern":
            message = _("{name} {value} : seulement lettres, chiffres, _ et - (64 au plus)").format(
                name=name, value=value
            )
        else:  # pragma: no cover - every keyword of TOOLS_SCHEMA is named above
            message = _("{name} mal formé ({kind})").format(name=name, kind=kind)
        code = "bad_tool_arguments" if kind == "format" else f"bad_{top or 'tools'}"
        if code == "bad_tool_calls" and len(path) > 1:
            code = "bad_tool_call"  # one call of the list
        out.append(
            Problem(
                code,
                message,
                _(_TOOL_FIXES.get(top, _TOOL_FIXES["tools"])),
                line=line,
                field=fld or None,
                example=ex,
                message_index=None if index is None else index + 1,
            )
        )
    return out
