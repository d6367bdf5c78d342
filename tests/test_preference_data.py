"""Preference pairs (DPO): the broken-pairs corpus (the kit's French diagnoses), the format of a
file (a chat file sent as DPO and the reverse), tokens and cost, pandas, the `check` command."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from helpers import cli, dataset, models, preference_data

HERE = Path(__file__).resolve().parent
BROKEN = HERE / "data" / "broken_pairs"
_spec = importlib.util.spec_from_file_location(
    "make_broken_pairs", HERE / "data" / "make_broken_pairs.py"
)
make_broken_pairs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_broken_pairs)
FILE_LEVEL = {"too_few_examples", "wrong_method", "model_alias"}
COUCOU = HERE.parent / "data" / "coucou.jsonl"


def pairs_bytes(n: int = 12) -> bytes:
    return "".join(
        json.dumps(
            preference_data.pair(f"Question {i} ?", "Oui, tu peux.", "Oui, vous pouvez."),
            ensure_ascii=False,
        )
        + "\n"
        for i in range(n)
    ).encode()


def test_corpus_is_up_to_date():
    for name, (content, _, _) in make_broken_pairs.FILES.items():
        raw = content if isinstance(content, bytes) else content.encode("utf-8")
        assert (BROKEN / name).read_bytes() == raw, f"run tests/data/make_broken_pairs.py ({name})"


@pytest.mark.parametrize("name", sorted(make_broken_pairs.EXPECTED))
def test_each_broken_pairs_file(name):
    report = preference_data.check_file(BROKEN / name, method="dpo")
    assert report.method == "dpo"
    found = {(p.code, p.line) for p in report.problems}
    expected = set(make_broken_pairs.EXPECTED[name])
    assert expected <= found, report.summary()
    if not name.startswith("mix"):  # nothing else wrong in files that hold a single problem
        assert {c for c, _ in found} == {c for c, _ in expected}, report.summary()
    for p in report.problems:
        assert p.code in FILE_LEVEL or p.line is not None, p
        assert p.message and p.fix and str(p)
    assert report.ok == (make_broken_pairs.API_FAILURE[name] is None), report.summary()
    if name == "ok.jsonl":
        assert len(report.examples) == 12 and "12 paires de préférences prêtes" in report.summary()


def test_the_same_check_streamed_and_in_memory():
    for name in make_broken_pairs.FILES:
        kept = preference_data.check_file(BROKEN / name, method="dpo")
        streamed = preference_data.check_file(BROKEN / name, method="dpo", keep_examples=False)
        assert [(p.code, p.line) for p in kept.problems] == [
            (p.code, p.line) for p in streamed.problems
        ]
        assert kept.n_examples == streamed.n_examples
        if kept.n_examples:
            assert kept.token_counts == streamed.token_counts, name


def test_problems_name_the_field_in_french():
    report = preference_data.check_file(BROKEN / "output_user_role.jsonl", method="dpo")
    (problem,) = report.problems
    assert problem.field == "preferred_output[0].role"
    assert "« assistant »" in problem.message and "'user'" in problem.message
    assert str(problem).startswith("❌ Ligne 4, champ preferred_output[0].role :")
    report = preference_data.check_file(BROKEN / "input_bad_role.jsonl", method="dpo")
    assert report.problems[0].field == "input.messages[0].role"


def test_detect_the_format():
    assert preference_data.detect(pairs_bytes()) == "dpo"
    assert preference_data.detect(COUCOU.read_bytes()) == "supervised"
    assert preference_data.detect(b"") is None
    assert preference_data.detect(b"not json\n[1, 2]\n") is None
    # a few broken lines do not change the verdict
    assert preference_data.detect((BROKEN / "mix.jsonl").read_bytes()) == "dpo"


def test_a_chat_file_sent_as_dpo_gets_one_clear_message():
    report = preference_data.check_file(COUCOU, method="dpo")
    assert [p.code for p in report.problems] == ["wrong_method"]
    assert "exemples de chat" in report.problems[0].message
    assert "supervisé" in report.problems[0].fix
    assert not report.ok


def test_a_pairs_file_sent_as_supervised_gets_one_clear_message(tmp_path):
    path = tmp_path / "paires.jsonl"
    path.write_bytes(pairs_bytes())
    report = preference_data.check_file(path, method="supervised")
    assert [p.code for p in report.problems] == ["wrong_method"]
    assert 'method={"type": "dpo"}' in report.problems[0].fix
    # without a method, the check follows the format it finds
    assert preference_data.check_file(path).ok
    assert preference_data.check_file(COUCOU).ok


def test_chat_check_names_a_pair_line():
    data = COUCOU.read_bytes() + pairs_bytes(1)
    report = dataset.check_bytes(data)
    assert [p.code for p in report.errors] == ["preference_format"]
    assert "paire de préférences" in report.errors[0].message


def test_tokens_and_cost_of_pairs():
    report = preference_data.check_bytes(pairs_bytes(), method="dpo")
    pair = report.examples[0].data
    counted = preference_data.counted_messages(pair)
    # the input once with each answer (Unconfirmed rule, see counted_messages)
    assert counted == [
        *pair["input"]["messages"],
        *pair["preferred_output"],
        *pair["input"]["messages"],
        *pair["non_preferred_output"],
    ]
    from helpers import tokens

    assert report.token_counts[0] == tokens.count_messages(counted, report.model)
    cost = report.cost()
    assert cost.method == "dpo" and cost.n_examples == 12
    assert cost.epochs == models.auto_epochs(12)
    assert cost.price_per_million == models.price_per_million(report.model, "dpo")
    assert "paires" in cost.describe() and "DPO" in cost.describe()


def test_dpo_facts_are_dated_and_marked():
    assert models.DPO_CHECKED_ON.isoformat() == "2026-12-07"
    assert all(models.get(name) for name in models.DPO_MODELS)
    assert models.supports("gpt-4.1-mini-2025-04-14", "dpo")
    assert models.supports("ft:gpt-4o-mini-2024-07-18:org::abc", "dpo")
    assert not models.supports("gpt-3.5-turbo-0125", "dpo")
    assert not models.supports("gpt-9", "supervised")
    assert 0 < models.DPO_AUTO_BETA <= models.DPO_BETA_MAX == 2.0


def test_pandas_round_trip():
    pairs = [
        preference_data.pair("Q1", "court", "long", system="Sois bref."),
        preference_data.pair("Q2", "oui", "non"),
        {
            **preference_data.pair("Q3", "a", "b"),
            "input": {"messages": [{"role": "user", "content": "Q3"}], "tools": []},
        },
    ]
    df = preference_data.to_dataframe(pairs)
    assert list(df.columns) == ["system", "user", "preferred", "non_preferred", "pair"]
    assert df.loc[0, "system"] == "Sois bref." and df.loc[1, "preferred"] == "oui"
    assert preference_data.from_dataframe(df) == pairs
    assert preference_data.question(pairs[0]) == "Q1"
    assert preference_data.answers(pairs[1]) == ("oui", "non")


def test_check_command_detects_and_checks_pairs(tmp_path, capsys):
    path = tmp_path / "paires.jsonl"
    path.write_bytes(pairs_bytes())
    assert cli.main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "12 paires de préférences prêtes à envoyer" in out
    assert "Format : paires de préférences (DPO)" in out
    assert "DPO" in out.split("Coût estimé")[1]
    assert cli.main(["check", str(path), "--method", "supervised"]) == 1
    assert "pas des exemples de chat" in capsys.readouterr().out
    assert cli.main(["check", str(COUCOU), "--method", "dpo"]) == 1
    assert "pas des paires de préférences" in capsys.readouterr().out
    assert cli.main(["check", str(BROKEN / "output_object.jsonl")]) == 1
    out = capsys.readouterr().out
    assert "Ligne 4, champ preferred_output" in out and "crochets" in out
