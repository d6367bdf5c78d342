"""The dataset check in English (issue 23): with ATELIER_LANG=en every problem of the broken
corpus (chat and preference pairs), its place (line, message, field) and its fix read in
English; the report's verdict counts in English (singular and plural); French stays as is."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import dataset, dataset_io, preference_data

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BROKEN = sorted((HERE / "data" / "broken").glob("*.jsonl"))
BROKEN_PAIRS = sorted((HERE / "data" / "broken_pairs").glob("*.jsonl"))
# What French looks like (tests/test_translations.py's finder, plus the check's own words)
FRENCH = re.compile(
    r"[éèêàùçôîâœ«»ÉÈÀÇ]|\b(?:le|la|les|des|du|une|est|pas|ton|ta|tes|ce|cette|il|avec|ligne|"
    r"champ|fichier|exemples?|erreurs?|supprime|ajoute|écris|mets)\b",
    re.IGNORECASE,
)


@pytest.fixture
def english(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")


@pytest.fixture
def french(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "fr")


def _problems(path: Path, method: str | None) -> list[dataset.Problem]:
    return preference_data.check_file(path, method=method).problems


@pytest.mark.parametrize(
    ("path", "method"),
    [(p, None) for p in BROKEN] + [(p, "dpo") for p in BROKEN_PAIRS],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_every_problem_of_the_corpus_reads_in_english(english, path, method):
    for problem in _problems(path, method):
        text = str(problem)
        # the learner's own data quoted in a message (a role, a key) is not the kit's words
        own = re.sub(r"'[^']*'|\"[^\"]*\"", "", text)
        assert not FRENCH.search(own), text
        assert problem.message and problem.fix


def test_a_problem_says_where_and_how_to_fix_in_english(english):
    problems = _problems(HERE / "data" / "broken" / "bad_role.jsonl", None)
    assert [str(p) for p in problems] == [
        '❌ Line 4, message 1, field role: unknown role \'human\' → Use "system", "user" or '
        '"assistant" (or "tool" for a tool result).'
    ]
    report = dataset.check_bytes(b'{"messages": []}\n\n', "gpt-4o-mini-2024-07-18")
    assert report.summary().splitlines() == [
        "❌ 3 errors to fix before uploading (0 readable examples).",
        '❌ Line 1, field messages: the "messages" list is empty → Add at least one user message '
        "and one assistant message.",
        "❌ Line 2: blank line → Delete this blank line.",
        "❌ File: 0 examples: OpenAI's API requires at least 10 → Add at least 10 examples (50 to "
        "100 give better results).",
    ]


def test_the_verdict_counts_in_english(english):
    one = b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "COUCOU"}]}\n'
    report = dataset.check_bytes(one, "gpt-4o-mini-2024-07-18")
    assert (
        report.summary().splitlines()[0]
        == "❌ 1 error to fix before uploading (1 readable example)."
    )
    assert "Add at least 9 examples" in report.summary()
    path = HERE / "data" / "broken_pairs"
    pairs = preference_data.check_file(next(p for p in BROKEN_PAIRS if p.name == "ok.jsonl"))
    assert pairs.summary().startswith("✅ 12 preference pairs ready to upload"), str(path)


def test_the_problems_table_and_import_messages_in_english(english):
    report = dataset.check_file(HERE / "data" / "broken" / "blank_line.jsonl")
    assert list(report.problems_dataframe().columns) == [
        "line",
        "field",
        "severity",
        "problem",
        "fix",
    ]
    assert dataset_io.row_problem_text(report.problems[0]).startswith("❌ Row ")
    with pytest.raises(dataset_io.ImportProblem, match="the file is empty"):
        dataset_io.parse_jsonl(b"  \n")
    examples = [dataset.example("Hi", "COUCOU")]
    assert list(dataset.examples_table(examples).headers) == [
        "example",
        "system",
        "user",
        "assistant",
    ]
    assert dataset.to_dataframe(examples).index.name == "example"
    pairs = [preference_data.pair("Hi", "COUCOU", "Hello")]
    assert list(preference_data.table(pairs).headers)[1:] == [
        "✅ preferred answer",
        "❌ non-preferred answer",
    ]


def test_french_is_unchanged(french):
    problems = _problems(HERE / "data" / "broken" / "bad_role.jsonl", None)
    assert [str(p) for p in problems] == [
        '❌ Ligne 4, message 1, champ role : rôle inconnu \'human\' → Utilise "system", "user" '
        'ou "assistant" (ou "tool" pour un résultat d\'outil).'
    ]
    one = b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "COUCOU"}]}\n'
    head = dataset.check_bytes(one, "gpt-4o-mini-2024-07-18").summary().splitlines()[0]
    assert head == "❌ 1 erreur(s) à corriger avant l'envoi (1 exemple(s) lisible(s))."


def test_the_check_command_speaks_english(tmp_path):
    bad = HERE / "data" / "broken" / "bad_role.jsonl"
    env = {
        "PATH": "/usr/bin:/bin",
        "ATELIER_LANG": "en",
        "ATELIER_MODE": "sandbox",
        "ATELIER_HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, "-m", "helpers", "check", str(bad)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    assert "❌ 1 error to fix before uploading (13 readable examples)." in out.stdout
    assert "Line 4, message 1, field role: unknown role 'human'" in out.stdout
    assert 'Use "system", "user" or "assistant"' in out.stdout
