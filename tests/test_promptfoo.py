"""Promptfoo (npm), the open evaluation tool, runs the configuration the kit writes against the
sandbox and counts the same passes as `python -m helpers eval` — exact and loose comparisons.

`tests/promptfoo/` pins Promptfoo (package.json + package-lock.json); `.ci/run` installs it
with `npm ci`. On a laptop without Node or without that install, the test
skips; in CI (`CI=true`) it fails. Promptfoo runs with its telemetry, update check and
sharing turned off (`helpers.promptfoo.OFFLINE_ENV`) and its own folder in the test's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, require

from helpers import evaluation, jobs, models, notebook, promptfoo

pytestmark = pytest.mark.promptfoo

PROMPTFOO_DIR = REPO / "tests" / "promptfoo"
BIN = PROMPTFOO_DIR / "node_modules" / ".bin" / "promptfoo"


def _promptfoo() -> str:
    node = shutil.which("node")
    require(node is not None, "Node.js absent (Node ≥ 20.20)")
    require(BIN.exists(), "npm ci --prefix tests/promptfoo")
    return str(BIN)


@pytest.fixture
def trained(workspace):
    """The subject classifier fine-tuned in the sandbox on the training part of the split."""
    split = evaluation.split(notebook.data_file("matieres.jsonl"))
    job = jobs.create(jobs.upload(split.train).id, suffix="matieres", seed=7)
    job = jobs.wait(job.id)
    assert job.status == "succeeded"
    return split, job.fine_tuned_model


def _kit_eval(model: str, heldout, *extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "eval", model, str(heldout), "--json", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("loose", [False, True], ids=["exact", "loose"])
def test_promptfoo_counts_the_kits_passes(trained, tmp_path, loose):
    tool = _promptfoo()
    split, model = trained
    base = models.DEFAULT_MODEL
    extra = ["--loose"] if loose else []
    kit = {m: _kit_eval(m, split.heldout, *extra) for m in (model, base)}
    assert kit[model]["correct"] > kit[base]["correct"] == 0
    written = promptfoo.write_config(
        tmp_path / "pf", [model, base], split.heldout, match="loose" if loose else "exact"
    )
    config = json.loads(written.config.read_text(encoding="utf-8"))
    assert all("apiBaseUrl" in p["config"] for p in config["providers"])
    text = written.config.read_text(encoding="utf-8")
    assert written.key_variable == promptfoo.KIT_KEY_VAR and "sk-" not in text
    key = written.env[promptfoo.KIT_KEY_VAR]  # the workspace's kit-server key: not in any file
    assert key and key not in text and key not in written.command()
    assert key not in (written.folder / "LISEZMOI.md").read_text(encoding="utf-8")
    out = tmp_path / "results.json"
    home = tmp_path / "promptfoo-home"
    env = {
        **os.environ,
        **written.env,
        "PROMPTFOO_CONFIG_DIR": str(home),
        "PROMPTFOO_DISABLE_RUNTIME_WARNINGS": "1",
        "NO_COLOR": "1",
    }
    env.pop("OPENAI_API_KEY", None)
    done = subprocess.run(
        [
            tool,
            "eval",
            "-c",
            str(written.config),
            "-o",
            str(out),
            "--no-cache",
            "--no-table",
            "--no-progress-bar",
            "-j",
            "4",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.exists(), (done.stdout + done.stderr)[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))["results"]["results"]
    passes: dict[str, int] = {}
    for r in results:
        assert not r.get("error") or r.get("failureReason") == 1, r.get(
            "error"
        )  # an assertion failed, not a call
        label = r["provider"].get("label") or r["provider"]["id"]
        passes[label] = passes.get(label, 0) + bool(r["success"])
    assert len(results) == 2 * len(evaluation.read_examples(split.heldout))
    assert passes.get("fine-tune", 0) == kit[model]["correct"]
    assert passes.get("base", 0) == kit[base]["correct"]
