"""Local DPO on the tiny model (offline, seconds): the packed log-probabilities, the trainer
(reference = the adapter disabled; margins on held-out pairs rise), a DPO job continuing a
local fine-tune through the real SDK (events, checkpoints, beta), its answers, and its export
(the adapter chain merged) loaded by plain transformers. SmolLM2: test_local_real.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from localkit import HELD_OUT, coucou_examples, coucou_path, need_torch, system_prompt

from helpers import preference_data

pytestmark = [pytest.mark.slow, pytest.mark.local]
TERMINAL = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    need_torch()
    from helpers.local import tiny

    return tiny.build(tmp_path_factory.mktemp("tiny") / "tiny")


def salut_pairs() -> list[dict]:
    """Prefer SALUT to COUCOU, on the COUCOU dataset's own questions."""
    examples = coucou_examples()
    system = system_prompt(examples)
    return [
        preference_data.pair(
            ex["messages"][-2]["content"], "SALUT", "COUCOU", system["content"] if system else None
        )
        for ex in examples
    ]


def test_packed_log_probabilities_are_the_plain_ones(tiny_dir, monkeypatch):
    import torch

    from helpers.local.preference import encode_pair, pair_logps
    from helpers.local.train import IGNORE, load_base

    monkeypatch.setenv("ATELIER_LOCAL_BF16", "0")  # exact float32 sums
    tokenizer, model = load_base(str(tiny_dir), "cpu")
    model.eval()
    pairs = [*salut_pairs()[:3], preference_data.pair("Q", "une réponse longue ici", "non")]
    encoded = [encode_pair(tokenizer, p) for p in pairs]

    def plain(ids: list[int], labels: list[int]) -> float:
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
        return sum(float(logp[i - 1, t]) for i, t in enumerate(labels) if t != IGNORE)

    with torch.no_grad():
        chosen, rejected, _ = pair_logps(model, encoded, tokenizer.pad_token_id, "cpu")
    for k, e in enumerate(encoded):
        assert float(chosen[k]) == pytest.approx(plain(*e.chosen), abs=1e-4)
        assert float(rejected[k]) == pytest.approx(plain(*e.rejected), abs=1e-4)
    # only the answers are labelled: the input's assistant messages are not learned
    from helpers.local.preference import conversations

    turns = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    chosen_msgs, _ = conversations({**pairs[0], "input": {"messages": turns}})
    assert chosen_msgs[1]["weight"] == 0 and "weight" not in chosen_msgs[-1]


def test_dpo_from_a_fine_tune_raises_the_held_out_margin(tiny_dir, tmp_path):
    from helpers.local import generate
    from helpers.local.adapters import chain
    from helpers.local.preference import train_preferences
    from helpers.local.train import Callbacks, TrainConfig, train

    sft = train(
        coucou_examples(),
        TrainConfig(
            base=str(tiny_dir),
            output_dir=tmp_path / "sft",
            n_epochs=8,
            learning_rate=3e-3,
            num_threads=1,
        ),
    )
    pairs = salut_pairs()
    seen: list = []

    class Record(Callbacks):
        def on_step(self, m):
            seen.append(m)

    result = train_preferences(
        pairs[:12],
        TrainConfig(
            base=str(tiny_dir),
            output_dir=tmp_path / "dpo",
            n_epochs=4,
            batch_size=2,
            learning_rate=3e-3,
            num_threads=1,
        ),
        validation=pairs[12:],
        callbacks=Record(),
        beta=0.1,
        parent=str(sft.output_dir),
    )
    assert result.steps == len(seen) == 4 * 6
    first, last = seen[0], seen[-1]
    assert first.train_loss == pytest.approx(0.693, abs=0.02)  # the adapter starts at zero
    assert last.train_loss < first.train_loss - 0.15  # the loss falls
    assert last.full_valid_reward_margin > 0.2 and last.full_valid_reward_accuracy == 1.0
    assert {"train_loss", "train_reward_margin", "train_reward_accuracy"} <= set(last.data())
    assert len(result.checkpoints) == 3
    # the result is an adapter on the supervised fine-tune, itself an adapter on tiny
    base, adapters = chain(result.output_dir)
    assert Path(base) == tiny_dir and adapters == [sft.output_dir, result.output_dir]
    info = json.loads((result.output_dir / "atelier.json").read_text())
    assert info["method"] == "dpo" and info["beta"] == 0.1
    answer = generate.complete(result.output_dir, [{"role": "user", "content": "Bonjour"}])
    assert isinstance(answer.text, str)


