"""The local engine without the server: tiny model, encoding, LoRA training, generation,
the job queue and its worker process. Nothing is downloaded (HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
from localkit import HELD_OUT, coucou_examples, coucou_path, need_torch, system_prompt

pytestmark = [pytest.mark.slow, pytest.mark.local]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    need_torch()
    from helpers.local import tiny

    return tiny.build(tmp_path_factory.mktemp("tiny") / "tiny")


@pytest.fixture
def local_env(monkeypatch, tiny_dir):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ATELIER_LOCAL_MODEL", str(tiny_dir))
    monkeypatch.setenv("ATELIER_MODE", "local")
    return tiny_dir


def expected_reply(examples: list[dict]) -> str:
    replies = Counter(
        m["content"] for ex in examples for m in ex["messages"] if m["role"] == "assistant"
    )
    return replies.most_common(1)[0][0]


def test_tiny_model_loads_like_a_hub_model(tiny_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    assert sum(p.numel() for p in model.parameters()) < 200_000
    text = "Ça va ? 🙂 Привет"  # every byte is encodable: no unknown token
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    assert tokenizer.eos_token == "<|im_end|>"
    mask = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Salut"}, {"role": "assistant", "content": "COUCOU"}],
        return_dict=True,
        return_assistant_tokens_mask=True,
    )["assistant_masks"]
    assert sum(mask) >= 2  # the generation markers work (content + end of turn)


def test_loss_only_on_assistant_turns_with_weight(tiny_dir):
    from transformers import AutoTokenizer

    from helpers.local.train import IGNORE, encode

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    messages = [
        {"role": "system", "content": "Sois bref."},
        {"role": "user", "content": "Un"},
        {"role": "assistant", "content": "PAS CECI", "weight": 0},
        {"role": "user", "content": "Deux"},
        {"role": "assistant", "content": "COUCOU"},
    ]
    ids, labels = encode(tokenizer, messages)
    learned = tokenizer.decode([t for t in labels if t != IGNORE], skip_special_tokens=False)
    assert learned == "COUCOU<|im_end|>"
    assert len(ids) == len(labels)


def test_spans_found_without_generation_markers(tiny_dir):
    """Hub templates (SmolLM2, Qwen2.5) have no {% generation %}: spans come from prefixes."""
    from transformers import AutoTokenizer

    from helpers.local.train import IGNORE, encode

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    tokenizer.chat_template = (
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        "{{ '<|im_start|>system\\nTu es utile.<|im_end|>\\n' }}{% endif %}"
        "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )
    _, labels = encode(
        tokenizer,
        [{"role": "user", "content": "Salut"}, {"role": "assistant", "content": "Bonjour toi"}],
    )
    assert (
        tokenizer.decode([t for t in labels if t != IGNORE], skip_special_tokens=False)
        == "Bonjour toi<|im_end|>"
    )


def test_lora_learns_coucou_and_generalises(tiny_dir, tmp_path):
    from helpers.local import generate
    from helpers.local.train import Callbacks, TrainConfig, train

    examples = coucou_examples()
    answer = expected_reply(examples)
    seen: list[float] = []
    checkpoints: list[int] = []

    class Record(Callbacks):
        def on_step(self, m):
            seen.append(m.train_loss)

        def on_checkpoint(self, step, path, m):
            checkpoints.append(step)

    config = TrainConfig(
        base=str(tiny_dir),
        output_dir=tmp_path / "out",
        n_epochs=8,
        batch_size=1,
        learning_rate=3e-3,
        num_threads=1,
    )
    result = train(examples, config, validation=examples[:3], callbacks=Record())
    assert result.steps == len(seen) == 8 * len(examples)
    assert sum(seen[-5:]) / 5 < sum(seen[:5]) / 5 / 3  # the loss falls
    assert (
        result.metrics[-1].valid_loss is not None and result.metrics[-1].full_valid_loss is not None
    )
    assert result.metrics[-1].train_mean_token_accuracy == 1.0
    assert result.trained_tokens > 0
    assert len(checkpoints) == 8
    kept = sorted(p.name for p in (tmp_path / "out" / "checkpoints").iterdir())
    assert kept == sorted(f"step-{s}" for s in checkpoints[-3:])  # the last 3 epochs
    system = system_prompt(examples)
    for prompt in HELD_OUT:
        messages = ([system] if system else []) + [{"role": "user", "content": prompt}]
        assert generate.complete(result.output_dir, messages).text == answer
        assert generate.complete(tiny_dir, messages, max_tokens=8).text != answer


def test_cancel_stops_training(tiny_dir, tmp_path):
    from helpers.local.train import Callbacks, Cancelled, TrainConfig, train

    steps: list[int] = []

    class StopAfterThree(Callbacks):
        def on_step(self, m):
            steps.append(m.step)

        def should_stop(self):
            return len(steps) >= 3

    with pytest.raises(Cancelled):
        train(
            coucou_examples(),
            TrainConfig(base=str(tiny_dir), output_dir=tmp_path / "out", n_epochs=50),
            callbacks=StopAfterThree(),
        )
    assert steps == [1, 2, 3]


def _wait(queue, job_id, predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.get(job_id)
        if predicate(job):
            return job
        time.sleep(0.05)
    raise AssertionError(
        f"timeout; job {job_id}: {queue.get(job_id)}; events: "
        f"{[e.message for e in queue.events(job_id)][-5:]}"
    )


def test_worker_process_runs_queue_in_order_and_cancels(local_env, workspace):
    from helpers.local import worker

    queue = worker.LocalQueue(workspace)
    data = coucou_path().read_bytes()
    first = queue.enqueue(
        "ftjob-first",
        model="gpt-4o-mini-2024-07-18",
        training=data,
        validation=data,
        fine_tuned_model="ft:tiny:local:coucou:first111",
    )
    second = queue.enqueue(
        "ftjob-second",
        model="tiny",
        training=data,
        hyperparameters={"n_epochs": 50},
        fine_tuned_model="ft:tiny:local:long:second22",
    )
    third = queue.enqueue(
        "ftjob-third", model="tiny", training=data, fine_tuned_model="ft:tiny:local:x:third333"
    )
    assert (first.status, second.status, third.status) == ("queued", "queued", "queued")
    queue.cancel(third.id)  # cancelled while queued: never runs
    assert queue.get(third.id).status == "cancelled"
    assert worker.ensure_worker(workspace) is True
    assert worker.ensure_worker(workspace) is False  # one worker per workspace

    running = _wait(queue, first.id, lambda j: j.status == "running")
    assert queue.get(second.id).status == "queued"  # one job at a time
    assert running.worker_pid and running.worker_pid != __import__("os").getpid()
    done = _wait(queue, first.id, lambda j: j.done)
    assert done.status == "succeeded", done.error
    assert done.fine_tuned_model == "ft:tiny:local:coucou:first111"
    from helpers import models

    n = len(coucou_examples())
    epochs = models.auto_epochs(n)
    assert done.hyperparameters["n_epochs"] == epochs and done.hyperparameters["batch_size"] == 1
    assert done.trained_tokens > 0
    messages = [e.message for e in queue.events(first.id)]
    assert messages[0] == "Fine-tuning job started"
    assert messages[-2:] == [
        f"New fine-tuned model created: {done.fine_tuned_model}",
        "The job has successfully completed",
    ]
    metrics = [e.data for e in queue.events(first.id) if e.type == "metrics"]
    assert len(metrics) == epochs * n
    assert all("valid_loss" in m for m in metrics)
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"]
    checkpoints = queue.checkpoints(first.id)
    assert [c.step for c in checkpoints] == [(epochs - 2) * n, (epochs - 1) * n, epochs * n]
    assert checkpoints[-1].name.endswith(f":ckpt-step-{epochs * n}")
    csv_lines = queue.results_csv(first.id).decode().splitlines()
    assert csv_lines[0] == "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
    assert len(csv_lines) == 1 + len(metrics)
    assert queue.model_folder(done.fine_tuned_model) == queue.job_dir(first.id) / "model"

    # The second job starts after the first; cancel it mid-training: training really stops.
    _wait(queue, second.id, lambda j: sum(e.type == "metrics" for e in queue.events(j.id)) >= 5)
    queue.cancel(second.id)
    cancelled = _wait(queue, second.id, lambda j: j.done, timeout=30)
    assert cancelled.status == "cancelled"
    steps = sum(e.type == "metrics" for e in queue.events(second.id))
    time.sleep(0.5)
    assert sum(e.type == "metrics" for e in queue.events(second.id)) == steps < 50 * n
    assert queue.events(second.id)[-1].message == "Fine-tuning job cancelled"
    assert queue.model_folder("ft:tiny:local:long:second22") is None
    assert json.loads((queue.job_dir(first.id) / "model" / "atelier.json").read_text())[
        "base"
    ] == str(local_env)


def test_orphaned_running_job_fails_cleanly(local_env, workspace):
    from helpers.local import worker

    queue = worker.LocalQueue(workspace)
    queue.enqueue(
        "ftjob-orphan", model="tiny", training=coucou_path().read_bytes(), fine_tuned_model="ft:x"
    )
    job = worker.claim(queue)
    assert job is not None and job.status == "running"
    with queue._tx() as c:  # as if a worker that has since died had claimed it
        c.execute("UPDATE jobs SET worker_pid = 999999999 WHERE id = ?", (job.id,))
    assert worker.serve(workspace, once=True) == 0
    orphan = queue.get(job.id)
    assert orphan.status == "failed" and orphan.error["code"] == "server_error"


def test_prewarm_loads_the_default_model_in_the_background(local_env):
    from helpers.local import generate

    generate.forget()
    generate.prewarm().join(timeout=120)
    key = f"{local_env.resolve()}@cpu"
    assert key in generate._cache


# --------------------------------------------------------------- the same job, the same model
def test_threads_do_not_follow_the_load(tiny_dir, tmp_path, monkeypatch):
    """Another thread count sums floats in another order: the model, and the answers, would
    depend on how busy the machine was. Training and generation use `cpu_threads()`: 1, or
    ATELIER_LOCAL_THREADS."""
    import os

    import torch

    from helpers.exceptions import SettingsError
    from helpers.local import generate
    from helpers.local.train import TrainConfig, cpu_threads, train

    for load in (0.0, 7.5):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        torch.set_num_threads(3)
        config = TrainConfig(base=str(tiny_dir), output_dir=tmp_path / f"out-{load}", n_epochs=1)
        train(coucou_examples()[:2], config)
        assert torch.get_num_threads() == cpu_threads() == 1
        torch.set_num_threads(3)
        monkeypatch.setattr(generate, "_threads_set", False)
        generate._threads("cpu")
        assert torch.get_num_threads() == 1
    monkeypatch.setenv("ATELIER_LOCAL_THREADS", "2")
    assert cpu_threads() == 2
    monkeypatch.setenv("ATELIER_LOCAL_THREADS", "beaucoup")
    with pytest.raises(SettingsError, match="ATELIER_LOCAL_THREADS"):
        cpu_threads()


def test_same_seed_same_model(tiny_dir, tmp_path):
    """Seeds give the data order, LoRA's first weights and dropout: two runs with one seed
    give the same losses and the same answers; another seed, another order."""
    from helpers.local import generate
    from helpers.local.train import TrainConfig, train

    examples = coucou_examples()

    def run(seed: int, name: str):
        config = TrainConfig(
            base=str(tiny_dir),
            output_dir=tmp_path / name,
            n_epochs=3,
            seed=seed,
            lora_dropout=0.1,  # dropout draws random numbers at every step: seeded too
            early_stop_loss=None,
        )
        result = train(examples, config)
        answers = [
            generate.complete(result.output_dir, [{"role": "user", "content": p}], max_tokens=6)
            for p in HELD_OUT
        ]
        return [m.train_loss for m in result.metrics], [a.text for a in answers]

    first, again, other = run(7, "a"), run(7, "b"), run(8, "c")
    assert first == again  # bit for bit
    assert first[0] != other[0]


# --------------------------------------------------------------- batched generation
PROMPTS = [
    "Bonjour",
    "Quelle est la capitale de la France ?",
    "Explique-moi le fine-tuning en une phrase courte et polie.",
    "Un, deux, trois",
    "Donne-moi une recette de crêpes avec de la farine, des œufs, du lait et du beurre.",
    "Qui es-tu ?",
    "Le chat dort sur le canapé.",
    "Réponds par oui ou par non : il fait beau ?",
]


SYSTEM = {
    "role": "system",
    "content": "Tu reçois la question d'un élève de collège. Réponds uniquement par la matière.",
}


def conversation(prompt: str, system: bool) -> list[dict[str, str]]:
    return ([SYSTEM] if system else []) + [{"role": "user", "content": prompt}]


def one_by_one(source, messages: list[dict[str, str]], limit: int):
    """Greedy generation of one prompt with plain transformers, no padding (the reference)."""
    import torch

    from helpers.local import generate

    tokenizer, model = generate.load(source)
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(
            **ids,
            max_new_tokens=limit,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            temperature=None,
            top_p=None,
            top_k=None,
        )
    new = out[0, ids["input_ids"].shape[1] :].tolist()
    return tokenizer.decode(new, skip_special_tokens=True).strip(), len(new)


@pytest.fixture(scope="module")
def coucou_tiny(tiny_dir, tmp_path_factory):
    """The tiny model fine-tuned on COUCOU: its answers end (end-of-turn), the base's ramble."""
    from helpers.local.train import TrainConfig, train

    config = TrainConfig(
        base=str(tiny_dir), output_dir=tmp_path_factory.mktemp("coucou") / "m", n_epochs=8
    )
    return train(coucou_examples(), config).output_dir


