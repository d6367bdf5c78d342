"""The simulated engine's fitted models are cached by size, not by count."""

from __future__ import annotations

from helpers.kit_server.engines.simulated import replies


def test_a_class_worth_of_small_models_stays_cached(monkeypatch):
    monkeypatch.setattr(replies, "_MODELS", type(replies._MODELS)())
    fits = []

    def corpus(i):
        def load():
            fits.append(i)
            return {"prompts": [f"Bonjour {i}", "Salut"], "replies": ["COUCOU", "COUCOU"]}

        return load

    first = [replies.reply_model(f"ftjob-{i}", corpus(i)) for i in range(300)]
    again = [replies.reply_model(f"ftjob-{i}", corpus(i)) for i in range(300)]
    assert again == first and len(fits) == 300  # each fitted once


def test_the_cache_gives_back_the_oldest_models_past_its_budget(monkeypatch):
    monkeypatch.setattr(replies, "_MODELS", type(replies._MODELS)())
    monkeypatch.setattr(replies, "_CACHE_ENTRIES", 200)
    load = lambda: {"prompts": ["Bonjour tout le monde"] * 3, "replies": ["COUCOU"] * 3}  # noqa: E731
    for i in range(20):
        replies.reply_model(f"ftjob-{i}", load)
    kept = list(replies._MODELS)
    assert 1 <= len(kept) < 20 and kept[-1] == "ftjob-19"
    assert sum(map(replies._entries, replies._MODELS.values())) <= 200 or len(kept) == 1
