"""Dataset table, driven headless: editing, live check, import (good and broken), export."""

from __future__ import annotations

import json

import pytest
from _widget_harness import text
from conftest import DATA

from helpers import dataset, models, workspace
from helpers.widgets import DatasetTable, compat


def coucou(n: int) -> list[dict]:
    return [
        dataset.example(f"Question {i} ?", "COUCOU", system="Tu réponds COUCOU.") for i in range(n)
    ]


@pytest.fixture
def table(tmp_path):
    return DatasetTable(export_dir=tmp_path / "perso")


def test_starts_with_one_empty_row_and_counts_toward_ten(table):
    assert len(table) == 1
    assert "1 / 10 exemples" in text(table.summary.value)
    assert "ajoute-en encore 9" in text(table.summary.value)


def test_typing_in_cells_updates_the_check_live(table):
    row = table.view(0)
    row.turns[0][0].value = "Bonjour"
    row.turns[0][1].value = "COUCOU"
    assert table.examples == [dataset.example("Bonjour", "COUCOU")]
    for i in range(9):
        table.add_row(f"Question {i}", "COUCOU")
    assert len(table) == 10
    summary = text(table.summary.value)
    assert "10 exemples : ✅ minimum de 10 atteint" in summary
    assert "jetons" in summary and "$" in summary
    assert table.report.ok
    # the cost follows the chosen model
    cheap = table.report.cost().usd
    table.model.value = "gpt-4o-2024-08-06"
    assert table.report.cost().usd > cheap
    assert "gpt-4o-2024-08-06" in text(table.summary.value)


def test_system_and_multi_turn_rows(table):
    row = table.view(0)
    row.system.value = "Tu es un perroquet."
    row.turns[0][0].value = "Salut"
    row.turns[0][1].value = "Salut"
    row.add_turn.click()
    row = table.view(0)  # the row rebuilt its text areas
    assert len(row.turns) == 2
    row.turns[1][0].value = "Ça va ?"
    row.turns[1][1].value = "Ça va ?"
    msgs = table.examples[0]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant"]
    assert msgs[3]["content"] == "Ça va ?"
    row.remove_turn.click()
    assert len(table.examples[0]["messages"]) == 3


def test_errors_are_shown_on_the_row(table):
    row = table.view(0)
    row.turns[0][0].value = "Une question sans réponse"
    problems = text(table.view(0).problems.value)
    assert "content" in problems and "vide" in problems
    assert "⚠️" in text(table.view(0).number.value)
    # the assistant's text area is the one outlined
    assert table.view(0).turns[0][1].layout.border
    assert not table.view(0).turns[0][0].layout.border


def test_add_duplicate_delete_and_undo(table):
    table.load_examples(coucou(3), replace=True)
    assert len(table) == 3
    table.view(1).duplicate.click()
    assert len(table) == 4 and table.examples[1] == table.examples[2]
    assert "doublon" in text(table.summary.value)
    table.view(0).delete.click()
    assert len(table) == 3
    assert table.undo_button.layout.display is None
    table.undo_button.click()
    assert len(table) == 4 and table.examples[0] == coucou(3)[0]
    assert table.undo_button.layout.display == "none"
    table.add_button.click()
    assert len(table) == 5


def test_rich_examples_are_kept_whole_as_json(table):
    rich = {
        "messages": [
            {"role": "user", "content": "Météo ?"},
            {"role": "assistant", "content": "Je regarde.", "weight": 0},
            {"role": "user", "content": "Alors ?"},
            {"role": "assistant", "content": "Soleil."},
        ]
    }
    table.load_examples([rich, *coucou(10)], replace=True)
    assert table.view(0).raw is not None
    assert table.examples[0] == rich  # nothing simplified away
    table.view(0).raw.value = "{pas du json"
    assert "JSON" in text(table.view(0).problems.value)
    assert len(table.examples) == 10  # the broken row is left out of `examples`…
    assert table.jsonl().splitlines()[0] == "{pas du json"  # …but kept in the file text


def test_import_jsonl_from_path(table):
    assert table.import_path(DATA / "coucou.jsonl")
    expected = dataset.read_jsonl(DATA / "coucou.jsonl")
    assert table.examples == expected
    assert table.report.ok
    assert "importée(s)" in text(table.message.value)