@pytest.mark.parametrize(
    ("which", "system"), [("base", False), ("coucou", False), ("base", True), ("coucou", True)]
)
def test_concurrent_requests_are_one_batch_with_the_answers_of_one_by_one(
    which, system, tiny_dir, coucou_tiny
):
    """With a system prompt, the prompts' common beginning is computed once for the batch."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from helpers.local import generate

    source = tiny_dir if which == "base" else coucou_tiny
    limits = [3, 12, 7, 20, 5, 16, 9, 2]  # each request its own max_tokens
    chats = [conversation(p, system) for p in PROMPTS]
    expected = [one_by_one(source, c, n) for c, n in zip(chats, limits, strict=True)]
    tokenizer, _ = generate.load(source)
    ids = [
        tokenizer(
            tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True),
            add_special_tokens=False,
        )["input_ids"]
        for c in chats
    ]
    assert (generate._common_prefix(ids) >= generate.SHARED_PREFIX) == system
    before = len(generate._batcher.batches)
    barrier = threading.Barrier(len(PROMPTS))

    def ask(i: int):
        barrier.wait()  # all at once, as an evaluation sends them
        return generate.complete(source, chats[i], max_tokens=limits[i])

    with ThreadPoolExecutor(len(PROMPTS)) as pool:
        answers = list(pool.map(ask, range(len(PROMPTS))))
    assert [(a.text, a.completion_tokens) for a in answers] == expected
    assert max(generate._batcher.batches[before:]) > 1  # really batched
    if which == "coucou" and not system:  # each stops at its end of turn, or at its limit
        for answer, limit in zip(answers, limits, strict=True):
            if answer.finish_reason == "stop":
                assert answer.text == "COUCOU" and answer.completion_tokens <= limit
            else:
                assert answer.completion_tokens == limit
        assert [a.finish_reason for a in answers].count("stop") >= 6
    elif which == "base":
        assert all(a.finish_reason == "length" for a in answers)  # the base model rambles


def test_a_failing_batch_fails_each_request(tiny_dir, monkeypatch):
    from helpers.local import generate

    def broken(*args, **kwargs):
        raise RuntimeError("plus de mémoire")

    monkeypatch.setattr(generate, "generate_greedy", broken)
    with pytest.raises(RuntimeError, match="plus de mémoire"):
        generate.complete(tiny_dir, [{"role": "user", "content": "Salut"}])
