"""helpers.notebook in the English edition (ATELIER_LANG=en): the banner, what `ensure` and
`launch` say, the error table, durations with a decimal point. The French ones are
tests/test_notebook_helpers.py's."""

from __future__ import annotations

import pytest

from helpers import notebook
from helpers import workspace as ws


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")


def test_the_banner_speaks_english(workspace):
    notebook.ensure("file_id", say=lambda _m: None)
    text = repr(notebook.banner())
    assert text.splitlines()[0].startswith("Mode: ")
    assert f"Workspace: {workspace}" in text
    assert (
        "Already done: your dataset (JSONL file) ✔, the id of the uploaded file (file-…) ✔" in text
    )
    assert "To switch to the real OpenAI: helpers.use_mode('openai') (see notebook 02)" in text
    assert "How long a COUCOU training run takes here: " in text
    assert "Espace de travail" not in text and "Déjà fait" not in text


def test_the_openai_banner_says_where_the_key_is_in_english(monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "openai")
    text = repr(notebook.banner())
    assert "Key: none yet → notebook 02" in text
    assert "To go back to the sandbox: helpers.use_mode('sandbox')." in text


def test_durations_in_english():
    assert notebook.duration_fr(0.05) == "less than a second"
    assert notebook.duration_fr(52.3) == "about 52 s"
    assert notebook.duration_fr(300) == "about 5.0 min"  # a decimal point
    assert notebook.duration_fr(900) == "about 15 min"


def test_ensure_says_what_it_replays_in_english(workspace):
    said: list[str] = []
    notebook.ensure("job_id", say=said.append)
    assert said[0] == "↻ No dataset in the workspace: using the course's (coucou.jsonl)."
    assert said[1] == "↻ Replaying step 04 (uploading the file) in the sandbox…"
    assert said[2] == "↻ Replaying step 05 (starting the job), sped up, in the sandbox…"
    ws.record(file_id="file-doesnotexist123")
    again: list[str] = []
    notebook.ensure("file_id", say=again.append)
    assert again[0] == (
        "↻ file-doesnotexist123 no longer exists in the sandbox (was the workspace reset?)."
    )


def test_ensure_in_openai_mode_asks_in_english(monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setattr("builtins.input", lambda *_: (_ for _ in ()).throw(OSError("no stdin")))
    with pytest.raises(notebook.MissingStateError) as info:
        notebook.ensure("job_id")
    assert "I am missing the id of the training job (ftjob-…), which notebook 05_lancement" in str(
        info.value
    )
    monkeypatch.setattr("builtins.input", lambda *_: "file-abc")
    with pytest.raises(notebook.MissingStateError, match="does not look like a ft:… id"):
        notebook.ensure("fine_tuned_model")


def test_launch_in_english(monkeypatch, workspace):
    file_id = notebook.ensure("file_id", say=lambda _m: None)
    notebook.launch(file_id, say=lambda _m: None)
    said: list[str] = []
    notebook.launch(file_id, say=said.append)
    assert "A job already exists for this file" in said[0]
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setattr("helpers.jobs.find_jobs_for_file", lambda *_a, **_k: [])
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda q: asked.append(q) or "no")
    with pytest.raises(notebook.MissingStateError, match="Not confirmed: nothing was started"):
        notebook.launch("file-abc123")
    assert asked[0].startswith("Start a paid training run on ")
    assert asked[0].endswith('Type "yes" to confirm: ')


def test_start_over_and_the_error_table_in_english(capsys):
    notebook.start_over(5)
    assert capsys.readouterr().out == "🧹 Forgotten: nothing (already empty).\n"
    table = notebook.ErrorTable([("x", "exception ValueError", "code", "title")])
    html = table._repr_html_()
    assert "The guide&#x27;s error" in html and "What Python gets" in html
    assert notebook._kind(ValueError()) == "exception ValueError"
    assert notebook._kind("text") == "a text (outside the API)"
