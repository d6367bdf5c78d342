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


def test_banner_local_mode_names_the_open_model(monkeypatch):
    from helpers.local import catalog

    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv("ATELIER_LOCAL_MODEL", "tiny")
    banner = notebook.banner()
    text = repr(banner)
    assert "local" in text.splitlines()[0]
    assert "Modèle ouvert entraîné : tiny" in text and "Rien ne quitte cette machine" in text
    assert (
        "pas utilisable" in text
    ) != catalog.is_available()  # says so when torch & co are missing
    assert "#1e88e5" in banner._repr_html_()


def test_ensure_in_local_mode_replays_the_earlier_steps(monkeypatch, workspace):
    """Local mode rebuilds like the sandbox (its server is on this machine, nothing is paid),
    and says the replayed job really trains. The SDK side is faked here (no torch needed);
    tests/test_notebook_helpers.py::test_ensure_in_local_mode_trains_for_real runs it for real."""
    from types import SimpleNamespace

    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv("ATELIER_LOCAL_MODEL", "tiny")
    calls: list[tuple] = []

    def upload(path):
        calls.append(("upload", path))
        ws.record(file_id="file-local1")
        return SimpleNamespace(id="file-local1")

    def create(file_id, **_kw):
        calls.append(("create", file_id))
        ws.record(job_id="ftjob-local1")
        return SimpleNamespace(id="ftjob-local1")

    def wait(job_id, *, timeout=None):
        calls.append(("wait", job_id, timeout))
        return SimpleNamespace(
            status="succeeded", fine_tuned_model="ft:tiny:local:coucou:ab12cd34", error=None
        )

    monkeypatch.setattr("helpers.jobs.upload", upload)
    monkeypatch.setattr("helpers.jobs.create", create)
    monkeypatch.setattr("helpers.jobs.wait", wait)
    monkeypatch.setattr(notebook, "_still_there", lambda _name, _value: True)
    said: list[str] = []
    assert notebook.ensure("fine_tuned_model", say=said.append) == "ft:tiny:local:coucou:ab12cd34"
    assert [c[0] for c in calls] == ["upload", "create", "wait"]
    assert calls[2][2] == notebook.REPLAY_TIMEOUT["local"]
    assert ws.get("fine_tuned_model", mode="local") == "ft:tiny:local:coucou:ab12cd34"
    assert ws.get("fine_tuned_model", mode="sandbox") is None
    text = "\n".join(said)
    assert "04" in text and "05" in text and "vrai entraînement" in text and "tiny" in text
    assert "bac à sable" not in text


@pytest.mark.local
def test_ensure_in_local_mode_trains_for_real(monkeypatch, workspace):
    """The real thing on the tiny model (skips without torch: run it in .venv-local)."""
    from localkit import need_torch

    need_torch()
    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv("ATELIER_LOCAL_MODEL", "tiny")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ATELIER_LOCAL_WORKER_IDLE", "10")
    from helpers import chat, kit_server
    from helpers.local import worker

    try:
        said: list[str] = []
        model = notebook.ensure("fine_tuned_model", say=said.append)
        assert ":local:coucou:" in model
        assert any("vrai entraînement" in s for s in said)
        assert chat.ask("Quelle heure est-il ?", model=model, temperature=0).strip() == "COUCOU"
    finally:
        kit_server.stop(workspace)
        worker.stop_worker(workspace)


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


def test_still_served_knows_what_the_sandbox_holds(workspace):
    import helpers
    from helpers.client import still_served

    model = notebook.ensure("fine_tuned_model")
    state = ws.snapshot()
    assert still_served("fine_tuned_model", model) and still_served("file_id", state["file_id"])
    assert still_served("job_id", state["job_id"])
    assert not still_served("fine_tuned_model", model + "x")
    assert not still_served("file_id", "file-nexistepas") and not still_served("job_id", "ftjob-x")
    c = helpers.client()
    c.files.delete(state["file_id"])
    assert not still_served("file_id", state["file_id"])
    with notebook.fast_sandbox():
        job = c.fine_tuning.jobs.create(
            training_file=notebook.ensure("file_id"), model="gpt-4o-mini-2024-07-18"
        )
    c.fine_tuning.jobs.cancel(job.id)
    assert not still_served("job_id", job.id)  # a cancelled job is not worth continuing
    with pytest.raises(ValueError):
        still_served("dataset_path", "x.jsonl")


def test_checking_a_recorded_model_does_not_import_the_sdk(workspace, tmp_path):
    """A kernel that only checks its workspace (notebook 11) stays light: no openai."""
    import subprocess
    import sys

    model = notebook.ensure("fine_tuned_model")
    from helpers import kit_server

    url = kit_server.connect()
    code = (
        "import sys\nfrom helpers import notebook\n"
        f"assert notebook._still_there('fine_tuned_model', {model!r})[0]\n"
        "assert not notebook._still_there('fine_tuned_model', 'ft:x')[0]\n"
        "print('openai' in sys.modules)"
    )
    import os

    env = {**os.environ, "ATELIER_SANDBOX_IN_PROCESS": "0"}
    assert url
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_data_files_come_in_the_learners_language(monkeypatch):
    data = notebook.data_dir()
    monkeypatch.setenv("ATELIER_LANG", "fr")
    assert notebook.data_file("coucou.jsonl") == data / "coucou.jsonl"
    assert notebook.data_file("subjects.jsonl") == data / "en" / "subjects.jsonl"
    monkeypatch.setenv("ATELIER_LANG", "en")
    assert notebook.data_file("coucou.jsonl") == data / "en" / "coucou.jsonl"
    assert notebook.data_file("matieres.jsonl") == data / "matieres.jsonl"  # no English copy
    assert notebook.data_file("nowhere.jsonl") == data / "nowhere.jsonl"  # the usual error later


def test_the_english_data_mirror_the_french():
    from helpers import dataset

    data = notebook.data_dir()
    for french, english in [
        ("coucou.jsonl", "en/coucou.jsonl"),
        ("guide_3_exemples.jsonl", "en/guide_3_examples.jsonl"),
        ("matieres.jsonl", "en/subjects.jsonl"),
    ]:
        fr, en = dataset.check_file(data / french), dataset.check_file(data / english)
        assert len(en.examples) == len(fr.examples), english
        assert (en.ok, len(en.errors)) == (fr.ok, len(fr.errors)), english
    subjects = [
        e["messages"][-1]["content"] for e in dataset.read_jsonl(data / "en/subjects.jsonl")
    ]
    assert len(set(subjects)) == 6 and all(subjects.count(s) == 12 for s in set(subjects))
    coucou = dataset.read_jsonl(data / "en/coucou.jsonl")
    assert {e["messages"][-1]["content"] for e in coucou} == {"COUCOU"}
