"""Local mode: evaluating a model on held-out questions, concurrently vs one by one.

    .venv-local/bin/python bench/local_eval.py                    # COUCOU model, N = 24 and 100
    .venv-local/bin/python bench/local_eval.py --model base --n 24 100
    .venv-local/bin/python bench/local_eval.py --model /path/to/folder-or.gguf

What a learner's evaluation does (issue 24): in a fresh workspace, local mode, the kit's server
started as a notebook starts it (its own process, found through `helpers.client()`); the model
is SmolLM2-135M-Instruct (ATELIER_REAL_MODEL, else ~/.cache/atelier/smollm2-135m-instruct,
built by `make smollm2`). `--model coucou` (default) first fine-tunes the COUCOU model through
the SDK, so every answer is short (« COUCOU », then the end of turn); `--model base` asks the
base model with `max_tokens` short instead. The prompts: the subject questions of
data/matieres.jsonl with their system prompt (cycled, numbered, up to N), at temperature 0.

For each N, the same N chat completions through the official `openai` SDK:
- one by one: a plain loop, each request waiting for the previous answer;
- concurrently: N threads at once, as an evaluation sends them (the server generates the
  requests that arrive together as one batch).
Both print seconds per example; the answers must be the same. Target: ≤ 0.15 s per example
concurrently on 2 CPU cores (≈ 0.35 s one by one on a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SMOLLM2 = Path.home() / ".cache" / "atelier" / "smollm2-135m-instruct"


def prompts(n: int) -> list[list[dict[str, str]]]:
    """N conversations (system + question) from the subject-classifier data, cycled."""
    rows = [
        json.loads(line)
        for line in (ROOT / "data" / "matieres.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    out = []
    for i in range(n):
        messages = rows[i % len(rows)]["messages"][:-1]
        if i >= len(rows):  # another round: a distinct question all the same
            last = messages[-1]
            messages = [*messages[:-1], {**last, "content": f"{last['content']} ({i + 1})"}]
        out.append(messages)
    return out


def coucou_model(sdk) -> str:
    path = ROOT / "data" / "coucou.jsonl"
    with path.open("rb") as f:
        file = sdk.files.create(file=f, purpose="fine-tune")
    job = sdk.fine_tuning.jobs.create(
        training_file=file.id, model="gpt-4o-mini-2024-07-18", suffix="coucou", seed=1
    )
    started = time.perf_counter()
    while job.status not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.5)
        job = sdk.fine_tuning.jobs.retrieve(job.id)
    if job.status != "succeeded":
        raise SystemExit(f"COUCOU job {job.status}: {job.error}")
    print(f"(COUCOU fine-tuned in {time.perf_counter() - started:.0f} s: {job.fine_tuned_model})")
    return job.fine_tuned_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="coucou", help="coucou (default), base, or a folder")
    parser.add_argument("--n", type=int, nargs="+", default=[24, 100], help="examples (24 100)")
    parser.add_argument("--max-tokens", type=int, default=6, help="base model only (default 6)")
    args = parser.parse_args(argv)
    from helpers.local import catalog

    if not catalog.is_available():
        print(f"mode local indisponible : {catalog.INSTALL_HINT}")
        return 1
    real = Path(os.environ.get("ATELIER_REAL_MODEL") or SMOLLM2)
    spec = args.model if args.model not in ("coucou", "base") else str(real)
    if not (Path(spec) / "config.json").exists() and not spec.endswith(".gguf"):
        print(f"SmolLM2 absent : lance `make smollm2`, qui le construit dans {real}")
        return 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPU cores, load {load:.1f}; model {spec}")
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(
            ATELIER_HOME=home,
            ATELIER_MODE="local",
            ATELIER_LOCAL_MODEL=spec,
            ATELIER_SERVER_IDLE="600",
        )
        from helpers import kit_server
        from helpers.client import client
        from helpers.local.worker import stop_worker

        sdk = client(max_retries=0, timeout=600)
        try:
            if args.model == "coucou":
                model, extra = coucou_model(sdk), {}
            else:
                model, extra = "gpt-4o-mini-2024-07-18", {"max_tokens": args.max_tokens}

            def ask(messages):
                out = sdk.chat.completions.create(
                    model=model, messages=messages, temperature=0, **extra
                )
                return out.choices[0].message.content, out.usage.completion_tokens

            ask(prompts(1)[0])  # the server loads the model (as a notebook's first question)
            print(
                f"{'N':>5} {'one by one':>12} {'concurrent':>12} {'speed-up':>9}  "
                "same answers  tokens/answer"
            )
            for n in args.n:
                questions = prompts(n)
                t = time.perf_counter()
                alone = [ask(q) for q in questions]
                one_by_one = (time.perf_counter() - t) / n
                t = time.perf_counter()
                with ThreadPoolExecutor(n) as pool:
                    together = list(pool.map(ask, questions))
                concurrent = (time.perf_counter() - t) / n
                tokens = sum(c for _, c in alone) / n
                print(
                    f"{n:>5} {one_by_one:>10.3f} s {concurrent:>10.3f} s {one_by_one / concurrent:>8.1f}×  "
                    f"{'yes' if alone == together else 'NO':>12}  {tokens:>13.1f}",
                    flush=True,
                )
        finally:
            kit_server.shutdown(home)
            stop_worker(home)
    print("target: ≤ 0.15 s per example concurrently on 2 CPU cores (≈ 0.35 s one by one)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
