"""Local mode: training speed of the COUCOU job on this machine.

    .venv-local/bin/python bench/local_train.py                 # the tiny offline model
    .venv-local/bin/python bench/local_train.py smollm2-135m-instruct /path/to/model …

For each model: the same settings as a local job (auto epochs and batch size, catalog LoRA
defaults), then training tokens/s, training wall time, load time, and whether the result
answers the held-out prompts exactly like the data. With `--job`, also the wall time of the
whole job through the real SDK and the sandbox server (upload → succeeded).
Models other than `tiny` are downloaded by transformers on first use (needs internet).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

HELD_OUT = [
    "Salut, tu vas bien ?",
    "Quelle est la couleur du ciel ?",
    "Écris une histoire de pirates.",
    "Combien de jours y a-t-il dans une semaine ?",
    "What is your name?",
]


def coucou() -> Path:
    path = ROOT / "data" / "coucou.jsonl"
    return path if path.exists() else ROOT / "tests" / "data" / "coucou.jsonl"


def bench_model(spec: str, work: Path) -> dict:
    from helpers.local import catalog, generate, tiny
    from helpers.local.train import TrainConfig, train
    from helpers.local.worker import resolve_hyperparameters

    examples = [
        json.loads(line)
        for line in coucou().read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    started = time.perf_counter()
    if spec == "tiny":
        base = str(tiny.build(work / "tiny"))
        model = catalog.resolve(base)
    else:
        model = catalog.resolve(spec)
        base = catalog.model_path(model)
    built = time.perf_counter() - started
    lora = catalog.lora_defaults(len(examples), model)
    hp = resolve_hyperparameters({}, len(examples), lora.learning_rate)
    config = TrainConfig(
        base=base,
        output_dir=work / f"out-{model.id}",
        n_epochs=hp["n_epochs"],
        batch_size=hp["batch_size"],
        learning_rate=lora.learning_rate,
        lora_r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        num_threads=1 if catalog.is_tiny(model) else None,
    )
    t0 = time.perf_counter()
    result = train(examples, config)
    total = time.perf_counter() - t0
    answer = Counter(
        m["content"] for ex in examples for m in ex["messages"] if m["role"] == "assistant"
    ).most_common(1)[0][0]
    system = examples[0]["messages"][0] if examples[0]["messages"][0]["role"] == "system" else None
    hits = sum(
        generate.complete(
            result.output_dir, ([system] if system else []) + [{"role": "user", "content": p}]
        ).text
        == answer
        for p in HELD_OUT
    )
    return {
        "model": model.id,
        "device": catalog.device(),
        "steps": result.steps,
        "epochs": hp["n_epochs"],
        "trained_tokens": result.trained_tokens,
        "train_s": result.seconds,
        "tokens_per_s": result.tokens_per_second,
        "load_and_save_s": total - result.seconds,
        "build_s": built,
        "first_loss": result.metrics[0].train_loss,
        "last_loss": result.metrics[-1].train_loss,
        "held_out_hits": hits,
    }


def bench_job(tiny_dir: str, home: Path) -> float:
    """Wall time of the COUCOU job through the real SDK and the sandbox (engine="local")."""
    os.environ.update(ATELIER_HOME=str(home), ATELIER_MODE="local", ATELIER_LOCAL_MODEL=tiny_dir)
    from helpers import client as make_client

    sdk = make_client.client("local")
    t0 = time.perf_counter()
    with coucou().open("rb") as f:
        file = sdk.files.create(file=f, purpose="fine-tune")
    job = sdk.fine_tuning.jobs.create(
        training_file=file.id, model="gpt-4o-mini-2024-07-18", suffix="coucou"
    )
    while job.status not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.1)
        job = sdk.fine_tuning.jobs.retrieve(job.id)
    elapsed = time.perf_counter() - t0
    from helpers import sandbox
    from helpers.local.worker import stop_worker

    sandbox.stop()
    stop_worker(home)
    if job.status != "succeeded":
        raise SystemExit(f"job {job.status}: {job.error}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "models", nargs="*", help="catalog ids, hub repos or folders (default: tiny)"
    )
    parser.add_argument(
        "--job", action="store_true", help="also time the whole job through the SDK and the sandbox"
    )
    args = parser.parse_args(argv)
    from helpers.local import catalog

    if not catalog.is_available():
        print(f"mode local indisponible : {catalog.INSTALL_HINT}")
        return 1
    import torch

    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPU cores, {torch.get_num_threads()} threads, "
        f"GPU: {torch.cuda.is_available()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for spec in ["tiny", *args.models] if "tiny" not in args.models else args.models:
            try:
                r = bench_model(spec, work)
            except catalog.LocalModelError as exc:
                print(f"{spec}: {exc}")
                continue
            print(
                f"{r['model']:<24} {r['device']}: {r['trained_tokens']} training tokens in {r['train_s']:.2f} s "
                f"= {r['tokens_per_s']:,.0f} tokens/s ({r['steps']} steps, {r['epochs']} epochs); "
                f"load+save {r['load_and_save_s']:.2f} s; loss {r['first_loss']:.2f} → {r['last_loss']:.2f}; "
                f"held-out exact answers {r['held_out_hits']}/{len(HELD_OUT)}"
            )
        if args.job:
            print(
                f"COUCOU job through the SDK (tiny, upload → succeeded): {bench_job(str(work / 'tiny'), work / 'home'):.2f} s wall"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
