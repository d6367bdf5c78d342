"""Which DPO trainer for local mode: TRL's `DPOTrainer` or the kit's own loop
(`helpers.local.preference`)? The same pairs, model, LoRA, steps, learning rate and beta;
each in its own process (model loading included), printed side by side.

    .venv-local/bin/python -m pip install trl          # once: TRL is not a dependency of the kit
    .venv-local/bin/python bench/local_dpo_trainers.py [--model DOSSIER] [--epochs 2] [--batch 4]

Prints, for each trainer: seconds (process start to the adapter saved), seconds of the
training itself, and the held-out pairs' mean reward margin afterwards (how much more the
model prefers the preferred answers than its starting point does), on the machine's load.
Defaults: SmolLM2-135M-Instruct (`make smollm2`), data/preferences_tu.jsonl (30 pairs) and
data/preferences_tu_test.jsonl (10 held-out pairs), one torch thread (the local engine's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMOLLM2 = Path.home() / ".cache" / "atelier" / "smollm2-135m-instruct"
TRAIN = ROOT / "data" / "preferences_tu.jsonl"
HELD_OUT = ROOT / "data" / "preferences_tu_test.jsonl"
LORA = {"r": 8, "lora_alpha": 16, "target_modules": "all-linear"}


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def held_out_margin(folder: Path, base: str, beta: float) -> float:
    """Mean β·Δ on the held-out pairs: the trained model against the base model."""
    import torch

    from helpers.local.adapters import load_merged
    from helpers.local.preference import encode_pair, pair_logps

    pairs = read(HELD_OUT)
    tokenizer, trained = load_merged(str(folder), "cpu")
    _, start = load_merged(base, "cpu")
    encoded = [encode_pair(tokenizer, p) for p in pairs]
    with torch.no_grad():
        c, r, _ = pair_logps(trained.eval(), encoded, tokenizer.pad_token_id, "cpu")
        c0, r0, _ = pair_logps(start.eval(), encoded, tokenizer.pad_token_id, "cpu")
    return float((beta * ((c - c0) - (r - r0))).mean())


def run_kit(base: str, out: Path, epochs: int, batch: int, lr: float, beta: float) -> float:
    from helpers.local.preference import LEARNING_RATE_RATIO, train_preferences
    from helpers.local.train import TrainConfig

    config = TrainConfig(
        base=base,
        output_dir=out,
        n_epochs=epochs,
        batch_size=batch,
        learning_rate=lr / LEARNING_RATE_RATIO,  # the same effective rate as TRL's
        lora_r=LORA["r"],
        lora_alpha=LORA["lora_alpha"],
        num_threads=1,
        keep_checkpoints=0,
    )
    start = time.perf_counter()
    train_preferences(read(TRAIN), config, beta=beta)
    return time.perf_counter() - start


def run_trl(base: str, out: Path, epochs: int, batch: int, lr: float, beta: float) -> float:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from helpers.local.preference import cpu_bf16

    torch.set_num_threads(1)
    rows = [
        {
            "prompt": p["input"]["messages"],
            "chosen": p["preferred_output"],
            "rejected": p["non_preferred_output"],
        }
        for p in read(TRAIN)
    ]
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    args = DPOConfig(
        output_dir=str(out),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch,
        learning_rate=lr,
        lr_scheduler_type="linear",
        beta=beta,
        use_cpu=True,
        bf16=cpu_bf16(),  # the same bfloat16 products as the kit's loop where the CPU has them
        report_to="none",
        disable_tqdm=True,
        save_strategy="no",
        logging_steps=1000,
        precompute_ref_log_probs=True,  # like the kit: the reference once, not every step
        dataloader_num_workers=0,
        seed=0,
    )
    start = time.perf_counter()
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=LoraConfig(task_type="CAUSAL_LM", lora_dropout=0.0, **LORA),
    )
    trainer.train()
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    return time.perf_counter() - start


def child(args: argparse.Namespace) -> None:
    out = Path(args.out)
    runner = run_kit if args.trainer == "kit" else run_trl
    seconds = runner(args.model, out, args.epochs, args.batch, args.lr, args.beta)
    if args.trainer == "trl":  # TRL's adapter folder: name its base the kit's way
        (out / "atelier.json").write_text(json.dumps({"base": args.model}), encoding="utf-8")
    margin = held_out_margin(out, args.model, args.beta)
    print(json.dumps({"train_s": seconds, "margin": margin}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(SMOLLM2))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-4, help="effective learning rate")
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--trainer", choices=("kit", "trl"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trainer:
        child(args)
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    print(
        f"DPO, {len(read(TRAIN))} paires, {args.epochs} époques, lots de {args.batch}, "
        f"lr {args.lr:g}, beta {args.beta:g}, LoRA r={LORA['r']}, 1 thread — {Path(args.model).name}"
    )
    results = {}
    for trainer in ("kit", "trl"):
        with tempfile.TemporaryDirectory() as tmp:
            load_before = os.getloadavg()[0]
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, __file__, "--trainer", trainer, "--out", tmp]
                + [f"--{k}={getattr(args, k)}" for k in ("model", "epochs", "batch", "lr", "beta")],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            total = time.perf_counter() - start
        if done.returncode:
            print(f"{trainer}: échec\n{done.stderr[-2000:]}")
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        results[trainer] = figures["train_s"]
        print(
            f"{'boucle du kit' if trainer == 'kit' else 'TRL DPOTrainer':>15} : "
            f"entraînement {figures['train_s']:5.1f} s (processus entier {total:5.1f} s), "
            f"marge sur les paires mises de côté {figures['margin']:+.2f} "
            f"(charge de la machine {load_before:.1f} → {os.getloadavg()[0]:.1f})"
        )
    if len(results) == 2:
        print(f"TRL / boucle du kit : {results['trl'] / results['kit']:.2f}×")


if __name__ == "__main__":
    main()
