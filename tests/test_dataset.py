"""dataset: the broken-files corpus (one per problem, plus mixes), hypothesis garbage, I/O, pandas."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import dataset, models, tokens

HERE = Path(__file__).resolve().parent
BROKEN = HERE / "data" / "broken"
COURSE_BROKEN = HERE.parent / "data" / "broken"
_spec = importlib.util.spec_from_file_location("make_broken", HERE / "data" / "make_broken.py")
make_broken = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_broken)
FILE_LEVEL = {
    "too_few_examples",
    "empty_file",
    "unreadable",
    "bad_extension",
    "internal",
    "model_alias",
}


def test_corpus_is_up_to_date():
    for name, (content, _) in make_broken.FILES.items():
        raw = content if isinstance(content, bytes) else content.encode("utf-8")
        assert (BROKEN / name).read_bytes() == raw, f"run tests/data/make_broken.py ({name})"


@pytest.mark.parametrize("name", sorted(make_broken.EXPECTED))
def test_each_broken_file(name):
    report = dataset.check_file(BROKEN / name, make_broken.MODEL.get(name, models.DEFAULT_MODEL))
    found = {(p.code, p.line) for p in report.problems}
    expected = set(make_broken.EXPECTED[name])
    assert expected <= found, report.summary()
    # nothing else wrong in files that hold a single problem
    if not name.startswith("mix"):
        assert {c for c, _ in found} == {c for c, _ in expected}, report.summary()
    for p in report.problems:
        assert p.code in FILE_LEVEL or p.line is not None, p
        assert p.message and p.fix and str(p)
    if name == "ok.jsonl":
        assert report.ok and len(report.examples) == 12


def test_course_broken_files_each_fail_once():
    expected = {
        "virgule_finale.jsonl": "trailing_comma",
        "plusieurs_lignes.jsonl": "multiline_json",
        "bom.jsonl": "bom",
        "sans_assistant.jsonl": "no_assistant",
    }
    for name, code in expected.items():
        report = dataset.check_file(COURSE_BROKEN / name)
        assert [p.code for p in report.errors] == [code], report.summary()


def test_guide_three_examples_too_few():
    report = dataset.check_file(HERE.parent / "data" / "guide_3_exemples.jsonl")
    assert [p.code for p in report.errors] == ["too_few_examples"]


def test_coucou_is_ready():
    report = dataset.check_file(HERE.parent / "data" / "coucou.jsonl")
    assert report.ok, report.summary()


def test_an_alias_is_counted_but_the_check_says_use_the_dated_name():
    """Issue 20: the real API refuses the alias for a job; counting and cost still work."""
    coucou = HERE.parent / "data" / "coucou.jsonl"
    report = dataset.check_file(coucou, "gpt-4o-mini")
    assert report.ok  # a warning: the file itself is fine
    (alias,) = [p for p in report.warnings if p.code == "model_alias"]
    assert alias.line is None and "« gpt-4o-mini-2024-07-18 »" in alias.fix
    assert "nom daté" in report.summary()
    assert report.cost().model == "gpt-4o-mini-2024-07-18"
    dated = dataset.check_file(coucou, "gpt-4o-mini-2024-07-18")
    assert not [p for p in dated.problems if p.code == "model_alias"]


def test_cookbook_crash_cases_are_reported_not_raised():
    # The Cookbook crashes on weight (int passed to encode) and content: null.
    lines = [
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b", "weight": 1},
            ]
        },
        {"messages": [{"role": "user", "content": None}, {"role": "assistant", "content": "b"}]},
    ]
    report = dataset.check_examples(lines * 6)
    assert {p.code for p in report.errors} == {"null_content"}
    assert len(report.token_counts) == 12


def test_token_counts_match_tokens_module():
    examples = [
        dataset.example("Bonjour, ça va ?", "COUCOU", system="Tu réponds COUCOU."),
        {
            "messages": [
                {"role": "user", "content": "x", "name": "léa"},
                {"role": "assistant", "content": "y"},
            ]
        },
    ]
    report = dataset.check_examples(examples * 5)
    model = models.DEFAULT_MODEL
    assert report.token_counts == [
        tokens.count_messages(e["messages"], model) for e in examples * 5
    ]


def test_long_lines_are_counted_during_the_check():
    long = dataset.example("mot " * 5000, "COUCOU")
    report = dataset.check_examples(
        [long] + [dataset.example(f"q{i}", "r") for i in range(10)], "gpt-3.5-turbo-0125"
    )
    assert report._counts[0] is not None and report._counts[1] is None  # short ones: lazily
    assert report.token_counts[0] > 5000 and all(c is not None for c in report.token_counts)


def test_deep_and_huge_json_do_not_crash():
    data = b"[" * 100_000 + b"\n" + b'{"a": ' + b"1" * 5000 + b"}\n"
    report = dataset.check_bytes(data)
    assert [p.line for p in report.problems if p.code == "invalid_json"] == [1, 2]
    deep = '{"messages": [{"role": "assistant", "content": ' + "[" * 3000 + "]" * 3000 + "}]}\n"
    assert dataset.check_bytes(deep.encode()).problems


def test_stats_like_the_cookbook():
    report = dataset.check_examples(
        [dataset.example("Bonjour", "COUCOU", system="s")] * 3 + [dataset.example("a", "bb")]
    )
    stats = report.stats()
    assert (
        stats["exemples"] == 4
        and stats["exemples_sans_system"] == 1
        and stats["exemples_sans_user"] == 0
    )
    for key in ("messages_par_exemple", "jetons_par_exemple", "jetons_assistant_par_exemple"):
        assert set(stats[key]) == {"min", "max", "moyenne", "médiane"}
    assert stats["jetons_total"] == sum(report.token_counts)


def test_write_read_roundtrip(tmp_path):
    examples = [dataset.example(f"Q{i} — é", "COUCOU") for i in range(10)]
    path = dataset.write_jsonl(examples, tmp_path / "sub" / "d.jsonl")
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\n") == 10 and b"\r" not in raw
    assert "é".encode() in raw
    assert dataset.read_jsonl(path) == examples
    path.write_text("oops\n", encoding="utf-8")
    with pytest.raises(dataset.DatasetError) as info:
        dataset.read_jsonl(path)
    assert "Ligne 1" in str(info.value)


def test_extension_and_missing_file(tmp_path):
    p = tmp_path / "d.json"
    dataset.write_jsonl([dataset.example("a", "b")] * 10, p)
    assert [x.code for x in dataset.check_file(p).errors] == ["bad_extension"]
    assert [x.code for x in dataset.check_file(tmp_path / "none.jsonl").errors] == ["unreadable"]


def test_dataframe_roundtrip():
    examples = [
        dataset.example("Bonjour", "COUCOU", system="Sois bref"),
        dataset.example("Salut", "COUCOU"),
        {
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b", "weight": 0},
                {"role": "user", "content": "c"},
                {"role": "assistant", "content": "d"},
            ]
        },
    ]
    df = dataset.to_dataframe(examples)
    assert list(df.columns) == ["system", "user", "assistant", "messages"]
    assert dataset.from_dataframe(df) == examples
    simple = dataset.to_dataframe(examples[:2])
    assert list(simple.columns) == ["system", "user", "assistant"]
    assert dataset.from_dataframe(simple) == examples[:2]
    report = dataset.check_examples(examples * 4)
    assert len(report.to_dataframe()) == 12
    assert list(report.problems_dataframe().columns) == [
        "ligne",
        "champ",
        "gravité",
        "problème",
        "solution",
    ]


# ---------------------------------------------------------------------------------------
# Garbage: never an exception, every line-level problem has a line number.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "messages",
                    "role",
                    "content",
                    "weight",
                    "name",
                    "tool_calls",
                    "function",
                    "id",
                    "type",
                    "arguments",
                    "tools",
                    "x",
                ]
            )
            | st.text(max_size=5),
            kids,
            max_size=4,
        )
    ),
    max_leaves=20,
)
messages_like = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system", "tool", "User", "bot", 3, None])},
        optional={
            "content": json_values,
            "weight": json_values,
            "tool_calls": json_values,
            "name": json_values,
            "tool_call_id": json_values,
        },
    ),
    max_size=4,
)
example_like = st.fixed_dictionaries(
    {"messages": messages_like}, optional={"tools": json_values, "extra": json_values}
)


def _assert_well_formed(report: dataset.Report) -> None:
    for p in report.problems:
        assert p.code in FILE_LEVEL or (p.line is not None and p.line >= 1), p
        text = str(p)  # what the learner reads: where, what, how to fix
        assert text.startswith(("❌ ", "⚠️ ")) and p.message in text and p.fix in text, text
        assert (f"Ligne {p.line}" if p.line else "Fichier") in text, text
    assert len(report.token_counts) == len(report.examples)
    report.summary()
    report.stats()


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes(data):
    _assert_well_formed(dataset.check_bytes(data))


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(json_values | example_like, max_size=12))
def test_random_json_lines(values):
    data = "".join(json.dumps(v) + "\n" for v in values).encode()
    _assert_well_formed(dataset.check_bytes(data))


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(example_like, max_size=12),
    st.lists(
        st.tuples(
            st.integers(0, 2000),
            st.sampled_from(
                [b",", b"\n", b"{", b"]", b"\xef\xbb\xbf", b"\xff", b"\r\n", b"'", b"\\"]
            ),
        ),
        max_size=5,
    ),
)
def test_mutated_examples(values, cuts):
    data = bytearray("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values).encode())
    for pos, junk in cuts:
        data[min(pos, len(data)) : min(pos, len(data))] = junk
    _assert_well_formed(dataset.check_bytes(bytes(data)))


# ---------------------------------------------------------------------------------------
# Figures only (`keep_examples=False`, what `python -m helpers check` does): the same report.


def _same_report(path: Path, model: str = models.DEFAULT_MODEL) -> None:
    full = dataset.check_file(path, model)
    lean = dataset.check_file(path, model, keep_examples=False)
    assert lean.problems == full.problems
    assert (lean.n_lines, lean.n_examples, lean.ok) == (full.n_lines, full.n_examples, full.ok)
    assert lean.token_counts == full.token_counts
    assert lean.stats() == full.stats()
    assert lean.summary() == full.summary()
    assert lean.examples == []


@pytest.mark.parametrize("name", sorted(make_broken.EXPECTED))
def test_figures_only_check_matches_the_full_check(name):
    _same_report(BROKEN / name, make_broken.MODEL.get(name, models.DEFAULT_MODEL))


def test_figures_only_check_on_a_larger_file(tmp_path):
    examples = [
        dataset.example(f"Question {i} : {'é' * (i % 7)} ?", "COUCOU" if i % 3 else f"R{i}", "Sys")
        for i in range(3000)
    ]
    examples[10] = {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b", "weight": 1},
        ]
    }
    examples[20] = examples[5]
    lines = dataset.dumps_jsonl(examples).split("\n")
    lines.insert(30, "")
    lines.insert(40, '{"messages": [')
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    _same_report(path)
    long = tmp_path / "long.jsonl"
    dataset.write_jsonl([dataset.example("mot " * 20_000, "COUCOU")] * 2 + examples[:10], long)
    _same_report(long, "gpt-3.5-turbo-0125")
    assert "too_long" in {
        p.code for p in dataset.check_file(long, "gpt-3.5-turbo-0125", keep_examples=False).problems
    }


def test_figures_only_check_of_a_missing_file(tmp_path):
    report = dataset.check_file(tmp_path / "none.jsonl", keep_examples=False)
    assert [p.code for p in report.errors] == ["unreadable"]


@settings(
    max_examples=examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(example_like, max_size=12),
    st.lists(
        st.tuples(
            st.integers(0, 2000),
            st.sampled_from([b",", b"\n", b"{", b"]", b"\xef\xbb\xbf", b"\xff", b"\r\n", b" \n"]),
        ),
        max_size=5,
    ),
)
def test_figures_only_check_matches_on_mutated_files(tmp_path, values, cuts):
    data = bytearray("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values).encode())
    for pos, junk in cuts:
        data[min(pos, len(data)) : min(pos, len(data))] = junk
    path = tmp_path / "m.jsonl"
    path.write_bytes(bytes(data))
    _same_report(path)


def test_long_runs_of_broken_lines_keep_their_numbers(tmp_path):
    # each "{" line makes the check look up to 199 lines ahead for a multi-line object
    good = json.dumps(dataset.example("q", "r"))
    lines = ["{pas du JSON"] * 450 + [good] * 3 + ['{"messages": ['] * 250 + [good] * 9
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for report in (dataset.check_file(path), dataset.check_file(path, keep_examples=False)):
        bad = [p.line for p in report.problems if p.code == "invalid_json"]
        assert bad == [*range(1, 451), *range(454, 704)]
        assert [p.line for p in report.problems if p.code == "duplicate"] == [
            *range(452, 454),
            *range(704, 713),
        ]
        assert report.n_lines == len(lines) and report.n_examples == 12
