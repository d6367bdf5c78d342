"""Odd Accept-Language headers on the teacher page's texts (GET /classe/api/page-text): a
weight outside 0–1 cannot outrank a real preference, and `en_US` (an underscore, as in a
locale name) is English."""

from __future__ import annotations

from helpers.kit_server.classroom.page_text import accepted


def test_a_weight_outside_zero_to_one_is_no_weight():
    assert accepted("fr;q=1, en;q=inf") == ["fr"]
    assert accepted("fr;q=1, en;q=1e309") == ["fr"]
    assert accepted("fr;q=0.5, en;q=2") == ["fr"]
    assert accepted("en;q=nan, fr;q=0.1") == ["fr"]
    assert accepted("en;q=-1") == []
    assert accepted("fr;q=0.4, en;q=1.0") == ["en", "fr"]  # the bounds themselves are weights


def test_an_underscore_separates_the_region_too():
    assert accepted("en_US, fr;q=0.5") == ["en", "fr"]
