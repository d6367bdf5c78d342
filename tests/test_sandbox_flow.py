"""The whole course flow against the in-process sandbox, through the real `openai` SDK.

Every response is re-validated with the SDK's own types; paginated lists are walked to the end
by the SDK's own pagination (iterating a page fetches the next ones with `after=`).
"""

from __future__ import annotations

import base64
import csv
import io
import math
import re

import openai
import pytest
from openai.types import FileDeleted, FileObject, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
from sandboxkit import (
    COUCOU,
    GUIDE_3,
    UNSEEN,
    client,
    events_oldest_first,
    example,
    strict,
    upload,
    wait_job,
    write_lines,
)

from helpers import dataset, kit_server, models

BASE = models.DEFAULT_MODEL


@pytest.fixture(scope="module")
def url(module_sandbox):
    return module_sandbox


@pytest.fixture(scope="module")
def coucou_job(url):
    """The course's COUCOU job, created with the current `method` form, followed to the end."""
    c = client(url)
    f = upload(c, COUCOU)
    job = c.fine_tuning.jobs.create(
        training_file=f.id,
        model=BASE,
        suffix="coucou",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": "auto"}}},
    )
    return f, job, wait_job(c, job.id)


def test_upload_retrieve_content(url):
    c = client(url)
    f = strict(FileObject, upload(c, COUCOU))
    assert f.id.startswith("file-") and f.object == "file" and f.purpose == "fine-tune"
    assert (
        f.bytes == COUCOU.stat().st_size
        and f.filename == "coucou.jsonl"
        and f.status == "processed"
    )
    assert strict(FileObject, c.files.retrieve(f.id)) == f
    assert c.files.content(f.id).read() == COUCOU.read_bytes()
    assert c.files.wait_for_processing(f.id, poll_interval=0.01).status == "processed"


def test_coucou_job_created_then_succeeds(url, coucou_job):
    f, created, job = coucou_job
    created = strict(FineTuningJob, created)
    assert created.status == "validating_files" and created.fine_tuned_model is None
    assert created.hyperparameters.n_epochs == "auto" and created.trained_tokens is None
    job = strict(FineTuningJob, job)
    assert job.status == "succeeded", job
    assert re.fullmatch(rf"ft:{BASE}:sandbox:coucou:[A-Za-z0-9]{{8}}", job.fine_tuned_model)
    assert job.model == BASE and job.training_file == f.id and job.organization_id == "org-sandbox"
    assert job.finished_at >= job.created_at and job.estimated_finish is None
    report = dataset.check_file(COUCOU)
    n = len(report.examples)
    assert job.hyperparameters.n_epochs == models.auto_epochs(n)
    assert job.hyperparameters.batch_size == models.auto_batch_size(n)
    assert job.method.type == "supervised"
    assert job.method.supervised.hyperparameters.n_epochs == models.auto_epochs(n)
    assert job.trained_tokens == report.cost(models.auto_epochs(n)).billed_tokens
    assert job.model_extra["user_provided_suffix"] == "coucou"
    assert len(job.result_files) == 1 and isinstance(job.seed, int)


