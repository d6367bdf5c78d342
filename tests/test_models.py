"""models: table, dates (fixed `today`), auto epochs, cost estimate."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

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


# --------------------------------------------------------------------------- one source of facts

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT_RE = re.compile(r"\bgpt-[0-9a-z.]+(?:-[a-z]+)*-(?:\d{4}-\d{2}-\d{2}|\d{4})\b")
FUTURE_WORDS = ("pourra", "seront", "sera ", "pourront", "répondra")


def _learner_text() -> dict[str, str]:
    texts = {
        name: (REPO / name).read_text(encoding="utf-8") for name in ("README.md", "README.en.md")
    }
    for path in sorted((REPO / "notebooks").glob("**/[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        texts[path.name] = "\n".join("".join(c["source"]) for c in nb["cells"])
    return texts


def test_default_model_is_the_cheapest_still_open():
    cheapest = min(models.open_models(NOW), key=lambda m: m.training_price_per_million)
    assert cheapest.name == models.DEFAULT_MODEL
    assert models.get(models.DEFAULT_MODEL).accepts_new_jobs(models.SANDBOX_TODAY)


def test_every_model_named_for_learners_is_in_the_table():
    for where, text in _learner_text().items():
        for name in SNAPSHOT_RE.findall(text):
            assert models.get(name) is not None, f"{where} names {name}, unknown to helpers.models"


def test_readme_lists_every_model_with_the_kits_facts():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert models.facts_markdown(models.CHECKED_ON) in readme
    for line in models.wind_down(models.CHECKED_ON):
        assert line in readme


def test_the_english_readme_has_every_model_and_date():
    readme = (REPO / "README.en.md").read_text(encoding="utf-8")
    for m in models.FINE_TUNABLE.values():
        assert f"| `{m.name}` | ${m.training_price_per_million:g} / million tokens" in readme
        assert f"{m.last_training_day:%Y-%m-%d}" in readme
    for day in (models.NEW_ORGS_REFUSED_FROM, models.FINE_TUNING_CLOSED_FROM, models.CHECKED_ON):
        assert f"{day:%Y-%m-%d}" in readme


@pytest.mark.parametrize("today", [BEFORE, NOW, date(2026, 12, 1), AFTER])
def test_tenses_follow_the_date_shown(today):
    for line in models.wind_down(today):
        day = date(*reversed([int(x) for x in line[:10].split("/")]))
        future = any(w in line for w in FUTURE_WORDS)
        assert future == (day > today), f"{today}: {line}"
    for m in models.FINE_TUNABLE.values():
        shut = m.shutdown_phrase(today)
        assert ("depuis" in shut) == m.is_shut_down(today), (today, shut)
        train = m.training_phrase(today)
        assert ("jusqu'au" in train) == m.accepts_new_jobs(today), (today, train)
        assert "prévu" not in shut + train


def test_availability_and_lists_agree():
    for today in (BEFORE, NOW, AFTER):
        listed = {m.name for m in models.listed(today)}
        opened = {m.name for m in models.open_models(today)}
        assert opened <= listed
        for name in models.FINE_TUNABLE:
            state = models.availability(name, today)
            assert (state == "open") == (name in opened)
            assert (state == "shut_down") == (name not in listed)
    assert models.availability("gpt-4.1-nano", NOW) == "shut_down"
    assert models.availability("ft:gpt-4o-mini-2024-07-18:o:s:x", NOW) == "inference_only"
    assert models.availability("gpt-5", NOW) == "unknown"
    assert models.offered(NOW) == [m.name for m in models.open_models(NOW)]
    assert models.offered(AFTER)  # after the end: still something to estimate a cost with
    assert models.world_today("sandbox") == models.SANDBOX_TODAY == NOW


def test_the_sandbox_lists_and_trains_what_the_facts_say(module_sandbox):
    import openai
    from sandboxkit import COUCOU, client, upload

    c = client(module_sandbox)
    from helpers.kit_server import base_models

    ids = {m.id for m in c.models.list() if not m.id.startswith("ft:")}
    others = set(base_models.OTHER_MODELS)  # embeddings and moderation: their own routes
    assert ids == {m.name for m in models.listed(models.SANDBOX_TODAY)} | others
    f = upload(c, COUCOU)
    for name in models.FINE_TUNABLE:
        if models.availability(name, models.SANDBOX_TODAY) == "open":
            c.fine_tuning.jobs.create(training_file=f.id, model=name)
        else:
            with pytest.raises(openai.BadRequestError):
                c.fine_tuning.jobs.create(training_file=f.id, model=name)


def test_aliases_need_the_dated_name():
    """Issue 20: the real API refuses `gpt-4o-mini` for fine-tuning; the kit says « utilise le
    nom daté » from this one place (the dataset check and the error diagnoses use it)."""
    assert models.dated_name("gpt-4o-mini") == "gpt-4o-mini-2024-07-18"
    assert models.dated_name("gpt-4o-mini-2024-07-18") is None
    advice = models.alias_advice("gpt-4o-mini", NOW)
    assert advice is not None and "« gpt-4o-mini-2024-07-18 »" in advice
    assert models.alias_advice("gpt-4o-mini-2024-07-18") is None
    # the alias of a shut-down model: the dated name would not help
    assert models.alias_advice("gpt-3.5-turbo", NOW) is None


def test_completion_token_limits():
    """What one answer may hold, per model (max_tokens above it: the real API's 400)."""
    assert models.get("gpt-4o-mini").completion_token_limit == 16_384
    assert models.get("gpt-4o-2024-08-06").completion_token_limit == 16_384
    assert models.get("gpt-4.1-mini-2025-04-14").completion_token_limit == 32_768
    assert models.get("gpt-3.5-turbo-0125").completion_token_limit == 4_096
