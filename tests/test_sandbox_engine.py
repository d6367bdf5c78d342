"""The simulated engine without HTTP: validation messages, the timeline as a pure function of
the stored job and the clock, and a small model that honestly fits the data."""

from __future__ import annotations

import json

import pytest
from sandboxkit import COUCOU, REPO, UNSEEN, example

from helpers import dataset, models
from helpers.kit_server import validation
from helpers.kit_server.engines.simulated import plan as planning
from helpers.kit_server.engines.simulated import replies, timeline
from helpers.kit_server.engines.simulated.jobs import JobRow

SPEC = {
    "model": models.DEFAULT_MODEL,
    "training_file": "file-x",
    "validation_file": None,
    "suffix": "t",
    "seed": 7,
    "metadata": None,
    "hyperparameters": {
        "n_epochs": "auto",
        "batch_size": "auto",
        "learning_rate_multiplier": "auto",
    },
}


def _job(data: bytes, speed: float = 1.0, created: float = 1_000_000.0) -> JobRow:
    plan, _ = planning.make_plan("ftjob-test", SPEC, data, None)
    failed = plan["failure"] is not None
    return JobRow(
        "ftjob-test",
        created,
        SPEC["model"],
        SPEC,
        plan,
        speed,
        created + plan["end_s"] / speed,
        "failed" if failed else "succeeded",
        None if failed else planning.fine_tuned_name("ftjob-test", SPEC["model"], "t"),
        None,
        False,
    )


def test_timeline_is_a_pure_function_of_the_job_and_the_clock():
    job = _job(COUCOU.read_bytes())
    times = [job.created_at + dt for dt in (0, 3, 5, 11, 20, 40, 55, 70, 500)]
    states = [timeline.state(job, t) for t in times]
    order = ["validating_files", "queued", "running", "succeeded"]
    statuses = [s.status for s in states]
    assert (
        statuses == sorted(statuses, key=order.index)
        and statuses[0] == order[0]
        and statuses[-1] == order[-1]
    )
    assert 50 <= job.end_at - job.created_at <= 70  # speed 1: about a minute for COUCOU
    for earlier, later in zip(states, states[1:], strict=False):
        assert (
            later.events[: len(earlier.events)] == earlier.events
        )  # a prefix: nothing changes or repeats
    assert timeline.state(job, times[4]) == states[4]  # same inputs, same answer
    fast = _job(COUCOU.read_bytes(), speed=1000)
    assert fast.end_at - fast.created_at < 0.08


def test_cancelled_job_stops_emitting():
    job = _job(COUCOU.read_bytes())
    t = job.created_at + 20
    cancelled = JobRow(**{**job.__dict__, "cancelled_at": t})
    st = timeline.state(cancelled, t + 1000)
    assert st.status == "cancelled" and st.events[-1]["message"] == "Fine-tuning job cancelled"
    assert all(e["created_at"] <= t for e in st.events)


@pytest.mark.parametrize("path", [COUCOU, REPO / "data" / "matieres.jsonl"])
def test_loss_falls_as_epochs_pass(path):
    if not path.exists():
        pytest.skip(f"{path.name} not in data/")
    job = _job(path.read_bytes())
    metrics = job.plan["metrics"]
    per_epoch = job.plan["steps_per_epoch"]
    first = sum(m[0] for m in metrics[:per_epoch]) / per_epoch
    last = sum(m[0] for m in metrics[-per_epoch:]) / per_epoch
    assert last < first / 3
    assert all(0 <= m[1] <= 1 for m in metrics)


def test_small_model_answers_from_the_data():
    lines = [
        example(f"Calcule {a} plus {b}", "Mathématiques")
        for a, b in [(1, 2), (3, 4), (5, 6), (7, 8), (9, 1)]
    ]
    lines += [
        example(f"Conjugue le verbe {v}", "Français")
        for v in ["aller", "être", "avoir", "faire", "voir"]
    ]
    corpus = replies.corpus_of(
        dataset.check_bytes(
            "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()
        ).examples
    )
    model = replies.ReplyModel(corpus["prompts"], corpus["replies"])
    assert model.answer("Calcule 10 plus 20") == "Mathématiques"
    assert model.answer("Conjugue le verbe prendre") == "Français"
    assert (
        model.answer("Calcule 10 plus 20", progress=0.0) is None
    )  # untrained: the base model's answer
    coucou = replies.corpus_of(dataset.check_file(COUCOU).examples)
    fitted = replies.ReplyModel(coucou["prompts"], coucou["replies"])
    assert all(fitted.answer(p) == "COUCOU" for p in UNSEEN)


@pytest.mark.parametrize(
    "lines, code, fragment",
    [
        (
            [example("a")] * 3,
            "invalid_n_examples",
            "Training file has 3 example(s), but must have at least 10 examples",
        ),
        (
            [example(str(i)) for i in range(11)]
            + [{"messages": [{"role": "robot", "content": "x"}]}],
            "invalid_training_file",
            "Example 12, message 1 Input tag found using 'role'",
        ),
        (
            [example(str(i)) for i in range(11)]
            + [{"messages": [{"role": "user", "content": "x"}]}],
            "invalid_training_file",
            "Example 12 Training examples must contain at least one message with role 'assistant'",
        ),
        (
            [example(str(i)) for i in range(11)] + ['{"messages": [}'],
            "invalid_training_file",
            "Line 12",
        ),
    ],
)
def test_failure_messages(lines, code, fragment):
    raw = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines).encode()
    failure = validation.failure_for(dataset.check_bytes(raw))
    assert (
        failure["code"] == code
        and fragment in failure["message"]
        and failure["param"] == "training_file"
    )


def test_fine_tuned_names_and_ids_are_deterministic():
    a = planning.fine_tuned_name("ftjob-abc", models.DEFAULT_MODEL, "coucou")
    assert a == planning.fine_tuned_name("ftjob-abc", models.DEFAULT_MODEL, "coucou")
    assert (
        a.startswith(f"ft:{models.DEFAULT_MODEL}:sandbox:coucou:") and len(a.rsplit(":", 1)[1]) == 8
    )
    assert planning.fine_tuned_name("ftjob-abc", models.DEFAULT_MODEL, None).split(":")[3] == ""
    assert (
        timeline.results_file_id("ftjob-abc")
        == timeline.results_file_id("ftjob-abc")
        != timeline.results_file_id("x")
    )
