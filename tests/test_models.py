"""models: table, dates (fixed `today`), auto epochs, cost estimate."""

from __future__ import annotations

from datetime import date

import pytest

from helpers import models

BEFORE = date(2026, 9, 1)
NOW = date(2026, 11, 23)
AFTER = date(2027, 1, 20)


def test_table_and_dates():
    assert models.CHECKED_ON == NOW
    assert models.get("gpt-3.5-turbo-0125").is_shut_down(NOW)
    assert not models.get("gpt-3.5-turbo-0125").is_shut_down(BEFORE)
    assert {m.name for m in models.open_models(NOW)} == {
        "gpt-4o-mini-2024-07-18",
        "gpt-4o-2024-08-06",
        "gpt-4.1-mini-2025-04-14",
        "gpt-4.1-2025-04-14",
    }
    assert models.open_models(AFTER) == []
    assert models.get("ft:gpt-4o-mini-2024-07-18:org:s:id").name == "gpt-4o-mini-2024-07-18"
    assert models.get("gpt-4o-mini").example_token_limit == 65_536
    assert models.get("unknown-model") is None
    assert models.DEFAULT_MODEL in models.FINE_TUNABLE


@pytest.mark.parametrize(
    ("n", "epochs"), [(3, 25), (10, 10), (12, 8), (34, 3), (100, 3), (9000, 2), (30000, 1)]
)
def test_auto_epochs(n, epochs):
    assert models.auto_epochs(n) == epochs


def test_estimate_cost():
    est = models.estimate_cost([100] * 10 + [70_000], "gpt-4o-mini-2024-07-18", n_epochs=2)
    assert est.tokens_per_epoch == 1000 + 65_536
    assert est.billed_tokens == 2 * (1000 + 65_536)
    assert est.usd == pytest.approx(est.billed_tokens * 3 / 1e6)
    assert est.truncated_examples == 1
    assert "époques" in est.describe()
    assert models.estimate_cost([10] * 10).epochs == 10
    with pytest.raises(ValueError):
        models.estimate_cost([1], "nope")


def test_steps_and_batch():
    assert models.total_steps(12, 3, 1) == 36
    assert models.auto_batch_size(12) == 1
    assert models.total_steps(0, 3, 1) == 0
