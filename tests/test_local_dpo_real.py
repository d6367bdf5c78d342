"""A real DPO job on SmolLM2-135M-Instruct (`make test-local`), through the real SDK and the kit's
server: notebook 13's 30 pairs (short answers without « vous » preferred to long ones in
« vous »), its settings, the 10 held-out pairs as the validation file. Asserted: the preferred
answers' log-probability margin rises on the held-out pairs, and the held-out answers change
style (more of them short and without « vous » than the base model's). The figures are printed
(`pytest -s`)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from localkit import local_run, need_torch

pytestmark = [pytest.mark.slow, pytest.mark.local]

REAL_VAR = "ATELIER_REAL_MODEL"
DATA = Path(__file__).resolve().parent.parent / "data"
PAIRS, HELD_OUT = DATA / "preferences_tu.jsonl", DATA / "preferences_tu_test.jsonl"


@pytest.fixture(scope="module")
def real_model() -> Path:
    need_torch()
    folder = os.environ.get(REAL_VAR, "")
    if not folder or not (Path(folder) / "config.json").exists():
        if local_run():
            pytest.fail(f"{REAL_VAR} must name the converted SmolLM2 folder (make test-local)")
        pytest.skip(f"{REAL_VAR} absent: run `make test-local`, which builds SmolLM2 offline")
    return Path(folder)


def test_dpo_on_smollm2_raises_the_margin_and_changes_the_style(real_model, workspace, monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv("ATELIER_LOCAL_MODEL", str(real_model))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ATELIER_LOCAL_WORKER_IDLE", "30")
    from helpers import kit_server, preference_eval
    from helpers.client import client
    from helpers.local import worker

    api = client(max_retries=0, timeout=300)
    try:
        files = {}
        for path in (PAIRS, HELD_OUT):
            with path.open("rb") as f:
                files[path] = api.files.create(file=f, purpose="fine-tune").id
        started = time.monotonic()
        job = api.fine_tuning.jobs.create(
            model="gpt-4o-mini-2024-07-18",
            training_file=files[PAIRS],
            validation_file=files[HELD_OUT],
            suffix="tu",
            method={"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": 2, "batch_size": 4}}},
            seed=0,
        )
        while job.status not in ("succeeded", "failed", "cancelled"):
            time.sleep(0.5)
            job = api.fine_tuning.jobs.retrieve(job.id)
        seconds = time.monotonic() - started
        assert job.status == "succeeded", job.error
        assert job.method.dpo.hyperparameters.beta == 0.1  # "auto"
        metrics = [e.data for e in api.fine_tuning.jobs.list_events(job.id, limit=200)][::-1]
        metrics = [m for m in metrics if m and "train_loss" in m]
        held = [m for m in metrics if "full_valid_reward_margin" in m]
        # before any step the model is its reference: margin 0, loss ln 2
        assert metrics[0]["train_loss"] == pytest.approx(0.693, abs=0.05)
        final = held[-1]

        prompts = [
            json.loads(line)["input"]["messages"]
            for line in HELD_OUT.read_text("utf-8").splitlines()
        ]
        base = preference_eval.style_rate(
            "gpt-4o-mini-2024-07-18", prompts, client=api, progress=False
        )
        tuned = preference_eval.style_rate(
            job.fine_tuned_model, prompts, client=api, progress=False
        )
        print(
            f"\nDPO on SmolLM2, 30 pairs, {len(metrics)} steps, {seconds:.1f} s (load "
            f"{os.getloadavg()[0]:.1f}): held-out margin 0 → {final['full_valid_reward_margin']:+.2f}, "
            f"pairs won {final['full_valid_reward_accuracy']:.0%}, loss "
            f"{metrics[0]['train_loss']:.3f} → {metrics[-1]['train_loss']:.3f}; preferred style "
            f"{base.hits}/10 → {tuned.hits}/10, words {base.mean_words:.0f} → {tuned.mean_words:.0f}"
        )
        for q, a, b in zip(base.questions, base.answers, tuned.answers, strict=True):
            print(f"  {q[:40]:40} | base: {a[:50]!r} | DPO: {b[:50]!r}")
        # the preferred answers' log-probability margin rises on pairs it never trained on
        assert final["full_valid_reward_margin"] > 1.0
        assert final["full_valid_reward_accuracy"] >= 0.8
        # and the held-out answers change style
        assert tuned.hits >= base.hits + 4
        assert tuned.mean_words < base.mean_words / 2
    finally:
        kit_server.stop(workspace)
        worker.stop_worker(workspace)
