"""Class server, one GPU: 30 students queue their jobs; who waits how long, and is it fair?

Each student is a real process standing in for their local-mode worker (the class server
starts one per student): it asks for a class-wide turn (`helpers.local.turns`) for each of its
jobs, one after the other, and "trains" for a fixed time on the one slot. Printed side by side
in one run: the class-wide turns (what the class server does) and the anchor, a plain
exclusive file lock (`flock`) around training — one at a time too, but in whatever order the
operating system wakes the waiters.

    python bench/class_queue.py [--students 30] [--jobs 2] [--seconds 0.2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers.local.turns import Turns  # noqa: E402


def student(path: str, name: str, jobs: int, seconds: float, delay: float, out: str) -> None:
    import fcntl

    time.sleep(delay)  # students do not all click at the same instant
    turns = Turns(path) if path.endswith(".sqlite3") else None
    log = []
    for k in range(jobs):
        job = f"{name}-{k}"
        asked = time.time()
        if turns is not None:
            turns.wait(job, name, poll=0.01)
        else:
            lock = open(path, "a")  # noqa: SIM115 - held across the training
            fcntl.flock(lock, fcntl.LOCK_EX)
        started = time.time()
        time.sleep(seconds)
        if turns is not None:
            turns.done(job)
        else:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
        log.append(
            {"student": name, "job": k, "asked": asked, "start": started, "end": time.time()}
        )
    Path(out).write_text(json.dumps(log))


def run(students: int, jobs: int, seconds: float, turns: bool) -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="class-queue-"))
    path = str(folder / ("turns.sqlite3" if turns else "gpu.lock"))
    if turns:
        Turns(path)
    rng = random.Random(7)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=student,
            args=(path, f"s{i:02d}", jobs, seconds, rng.uniform(0, 0.5), str(folder / f"{i}.json")),
        )
        for i in range(students)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return [r for i in range(students) for r in json.loads((folder / f"{i}.json").read_text())]


def report(label: str, runs: list[dict], seconds: float) -> None:
    waits = {k: [r["start"] - r["asked"] for r in runs if r["job"] == k] for k in (0, 1)}
    starts = sorted(runs, key=lambda r: r["start"])
    overlap = max(sum(1 for r in runs if r["start"] <= s["start"] < r["end"]) for s in starts)
    unfair = sum(
        1
        for second in runs
        if second["job"] == 1
        for first in runs
        if first["job"] == 0
        and first["student"] != second["student"]
        and first["asked"] < second["asked"]
        and first["start"] > second["start"]
    )
    wall = max(r["end"] for r in runs) - min(r["asked"] for r in runs)
    print(f"{label:<28} wall {wall:6.2f} s | trainings at once (max) {overlap:3d}")
    for k, values in waits.items():
        print(
            f"   job {k + 1}: wait p50 {statistics.median(values):6.2f} s, max {max(values):6.2f} s"
        )
    print(f"   a student behind another's second job: {unfair} time(s)")
    per_student: dict[str, list[float]] = {}
    for r in sorted(runs, key=lambda r: (r["student"], r["job"])):
        per_student.setdefault(r["student"], []).append(r["start"] - r["asked"])
    print(
        "   waits per student (job 1 / job 2, s): "
        + " ".join(
            f"{n}={w[0]:.1f}/{w[1]:.1f}" if len(w) > 1 else f"{n}={w[0]:.1f}"
            for n, w in per_student.items()
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=0.2, help="training time of one job")
    args = parser.parse_args()
    print(f"{args.students} students × {args.jobs} jobs, {args.seconds} s of GPU each, one GPU")
    report(
        "class-wide turns (kit)", run(args.students, args.jobs, args.seconds, True), args.seconds
    )
    report(
        "anchor: a plain file lock",
        run(args.students, args.jobs, args.seconds, False),
        args.seconds,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
