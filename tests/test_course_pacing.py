"""Pacing and French around a job: the teacher's job-duration setting, the banner that shows
it, and the French gloss of everything the API says about a job (issue 15)."""

from __future__ import annotations

import json

import pytest
from sandboxkit import COUCOU, client, upload

from helpers import french, notebook, settings
from helpers.kit_server.engines.simulated import plan as engine


def _course_dataset() -> bytes:
    """Notebook 03's dataset: the course's COUCOU file plus the two examples 03 adds."""
    extra = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "COUCOU"}]}
        for q in ("Quelle heure est-il ?", "Traduis « hello » en espagnol")
    ]
    text = COUCOU.read_text(encoding="utf-8")
    return (text + "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in extra)).encode()


def test_the_reference_duration_is_the_sandboxs():
    spec = {"model": "gpt-4o-mini-2024-07-18", "hyperparameters": {}, "seed": 1}
    plan, _ = engine.make_plan("ftjob-pacing", spec, _course_dataset(), None)
    assert abs(plan["end_s"] - settings.COUCOU_JOB_SECONDS) < 2, plan["end_s"]


@pytest.mark.parametrize(("seconds", "speed"), [("52", 1.0), ("260", 0.2), ("5.2", 10.0)])
def test_the_teacher_sets_the_job_duration_in_seconds(monkeypatch, seconds, speed):
    monkeypatch.delenv("ATELIER_SANDBOX_SPEED", raising=False)
    monkeypatch.setenv("ATELIER_JOB_SECONDS", seconds)
    assert settings.sandbox_speed() == pytest.approx(speed)
    assert settings.job_seconds() == pytest.approx(float(seconds))
    lines = "\n".join(notebook.banner().lines())
    assert "ATELIER_JOB_SECONDS" in lines and "⏱️" in lines


def test_the_speed_multiplier_still_wins_and_bad_values_are_explained(monkeypatch):
    monkeypatch.setenv("ATELIER_JOB_SECONDS", "300")
    monkeypatch.setenv("ATELIER_SANDBOX_SPEED", "1000")
    assert settings.sandbox_speed() == 1000
    monkeypatch.delenv("ATELIER_SANDBOX_SPEED")
    monkeypatch.setenv("ATELIER_JOB_SECONDS", "une minute")
    with pytest.raises(settings.SettingsError, match="secondes"):
        settings.sandbox_speed()


def test_durations_read_in_french():
    assert notebook.duration_fr(52.3) == "environ 52 s"
    assert notebook.duration_fr(300) == "environ 5,0 min"
    assert notebook.duration_fr(0.05) == "moins d'une seconde"


def test_every_event_of_a_sandbox_job_has_a_french_gloss(module_sandbox, monkeypatch):
    monkeypatch.setenv("ATELIER_SANDBOX_SPEED", "1000")
    c = client(module_sandbox)
    f = upload(c, COUCOU)
    job = c.fine_tuning.jobs.create(training_file=f.id, model="gpt-4o-mini-2024-07-18")
    from helpers import jobs

    jobs.wait(job.id, client=c, timeout=60)
    events = list(c.fine_tuning.jobs.list_events(job.id, limit=1000))
    assert events
    for e in events:
        assert french.event_fr(e.message), f"no French for the API's « {e.message} »"
    # failures too: the guide's 3 examples
    from sandboxkit import GUIDE_3

    bad = c.fine_tuning.jobs.create(
        training_file=upload(c, GUIDE_3).id, model="gpt-4o-mini-2024-07-18"
    )
    bad = jobs.wait(bad.id, client=c, timeout=60)
    assert french.event_fr(bad.error.message).startswith("Le fichier d'entraînement a 3 exemple")


def test_every_event_text_of_the_kit_server_has_a_french_gloss():
    from helpers.kit_server import events

    texts = [
        getattr(events, name).format(job_id="ftjob-abc123")
        for name in dir(events)
        if name.isupper() and isinstance(getattr(events, name), str)
    ]
    texts += [
        events.validating("file-a", None),
        events.validating("file-a", "file-b"),
        events.checkpoint_created(3, "ft:gpt-4o-mini-2024-07-18:sandbox::x:ckpt-step-3"),
        events.model_created("ft:gpt-4o-mini-2024-07-18:sandbox::x"),
    ]
    for text in texts:
        assert french.event_fr(text), f"no French for the kit server's « {text} »"


def test_a_gloss_keeps_the_english_original_labelled():
    text = french.gloss("Fine-tuning job started")
    assert text.startswith("Entraînement commencé") and "original anglais" in text
    assert "Fine-tuning job started" in text
    unknown = french.gloss("Something new happened")
    assert "original anglais" in unknown and "Something new happened" in unknown
    assert french.status_fr("running") == "running (Entraînement en cours)"


def test_the_teachers_page_documents_the_setting_and_its_timings():
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    page = (repo / "docs" / "enseignant.md").read_text(encoding="utf-8")
    assert "ATELIER_JOB_SECONDS" in page and f"**{settings.COUCOU_JOB_SECONDS:g}**" in page
    assert "bench/class_timings.py" in page and (repo / "bench" / "class_timings.py").is_file()
    for n in range(14):
        assert f"| {n:02} " in page, f"no timing for notebook {n:02}"
    assert "JOB300" not in page, "timings at 300 s not filled in"
    assert "docs/enseignant.md" in (repo / "README.md").read_text(encoding="utf-8")