def test_import_appends_unless_replace(table):
    table.load_examples(coucou(2), replace=True)
    data = dataset.dumps_jsonl(coucou(3)).encode()
    assert table.import_bytes(data, "plus.jsonl")
    assert len(table) == 5
    table.replace.value = True
    assert table.import_bytes(data, "plus.jsonl")
    assert len(table) == 3


def test_broken_jsonl_lines_come_in_as_rows_to_fix(table):
    table.load_examples(coucou(2), replace=True)
    good = json.dumps(dataset.example("Salut", "COUCOU"), ensure_ascii=False)
    broken = f"{good}\n{{\"messages\": [{{'role': 'user'}}]}}\n{good}\n".encode()
    assert table.import_bytes(broken, "abime.jsonl")
    assert len(table) == 5
    assert table.examples[:2] == coucou(2)  # what was typed before is still there
    row = table.view(3)
    assert row.raw is not None and "❌" in text(row.number.value)
    assert "guillemets" in text(row.problems.value)  # the check's French diagnosis
    assert "illisible" in text(table.message.value)


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"", "vide.jsonl", "vide"),
        (b"\xff\xfe\x00garbage\x00\x81", "binaire.jsonl", "UTF-8"),
        (b'[\n {"messages": [\n  {"role": "user"\n', "tableau.jsonl", "JSONL"),
        (b"nom;age\nAda;36\n", "autre.csv", "colonne"),
        (b"pas du tout\ndu json\nici\n", "texte.jsonl", "JSONL"),
    ],
)
def test_unreadable_import_leaves_the_table_untouched(table, content, name, reason):
    table.load_examples(coucou(4), replace=True)
    table.view(0).turns[0][0].value = "Texte tapé à la main"
    before = table.jsonl()
    assert not table.import_bytes(content, name)
    assert table.jsonl() == before
    message = text(table.message.value)
    assert reason in message and "n'a pas changé" in message


def test_missing_path_is_explained(table):
    table.load_examples(coucou(2), replace=True)
    table.path.value = "data/nexiste_pas.jsonl"
    table.import_button.click()
    assert "introuvable" in text(table.message.value).lower()
    assert len(table) == 2


def test_json_array_file_is_converted(table):
    data = json.dumps(coucou(3), indent=2, ensure_ascii=False).encode()
    assert table.import_bytes(data, "tableau.json")
    assert table.examples == coucou(3)
    assert "tableau JSON" in text(table.message.value)


def test_import_csv_with_semicolons_and_french_headers(table):
    csv = "Système;Question;Réponse\nSois bref.;Salut;COUCOU\n;Ça va ?;COUCOU\n".encode("utf-8-sig")
    assert table.import_bytes(csv, "tableur.csv")
    assert table.examples == [
        dataset.example("Salut", "COUCOU", system="Sois bref."),
        dataset.example("Ça va ?", "COUCOU"),
    ]


def test_upload_widget_imports_and_is_emptied(table):
    compat.simulate_upload(table.upload, "coucou.jsonl", (DATA / "coucou.jsonl").read_bytes())
    assert table.examples == dataset.read_jsonl(DATA / "coucou.jsonl")
    assert compat.uploaded_files(table.upload) == []  # not kept in the notebook's widget state


def test_export_writes_jsonl_and_records_it(table, tmp_path):
    table.load_examples(coucou(10), replace=True)
    table.name.value = "perroquet"
    table.export_button.click()
    path = tmp_path / "perso" / "perroquet.jsonl"
    assert path.exists()
    assert dataset.check_file(path).ok
    assert dataset.read_jsonl(path) == coucou(10)
    assert workspace.get("dataset_path") == str(path)
    assert "Enregistré" in text(table.message.value)


def test_export_with_errors_saves_but_is_not_recorded(table, tmp_path):
    table.load_examples(coucou(3), replace=True)
    path = table.export("brouillon.jsonl")
    assert path is not None and path.exists()
    assert workspace.get("dataset_path") is None
    assert "erreur" in text(table.message.value)


def test_export_csv_round_trip(table):
    rich = {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b", "weight": 1},
        ]
    }
    table.load_examples([rich, *coucou(2)], replace=True)
    path = table.export("tableur.csv")
    other = DatasetTable(export_dir=path.parent)
    assert other.import_path(path)
    assert other.examples == table.examples


