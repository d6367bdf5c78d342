"""A learner pastes a long text (a log, a traceback, an HTML error page) for the diagnoses:
the table's messages (helpers.api_messages) are recognised in it without the cost growing with
the cube of its length (a plain 4 KB paste took 20 s, 8 KB 2.5 min: the Evals message's two
leading `.+?` fields), and a message quoted after other text gets its own fields, not the text
before it."""

from __future__ import annotations

import pytest

from helpers import api_messages
from helpers.errors import explain

PROSE = "lorem ipsum dolor sit amet " * 300  # 8 KB of words and spaces, no API message


class _NotToBeRun:
    def search(self, text: str):
        raise AssertionError("the regex ran on a text that lacks the message's fixed parts")

    fullmatch = search


@pytest.fixture
def regexes_forbidden():
    """Every message's regex replaced by one that must not run (cached_property: per instance)."""
    saved = {m.name: m.__dict__.pop("pattern", None) for m in api_messages.MESSAGES}
    for m in api_messages.MESSAGES:
        m.__dict__["pattern"] = _NotToBeRun()
    yield
    for m in api_messages.MESSAGES:
        del m.__dict__["pattern"]
        if saved[m.name] is not None:
            m.__dict__["pattern"] = saved[m.name]


def test_a_long_paste_without_an_api_message_is_read_once(regexes_forbidden):
    assert api_messages.find(PROSE) is None
    for m in api_messages.MESSAGES:
        assert m.match(PROSE) is None
    assert explain(PROSE).code == "unknown"


def test_a_message_quoted_after_other_text_keeps_its_own_fields():
    quoted = api_messages.MAX_TOKENS_TOO_LARGE.render(name="max_tokens", value=5000, limit=4096)
    pasted = f"Error code: 400 - {{'error': {{'message': \"{quoted}\", 'type': 'x'}}}}"
    assert api_messages.MAX_TOKENS_TOO_LARGE.match(pasted) == {
        "name": "max_tokens",
        "value": "5000",
        "limit": "4096",
    }
    evals = api_messages.EVALS_SHUT_DOWN.render(method="GET", path="/v1/evals")
    fields = api_messages.EVALS_SHUT_DOWN.match(f"{PROSE}Error code: 410 - {evals}")
    assert fields == {"method": "GET", "path": "/v1/evals"}
    assert explain(PROSE + evals).code == api_messages.EVALS_SHUT_DOWN.diagnosis


def test_a_field_between_fixed_parts_is_bounded():
    """A hostile paste that repeats a message's fixed parts without completing it
    ("Job … is … and cannot" on every line) cost 5 s for 16 KB with unbounded fields."""
    for m in api_messages.MESSAGES:
        assert ".+?" not in m.pattern.pattern and ".*" not in m.pattern.pattern, m.name
    reason = "x" * api_messages.FIELD_CHARS
    text = api_messages.WORKSPACE_NOT_WRITABLE.render(reason=reason)
    assert api_messages.WORKSPACE_NOT_WRITABLE.match(text) == {"reason": reason}
    assert api_messages.WORKSPACE_NOT_WRITABLE.match(text.replace(reason, reason + "x")) is None
