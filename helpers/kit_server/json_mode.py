"""JSON mode (`response_format: {"type": "json_object"}`): the object the prompt asks for.

A real model in JSON mode writes the object its system or user messages describe, and the
libraries that parse JSON mode into their own schema count on it. The sandbox has no language
model: it reads that description and fills it with the engine's text. In order of precision:

1. a JSON Schema written in the messages (Instructor's and LangChain's JSON modes put the
   model's schema there): an instance of the last one, validated with `jsonschema`;
2. an example object (« réponds avec {"titre": "...", "note": 0} »): the same keys, each value
   of the example's type;
3. keys named in prose (« avec les clés "titre" (texte) et "note" (entier) », "with the keys
   'name' and 'age' (integer)"): those keys, typed by the word that follows each one;
4. nothing described: `{"response": text}`.

Strings carry the engine's text, numbers are 0, booleans true, lists hold one string.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..messages import content_text
from . import errors, structured

#: Braces tried as the start of a JSON object, at most, per request (a long prompt full of
#: braces costs no more than this).
MAX_ATTEMPTS = 400
_KEYWORDS = r"(?:keys?|fields?|propert(?:y|ies)|attributes?|clés?|cles?|champs?|propriétés?|attributs?)"  # i18n: keep (words matched in prompts)
_NAME = r"[A-Za-z_][\w-]{0,63}"
_QUOTED = re.compile(rf"[\"'`«“‘]\s*({_NAME})\s*[\"'`»”’]")  # i18n: keep (a regex)
_LISTED = re.compile(
    rf"\b{_KEYWORDS}\s*:\s*({_NAME}(?:\s*(?:,|\bet\b|\band\b|&)\s*{_NAME})*)", re.IGNORECASE
)
_KEYWORD = re.compile(rf"\b{_KEYWORDS}\b", re.IGNORECASE)
# The words a prompt uses for each type, in English and French.
_NUMBER = r"\b(?:number|float|decimal|nombres?|réels?|décimal)\b"  # i18n: keep (matched words)
_BOOLEAN = r"\b(?:boolean|bool|booléens?|true|false|vrai|faux)\b"  # i18n: keep (matched words)
_STRING = r"\b(?:string|str|text|texte|chaîne)\b"  # i18n: keep (matched words)
_TYPES = [
    ("integer", re.compile(r"\b(?:integer|int|entiers?|whole number)\b", re.IGNORECASE)),
    ("number", re.compile(_NUMBER, re.IGNORECASE)),
    ("boolean", re.compile(_BOOLEAN, re.IGNORECASE)),
    ("array", re.compile(r"\b(?:list|array|liste|tableau)\b", re.IGNORECASE)),
    ("string", re.compile(_STRING, re.IGNORECASE)),
]


def content(messages: list[dict[str, Any]], text: str) -> str:
    """The content of a JSON-mode answer: the engine's own JSON object when it wrote one (a
    model fine-tuned on JSON answers keeps its format), else the object the prompt asks for."""
    try:
        own = json.loads(text)
    except ValueError:
        own = None
    value = own if isinstance(own, dict) else answer(messages, text)
    return json.dumps(value, ensure_ascii=False)


def answer(messages: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The JSON object a JSON-mode request gets, from the engine's `text`."""
    texts = [
        content_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") in ("system", "developer", "user")
    ]
    schemas, examples = _objects(texts)
    for schema in reversed(schemas):
        try:
            value = structured.instance(schema, text)
        except errors.ApiError:  # a schema the builder cannot satisfy: the next description
            continue
        if isinstance(value, dict):
            return value
    if examples:
        return _like(examples[-1], text)
    keys = _prose_keys(texts)
    if keys:
        return {key: _typed(kind, text) for key, kind in keys.items()}
    return {"response": text}


def _objects(texts: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The JSON objects written in the texts: (JSON Schemas, example objects), in order."""
    decoder = json.JSONDecoder()
    schemas: list[dict[str, Any]] = []
    examples: list[dict[str, Any]] = []
    attempts = 0
    for text in texts:
        start = text.find("{")
        while start >= 0 and attempts < MAX_ATTEMPTS:
            attempts += 1
            try:
                value, end = decoder.raw_decode(text, start)
            except ValueError:
                start = text.find("{", start + 1)
                continue
            if isinstance(value, dict) and value:
                (schemas if _is_schema(value) else examples).append(value)
            start = text.find("{", end)
    return schemas, examples


def _is_schema(value: dict[str, Any]) -> bool:
    props = value.get("properties")
    if isinstance(props, dict) and props and all(isinstance(v, dict) for v in props.values()):
        return True
    return value.get("type") == "object" and ("$defs" in value or "definitions" in value)


def _like(example: Any, text: str) -> Any:
    """A value shaped as the example: same keys, each value of the example's type."""
    if isinstance(example, dict):
        return {key: _like(value, text) for key, value in example.items()}
    if isinstance(example, list):
        return [_like(example[0], text)] if example else []
    if isinstance(example, bool):
        return example
    if isinstance(example, int):
        return 0
    if isinstance(example, float):
        return 0.0
    if example is None:
        return None
    return text


def _typed(kind: str, text: str) -> Any:
    return {"integer": 0, "number": 0.0, "boolean": True, "array": [text]}.get(kind, text)


def _prose_keys(texts: list[str]) -> dict[str, str]:
    """Keys named in sentences about keys or fields, each with the type its words give."""
    keys: dict[str, str] = {}
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
            if not _KEYWORD.search(sentence):
                continue
            # (name, where its own words start, where they end)
            found = [(m.group(1), m.end(), m.end() + 40) for m in _QUOTED.finditer(sentence)]
            if not found:
                listed = _LISTED.search(sentence)
                if listed:
                    names = re.split(r"\s*(?:,|\bet\b|\band\b|&)\s*", listed.group(1))
                    found = [(n, listed.end(), listed.end()) for n in names if n]
            for i, (name, start, end) in enumerate(found):
                if i + 1 < len(found):  # up to the next key's own quote
                    end = min(end, sentence.rfind(found[i + 1][0], 0, found[i + 1][1]) - 1)
                keys.setdefault(name, _kind_in(sentence[start:end]))
    return keys


def _kind_in(words: str) -> str:
    for kind, pattern in _TYPES:
        if pattern.search(words):
            return kind
    return "string"
