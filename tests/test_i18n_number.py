"""helpers.i18n.number: a number as the learner's language writes it (decimal comma and
narrow no-break space in French, point and comma in English)."""

from __future__ import annotations

import pytest

from helpers import settings  # noqa: F401 - the language's source (ATELIER_LANG)
from helpers.i18n import number


@pytest.mark.parametrize(
    ("value", "digits", "group", "fr", "en"),
    [
        (0.25, 2, False, "0,25", "0.25"),
        (0.0049, 4, False, "0,0049", "0.0049"),
        (3, 0, False, "3", "3"),
        (2.5, 0, False, "2", "2"),  # Python's rounding: half to even
        (-1.5, 1, False, "-1,5", "-1.5"),
        (12345.5, 1, True, "12\u202f345,5", "12,345.5"),
        (1624, 0, True, "1\u202f624", "1,624"),
    ],
)
def test_number_in_each_language(monkeypatch, value, digits, group, fr, en):
    monkeypatch.setenv("ATELIER_LANG", "fr")
    assert number(value, digits, group=group) == fr
    monkeypatch.setenv("ATELIER_LANG", "en")
    assert number(value, digits, group=group) == en
    assert number(value, digits, group=group, lang="fr") == fr  # a given language wins
