"""The servers' messages in English (ATELIER_LANG=en): the class server's command line and
roster, the kit server's command line and launcher, the local engine's catalog and export;
French unchanged."""

from __future__ import annotations

import pytest

from helpers import i18n
from helpers.exceptions import LocalModelError
from helpers.kit_server import __main__ as kit_server_cli
from helpers.kit_server.classroom import cli as class_cli
from helpers.kit_server.classroom.evaluations import check_run
from helpers.kit_server.classroom.roster import Roster, RosterError
from helpers.local import catalog, export


@pytest.fixture
def english(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")
    i18n.translations.cache_clear()
    yield
    i18n.translations.cache_clear()


@pytest.fixture
def french(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "fr")


def test_the_class_command_line_speaks_english(english, tmp_path, capsys):
    assert class_cli.main(["teacher-key", "--home", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("🔑 Teacher's key (page /classe/): ")
    assert class_cli.main(["add-students", "alice", "--home", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Student keys" in out and "give each student theirs" in out
    assert class_cli.main(["quota", "jobs_per_day", "5", "--home", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "✅ Quota jobs_per_day = 5 per student and per day.\n"
    assert class_cli.main(["add-students", "Alice Martin", "--home", str(tmp_path)]) == 2
    assert "Student name refused: 'Alice Martin'. Use letters" in capsys.readouterr().err
    help_text = class_cli._parser().format_help()
    assert "A kit server for the whole class: student keys, quotas, server." in help_text


def test_the_class_command_line_stays_french(french, tmp_path, capsys):
    assert class_cli.main(["quota", "jobs_per_day", "5", "--home", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "✅ Quota jobs_per_day = 5 par élève et par jour.\n"


def test_the_reserved_name_message_shows_the_name(french, tmp_path):
    """The suggestion said « {name}-eleve » literally (a placeholder outside the f-string)."""
    with pytest.raises(RosterError) as refused:
        Roster(tmp_path).add_students(["enseignant"])
    assert "(par exemple « enseignant-eleve »)" in str(refused.value)


def test_the_class_server_json_messages_in_english(english):
    with pytest.raises(ValueError, match=r"^“match”: “exact” or “loose” expected\.$"):
        check_run({"label": "a", "model": "m", "dataset": "d", "match": "fuzzy"})


def test_the_kit_server_command_line_in_english(english, tmp_path, capsys):
    assert kit_server_cli.main(["--stop", "--home", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "🧪 No sandbox running.\n"


def test_the_local_engine_in_english(english, tmp_path):
    with pytest.raises(LocalModelError, match="Unknown local model: 'nothing here'. Choose among"):
        catalog.from_spec("nothing here")
    lines = catalog.doctor(check_device=False).lines()
    assert lines[0] == "Local mode (real training on this machine):"
    assert any(line.startswith("  ℹ️ catalog models: ") for line in lines)
    why = export.nothing_to_export("ft:gpt-4o-mini-2024-07-18:sandbox:coucou:ab12", "sandbox")
    assert why is not None and "is a sandbox model: its training is simulated" in why
    assert "## Use it with Ollama" in export.model_card("ft:x", "b/c", "float32")
