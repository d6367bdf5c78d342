"""A clock that jumps forward then back (a corrected system clock, another process's) never
undoes what a learner saw (issue 19, item 11): a finished job went back to
`validating_files`, its model disappeared and it could even be cancelled."""

from __future__ import annotations

import time

import pytest
from sandboxkit import COUCOU

from helpers import models
from helpers.kit_server.database import Database
from helpers.kit_server.engines.simulated import SimulatedEngine
from helpers.kit_server.file_store import FileService

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _engine(home, clock: Clock) -> SimulatedEngine:
    return SimulatedEngine(home, FileService(Database(home)), clock)


def _planned(engine: SimulatedEngine, job_id: str) -> None:
    deadline = time.monotonic() + 60
    while not engine.jobs.get(job_id).planned:  # planned in a background thread
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.fixture
def finished(workspace):
    """(engine, clock, job id, model) of a job seen succeeded after the clock jumped an hour."""
    clock = Clock()
    engine = _engine(workspace, clock)
    file = engine.files.upload("coucou.jsonl", "fine-tune", COUCOU.read_bytes(), clock())
    job = engine.create_job(
        {"training_file": file.id, "model": models.DEFAULT_MODEL, "suffix": "horloge"}, speed=1
    )
    _planned(engine, job["id"])
    clock.now = T0 + 3600  # forward
    seen = engine.retrieve_job(job["id"])
    assert seen["status"] == "succeeded"
    return engine, clock, job["id"], seen["fine_tuned_model"]


@pytest.mark.parametrize("back_to", [T0 + 1, T0 + 30, T0 - 600])
def test_a_finished_job_stays_finished_when_the_clock_goes_back(finished, back_to):
    engine, clock, job_id, model = finished
    clock.now = back_to
    job = engine.retrieve_job(job_id)
    assert job["status"] == "succeeded" and job["fine_tuned_model"] == model
    assert engine.list_jobs(None, 10)["data"][0]["status"] == "succeeded"
    events = [e["message"] for e in engine.events(job_id, None, 100)["data"]]
    assert any("completed" in m.lower() or "succeeded" in m.lower() for m in events), events[:3]
    assert engine.checkpoints(job_id, None, 10)["data"]
    assert model in [m["id"] for m in engine.list_models()["data"]]
    assert engine.retrieve_model(model)["id"] == model
    reply = engine.chat({"model": model, "messages": [{"role": "user", "content": "Salut"}]})
    assert reply["choices"][0]["message"]["content"]
    with pytest.raises(Exception, match="cannot be cancelled"):
        engine.cancel_job(job_id)


def test_another_process_with_a_late_clock_agrees(finished, workspace):
    """A server started later on the same workspace, whose clock is behind."""
    _, _, job_id, model = finished
    late = Clock()
    late.now = T0 + 2
    other = _engine(workspace, late)
    assert other.retrieve_job(job_id)["status"] == "succeeded"
    assert model in [m["id"] for m in other.list_models()["data"]]


def test_a_model_only_listed_stays_listed(workspace):
    """Seen in the models list alone (never retrieved) before the clock went back."""
    clock = Clock()
    engine = _engine(workspace, clock)
    file = engine.files.upload("coucou.jsonl", "fine-tune", COUCOU.read_bytes(), clock())
    job = engine.create_job({"training_file": file.id, "model": models.DEFAULT_MODEL}, speed=1)
    _planned(engine, job["id"])
    clock.now = T0 + 3600
    listed = [m["id"] for m in engine.list_models()["data"] if m["id"].startswith("ft:")]
    assert len(listed) == 1
    clock.now = T0 + 1
    assert listed[0] in [m["id"] for m in engine.list_models()["data"]]


def test_a_cancelled_job_stays_cancelled(workspace):
    clock = Clock()
    engine = _engine(workspace, clock)
    file = engine.files.upload("coucou.jsonl", "fine-tune", COUCOU.read_bytes(), clock())
    job = engine.create_job({"training_file": file.id, "model": models.DEFAULT_MODEL}, speed=1)
    _planned(engine, job["id"])
    clock.now = T0 + 20
    assert engine.cancel_job(job["id"])["status"] == "cancelled"
    clock.now = T0 + 5
    assert engine.retrieve_job(job["id"])["status"] == "cancelled"


def test_statuses_never_go_back_under_a_clock_that_wanders(workspace):
    clock = Clock()
    engine = _engine(workspace, clock)
    file = engine.files.upload("coucou.jsonl", "fine-tune", COUCOU.read_bytes(), clock())
    job = engine.create_job({"training_file": file.id, "model": models.DEFAULT_MODEL}, speed=1)
    _planned(engine, job["id"])
    order = ["validating_files", "queued", "running", "succeeded"]
    seen = []
    for t in (3, 1, 8, 2, 30, 4, 25, 200, 10, 0, 400, -50):
        clock.now = T0 + t
        seen.append(order.index(engine.retrieve_job(job["id"])["status"]))
    assert seen == sorted(seen) and seen[-1] == 3, seen