def test_events_newest_first_paginated(url, coucou_job):
    c = client(url)
    _, _, job = coucou_job
    page = c.fine_tuning.jobs.list_events(job.id, limit=7)
    pages = list(page.iter_pages())
    events = [strict(FineTuningJobEvent, e) for p in pages for e in p.data]
    assert len(pages) == math.ceil(len(events) / 7) > 1
    assert all(p.has_more for p in pages[:-1]) and not pages[-1].has_more
    assert len({e.id for e in events}) == len(events)
    assert [e.created_at for e in events] == sorted((e.created_at for e in events), reverse=True)
    oldest = list(reversed(events))
    assert oldest[0].message == f"Created fine-tuning job: {job.id}"
    assert oldest[1].message.startswith(f"Validating training file: {job.training_file}")
    # The real API's closing events (Cookbook transcript): checkpoints but the last one, the
    # model, then the final message.
    kept = [k.step_number for k in c.fine_tuning.jobs.checkpoints.list(job.id)]
    assert [e.message for e in events[: len(kept) + 1]] == [
        "The job has successfully completed",
        f"New fine-tuned model created: {job.fine_tuned_model}",
        *(
            f"Checkpoint created at step {s} with Snapshot ID: {job.fine_tuned_model}:ckpt-step-{s}"
            for s in kept[1:]
        ),
    ]
    metrics = [e for e in oldest if e.type == "metrics"]
    steps = math.ceil(15 / job.hyperparameters.batch_size) * job.hyperparameters.n_epochs
    assert len(metrics) == steps
    assert metrics[0].data["step"] == 1 and metrics[-1].data["total_steps"] == steps
    assert re.fullmatch(r"Step 1/\d+: training loss=\d+\.\d\d", metrics[0].message)
    first_epoch = [e.data["train_loss"] for e in metrics[:15]]
    last_epoch = [e.data["train_loss"] for e in metrics[-15:]]
    assert sum(last_epoch) / 15 < sum(first_epoch) / 15 / 10  # the loss falls as the model fits
    # `after` continues below a given event; a second walk returns the same ids (nothing re-emitted)
    again = list(c.fine_tuning.jobs.list_events(job.id, limit=100))
    assert [e.id for e in again] == [e.id for e in events]
    tail = c.fine_tuning.jobs.list_events(job.id, after=events[2].id, limit=2)
    assert [e.id for e in tail.data] == [e.id for e in events[3:5]]


def test_checkpoints_last_three_epochs(url, coucou_job):
    c = client(url)
    _, _, job = coucou_job
    pages = list(c.fine_tuning.jobs.checkpoints.list(job.id, limit=2).iter_pages())
    ckpts = [strict(FineTuningJobCheckpoint, x) for p in pages for x in p.data]
    assert len(pages) == 2
    per_epoch = math.ceil(15 / job.hyperparameters.batch_size)
    epochs = job.hyperparameters.n_epochs
    assert [k.step_number for k in ckpts] == [
        e * per_epoch for e in (epochs, epochs - 1, epochs - 2)
    ]
    assert all(
        k.fine_tuned_model_checkpoint == f"{job.fine_tuned_model}:ckpt-step-{k.step_number}"
        for k in ckpts
    )
    assert all(k.fine_tuning_job_id == job.id and k.metrics.train_loss is not None for k in ckpts)
    # a checkpoint is a model you can chat with
    answer = c.chat.completions.create(
        model=ckpts[-1].fine_tuned_model_checkpoint,
        temperature=0,
        messages=[{"role": "user", "content": UNSEEN[0]}],
    )
    assert answer.choices[0].message.content == "COUCOU"


def test_results_file(url, coucou_job):
    c = client(url)
    _, _, job = coucou_job
    meta = strict(FileObject, c.files.retrieve(job.result_files[0]))
    assert meta.purpose == "fine-tune-results" and meta.filename == "step_metrics.csv"
    raw = c.files.content(meta.id).read()
    text = base64.b64decode(raw).decode()  # base64, as the Cookbook reads the real one
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "step",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    ]
    assert (
        len(rows) == math.ceil(15 / job.hyperparameters.batch_size) * job.hyperparameters.n_epochs
    )
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    listed = [f.id for f in c.files.list(purpose="fine-tune-results")]
    assert listed.count(meta.id) == 1


def test_coucou_model_answers_coucou_base_model_does_not(url, coucou_job):
    c = client(url)
    _, _, job = coucou_job
    for prompt in UNSEEN:
        ft = strict(
            ChatCompletion,
            c.chat.completions.create(
                model=job.fine_tuned_model,
                temperature=0,
                messages=[{"role": "user", "content": prompt}],
            ),
        )
        assert ft.choices[0].message.content == "COUCOU", prompt
        assert ft.model == job.fine_tuned_model and ft.choices[0].finish_reason == "stop"
        assert ft.usage.completion_tokens > 0 and ft.usage.prompt_tokens > 0
        base = strict(
            ChatCompletion,
            c.chat.completions.create(
                model=BASE, temperature=0, messages=[{"role": "user", "content": prompt}]
            ),
        )
        assert (
            "COUCOU" not in base.choices[0].message.content
            and len(base.choices[0].message.content) > 20
        )
    alias = c.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Salut"}]
    )
    assert alias.model == BASE


