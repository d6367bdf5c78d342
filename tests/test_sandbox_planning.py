"""Planning a simulated job (issue 19): bounded by a sample of the data, and fair between the
workspaces of one process (the class server's students) — one student's heavy job never
holds another student's small one."""

from __future__ import annotations

import json
import os
import threading

from sandboxkit import COUCOU, example

from helpers import models
from helpers.kit_server.database import Database
from helpers.kit_server.engines.simulated import SimulatedEngine, replies
from helpers.kit_server.engines.simulated import plan as planning
from helpers.kit_server.engines.simulated.planners import Planners
from helpers.kit_server.file_store import FileService

SPEC = {
    "model": models.DEFAULT_MODEL,
    "seed": 3,
    "hyperparameters": {"n_epochs": 1, "batch_size": 64, "learning_rate_multiplier": "auto"},
}


def _dataset(n: int) -> bytes:
    lines = [
        json.dumps(
            example(f"question {i} sur le sujet {i % 37}", "COUCOU" if i % 4 else f"r{i % 9}")
        )
        for i in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_the_small_model_is_fitted_on_a_bounded_sample():
    """A 5,000-example job fits its model (and stores the corpus its chats fit) on at most
    MAX_MODEL_EXAMPLES pairs; its steps and tokens still count every example."""
    data = _dataset(planning.MAX_MODEL_EXAMPLES + 3000)
    plan, corpus = planning.make_plan("ftjob-bounded", SPEC, data, _dataset(2000))
    assert plan["failure"] is None
    assert len(corpus["prompts"]) == len(corpus["replies"]) == planning.MAX_MODEL_EXAMPLES
    assert replies.reply_model("ftjob-bounded", lambda: {}).size == planning.MAX_MODEL_EXAMPLES
    assert plan["n_examples"] == planning.MAX_MODEL_EXAMPLES + 3000
    assert plan["steps"] == -(-(planning.MAX_MODEL_EXAMPLES + 3000) // 64)
    again, corpus_again = planning.make_plan("ftjob-bounded-2", SPEC, data, _dataset(2000))
    assert corpus_again == corpus and again["metrics"] == plan["metrics"]  # the job's seed


def test_long_prompts_are_sampled_by_their_characters_too():
    """300 examples of 5,000-character prompts: the model compares a bounded text."""
    lines = [json.dumps(example(f"{i} " + "mot " * 1250)) for i in range(300)]
    data = ("\n".join(lines) + "\n").encode()
    plan, corpus = planning.make_plan("ftjob-long-prompts", SPEC, data, None)
    assert plan["failure"] is None and plan["n_examples"] == 300
    compared = sum(min(len(p), replies.MAX_PROMPT_CHARS) for p in corpus["prompts"])
    assert 0 < compared + sum(map(len, corpus["replies"])) <= planning.MAX_MODEL_CHARS


def test_a_small_dataset_is_planned_on_all_its_examples():
    data = COUCOU.read_bytes()
    _, corpus = planning.make_plan("ftjob-small", SPEC, data, None)
    assert len(corpus["prompts"]) == len(data.splitlines())


def test_metric_steps_of_a_long_job_are_a_sample():
    steps = 5_000_000
    picked = planning.metric_steps(steps, [steps])
    assert len(picked) <= 2 * planning.MAX_METRIC_STEPS + 3 and picked[-1] == steps


def test_planners_serve_each_workspace_in_turn():
    planners = Planners(slots=1, large=100)
    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def plan(workspace: str, tag: str) -> None:
        with planners.turn(workspace):
            order.append(tag)
            inside.set()
            release.wait(30)

    first = threading.Thread(target=plan, args=("a", "a1"))
    first.start()
    assert inside.wait(30)
    inside.clear()
    other = threading.Thread(target=plan, args=("b", "b1"))  # another workspace: at once
    other.start()
    assert inside.wait(30), "a workspace waited for another workspace's plan"
    inside.clear()
    again = threading.Thread(target=plan, args=("a", "a2"))  # the same workspace: waits
    again.start()
    assert not inside.wait(0.3)
    release.set()
    for t in (first, other, again):
        t.join(30)
    assert order == ["a1", "b1", "a2"]
    assert planners._workspaces == {}  # nothing kept once everyone is done


def test_a_large_plan_runs_in_its_own_process_and_a_small_one_here():
    planners = Planners(slots=1, large=100)
    assert planners.compute(10, os.getpid) == os.getpid()
    assert planners.compute(1_000, os.getpid) != os.getpid()
    if hasattr(os, "nice"):  # and at a lower priority than the server's
        assert planners.compute(1_000, os.nice, 0) > os.nice(0)


def test_large_plans_take_the_shared_slots_in_arrival_order():
    planners = Planners(slots=1, large=100)
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with planners._slot():
            holding.set()
            release.wait(30)

    def wait_slot(tag: str) -> None:
        with planners._slot():
            order.append(tag)

    first = threading.Thread(target=hold)
    first.start()
    assert holding.wait(30)
    waiters = []
    for tag in ("b", "c", "d"):
        waiters.append(threading.Thread(target=wait_slot, args=(tag,)))
        waiters[-1].start()
        while len(planners._queue) < len(waiters):
            threading.Event().wait(0.01)
    release.set()
    for t in (first, *waiters):
        t.join(30)
    assert order == ["b", "c", "d"]


def _engine(home) -> SimulatedEngine:
    return SimulatedEngine(home, FileService(Database(home)))


def test_one_workspace_heavy_plan_does_not_hold_another_workspace(tmp_path, monkeypatch):
    """Two students of one process: while alice's job is still planning, bob's is planned."""
    alice, bob = _engine(tmp_path / "alice"), _engine(tmp_path / "bob")
    planning_alice = threading.Event()
    release = threading.Event()
    real = planning.make_plan

    def make_plan(job_id, spec, train, valid):
        if spec["training_file"] == a_file.id:
            planning_alice.set()
            release.wait(60)
        return real(job_id, spec, train, valid)

    monkeypatch.setattr(planning, "make_plan", make_plan)
    body = {"model": models.DEFAULT_MODEL}
    a_file = alice.files.upload("a.jsonl", "fine-tune", COUCOU.read_bytes(), 0)
    b_file = bob.files.upload("b.jsonl", "fine-tune", COUCOU.read_bytes(), 0)
    try:
        job_a = alice.create_job({**body, "training_file": a_file.id}, speed=1000)
        assert planning_alice.wait(30)
        job_b = bob.create_job({**body, "training_file": b_file.id}, speed=1000)
        for _ in range(600):
            if bob.jobs.get(job_b["id"]).planned:
                break
            threading.Event().wait(0.05)
        assert bob.jobs.get(job_b["id"]).planned, "bob's job waited for alice's plan"
        assert not alice.jobs.get(job_a["id"]).planned
    finally:
        release.set()


def test_a_job_planned_in_its_own_process_is_the_same_job(tmp_path, monkeypatch):
    from helpers.kit_server.engines.simulated.planners import PLANNERS

    body = {"model": models.DEFAULT_MODEL, "seed": 5}
    plans = []
    for large in (10**9, 1):  # in this thread, then in a process of its own
        monkeypatch.setattr(PLANNERS, "large", large)
        engine = _engine(tmp_path / str(large))
        file_id = engine.files.upload("c.jsonl", "fine-tune", COUCOU.read_bytes(), 0).id
        job = engine.create_job({**body, "training_file": file_id}, speed=1000)
        for _ in range(1200):
            if engine.jobs.get(job["id"]).planned:
                break
            threading.Event().wait(0.05)
        row = engine.jobs.get(job["id"])
        assert row.planned and row.outcome == "succeeded"
        plans.append({k: v for k, v in row.plan.items()})
    assert plans[0] == plans[1]


def test_a_very_long_job_has_a_bounded_number_of_events():
    """2,000 examples × 50 epochs at batch 1: 100,000 steps, and still a few hundred events
    (a validation event every 10 steps made 10,000, built again on every look)."""
    from helpers.kit_server.engines.simulated import timeline
    from helpers.kit_server.engines.simulated.jobs import JobRow

    spec = {**SPEC, "training_file": "file-x", "validation_file": None, "suffix": None}
    spec["hyperparameters"] = {**SPEC["hyperparameters"], "n_epochs": 50, "batch_size": 1}
    plan, _ = planning.make_plan("ftjob-long", spec, _dataset(2000), None)
    assert plan["steps"] == 100_000
    job = JobRow(
        "ftjob-long",
        0.0,
        spec["model"],
        spec,
        plan,
        1.0,
        plan["end_s"],
        "succeeded",
        "ft:x",
        None,
        False,
    )
    metrics = [e for e in timeline.schedule(job) if e.type == "metrics"]
    assert len(metrics) <= 2 * planning.MAX_METRICS_EVENTS + 2
    assert metrics[0].data["step"] == 1 and metrics[-1].data["step"] == 100_000
