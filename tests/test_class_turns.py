"""Turns for one GPU shared by a class (helpers.local.turns): first come first served across
students, never more than the slots at once, no student behind another's second job, and a
cancelled or dead worker's turn never blocks the others. Real processes, no torch."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

from helpers.local.turns import Turns

STUDENTS, JOBS = 4, 2


def _log(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as log:  # one short append per line: atomic
        log.write(line + "\n")


def _student(path: str, name: str, asks: list, finishes: list, log: str) -> None:
    """A student's worker: asks a turn when the test says so, trains until the test says so
    (its jobs one after the other, as a worker does), logs when it starts and ends."""
    turns = Turns(path)
    for k, (ask, finish) in enumerate(zip(asks, finishes, strict=True)):
        job = f"{name}-job{k}"
        if not ask.wait(120):
            return
        assert turns.wait(job, name, poll=0.01)
        _log(log, f"start {job}")
        if not finish.wait(120):
            return
        _log(log, f"end {job}")
        turns.done(job)


def _until(condition, what: str, timeout: float = 60) -> None:
    """Wait for another process (a deadline for a hang, not a timing target)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.01)


def test_turns_are_fair_and_exclusive(tmp_path):
    """Four workers, two jobs each, one slot. The test orders who asks and when each training
    ends (events, no timing): the turns go in asking order, a student's second job queues
    behind the first jobs asked before it, and never two trainings at once."""
    path, log = str(tmp_path / "turns.sqlite3"), str(tmp_path / "log.txt")
    Path(log).touch()
    turns = Turns(path)
    ctx = multiprocessing.get_context("spawn")
    asks = [[ctx.Event() for _ in range(JOBS)] for _ in range(STUDENTS)]
    finishes = [[ctx.Event() for _ in range(JOBS)] for _ in range(STUDENTS)]
    procs = [
        ctx.Process(target=_student, args=(path, f"s{i}", asks[i], finishes[i], log))
        for i in range(STUDENTS)
    ]
    for p in procs:
        p.start()

    def lines() -> list[str]:
        return Path(log).read_text(encoding="utf-8").splitlines()

    def asked() -> set[str]:
        return {job for _, job, _ in turns.waiting()}

    try:
        for i in range(STUDENTS):  # s0 asks first, then s1, s2, s3
            asks[i][0].set()
            _until(lambda i=i: f"s{i}-job0" in asked(), f"s{i} to ask")
        expected = [f"s{i}-job{k}" for k in range(JOBS) for i in range(STUDENTS)]
        for step, job in enumerate(expected):
            _until(lambda n=2 * step + 1: len(lines()) >= n, f"{job} to start")
            time.sleep(0.1)  # room for a wrong second start to show (it cannot hide one)
            seen = lines()
            assert seen[-1] == f"start {job}", seen  # this turn, in asking order
            assert (
                seen
                == [f"{what} {j}" for j in expected[: step + 1] for what in ("start", "end")][
                    : len(seen)
                ]
            ), seen  # starts and ends alternate: one training at a time
            student, k = int(job[1]), int(job[-1])
            if k + 1 < JOBS:
                asks[student][k + 1].set()  # its next job, asked as soon as this one is done
            finishes[student][k].set()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        assert lines()[-1] == f"end {expected[-1]}" and not turns.waiting()
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()


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


def test_a_clock_stepped_back_does_not_reorder_the_turns(tmp_path, monkeypatch):
    """First come first served by the order of asking, not by the clock: a turn asked after a
    clock step back (NTP) does not jump ahead of one asked before it."""
    from helpers.local import turns as turns_module

    clock = [2000.0]
    monkeypatch.setattr(turns_module.time, "time", lambda: clock[0])
    turns = Turns(tmp_path / "t.sqlite3")
    assert turns.wait("busy", "alice")
    started: list[str] = []

    def ask(job: str, student: str) -> None:
        assert turns.wait(job, student, poll=0.01)
        started.append(job)

    def queued() -> list[str]:
        return [job for _, job, training in turns.waiting() if not training]

    bob = threading.Thread(target=ask, args=("bob-job", "bob"), daemon=True)
    bob.start()
    _until(lambda: queued() == ["bob-job"], "bob to ask")
    clock[0] = 1000.0  # the clock steps back
    carol = threading.Thread(target=ask, args=("carol-job", "carol"), daemon=True)
    carol.start()
    _until(lambda: len(queued()) == 2, "carol to ask")
    assert queued() == ["bob-job", "carol-job"]  # the teacher's page shows the asking order
    turns.done("busy")
    _until(lambda: started, "the next turn")
    assert started == ["bob-job"]
    turns.done("bob-job")
    bob.join(30)
    carol.join(30)
    assert started == ["bob-job", "carol-job"]
