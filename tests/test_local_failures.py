"""Local failures say what happened on this machine, in French, and how to get out (issue 19,
item 13): no « OpenAI a arrêté l'entraînement » in local mode, no event printed as None, no
« n'existe plus » for a job that failed, no retraining that would fail the same way, no raw
traceback, and a stop early shows its real step count.

No torch: the local server's answers are faked at `helpers.client.served` and in a fake SDK
client; tests/test_local_sandbox.py runs the real thing on the tiny model.
"""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from _widget_harness import text

from helpers import errors, french, notebook
from helpers import workspace as ws
from helpers.exceptions import MissingStateError
from helpers.local import catalog
from helpers.local import events as local_events

UNAVAILABLE = catalog.unavailable_message(catalog.CATALOG["smollm2-360m-instruct"])


def local_texts() -> list[str]:
    return [
        local_events.STARTED,
        local_events.CANCELLED,
        local_events.SUCCEEDED,
        local_events.WORKER_STOPPED,
        local_events.WORKER_DIED,
        local_events.training_of("smollm2-135m-instruct", "cpu", 18, 90, 4_884_480, 139_402_560),
        local_events.nothing_to_learn(2),
        local_events.stopped_early(33, 90, 0.0123),
        *(local_events.converting("smollm2", stage) for stage in local_events.CONVERSION_STAGES),
        local_events.model_unavailable("smollm2-135m-instruct"),
        local_events.failed("RuntimeError", "CUDA out of memory.\nTried to allocate 2 GiB"),
        local_events.failed("KeyError", ""),
    ]


def test_every_event_of_local_training_has_its_french():
    for message in local_texts():
        assert french.event_fr(message), f"no French for the local event « {message} »"
    fr = french.event_fr(local_events.training_of("tiny", "cpu", 12, 90, 4_884_480, 139_402_560))
    assert "4\u202f884\u202f480 paramètres sur 139\u202f402\u202f560" in fr  # French digits
    assert "Arrêt anticipé à l'étape 33 sur 90" in french.event_fr(
        local_events.stopped_early(33, 90, 0.0123)
    )


def failed_job(code: str, message: str, job_id: str = "ftjob-abc") -> SimpleNamespace:
    return SimpleNamespace(
        id=job_id, status="failed", error=SimpleNamespace(code=code, message=message, param=None)
    )


def test_a_failed_local_job_is_not_blamed_on_openai(monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "local")
    d = errors.explain(failed_job("model_unavailable", UNAVAILABLE))
    assert d.code == "local_model_unavailable" and "OpenAI" not in str(d)
    assert "n'est pas encore sur cette machine" in d.cause and "Deux solutions" not in d.cause
    assert "%env ATELIER_LOCAL_MODEL=tiny" in d.fix
    d = errors.explain(failed_job("server_error", local_events.WORKER_DIED))
    assert d.code == "local_job_failed" and "OpenAI" not in str(d)
    assert "worker.log" in d.fix
    d = errors.explain(failed_job("weird", "?"))
    assert "L'entraînement local, sur cette machine, s'est arrêté" in d.cause
    assert "OpenAI" not in d.cause
    monkeypatch.setenv("ATELIER_MODE", "sandbox")
    assert "bac à sable" in errors.explain(failed_job("weird", "?")).cause
    monkeypatch.setenv("ATELIER_MODE", "openai")
    assert errors.explain(failed_job("weird", "?")).cause.startswith("OpenAI a arrêté")


def fake_served(monkeypatch, job: dict) -> list[str]:
    """The kit server answers with `job` for any recorded job id; rebuilds are recorded."""
    from helpers import client

    monkeypatch.setattr(client, "served", lambda name, value, mode=None: {**job, "id": value})
    rebuilt: list[str] = []

    def rebuild(name, mode, say):
        rebuilt.append(name)
        return "ftjob-new"

    monkeypatch.setattr(notebook, "_rebuild", rebuild)
    return rebuilt


def failed(code: str, message: str) -> dict:
    return {
        "object": "fine_tuning.job",
        "status": "failed",
        "training_file": "file-trop-court",
        "error": {"code": code, "message": message},
    }


def test_ensure_stops_on_a_local_job_that_would_fail_again(workspace, monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "smollm2-360m-instruct")  # not on this machine
    ws.record(job_id="ftjob-echoue")
    rebuilt = fake_served(monkeypatch, failed("model_unavailable", UNAVAILABLE))
    said: list[str] = []
    with pytest.raises(MissingStateError) as err:
        notebook.ensure("job_id", say=said.append)
    assert rebuilt == [] and not any("n'existe plus" in s for s in said)
    assert "ftjob-echoue" in str(err.value) and "OpenAI" not in str(err.value)
    assert "%env ATELIER_LOCAL_MODEL=tiny" in err.value.fix
    # the learner followed the advice: the next run replays the job, on tiny
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "tiny")
    assert notebook.ensure("job_id", say=said.append) == "ftjob-new"
    assert rebuilt == ["job_id"]
    assert any("a échoué" in s and "je relance l'entraînement" in s for s in said)
    assert not any("n'existe plus" in s for s in said)


