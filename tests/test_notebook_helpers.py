"""helpers.notebook: the banner, rebuilding missing earlier steps, the step 5 guard."""

from __future__ import annotations

import pytest

from helpers import notebook, settings
from helpers import workspace as ws


def test_banner_sandbox_lists_what_is_done(workspace):
    text = repr(notebook.banner())
    assert "bac à sable" in text and "rien encore" in text
    workspace_path = str(settings.workspace_dir())
    assert workspace_path in notebook.banner()._repr_html_()


def test_banner_openai_never_shows_the_key(monkeypatch):
    key = "sk-proj-" + "BANNERtest" * 4
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", key)
    banner = notebook.banner()
    for text in (repr(banner), banner._repr_html_()):
        assert "trouvée (environnement)" in text
        assert key not in text and key[-12:] not in text


def test_ensure_rebuilds_every_earlier_step_in_the_sandbox(workspace):
    said: list[str] = []
    model = notebook.ensure("fine_tuned_model", say=said.append)
    assert model.startswith("ft:") and ":sandbox:" in model
    state = ws.snapshot()
    assert state["fine_tuned_model"] == model
    assert state["file_id"].startswith("file-") and state["job_id"].startswith("ftjob-")
    assert any("04" in s for s in said) and any("05" in s for s in said)
    # Everything is there now: nothing is replayed a second time.
    again: list[str] = []
    assert notebook.ensure("fine_tuned_model", say=again.append) == model
    assert again == []


def test_ensure_replaces_an_id_the_sandbox_no_longer_knows(workspace):
    ws.record(file_id="file-doesnotexist123")
    said: list[str] = []
    file_id = notebook.ensure("file_id", say=said.append)
    assert file_id != "file-doesnotexist123" and file_id.startswith("file-")
    assert "n'existe plus" in said[0]


def test_ensure_in_openai_mode_never_launches_anything(monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setattr("builtins.input", lambda *_: (_ for _ in ()).throw(OSError("no stdin")))
    with pytest.raises(notebook.MissingStateError, match="05_lancement"):
        notebook.ensure("job_id")


def test_ensure_in_openai_mode_accepts_a_pasted_id(monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setattr("builtins.input", lambda *_: "  ftjob-abc123  ")
    assert notebook.ensure("job_id") == "ftjob-abc123"
    assert ws.get("job_id", mode="openai") == "ftjob-abc123"
    monkeypatch.setattr("builtins.input", lambda *_: "file-abc")
    with pytest.raises(notebook.MissingStateError, match="ne ressemble pas"):
        notebook.ensure("fine_tuned_model")


def test_launch_reuses_the_job_of_the_same_file(workspace):
    file_id = notebook.ensure("file_id", say=lambda _m: None)
    first = notebook.launch(file_id, say=lambda _m: None)
    said: list[str] = []
    second = notebook.launch(file_id, say=said.append)
    assert second.id == first.id and "existe déjà" in said[0]
    third = notebook.launch(file_id, again=True, say=lambda _m: None)
    assert third.id != first.id


def test_launch_in_openai_mode_needs_a_yes(monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setattr("helpers.jobs.find_jobs_for_file", lambda *_a, **_k: [])
    monkeypatch.setattr("builtins.input", lambda *_: "non")
    with pytest.raises(notebook.MissingStateError, match="rien n'a été lancé"):
        notebook.launch("file-abc123")


def test_side_project_puts_the_course_records_back(workspace):
    ws.record(file_id="file-coucou1", fine_tuned_model="ft:x:sandbox:coucou:1")
    with notebook.side_project():
        ws.record(file_id="file-other2", job_id="ftjob-other2", fine_tuned_model="ft:x:sandbox:m:2")
    state = ws.snapshot()
    assert state == {"file_id": "file-coucou1", "fine_tuned_model": "ft:x:sandbox:coucou:1"}