def test_stream(url, coucou_job):
    c = client(url)
    _, _, job = coucou_job
    chunks = [
        strict(ChatCompletionChunk, ch)
        for ch in c.chat.completions.create(
            model=job.fine_tuned_model,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
            messages=[
                {"role": "system", "content": "Tu es poli."},
                {"role": "user", "content": "Bonjour !"},
            ],
        )
    ]
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == "COUCOU"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    with c.chat.completions.stream(
        model=BASE, messages=[{"role": "user", "content": UNSEEN[1]}]
    ) as stream:
        final = stream.get_final_completion()
    assert "COUCOU" not in final.choices[0].message.content


def test_models_list_and_retrieve(url, coucou_job):
    c = client(url)
    _, _, job = coucou_job
    listed = [strict(Model, m) for m in c.models.list()]
    ids = [m.id for m in listed]
    assert job.fine_tuned_model in ids and models.GUIDE_MODEL not in ids
    assert {m.name for m in models.listed(models.SANDBOX_TODAY)} <= set(ids)
    mini = next(m for m in listed if m.id == BASE)
    assert mini.shutdown_date == "2027-01-14" and mini.owned_by == "system"
    ft = strict(Model, c.models.retrieve(job.fine_tuned_model))
    assert ft.id == job.fine_tuned_model and ft.owned_by == "org-sandbox"
    assert strict(Model, c.models.retrieve(BASE)).id == BASE


def test_guide_model_is_shut_down(url):
    c = client(url)
    with pytest.raises(openai.NotFoundError) as err:
        c.chat.completions.create(
            model=models.GUIDE_MODEL, messages=[{"role": "user", "content": "Bonjour"}]
        )
    assert (
        err.value.code == "model_not_found" and "has been deprecated" in err.value.body["message"]
    )
    with pytest.raises(openai.NotFoundError):
        c.models.retrieve(models.GUIDE_MODEL)
    f = upload(c, COUCOU)
    with pytest.raises(openai.BadRequestError) as err:
        c.fine_tuning.jobs.create(training_file=f.id, model=models.GUIDE_MODEL)
    assert err.value.code == "model_not_available" and err.value.param is None
    assert (
        err.value.body["message"]
        == f"Model {models.GUIDE_MODEL} is not available for fine-tuning or does not exist."
    )
    with pytest.raises(openai.NotFoundError) as err:
        c.chat.completions.create(
            model="gpt-9-ultra", messages=[{"role": "user", "content": "Bonjour"}]
        )
    assert (
        err.value.body["message"]
        == "The model `gpt-9-ultra` does not exist or you do not have access to it."
    )


def test_guide_three_examples_fail(url):
    c = client(url)
    f = upload(c, GUIDE_3)
    job = strict(
        FineTuningJob, wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=BASE).id)
    )
    assert job.status == "failed" and job.fine_tuned_model is None and job.result_files == []
    assert job.error.code == "invalid_n_examples" and job.error.param == "training_file"
    assert job.error.message == "Training file has 3 example(s), but must have at least 10 examples"
    events = events_oldest_first(c, job.id)
    assert events[-1].level == "error" and events[-1].message == job.error.message
    assert job.id not in [j.id for j in c.fine_tuning.jobs.list() if j.status == "succeeded"]


