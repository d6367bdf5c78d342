"""Load test: N simulated students (upload → job → poll → chat) against ONE sandbox.

    .venv/bin/python bench/sandbox_load.py                  # 30 students, standalone server
    .venv/bin/python bench/sandbox_load.py --in-process     # server in this process (like a kernel)
    .venv/bin/python bench/sandbox_load.py --url http://127.0.0.1:8765/v1
    .venv/bin/python bench/sandbox_load.py --students 100 --no-baseline

Prints completed/failed students and latency figures (chat p50/p95), then the same load
against a trivial Starlette endpoint (uvicorn, same launcher) that returns fixed answers — a
fixed completion for chat, a job that succeeds after the same time — side by side: what the
client, the machine and the HTTP stack cost by themselves. Targets on the 2-core course
machine: 30 students, 0 failed, chat p95 < 50 ms and ≤ 2× the trivial endpoint's;
100 students, 0 failed, poll p95 < 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
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
    i: int,
    url: str,
    key: str,
    chats: int,
    start: threading.Barrier,
    out: dict,
    poll_s: float,
    think_s: float,
) -> None:
    import openai

    c = openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=30)
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


TRIVIAL_JOB_S = 0.6  # a COUCOU job at speed 100


def trivial_app():
    """Fixed answers in the API's shapes: the floor any OpenAI-compatible server stands on."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    def dumps(obj) -> Response:
        import json

        return Response(json.dumps(obj), media_type="application/json")

    started: dict[str, float] = {}
    completion = {
        "id": "chatcmpl-trivial",
        "object": "chat.completion",
        "created": 0,
        "model": "ft:gpt-4o-mini-2024-07-18:trivial:x:1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "COUCOU", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }

    def job(job_id: str) -> dict:
        done = time.time() - started.get(job_id, 0) >= TRIVIAL_JOB_S
        return {
            "id": job_id,
            "object": "fine_tuning.job",
            "created_at": 0,
            "model": "gpt-4o-mini-2024-07-18",
            "organization_id": "org-trivial",
            "status": "succeeded" if done else "running",
            "fine_tuned_model": completion["model"] if done else None,
            "training_file": "file-trivial",
            "validation_file": None,
            "result_files": [],
            "hyperparameters": {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8},
            "trained_tokens": None,
            "error": None,
            "finished_at": None,
            "seed": 0,
        }

    async def files(request):
        await request.body()
        return dumps(
            {
                "id": "file-trivial",
                "object": "file",
                "bytes": 1,
                "created_at": 0,
                "filename": "x.jsonl",
                "purpose": "fine-tune",
                "status": "processed",
            }
        )

    async def create_job(request):
        await request.body()
        job_id = f"ftjob-{len(started)}"
        started[job_id] = time.time()
        return dumps(job(job_id))

    async def retrieve_job(request):
        return dumps(job(request.path_params["job_id"]))

    async def events(request):
        return dumps({"object": "list", "data": [], "has_more": False})

    async def chat(request):
        await request.body()
        return dumps(completion)

    return Starlette(
        routes=[
            Route("/v1/files", files, methods=["POST"]),
            Route("/v1/fine_tuning/jobs", create_job, methods=["POST"]),
            Route("/v1/fine_tuning/jobs/{job_id}", retrieve_job),
            Route("/v1/fine_tuning/jobs/{job_id}/events", events),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )


def serve_trivial() -> None:
    from helpers.asgi_thread import serve_forever

    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(
            trivial_app(), announce=lambda port: print(f"http://127.0.0.1:{port}/v1", flush=True)
        )


def trivial() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-trivial"],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    return proc, line.strip()


def standalone(home: Path, speed: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "ATELIER_SANDBOX_SPEED": speed, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.kit_server", "--port", "0", "--home", str(home)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    return proc, line[line.index("http://") :].split()[0]


def run_class(url: str, args: argparse.Namespace) -> dict:
    """Every student at once against `url`; {student: (status, job_s | why, polls, chats)}."""
    out: dict = {}
    barrier = threading.Barrier(args.students)
    threads = [
        threading.Thread(
            target=student,
            args=(i, url, args.key, args.chats, barrier, out, args.poll, args.think),
        )
        for i in range(args.students)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["wall"] = time.perf_counter() - t0
    return out


def warm_up(url: str, key: str) -> None:
    """The first job fits imports and the tokenizer: not what a class waits for at every request."""
    import openai

    warm = openai.OpenAI(base_url=url, api_key=key, max_retries=0)
    f = warm.files.create(file=("warm.jsonl", COUCOU.read_bytes()), purpose="fine-tune")
    j = warm.fine_tuning.jobs.create(training_file=f.id, model="gpt-4o-mini-2024-07-18")
    warm.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    while warm.fine_tuning.jobs.retrieve(j.id).status not in ("succeeded", "failed"):
        time.sleep(0.05)


def figures(out: dict) -> dict:
    runs = [v for k, v in out.items() if k != "wall"]
    chats = [x * 1000 for v in runs for x in v[3]]
    polls = [x * 1000 for v in runs for x in v[2]]
    nan = float("nan")
    return {
        "ok": [v for v in runs if v[0] == "ok"],
        "failed": [v for v in runs if v[0] != "ok"],
        "wall": out["wall"],
        "chat_p50": percentile(chats, 50) if chats else nan,
        "chat_p95": percentile(chats, 95) if chats else nan,
        "poll_p50": percentile(polls, 50) if polls else nan,
        "poll_p95": percentile(polls, 95) if polls else nan,
    }


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
    where.add_argument("--url", help="an already running sandbox (…/v1); its key: --key")
    where.add_argument(
        "--in-process", action="store_true", help="serve from this process (like a kernel)"
    )
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip the same load against the trivial Starlette endpoint",
    )
    parser.add_argument(
        "--key",
        default="",
        help="the key of the --url server (a kit server answers only its workspace's key)",
    )
    parser.add_argument("--serve-trivial", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_trivial:
        serve_trivial()
        return 0

    proc = None
    home = Path(tempfile.mkdtemp(prefix="atelier-bench-"))
    if args.url:
        url, mode = args.url, "existing server"
    elif args.in_process:
        os.environ["ATELIER_SANDBOX_SPEED"] = args.speed
        from helpers import kit_server

        url, mode = kit_server.start(home), "in-process server"
    else:
        proc, url = standalone(home, args.speed)
        mode = "standalone server"
    if not args.url:  # the server of `home` answers only with its workspace's key
        from helpers import kit_server

        args.key = kit_server.key(home)
    warm_up(url, args.key)
    kit = figures(run_class(url, args))
    if proc is not None:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    base = None
    if args.baseline:
        tproc, turl = trivial()
        try:
            base = figures(run_class(turl, args))
        finally:
            tproc.send_signal(signal.SIGINT)
            tproc.wait(10)

    print(
        f"sandbox load — {args.students} students, {mode}, speed {args.speed}, poll every {args.poll:g} s, "
        f"think {args.think:g} s before each chat, {os.cpu_count()} CPU, load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'':34}{'kit server':>14}{'trivial Starlette':>20}")
    rows = [
        ("completed", lambda f: f"{len(f['ok'])}"),
        ("failed", lambda f: f"{len(f['failed'])}"),
        ("wall (s)", lambda f: f"{f['wall']:.1f}"),
        ("poll (retrieve+events) p50 (ms)", lambda f: f"{f['poll_p50']:.1f}"),
        ("poll (retrieve+events) p95 (ms)", lambda f: f"{f['poll_p95']:.1f}"),
        ("chat p50 (ms)", lambda f: f"{f['chat_p50']:.1f}"),
        ("chat p95 (ms)", lambda f: f"{f['chat_p95']:.1f}"),
    ]
    for label, cell in rows:
        print(f"  {label:<32}{cell(kit):>14}{cell(base) if base else '—':>20}")
    if kit["ok"]:
        print(f"job (upload→succeeded) median {statistics.median(v[1] for v in kit['ok']):.2f} s")
    p95 = kit["chat_p95"]
    verdicts = [f"0 failed {'✅' if not kit['failed'] else '❌'}"]
    if args.students <= 30:
        verdicts.append(f"chat p95 < 50 ms {'✅' if p95 < 50 else '❌'}")
        if base:
            ratio = p95 / base["chat_p95"]
            verdicts.append(
                f"chat p95 = {ratio:.2f}× trivial (≤ 2×) {'✅' if ratio <= 2 else '❌'}"
            )
    else:
        verdicts.append(f"poll p95 < 1 s {'✅' if kit['poll_p95'] < 1000 else '❌'}")
    print("targets: " + "  ".join(verdicts))
    for v in kit["failed"][:5]:
        print("  failure:", v[1])
    return 0 if not kit["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
