"""Local mode: a DPO job of 30 pairs as notebook 13 runs it, on SmolLM2-135M, beside the
supervised COUCOU job (bench/local_train.py) run on the same machine at the same moment.

    .venv-local/bin/python bench/local_dpo.py [MODEL]       # SmolLM2 by default (make smollm2)

In a fresh workspace, through the real SDK and the kit's server (engine "local"): upload
data/preferences_tu.jsonl (30 pairs), create the DPO job with notebook 13's settings
(`method.dpo`, 2 epochs, batches of 4, beta auto), poll until it succeeds — the job time is
create → succeeded, worker start and model load included — then ask the base model and the
DPO model the 10 held-out questions of data/preferences_tu_test.jsonl at temperature 0 and
count the answers in the preferred style (short, without « vous »: `helpers.preference_eval`).
Target: ≤ 60 s for the DPO job on 2 CPU cores. The machine's load is printed: other programs
share its 2 cores.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PAIRS = ROOT / "data" / "preferences_tu.jsonl"
HELD_OUT = ROOT / "data" / "preferences_tu_test.jsonl"
SMOLLM2 = Path.home() / ".cache" / "atelier" / "smollm2-135m-instruct"
#: notebook 13's request
HYPERPARAMETERS = {"n_epochs": 2, "batch_size": 4, "beta": "auto"}


def bench_dpo(spec: str, home: Path) -> dict:
    os.environ.update(ATELIER_HOME=str(home), ATELIER_MODE="local", ATELIER_LOCAL_MODEL=spec)
    from helpers import kit_server, preference_eval
    from helpers.client import client
    from helpers.local.worker import LocalQueue, stop_worker

    sdk = client(max_retries=0, timeout=300)
    sdk.models.list()  # the server is up before the clock starts (as in a notebook)
    try:
        with PAIRS.open("rb") as f:
            file = sdk.files.create(file=f, purpose="fine-tune")
        t0 = time.perf_counter()
        job = sdk.fine_tuning.jobs.create(
            training_file=file.id,
            model="gpt-4o-mini-2024-07-18",
            suffix="tu",
            method={"type": "dpo", "dpo": {"hyperparameters": HYPERPARAMETERS}},
        )
        while job.status not in ("succeeded", "failed", "cancelled"):
            time.sleep(0.1)
            job = sdk.fine_tuning.jobs.retrieve(job.id)
        job_s = time.perf_counter() - t0
        if job.status != "succeeded":
            raise SystemExit(f"{spec}: job {job.status}: {job.error}")
        events = LocalQueue(home).events(job.id)
        started = next(e.created_at for e in events if e.message == "Fine-tuning job started")
        begin = next(e.created_at for e in events if e.message.startswith("Local training of"))
        steps = [e for e in events if e.type == "metrics"]
        questions = [json.loads(line) for line in HELD_OUT.read_text("utf-8").splitlines()]
        prompts = [q["input"]["messages"] for q in questions]
        base = preference_eval.style_rate(
            "gpt-4o-mini-2024-07-18", prompts, client=sdk, progress=False
        )
        tuned = preference_eval.style_rate(
            job.fine_tuned_model, prompts, client=sdk, progress=False
        )
        return {
            "job_s": job_s,
            "startup_s": begin - started,
            "train_s": steps[-1].created_at - begin,
            "steps": f"{steps[-1].data['step']}/{steps[-1].data['total_steps']}",
            "loss": f"{steps[0].data['train_loss']:.3f} → {steps[-1].data['train_loss']:.3f}",
            "margin": f"{steps[-1].data['train_reward_margin']:+.2f}",
            "style": f"{base.hits}/{base.total} → {tuned.hits}/{tuned.total}",
            "words": f"{base.mean_words:.0f} → {tuned.mean_words:.0f}",
        }
    finally:
        kit_server.stop(home)
        stop_worker(home)


def main() -> int:
    from helpers.local import catalog

    if not catalog.is_available():
        print(f"mode local indisponible : {catalog.INSTALL_HINT}")
        return 1
    import torch

    from helpers.local.preference import cpu_bf16

    real = Path(
        sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ATELIER_REAL_MODEL") or SMOLLM2
    )
    if not (real / "config.json").exists():
        print(f"(SmolLM2 absent : lance `make smollm2`, qui le construit dans {real})")
        return 0
    import local_train

    load = os.getloadavg()[0]
    print(
        f"torch {torch.__version__}, {os.cpu_count()} cœurs CPU (charge {load:.1f}), "
        f"bfloat16 matériel : {'oui' if cpu_bf16() else 'non'}, GPU : {torch.cuda.is_available()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        dpo = bench_dpo(str(real), Path(tmp) / "dpo")
        load_mid = os.getloadavg()[0]
        sft = local_train.bench_job(str(real), Path(tmp) / "sft")
    width = 44
    print(f"{'':<{width}}{'DPO, 30 paires':>22}{'COUCOU supervisé':>22}")
    rows = [
        ("durée du job (création → succeeded)", f"{dpo['job_s']:.1f} s", f"{sft['job_s']:.1f} s"),
        (
            "  dont imports + chargement du modèle",
            f"{dpo['startup_s']:.1f} s",
            f"{sft['startup_s']:.1f} s",
        ),
        ("  dont étapes d'entraînement", f"{dpo['train_s']:.1f} s", f"{sft['train_s']:.1f} s"),
        ("étapes faites / prévues", dpo["steps"], sft["steps"]),
        ("perte d'entraînement, début → fin", dpo["loss"], f"→ {sft['last_loss']:.3f}"),
        ("marge de récompense à la fin (β·Δ)", dpo["margin"], ""),
        ("style préféré, 10 questions : base → DPO", dpo["style"], ""),
        ("mots par réponse, moyenne : base → DPO", dpo["words"], ""),
    ]
    for title, a, b in rows:
        print(f"{title:<{width}}{a:>22}{b:>22}")
    verdict = "✅" if dpo["job_s"] <= 60 else "❌"
    print(
        f"{verdict} objectif : job DPO ≤ 60 s sur 2 cœurs — mesuré {dpo['job_s']:.1f} s "
        f"(charge {load:.1f} → {load_mid:.1f} → {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