@pytest.mark.parametrize(
    "name", ["../evasion.jsonl", "/tmp/x.jsonl", "dossier/x.jsonl", ".cache.jsonl", "notes.txt"]
)
def test_bad_export_names_are_refused(table, tmp_path, name):
    table.load_examples(coucou(2), replace=True)
    before = table.jsonl()
    assert table.export(name) is None
    assert "Rien n'a été enregistré" in text(table.message.value)
    assert table.jsonl() == before
    assert not (tmp_path / "evasion.jsonl").exists()


def test_failed_save_keeps_the_table_even_as_root(tmp_path):
    blocker = tmp_path / "pas_un_dossier"
    blocker.write_text("je suis un fichier")
    table = DatasetTable(coucou(3), export_dir=blocker / "perso")
    before = table.jsonl()
    assert table.export("x.jsonl") is None
    assert table.jsonl() == before
    assert "intact" in text(table.message.value)


def test_pages_for_long_datasets(tmp_path):
    table = DatasetTable(coucou(45), export_dir=tmp_path, page_size=20)
    assert len(table.rows_box.children) == 20
    assert "page 1 / 3" in text(table.page_label.value)
    table.next_button.click()
    assert table.view(20).index == 20 and "page 2 / 3" in text(table.page_label.value)
    table.view(44).turns[0][0].value = "Modifiée en page 3"
    assert table.examples[44]["messages"][1]["content"] == "Modifiée en page 3"
    assert "page 3 / 3" in text(table.page_label.value)


def test_default_export_dir_is_git_ignored_data_perso():
    from helpers.widgets.dataset_table import default_export_dir

    path = default_export_dir()
    assert path.parts[-2:] == ("data", "perso")
    ignored = (path.parents[1] / ".gitignore").read_text(encoding="utf-8")
    assert "data/perso/" in ignored


def test_the_model_list_offers_only_models_that_still_train(table):
    """helpers.models decides: in the sandbox (frozen date) the shut-down models are not offered."""
    assert list(table.model.options) == models.offered(models.SANDBOX_TODAY)
    assert models.GUIDE_MODEL not in table.model.options
    assert "gpt-4.1-nano-2025-04-14" not in table.model.options


def test_the_model_line_has_the_right_tense():
    import html
    from datetime import date

    from helpers.widgets import DatasetTable

    examples = [
        {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    ]
    before = DatasetTable(examples, record=False, today=date(2026, 11, 23))
    shown = html.unescape(before.summary.value)
    assert "s'éteint le 14/01/2027" in shown and "entraînable jusqu'au 05/01/2027" in shown
    after = DatasetTable(examples, record=False, today=date(2027, 2, 1))
    shown = html.unescape(after.summary.value)
    assert "éteint depuis le 14/01/2027" in shown and "prévu" not in shown


def test_an_alias_opens_the_table_on_its_dated_name(tmp_path):
    """Issue 20: a job needs the dated name; the table shows it for an alias."""
    t = DatasetTable(export_dir=tmp_path / "perso", model="gpt-4o-2024-08-06")
    assert t.model.value == "gpt-4o-2024-08-06"
    alias = DatasetTable(export_dir=tmp_path / "perso", model="gpt-4o")
    assert alias.model.value == "gpt-4o-2024-08-06"  # not silently the default model


@pytest.mark.parametrize(
    "bad, says",
    [
        ('{"messages": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "imbriqué"),
        ('{"messages": [], "n": ' + "9" * 5000 + "}", "chiffres"),
    ],
    ids=["nested 100,000 deep", "5000 digits"],
)
def test_an_unreadable_line_arrives_as_text_with_the_checks_words(table, bad, says):
    """A deeply nested line was « Erreur inattendue (RecursionError) » and the import failed,
    where `check` explains it: it arrives as a line to fix, with the check's French words."""
    lines = [json.dumps(e, ensure_ascii=False) for e in coucou(10)] + [bad]
    assert table.import_bytes(("\n".join(lines) + "\n").encode(), "profond.jsonl")
    assert len(table) == 11
    message = text(table.message.value)
    assert "inattendue" not in message and "illisible" in message
    summary = text(table.summary.value)
    assert "Rangée 11" in summary and says in summary
    assert table.jsonl().splitlines()[10] == bad  # the learner's text, kept
