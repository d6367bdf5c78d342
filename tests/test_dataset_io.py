"""dataset_io: what the dataset table imports (JSONL, JSON array, CSV) and exports (CSV)."""

from __future__ import annotations

import json

import pytest

from helpers import dataset, dataset_io

EX = [dataset.example(f"Question {i} é", "COUCOU", system="Sois bref") for i in range(3)]


def jsonl(values) -> bytes:
    return "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values).encode()


def test_jsonl_lines_and_lines_to_fix():
    data = b"\xef\xbb\xbf" + jsonl(EX) + b"\n  \n{oops\n"
    imported = dataset_io.read_import(data, "d.jsonl")
    assert imported.entries == [*EX, "{oops"] and imported.note == ""


def test_json_array_is_converted_with_a_note():
    imported = dataset_io.read_import(json.dumps(EX, indent=2).encode(), "d.json")
    assert imported.entries == EX and "tableau JSON" in imported.note


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "le fichier est vide."),
        (b"  \n", "le fichier est vide."),
        ("é".encode("latin-1") + b"\n", "pas en UTF-8"),
        (b'{"a": 1}\x00\n', "pas un fichier texte"),
    ],
)
def test_unreadable_files(data, words):
    with pytest.raises(dataset_io.ImportProblem) as info:
        dataset_io.read_import(data, "d.jsonl")
    assert words in str(info.value)


def test_mostly_not_json_is_not_jsonl_and_says_where():
    with pytest.raises(dataset_io.ImportProblem) as info:
        dataset_io.read_import(b"bonjour\nau revoir\n" + jsonl(EX[:1]), "notes.txt")
    message = str(info.value)
    assert message.startswith("2 ligne(s) sur 3 ne sont pas des objets JSON")
    assert "❌ Rangée 1 : " in message and "Rangée 2" in message


def test_csv_with_french_columns_semicolons_and_windows_encoding():
    text = "Consigne;Question;Réponse\nSois bref;Ça va ?;COUCOU\n;Salut;Bonjour\n"
    imported = dataset_io.read_import(text.encode("cp1252"), "tableur.CSV")
    assert imported.entries == [
        dataset.example("Ça va ?", "COUCOU", system="Sois bref"),
        dataset.example("Salut", "Bonjour"),
    ]


def test_csv_messages_column_and_bad_json_cell():
    rich = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "weight": 0}]
    cell = '"' + json.dumps(rich).replace('"', '""') + '"'
    text = f"system,user,assistant,messages\n,,,{cell}\n,,,[oops\n"
    imported = dataset_io.read_import(text.encode(), "d.csv")
    assert imported.entries == [{"messages": rich}, "[oops"]


def test_csv_without_the_needed_columns():
    with pytest.raises(dataset_io.ImportProblem) as info:
        dataset_io.read_import(b"nom,age\nLea,12\n", "d.csv")
    assert "colonnes trouvées : nom, age" in str(info.value)


def test_csv_export_round_trip():
    rich = {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b", "weight": 0},
        ]
    }
    text = dataset_io.dumps_csv([*EX, rich])
    assert text.splitlines()[0] == "system,user,assistant,messages"
    assert dataset_io.read_import(text.encode(), "d.csv").entries == [*EX, rich]
    simple = dataset_io.dumps_csv(EX)
    assert simple.splitlines()[0] == "system,user,assistant"


def test_row_problem_text():
    report = dataset.check_bytes(b'{"messages": [{"role": "User", "content": "x"}]}\n')
    texts = [dataset_io.row_problem_text(p) for p in report.problems]
    assert any(t.startswith("❌ Rangée 1 (messages[0].role) : rôle inconnu 'User'") for t in texts)
    assert any(t.startswith("❌ Fichier : ") for t in texts)