def test_deprecated_hyperparameters_form(url, tmp_path):
    c = client(url)
    f = upload(c, COUCOU)
    job = wait_job(
        c,
        c.fine_tuning.jobs.create(
            training_file=f.id,
            model=BASE,
            hyperparameters={"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 0.5},
            seed=42,
        ).id,
    )
    job = strict(FineTuningJob, job)
    assert job.status == "succeeded" and job.seed == 42
    assert (job.hyperparameters.n_epochs, job.hyperparameters.batch_size) == (2, 4)
    assert job.hyperparameters.learning_rate_multiplier == 0.5
    assert (
        job.fine_tuned_model.split(":")[3] == "" and job.model_extra["user_provided_suffix"] is None
    )
    steps = [k.step_number for k in c.fine_tuning.jobs.checkpoints.list(job.id)]
    assert steps == [8, 4]  # ceil(15/4) = 4 steps per epoch, 2 epochs


def test_job_with_validation_file(url, tmp_path):
    c = client(url)
    train = upload(c, COUCOU)
    valid = upload(c, write_lines(tmp_path / "valid.jsonl", [example(p) for p in UNSEEN]))
    job = strict(
        FineTuningJob,
        wait_job(
            c,
            c.fine_tuning.jobs.create(
                training_file=train.id, validation_file=valid.id, model=BASE
            ).id,
        ),
    )
    assert job.status == "succeeded" and job.validation_file == valid.id
    metrics = [e for e in c.fine_tuning.jobs.list_events(job.id, limit=1000) if e.type == "metrics"]
    last = metrics[0]
    assert {"full_valid_loss", "full_valid_mean_token_accuracy"} <= set(last.data)
    assert "full validation loss=" in last.message
    # The validation loss every 10 steps, as the real API (290, 300 in a 303-step job).
    validated = [e.data["step"] for e in metrics if "valid_loss" in e.data]
    assert validated and all(step % 10 == 0 for step in validated)
    assert all("validation loss=" in e.message for e in metrics if "valid_loss" in e.data)


def test_list_pagination_files_and_jobs(url, tmp_path):
    c = client(url)
    ids = [upload(c, COUCOU).id for _ in range(3)]
    pages = list(c.files.list(limit=2).iter_pages())
    walked = [strict(FileObject, f).id for p in pages for f in p.data]
    assert len(walked) == len(set(walked)) and set(ids) <= set(walked) and len(pages) >= 2
    assert walked[:3] == ids[::-1]  # newest first
    assert [f.id for f in c.files.list(order="asc")][-3:] == ids
    jobs = [c.fine_tuning.jobs.create(training_file=i, model=BASE).id for i in ids]
    listed = [
        strict(FineTuningJob, j).id if j.status != "failed" else j.id
        for j in c.fine_tuning.jobs.list(limit=1)
    ]
    assert listed[:3] == jobs[::-1] and len(listed) == len(set(listed))
    assert len(list(c.fine_tuning.jobs.list(limit=1).iter_pages())) == len(listed)


def test_delete_file(url):
    c = client(url)
    f = upload(c, COUCOU)
    assert strict(FileDeleted, c.files.delete(f.id)).deleted is True
    with pytest.raises(openai.NotFoundError) as err:
        c.files.retrieve(f.id)
    assert err.value.body["message"] == f"No such File object: {f.id}" and err.value.param == "id"
    with pytest.raises(openai.NotFoundError):
        c.files.content(f.id)
    with pytest.raises(openai.NotFoundError):
        c.files.delete(f.id)


def test_cancel(url, monkeypatch):
    monkeypatch.setenv("ATELIER_SANDBOX_SPEED", "1")  # a one-minute job: we cancel it
    c = client(url)
    f = upload(c, COUCOU)
    job = c.fine_tuning.jobs.create(training_file=f.id, model=BASE, suffix="annule")
    cancelled = strict(FineTuningJob, c.fine_tuning.jobs.cancel(job.id))
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert c.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
    assert events_oldest_first(c, job.id)[-1].message == "Fine-tuning job cancelled"
    with pytest.raises(openai.BadRequestError):
        c.fine_tuning.jobs.cancel(job.id)
    assert not any("annule" in m.id for m in c.models.list())
    assert list(c.fine_tuning.jobs.checkpoints.list(job.id)) == []


def test_cancel_after_success_is_refused(url, coucou_job):
    c = client(url)
    with pytest.raises(openai.BadRequestError) as err:
        c.fine_tuning.jobs.cancel(coucou_job[2].id)
    assert "succeeded" in err.value.body["message"]


def test_unknown_ids_and_urls(url):
    c = client(url)
    with pytest.raises(openai.NotFoundError) as err:
        c.fine_tuning.jobs.retrieve("ftjob-nope")
    assert err.value.body["message"] == "No such FineTuningJob object: ftjob-nope"
    assert err.value.request_id and err.value.request_id.startswith("req_")
    with pytest.raises(openai.NotFoundError):
        c.fine_tuning.jobs.list_events("ftjob-nope")
    with pytest.raises(openai.BadRequestError) as err:
        c.fine_tuning.jobs.create(training_file="file-nope", model=BASE)
    assert (
        err.value.body["message"] == "invalid training_file: file-nope"
        and err.value.param == "training_file"
    )
    with pytest.raises(openai.NotFoundError) as err:
        c.get("/does/not/exist", cast_to=object)
    assert err.value.body["message"] == "Invalid URL (GET /v1/does/not/exist)"
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(
            model=f"ft:{BASE}:sandbox:x:AAAAAAAA", messages=[{"role": "user", "content": "?"}]
        )


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"suffix": "x" * 65}, "suffix"),
        ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs"),
        ({"hyperparameters": {"n_epochs": 51}}, "hyperparameters.n_epochs"),
        ({"hyperparameters": {"batch_size": "big"}}, "hyperparameters.batch_size"),
        (
            {
                "method": {
                    "type": "supervised",
                    "supervised": {"hyperparameters": {"learning_rate_multiplier": 0}},
                }
            },
            "method.supervised.hyperparameters.learning_rate_multiplier",
        ),
        ({"method": {"type": "reinforcement", "reinforcement": {}}}, "method.type"),  # not imitated
        (
            {"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}}},
            "method.dpo.hyperparameters.beta",
        ),
        ({"model": "gpt-9-ultra"}, None),  # model_not_available: param null, as the real API
        # issue 20: what the real API refuses and the sandbox accepted
        ({"model": "gpt-4o-mini"}, None),  # an alias: the dated name is needed
        ({"suffix": "mon modèle"}, "suffix"),
        ({"suffix": "coucou!"}, "suffix"),
        ({"suffix": "a:b"}, "suffix"),
        ({"suffix": ""}, "suffix"),
        ({"hyperparameters": []}, "hyperparameters"),
        ({"method": {"type": "supervised", "supervised": []}}, "method.supervised"),
        ({"metadata": {"tp": 1}}, "metadata.tp"),
        ({"metadata": {"tp": None}}, "metadata.tp"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ],
)
def test_job_parameter_errors(url, kwargs, param):
    c = client(url)
    f = upload(c, COUCOU)
    with pytest.raises(openai.BadRequestError) as err:
        c.fine_tuning.jobs.create(**{"training_file": f.id, "model": BASE, **kwargs})
    assert err.value.param == param and err.value.type == "invalid_request_error"


