"""The dataset table edits preference pairs (DPO), driven headless: a pair per row (question,
preferred answer, non-preferred answer), the live check with the pairs' rules, import of a
pairs file (JSONL or CSV), export, the red border on the answer a problem is about."""

from __future__ import annotations

import json

import pytest
from _widget_harness import text
from conftest import DATA

from helpers import preference_data, workspace
from helpers.widgets import DatasetTable


def pairs(n: int) -> list[dict]:
    return [
        preference_data.pair(f"Question {i} ?", f"Court {i}, tu vois.", f"Long {i}, vous voyez.")
        for i in range(n)
    ]


@pytest.fixture
def table(tmp_path):
    return DatasetTable(export_dir=tmp_path / "perso", method="dpo")


def test_an_empty_table_of_pairs(table):
    assert table.pairs and len(table) == 1
    assert "1 / 10 paires de préférences" in text(table.summary.value)
    header = text(table.header.children[0].children[1].children[1].children[1].value)
    assert "préférée" in header


def test_typing_a_pair_and_the_live_check(table):
    view = table.view(0)
    view.turns[0][0].value = "Bonjour"
    view.turns[0][1].value = "Salut !"
    view.rejected.value = "Bonjour, comment allez-vous ?"
    assert table.examples == [
        preference_data.pair("Bonjour", "Salut !", "Bonjour, comment allez-vous ?")
    ]
    for i in range(9):
        table.add_pair(f"Q{i}", "oui", "non merci")
    summary = text(table.summary.value)
    assert "10 paires de préférences : ✅ minimum de 10 atteint" in summary
    assert "méthode DPO" in summary and table.report.ok
    assert table.report.method == "dpo"
    # an empty non-preferred answer: the check says so, on that row, about that answer
    view = table.view(3)
    view.rejected.value = ""
    (problem,) = table.report.problems_at(4)
    assert problem.field == "non_preferred_output[0].content"
    assert "vide" in text(view.problems.value)
    # each problem of a pair points at the box it is about
    from helpers.dataset import Problem

    def area(field):
        return view._pair_area(Problem("x", "m", "f", line=4, field=field))

    assert area("non_preferred_output[0].content") is view.rejected
    assert area("preferred_output[0].role") is view.turns[0][1]
    assert area("input.messages[0].content") is view.turns[0][0]


def test_identical_answers_are_flagged_on_the_row(table):
    for i in range(10):
        table.add_pair(f"Q{i}", "pareil", "pareil" if i == 2 else "autre")
    problems = table.report.problems_at(3)
    assert [p.code for p in problems] == ["identical_outputs"]
    assert "⚠️" in table.view(2).number.value


def test_a_pairs_file_turns_the_table_into_pairs(tmp_path):
    path = tmp_path / "paires.jsonl"
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs(12)), "utf-8")
    table = DatasetTable(path=path, export_dir=tmp_path / "perso")
    assert table.pairs and len(table) == 12 and table.report.ok
    assert table.view(4).rejected.value == "Long 4, vous voyez."
    # an empty chat table: importing pairs switches it too
    chat = DatasetTable(export_dir=tmp_path / "perso")
    assert not chat.pairs
    assert chat.import_path(path)
    assert chat.pairs and chat.report.ok
    # and back: a chat file into an empty table of pairs
    chat.import_path(DATA / "coucou.jsonl", replace=True)
    assert not chat.pairs and chat.report.ok


def test_rich_pairs_stay_whole_as_json(table):
    rich = {
        **pairs(1)[0],
        "input": {"messages": [{"role": "user", "content": "Météo ?"}], "tools": []},
    }
    table.load_examples([rich, *pairs(10)], replace=True)
    assert table.view(0).raw is not None and table.examples[0] == rich
    assert table.report.ok


def test_export_pairs_jsonl_and_csv_and_read_them_back(table, tmp_path):
    table.load_examples(pairs(11), replace=True)
    saved = table.export("mes_paires.jsonl")
    assert saved and preference_data.check_file(saved).ok
    assert "prêt pour un job DPO" in text(table.message.value)
    assert workspace.get("dataset_path") is None  # the course's dataset is not replaced
    csv_path = table.export("mes_paires.csv")
    content = csv_path.read_text("utf-8")
    assert content.splitlines()[0] == "system,user,preferred,non_preferred"
    back = DatasetTable(path=csv_path, export_dir=tmp_path / "x")
    assert back.pairs and back.examples == pairs(11)


def test_the_dataframe_of_pairs(table):
    table.load_examples(pairs(3), replace=True)
    df = table.to_dataframe()
    assert list(df.columns) == ["system", "user", "preferred", "non_preferred"]
    assert df.loc[1, "non_preferred"] == "Long 1, vous voyez."