def test_ensure_never_replays_a_job_whose_file_was_refused(workspace, monkeypatch):
    ws.record(job_id="ftjob-refuse", file_id="file-trop-court")
    rebuilt = fake_served(
        monkeypatch,
        failed(
            "invalid_n_examples",
            "Training file has 3 example(s), but must have at least 10 examples",
        ),
    )
    with pytest.raises(MissingStateError, match="pas assez d'exemples"):
        notebook.ensure("job_id", say=lambda _: None)
    assert rebuilt == []
    ws.record(job_id="ftjob-refuse", file_id="file-corrige")  # the learner sent a fixed file
    assert notebook.ensure("job_id", say=lambda _: None) == "ftjob-new"
    assert rebuilt == ["job_id"]


def test_ensure_replays_a_cancelled_job_and_says_so(workspace, monkeypatch):
    ws.record(job_id="ftjob-annule")
    rebuilt = fake_served(monkeypatch, {"object": "fine_tuning.job", "status": "cancelled"})
    said: list[str] = []
    assert notebook.ensure("job_id", say=said.append) == "ftjob-new"
    assert said == ["↻ Le job ftjob-annule a été annulé : j'en relance un."] and rebuilt == [
        "job_id"
    ]


def test_a_replayed_job_that_fails_stops_with_the_french_diagnosis(workspace, monkeypatch):
    from helpers import jobs

    monkeypatch.setenv("ATELIER_MODE", "local")
    ws.record(job_id="ftjob-encours")
    from helpers import client

    monkeypatch.setattr(
        client, "served", lambda name, value, mode=None: {"id": value, "status": "running"}
    )
    monkeypatch.setattr(
        jobs,
        "wait",
        lambda job_id, timeout=None: failed_job("model_unavailable", UNAVAILABLE, job_id),
    )
    with pytest.raises(MissingStateError) as err:
        notebook.ensure("fine_tuned_model", say=lambda _: None)
    assert "ftjob-encours" in str(err.value) and "le modèle de base n'a pas pu être chargé" in str(
        err.value
    )
    assert "OpenAI" not in str(err.value) and "%env ATELIER_LOCAL_MODEL=tiny" in err.value.fix


def test_kit_errors_show_no_traceback_in_ipython(tmp_path):
    pytest.importorskip("IPython")
    code = (
        "from helpers.exceptions import MissingStateError\n"
        "raise MissingStateError('Le job ftjob-x a échoué.', fix='Relance le notebook 05.')\n"
    )
    script = tmp_path / "cellule.ipy"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "--colors=NoColor", "--no-banner", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = done.stdout + done.stderr
    assert (
        "❌ Le job ftjob-x a échoué." in shown and "👉 Que faire : Relance le notebook 05." in shown
    )
    assert "Traceback" not in shown and "MissingStateError" not in shown


class FakeJobs:
    """Just enough of the SDK's `fine_tuning.jobs` for a JobMonitor: a local job that stopped
    early at step 33 of 90."""

    def __init__(self) -> None:
        now = time.time()
        messages = [("message", local_events.STARTED, {})]
        messages += [
            (
                "metrics",
                f"Step {s}/90: training loss=0.10",
                {"step": s, "total_steps": 90, "train_loss": 0.1},
            )
            for s in range(1, 34)
        ]
        messages += [
            ("message", local_events.stopped_early(33, 90, 0.01), {}),
            ("message", local_events.SUCCEEDED, {}),
        ]
        self.events = [
            SimpleNamespace(
                id=f"ftevent-{i}", created_at=now, level="info", type=kind, message=m, data=d
            )
            for i, (kind, m, d) in enumerate(messages)
        ][::-1]
        self.checkpoints = SimpleNamespace(list=lambda job_id: SimpleNamespace(data=[]))

    def retrieve(self, job_id):
        return SimpleNamespace(
            id=job_id,
            status="succeeded",
            model="gpt-4o-mini-2024-07-18",
            fine_tuned_model="ft:gpt-4o-mini-2024-07-18:local::abc",
            user_provided_suffix=None,
            error=None,
        )

    def list_events(self, job_id, limit=100, after=None):
        return SimpleNamespace(data=self.events[:limit], has_more=len(self.events) > limit)


def test_the_monitor_shows_the_real_step_count_of_a_stop_early(workspace):
    from helpers.widgets import JobMonitor

    fake = SimpleNamespace(fine_tuning=SimpleNamespace(jobs=FakeJobs()))
    monitor = JobMonitor("ftjob-court", client=fake, autostart=False)
    monitor.wait(timeout=10)
    assert monitor.progress.value == monitor.progress.max == 33
    label = text(monitor.progress_label.value)
    assert "33 sur 90" in label and "90 / 90" not in label and "arrêt anticipé" in label
    shown = text(monitor.events_html.value)
    assert "Arrêt anticipé à l'étape 33 sur 90" in shown and "message de l'API" not in shown


def test_results_of_a_failed_job_explain_the_failure(monkeypatch):
    from helpers import jobs
    from helpers.exceptions import JobFailedError

    monkeypatch.setenv("ATELIER_MODE", "local")
    job = failed_job("model_unavailable", UNAVAILABLE, "ftjob-rate")
    job.result_files = []
    fake = SimpleNamespace(
        fine_tuning=SimpleNamespace(jobs=SimpleNamespace(retrieve=lambda _: job))
    )
    with pytest.raises(JobFailedError) as err:
        jobs.results("ftjob-rate", client=fake)
    assert "%env ATELIER_LOCAL_MODEL=tiny" in err.value.fix
