"""Class server, one heavy student: do the others still get their small jobs done on time?

A real class server (`python -m helpers class serve`, simulated engine, speed 1000, its own
process). Students each upload a 12-example dataset, create a job and poll it until it
succeeds; their time-to-succeeded is measured from the job's creation. Printed side by side:
the class alone (the anchor), and the class while one student's 100,000-example job (within
the default quotas) is being validated and planned. Targets (issue 19): with the heavy job in
flight, the others' p95 ≤ 2 × the anchor's and ≤ 5 s. (Before the fix: one planning slot for
the whole server, and a 12-example job stayed `validating_files` for 90 s and more.)

    python bench/class_heavy.py [--students 20] [--heavy 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import openai  # noqa: E402

from helpers import models  # noqa: E402
from helpers.kit_server.classroom.roster import Roster  # noqa: E402

WORDS = [
    "bonjour",
    "quelle",
    "est",
    "la",
    "capitale",
    "de",
    "France",
    "explique",
    "moi",
    "le",
    "théorème",
    "de",
    "pythagore",
    "une",
    "blague",
    "un",
    "courriel",
    "au",
    "propriétaire",
    "recette",
    "du",
    "gâteau",
    "au",
    "chocolat",
    "la",
    "météo",
    "de",
    "demain",
    "les",
    "vacances",
    "la",
    "musique",
    "un",
    "film",
    "un",
    "livre",
]


def dataset(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 10))) + f" ({i})"
        reply = "COUCOU" if i % 3 else f"Réponse {i % 40}"
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": reply}]
        lines.append(json.dumps({"messages": messages}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


class ClassServer:
    """`python -m helpers class serve --port 0` in its own process."""

    def __init__(self, home: Path) -> None:
        env = {**os.environ, "ATELIER_SANDBOX_SPEED": "1000", "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = str(REPO)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "helpers", "class", "serve", "--port", "0", "--home", str(home)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        self.base = line.split("prêt : ", 1)[1].split()[0].removesuffix("/v1")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def sdk(base: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=120)


def small_job(base: str, key: str, data: bytes, out: list[float], delay: float) -> None:
    """Upload, create, poll until succeeded; appends the seconds from creation to success."""
    time.sleep(delay)
    c = sdk(base, key)
    file_id = c.files.create(file=("petit.jsonl", data), purpose="fine-tune").id
    t0 = time.perf_counter()
    job = c.fine_tuning.jobs.create(training_file=file_id, model=models.DEFAULT_MODEL)
    while job.status not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.05)
        job = c.fine_tuning.jobs.retrieve(job.id)
    if job.status != "succeeded":
        raise RuntimeError(f"small job {job.status}: {job.error}")
    out.append(time.perf_counter() - t0)


def class_round(base: str, keys: list[str], data: bytes) -> list[float]:
    out: list[float] = []
    rng = random.Random(3)
    threads = [
        threading.Thread(target=small_job, args=(base, k, data, out, rng.uniform(0, 1.0)))
        for k in keys
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def heavy_round(base: str, key: str, heavy: bytes, keys: list[str], small: bytes) -> dict:
    """The class's small jobs while one student's heavy job is validated and planned."""
    big = sdk(base, key)
    t0 = time.perf_counter()
    file_id = big.files.create(file=("lourd.jsonl", heavy), purpose="fine-tune").id
    uploaded = time.perf_counter() - t0
    t0 = time.perf_counter()
    job = big.fine_tuning.jobs.create(training_file=file_id, model=models.DEFAULT_MODEL)
    others = class_round(base, keys, small)
    in_flight = big.fine_tuning.jobs.retrieve(job.id).status == "validating_files"
    while job.status not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.2)
        job = big.fine_tuning.jobs.retrieve(job.id)
    return {
        "others": others,
        "in_flight": in_flight,
        "uploaded": uploaded,
        "seconds": time.perf_counter() - t0,
        "job": job,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20, help="students with a small job")
    parser.add_argument("--heavy", type=int, default=100_000, help="examples of the heavy job")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each side, alternated")
    args = parser.parse_args()
    small = dataset(12, 1)
    heavy = dataset(args.heavy, 2)
    alone: list[float] = []
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="class-heavy-") as tmp:
        home = Path(tmp) / "classe"
        n = args.students
        names = [f"e{r}-{i:02d}" for r in range(2 * args.rounds) for i in range(n)]
        heavies = [f"lourd{r}" for r in range(args.rounds)]
        keys = Roster(home).add_students([*names, *heavies, "chauffe"])
        server = ClassServer(home)
        try:
            class_round(server.base, [keys["chauffe"]], small)  # imports, encodings: not timed
            for r in range(args.rounds):
                batch = [keys[x] for x in names[2 * r * n : (2 * r + 1) * n]]
                alone += class_round(server.base, batch, small)
                batch = [keys[x] for x in names[(2 * r + 1) * n : (2 * r + 2) * n]]
                rounds.append(heavy_round(server.base, keys[heavies[r]], heavy, batch, small))
        finally:
            server.stop()
    others = [t for r in rounds for t in r["others"]]
    mb = len(heavy) / 1024 / 1024
    print(
        f"Class server, simulated engine, speed 1000: {args.students} students × one 12-example "
        f"job, {args.rounds} rounds each side; time from creation to succeeded (s)"
    )
    print(f"{'':34} {'p50':>6} {'p95':>6} {'max':>6}")
    for label, values in (
        ("alone (anchor)", alone),
        (f"beside a {args.heavy:,}-example job".replace(",", " "), others),
    ):
        print(f"{label:34} {statistics.median(values):6.2f} {p95(values):6.2f} {max(values):6.2f}")
    ratio = p95(others) / p95(alone)
    held = sum(r["in_flight"] for r in rounds)
    print(
        f"p95 ratio {ratio:.2f}× (target ≤ 2×); p95 beside the heavy job {p95(others):.2f} s "
        f"(target ≤ 5 s); heavy job still validating when the round's last small job had "
        f"succeeded: {held}/{len(rounds)} rounds"
    )
    for r in rounds:
        job = r["job"]
        print(
            f"the heavy job: {mb:.1f} MB uploaded in {r['uploaded']:.1f} s, {job.status} "
            f"{r['seconds']:.1f} s after its creation ({job.trained_tokens or 0:,} trained tokens)"
        )
    return 0 if all(r["job"].status == "succeeded" for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