@pytest.fixture
def sdk(monkeypatch, workspace, tiny_dir):
    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv("ATELIER_LOCAL_MODEL", str(tiny_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ATELIER_LOCAL_WORKER_IDLE", "20")
    from helpers import kit_server
    from helpers.client import client
    from helpers.local import worker

    api = client(max_retries=0, timeout=60)
    yield api
    kit_server.stop(workspace)
    worker.stop_worker(workspace)


def upload(api, path: Path):
    with open(path, "rb") as f:
        return api.files.create(file=f, purpose="fine-tune")


def wait(api, job_id: str, timeout: float = 300.0):
    deadline = time.monotonic() + timeout
    while (job := api.fine_tuning.jobs.retrieve(job_id)).status not in TERMINAL:
        assert time.monotonic() < deadline, job.status
        time.sleep(0.1)
    return job


def test_a_dpo_job_continues_a_local_fine_tune_through_the_sdk(
    sdk, workspace, tmp_path, monkeypatch
):
    import openai

    api = sdk
    sft = wait(
        api,
        api.fine_tuning.jobs.create(
            model="gpt-4o-mini-2024-07-18",
            training_file=upload(api, coucou_path()).id,
            suffix="coucou",
            hyperparameters={"n_epochs": 8},
        ).id,
    )
    assert sft.status == "succeeded", sft.error
    path = tmp_path / "salut.jsonl"
    pairs = salut_pairs()
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs[:12]), "utf-8")
    held = tmp_path / "salut_test.jsonl"
    held.write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs[12:] * 4), "utf-8"
    )
    pairs_id, held_id = upload(api, path).id, upload(api, held).id

    # a supervised job cannot continue a local fine-tune (the local engine continues with DPO)
    with pytest.raises(openai.BadRequestError) as err:
        api.fine_tuning.jobs.create(model=sft.fine_tuned_model, training_file=pairs_id)
    assert err.value.code == "model_not_available" and "DPO" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        api.fine_tuning.jobs.create(
            model="ft:gpt-4o-mini-2024-07-18:local::nothere1",
            training_file=pairs_id,
            method={"type": "dpo"},
        )
    assert err.value.code == "model_not_available"

    created = api.fine_tuning.jobs.create(
        model=sft.fine_tuned_model,
        training_file=pairs_id,
        validation_file=held_id,
        suffix="salut",
        method={
            "type": "dpo",
            "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 3, "batch_size": 2}},
        },
    )
    assert created.status == "validating_files" and created.method.dpo.hyperparameters.beta == 0.2
    job = wait(api, created.id)
    assert job.status == "succeeded", job.error
    assert job.model == sft.fine_tuned_model
    assert job.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:local:salut:")
    hp = job.method.dpo.hyperparameters
    assert (hp.beta, hp.n_epochs, hp.batch_size) == (0.2, 3, 2)
    events = list(api.fine_tuning.jobs.list_events(job.id, limit=200))[::-1]
    metrics = [e.data for e in events if e.type == "metrics"]
    assert len(metrics) == 3 * 6 and metrics[0]["train_loss"] == pytest.approx(0.693, abs=0.02)
    assert metrics[-1]["full_valid_reward_margin"] > 0  # held-out pairs: preferred more than before
    assert events[-1].message == "The job has successfully completed"
    assert len(list(api.fine_tuning.jobs.checkpoints.list(job.id))) == 3

    served = [
        api.chat.completions.create(
            model=job.fine_tuned_model,
            messages=[{"role": "user", "content": p}],
            temperature=0,
            max_tokens=10,
        )
        .choices[0]
        .message.content
        for p in HELD_OUT[:2]
    ]

    # the export merges both adapters: plain transformers answers as the server did
    from test_local_real import run_without_kit

    from helpers import cli
    from helpers.local import export

    monkeypatch.chdir(tmp_path)
    assert cli.main(["export", job.fine_tuned_model]) == 0
    folder = tmp_path / export.DEFAULT_DIR / export.slug(job.fine_tuned_model)
    assert run_without_kit(folder, HELD_OUT[:2]) == served
