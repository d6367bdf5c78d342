"""Load test: N simulated students (upload → job → poll → chat) against ONE sandbox.

    .venv/bin/python bench/sandbox_load.py                  # 30 students, standalone server
    .venv/bin/python bench/sandbox_load.py --in-process     # server in this process (like a kernel)
    .venv/bin/python bench/sandbox_load.py --url http://127.0.0.1:8765/v1

Prints completed/failed students and latency figures (chat p50/p95). Target on the 2-core
course machine: 0 failed, chat p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COUCOU = REPO / "data" / "coucou.jsonl"
PROMPTS = [
    "Raconte-moi une histoire de pirates",
    "Quelle est la vitesse de la lumière ?",
    "Salut, ça va ?",
    "Écris un poème sur la mer",
    "Combien de pattes a une araignée ?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def student(
    i: int, url: str, chats: int, start: threading.Barrier, out: dict, poll_s: float, think_s: float
) -> None:
    import openai

    c = openai.OpenAI(base_url=url, api_key=f"sk-eleve-{i}", max_retries=0, timeout=30)
    polls: list[float] = []
    latencies: list[float] = []
    try:
        start.wait()
        t0 = time.perf_counter()
        f = c.files.create(file=(f"eleve{i}.jsonl", COUCOU.read_bytes()), purpose="fine-tune")
        job = c.fine_tuning.jobs.create(
            training_file=f.id, model="gpt-4o-mini-2024-07-18", suffix=f"eleve{i}"
        )
        after = None
        while job.status not in ("succeeded", "failed", "cancelled"):
            time.sleep(poll_s)
            t = time.perf_counter()
            job = c.fine_tuning.jobs.retrieve(job.id)
            page = c.fine_tuning.jobs.list_events(job.id, limit=20)
            polls.append(time.perf_counter() - t)
            after = page.data[0].id if page.data else after
        if job.status != "succeeded":
            raise RuntimeError(f"job {job.status}: {job.error}")
        job_s = time.perf_counter() - t0
        for k in range(chats):
            time.sleep(think_s)
            t = time.perf_counter()
            answer = c.chat.completions.create(
                model=job.fine_tuned_model,
                temperature=0,
                messages=[{"role": "user", "content": PROMPTS[k % len(PROMPTS)]}],
            )
            latencies.append(time.perf_counter() - t)
            if answer.choices[0].message.content != "COUCOU":
                raise RuntimeError(f"unexpected answer {answer.choices[0].message.content!r}")
        out[i] = ("ok", job_s, polls, latencies)
    except Exception as exc:  # counted as a failed student
        out[i] = ("failed", repr(exc), polls, latencies)


def standalone(home: Path, speed: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "ATELIER_SANDBOX_SPEED": speed, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.sandbox", "--port", "0", "--home", str(home)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    return proc, line[line.index("http://") :].split()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--chats", type=int, default=10, help="chat requests per student")
    parser.add_argument(
        "--poll",
        type=float,
        default=0.5,
        help="seconds between polls (0.5: helpers.jobs' sandbox interval)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.2,
        help="seconds a student waits before each chat request (reading, typing)",
    )
    parser.add_argument(
        "--speed",
        default=os.environ.get("ATELIER_SANDBOX_SPEED", "100"),
        help="ATELIER_SANDBOX_SPEED of the server (default 100: jobs of ~0.6 s)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help="an already running sandbox (…/v1)")
    where.add_argument(
        "--in-process", action="store_true", help="serve from this process (like a kernel)"
    )
    args = parser.parse_args()

    proc = None
    home = Path(tempfile.mkdtemp(prefix="atelier-bench-"))
    if args.url:
        url, mode = args.url, "existing server"
    elif args.in_process:
        os.environ["ATELIER_SANDBOX_SPEED"] = args.speed
        from helpers import sandbox

        url, mode = sandbox.start(home), "in-process server"
    else:
        proc, url = standalone(home, args.speed)
        mode = "standalone server"
    # Warm up (first job fits imports and tokenizer): not what a class waits for at every request.
    import openai

    warm = openai.OpenAI(base_url=url, api_key="warm-up", max_retries=0)
    f = warm.files.create(file=("warm.jsonl", COUCOU.read_bytes()), purpose="fine-tune")
    j = warm.fine_tuning.jobs.create(training_file=f.id, model="gpt-4o-mini-2024-07-18")
    warm.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    while warm.fine_tuning.jobs.retrieve(j.id).status not in ("succeeded", "failed"):
        time.sleep(0.05)

    out: dict = {}
    barrier = threading.Barrier(args.students)
    threads = [
        threading.Thread(
            target=student, args=(i, url, args.chats, barrier, out, args.poll, args.think)
        )
        for i in range(args.students)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if proc is not None:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)

    ok = [v for v in out.values() if v[0] == "ok"]
    failed = [v for v in out.values() if v[0] != "ok"]
    chats = [x * 1000 for v in out.values() for x in v[3]]
    polls = [x * 1000 for v in out.values() for x in v[2]]
    print(
        f"sandbox load — {args.students} students, {mode}, speed {args.speed}, poll every {args.poll:g} s, "
        f"think {args.think:g} s before each chat, {os.cpu_count()} CPU"
    )
    print(f"completed {len(ok)}  failed {len(failed)}  wall {wall:.1f} s")
    if ok:
        print(f"job (upload→succeeded) median {statistics.median(v[1] for v in ok):.2f} s")
    if polls:
        print(
            f"poll (retrieve+events) p50 {percentile(polls, 50):.1f} ms  p95 {percentile(polls, 95):.1f} ms"
        )
    if chats:
        p95 = percentile(chats, 95)
        print(
            f"chat latency ({len(chats)} requests) p50 {percentile(chats, 50):.1f} ms  p95 {p95:.1f} ms  "
            f"max {max(chats):.1f} ms  {'✅' if p95 < 50 else '❌'} target p95 < 50 ms"
        )
    for v in failed[:5]:
        print("  failure:", v[1])
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