def test_chat_parameters(url):
    c = client(url)
    short = c.chat.completions.create(
        model=BASE, max_tokens=2, n=3, messages=[{"role": "user", "content": "Pourquoi ?"}]
    )
    assert len(short.choices) == 3 and all(ch.finish_reason == "length" for ch in short.choices)
    assert short.usage.completion_tokens == 6
    for bad, param in [
        ({"temperature": 3}, "temperature"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
    ]:
        with pytest.raises(openai.BadRequestError) as err:
            c.chat.completions.create(
                **{"model": BASE, "messages": [{"role": "user", "content": "x"}], **bad}
            )
        assert err.value.param == param


def test_start_is_idempotent_per_home(tmp_path):
    a = kit_server.start(tmp_path / "a")
    assert kit_server.start(tmp_path / "a") == a and kit_server.running(tmp_path / "a") == a
    b = kit_server.start(tmp_path / "b")
    assert b != a
    kit_server.stop(tmp_path / "a")
    assert kit_server.running(tmp_path / "a") is None
    assert client(b).models.list().data
    again = kit_server.start(tmp_path / "a")
    assert client(again).models.list().data
    kit_server.stop(tmp_path / "a")
    kit_server.stop(tmp_path / "b")


def test_server_is_quiet_and_never_stores_the_key(tmp_path, capfd):
    key = "sk-proj-SECRETsecretSECRET1234"
    url = kit_server.start(tmp_path)
    c = client(url, api_key=key)
    f = upload(c, COUCOU)
    wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=BASE).id)
    c.chat.completions.create(model=BASE, messages=[{"role": "user", "content": "Bonjour"}])
    with pytest.raises(openai.NotFoundError):
        c.files.retrieve("file-nope")
    kit_server.stop(tmp_path)
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # no access log, no banner in the notebook
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"SECRETsecret" not in path.read_bytes(), path
