"""Turns for one GPU shared by a class (helpers.local.turns): first come first served across
students, never more than the slots at once, no student behind another's second job, and a
cancelled or dead worker's turn never blocks the others. Real processes, no torch."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

from helpers.local.turns import Turns


def _student(path: str, name: str, jobs: int, seconds: float, out: str) -> None:
    turns = Turns(path)
    log = []
    for k in range(jobs):  # a student's worker trains its jobs one after the other
        job = f"{name}-job{k}"
        asked = time.time()
        assert turns.wait(job, name, poll=0.01)
        started = time.time()
        time.sleep(seconds)
        turns.done(job)
        log.append(
            {"job": job, "student": name, "asked": asked, "start": started, "end": time.time()}
        )
    Path(out).write_text(json.dumps(log))


def test_turns_are_fair_and_exclusive(tmp_path):
    path = str(tmp_path / "turns.sqlite3")
    Turns(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_student, args=(path, f"s{i}", 2, 0.15, str(tmp_path / f"s{i}.json")))
        for i in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    runs = [r for i in range(4) for r in json.loads((tmp_path / f"s{i}.json").read_text())]
    runs.sort(key=lambda r: r["start"])
    for a, b in zip(runs, runs[1:], strict=False):  # one slot: never two trainings at once
        assert b["start"] >= a["end"] - 0.005, (a, b)
    for second in (r for r in runs if r["job"].endswith("job1")):
        for first in (r for r in runs if r["job"].endswith("job0")):
            if first["student"] != second["student"] and first["asked"] < second["asked"]:
                assert first["start"] <= second["start"], (first, second)


def test_a_cancelled_wait_gives_up_its_turn(tmp_path):
    turns = Turns(tmp_path / "t.sqlite3")
    assert turns.wait("busy", "alice")
    assert turns.wait("waiting", "bob", cancelled=lambda: True, poll=0.01) is False
    assert [j for _, j, _ in turns.waiting()] == ["busy"]
    turns.done("busy")
    assert turns.wait("next", "carol", poll=0.01)


def test_a_dead_workers_turn_is_forgotten(tmp_path):
    path = tmp_path / "t.sqlite3"
    turns = Turns(path)
    ctx = multiprocessing.get_context("spawn")
    holder = ctx.Process(target=_hold, args=(str(path),))
    holder.start()
    deadline = time.time() + 30
    while not turns.waiting() and time.time() < deadline:
        time.sleep(0.05)
    assert turns.waiting() and turns.waiting()[0][2]  # the other process trains now
    os.kill(holder.pid, 9)
    holder.join(10)
    assert turns.wait("mine", "bob", poll=0.01)  # not blocked forever by a dead worker


def _hold(path: str) -> None:
    Turns(path).wait("held", "alice")
    time.sleep(600)
