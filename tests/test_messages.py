"""messages: the one rule for a message's text."""

from __future__ import annotations

from helpers.messages import content_text, value_text

PARTS = [{"type": "text", "text": "Bonjour "}, {"type": "text", "text": "toi"}]


def test_content_text():
    assert content_text("COUCOU") == "COUCOU"
    assert content_text(PARTS) == "Bonjour toi"  # joined with nothing in between
    mixed = [*PARTS, {"type": "image_url", "image_url": {"url": "x"}}, "oops", {"text": 3}]
    assert content_text(mixed) == "Bonjour toi"
    assert content_text(None) == content_text(3) == content_text({"text": "x"}) == ""
    assert content_text([]) == ""


def test_value_text():
    assert value_text("x") == "x" and value_text(PARTS) == "Bonjour toi"
    calls = [{"id": "c1", "function": {"name": "météo", "arguments": "{}"}}]
    assert value_text(calls) == '[{"id": "c1", "function": {"name": "météo", "arguments": "{}"}}]'
    mixed = [*PARTS, {"type": "image_url"}]
    assert value_text(mixed).startswith("[{")  # not only text parts: its JSON
    assert value_text(3) == "3" and value_text([]) == ""
    deep: list = []
    node = deep
    for _ in range(100_000):
        node.append([])
        node = node[0]
    assert value_text(deep) == ""  # too deep for JSON and repr: never raises
    assert value_text({1j}) == "{1j}"
