"""One contract for both engines of the kit server (simulated and local), through the real SDK.

Every engine implements `helpers.kit_server.contract.Engine`: the same routes answer with the
same shapes (validated against the SDK's types), the same pagination and the same errors, and
a model is listed if and only if it can be retrieved and used. The local engine's cases need
torch (`make test-local`); elsewhere they skip. The engine-switch regression runs everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
from openai.types import FileObject, Model
from openai.types.chat import ChatCompletion
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
from openapi_contract import check_all, recording_server
from pydantic import BaseModel
from sandboxkit import COUCOU, client, strict, upload, wait_job

from helpers import kit_server, models

ORGANIZATIONS = {"simulated": "org-sandbox", "local": "org-local"}


def _prepare(engine: str, home: Path, monkeypatch) -> None:
    if engine == "local":
        from localkit import need_torch

        need_torch()
        from helpers.local import tiny

        monkeypatch.setenv("ATELIER_LOCAL_MODEL", str(tiny.build(home / "tiny-model")))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setenv("ATELIER_LOCAL_WORKER_IDLE", "20")


def _start(engine: str, home: Path, monkeypatch) -> str:
    _prepare(engine, home, monkeypatch)
    return kit_server.start(home, engine=engine)


@pytest.fixture(params=["simulated", pytest.param("local", marks=pytest.mark.local)])
def flow(request, workspace, monkeypatch):
    """(engine name, SDK client, a succeeded COUCOU job) on a fresh workspace. Every response
    the engine gives during the test is then checked against OpenAI's published description."""
    engine = request.param
    _prepare(engine, workspace, monkeypatch)
    with recording_server(workspace, engine) as (url, recorder):
        c = client(url, timeout=120)
        f = upload(c, COUCOU)
        job = c.fine_tuning.jobs.create(
            training_file=f.id,
            model=models.DEFAULT_MODEL,
            suffix="contrat",
            seed=3,
            metadata={"contrat": engine},
        )
        done = wait_job(c, job.id, timeout=300)
        assert done.status == "succeeded", done.error
        yield engine, c, done
    if engine == "local":
        from helpers.local import worker

        worker.stop_worker(workspace)
    check_all(recorder.exchanges)


def test_job_shapes_and_organization(flow):
    engine, c, job = flow
    strict(FineTuningJob, job)
    assert job.organization_id == ORGANIZATIONS[engine]
    assert job.fine_tuned_model and job.fine_tuned_model.startswith("ft:")
    assert ":contrat:" in job.fine_tuned_model and job.seed == 3
    raw = c.fine_tuning.jobs.with_raw_response.retrieve(job.id)
    assert raw.headers["openai-organization"] == ORGANIZATIONS[engine]
    assert raw.headers["x-request-id"].startswith("req_")
    listed = c.fine_tuning.jobs.list(limit=1)
    assert [j.id for j in listed.data] == [job.id] and listed.has_more is False


def test_event_texts_are_the_real_apis(flow):
    """The same closing events in both engines, with the real API's words."""
    _, c, job = flow
    messages = [e.message for e in c.fine_tuning.jobs.list_events(job.id, limit=1000)]
    assert messages[0] == "The job has successfully completed"
    assert f"New fine-tuned model created: {job.fine_tuned_model}" in messages
    kept = c.fine_tuning.jobs.checkpoints.list(job.id).data
    for ckpt in kept[1:]:  # the newest checkpoint is the model itself, as with the real API
        assert (
            f"Checkpoint created at step {ckpt.step_number} with Snapshot ID: "
            f"{ckpt.fine_tuned_model_checkpoint}"
        ) in messages
    metrics = [e for e in c.fine_tuning.jobs.list_events(job.id, limit=1000) if e.type == "metrics"]
    assert metrics and all(m.message.startswith(f"Step {m.data['step']}/") for m in metrics)
    assert all(
        ("valid_loss" in m.data) <= (m.data["step"] % 10 == 0) for m in metrics
    )  # validation every 10 steps at most


def test_events_newest_first_and_paginated(flow):
    _, c, job = flow
    pages = list(c.fine_tuning.jobs.list_events(job.id, limit=2).iter_pages())
    events = [strict(FineTuningJobEvent, e) for p in pages for e in p.data]
    assert len(pages) >= 2 and len({e.id for e in events}) == len(events)
    times = [e.created_at for e in events]
    assert times == sorted(times, reverse=True)
    assert events[-1].message == f"Created fine-tuning job: {job.id}"


def test_checkpoints_name_the_model(flow):
    _, c, job = flow
    page = c.fine_tuning.jobs.checkpoints.list(job.id)
    assert page.data, "a succeeded job keeps checkpoints"
    for ckpt in page.data:
        strict(FineTuningJobCheckpoint, ckpt)
        assert ckpt.fine_tuned_model_checkpoint == (
            f"{job.fine_tuned_model}:ckpt-step-{ckpt.step_number}"
        )
        assert ckpt.fine_tuning_job_id == job.id
    raw = c.fine_tuning.jobs.checkpoints.with_raw_response.list(job.id).http_response.json()
    assert raw["first_id"] == page.data[0].id and raw["last_id"] == page.data[-1].id


def test_results_file_is_a_file(flow):
    _, c, job = flow
    assert len(job.result_files) == 1
    info = strict(FileObject, c.files.retrieve(job.result_files[0]))
    assert info.purpose == "fine-tune-results"
    assert c.files.content(job.result_files[0]).content


def test_every_listed_model_can_be_retrieved_and_used(flow):
    _, c, job = flow
    listed = [strict(Model, m) for m in c.models.list().data]
    assert job.fine_tuned_model in {m.id for m in listed}
    for m in listed:
        assert c.models.retrieve(m.id).id == m.id
    answer = c.chat.completions.create(
        model=job.fine_tuned_model,
        messages=[{"role": "user", "content": "Bonjour"}],
        temperature=0,
        max_tokens=8,
    )
    strict(ChatCompletion, answer)
    assert answer.model == job.fine_tuned_model


class Fiche(BaseModel):
    titre: str
    note: int


TOOL = {
    "type": "function",
    "function": {
        "name": "noter",
        "description": "Note une réponse",
        "parameters": {
            "type": "object",
            "properties": {"note": {"type": "integer", "minimum": 0}, "avis": {"type": "string"}},
            "required": ["note", "avis"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def test_chat_features(flow):
    """Structured output, tools, stop, logprobs, n and streamed usage: in both engines."""
    _, c, job = flow
    hello = [{"role": "user", "content": "Bonjour"}]
    parsed = c.chat.completions.parse(
        model=job.fine_tuned_model, messages=hello, response_format=Fiche, max_tokens=16
    )
    assert isinstance(parsed.choices[0].message.parsed, Fiche)
    for choice in ("required", {"type": "function", "function": {"name": "noter"}}):
        done = c.chat.completions.create(
            model=job.fine_tuned_model, messages=hello, tools=[TOOL], tool_choice=choice
        )
        (call,) = done.choices[0].message.tool_calls
        from jsonschema import validate

        validate(json.loads(call.function.arguments), TOOL["function"]["parameters"])
    done = c.chat.completions.create(
        model=job.fine_tuned_model,
        messages=hello,
        logprobs=True,
        top_logprobs=2,
        n=2,
        temperature=0,
        max_tokens=8,
    )
    assert len(done.choices) == 2
    entries = done.choices[0].logprobs.content
    assert entries and all(e.logprob <= 0 and len(e.top_logprobs) <= 2 for e in entries)
    text = done.choices[0].message.content
    if len(text) > 2:
        cut = c.chat.completions.create(
            model=job.fine_tuned_model,
            messages=hello,
            temperature=0,
            max_tokens=8,
            stop=[text[1:3]],
        )
        assert cut.choices[0].message.content == text[: text.index(text[1:3])]
    chunks = list(
        c.chat.completions.create(
            model=job.fine_tuned_model,
            messages=hello,
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=8,
        )
    )
    assert chunks[-1].usage.completion_tokens > 0


def test_responses_api(flow):
    _, c, job = flow
    first = c.responses.create(model=job.fine_tuned_model, input="Bonjour", max_output_tokens=16)
    assert first.model == job.fine_tuned_model and first.output_text is not None
    second = c.responses.create(
        model=job.fine_tuned_model,
        input=[{"role": "user", "content": "Et encore ?"}],
        instructions="Réponds.",
        previous_response_id=first.id,
        max_output_tokens=16,
    )
    assert c.responses.retrieve(second.id).id == second.id
    with c.responses.stream(model=job.fine_tuned_model, input="Bonjour", max_output_tokens=16) as s:
        kinds = [e.type for e in s]
    assert kinds[0] == "response.created" and kinds[-1] in (
        "response.completed",
        "response.incomplete",
    )
    c.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(first.id)


def test_metadata_filter_and_model_deletion(flow):
    engine, c, job = flow
    assert [j.id for j in c.fine_tuning.jobs.list(metadata={"contrat": engine})] == [job.id]
    assert list(c.fine_tuning.jobs.list(metadata={"contrat": "autre"})) == []
    assert c.models.delete(job.fine_tuned_model).deleted is True
    assert job.fine_tuned_model not in {m.id for m in c.models.list()}
    with pytest.raises(openai.NotFoundError):
        c.models.retrieve(job.fine_tuned_model)


def test_unknown_ids_are_404(flow):
    _, c, _ = flow
    with pytest.raises(openai.NotFoundError):
        c.fine_tuning.jobs.retrieve("ftjob-doesnotexist")
    with pytest.raises(openai.NotFoundError) as err:
        c.models.retrieve("ft:gpt-4o-mini-2024-07-18:personal::nope1234")
    assert err.value.code == "model_not_found"


# -- the engine-switch regression ---------------------------------------------------------


def test_switching_engine_lists_only_what_the_engine_serves(workspace, monkeypatch):
    """A sandbox job, then local mode on the same workspace: the sandbox's fine-tune was listed
    by /v1/models but answered 404 on retrieve, and local jobs said `org-sandbox`. Each engine
    now lists exactly what it can retrieve and use; the header names the engine's organization.
    (Listing and retrieving need no torch: the local engine's check is bypassed here.)"""
    url = kit_server.start(workspace)
    c = client(url)
    f = upload(c, COUCOU)
    sim = wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id)
    assert sim.status == "succeeded"
    kit_server.stop(workspace)

    from helpers.kit_server.engines import local as local_engine

    monkeypatch.setattr(local_engine, "check_usable", lambda: None)
    url = kit_server.start(workspace, engine="local")
    try:
        c = client(url)
        listed = [m.id for m in c.models.list().data]
        assert sim.fine_tuned_model not in listed
        for name in listed:
            assert c.models.retrieve(name).id == name
        with pytest.raises(openai.NotFoundError):
            c.models.retrieve(sim.fine_tuned_model)
        with pytest.raises(openai.NotFoundError):
            c.chat.completions.create(
                model=sim.fine_tuned_model, messages=[{"role": "user", "content": "Bonjour"}]
            )
        raw = c.models.with_raw_response.list()
        assert raw.headers["openai-organization"] == "org-local"
        # The files stay the workspace's: the upload is still there under the local engine.
        assert f.id in {x.id for x in c.files.list()}
    finally:
        kit_server.stop(workspace)

    # Back to the simulated engine: its fine-tune is listed and usable again.
    c = client(kit_server.start(workspace))
    assert sim.fine_tuned_model in {m.id for m in c.models.list().data}
    assert c.models.retrieve(sim.fine_tuned_model).id == sim.fine_tuned_model


def test_dpo_on_top_of_the_fine_tune(flow):
    """A DPO job continuing the COUCOU fine-tune: the same shapes, events and checkpoints in
    both engines, `beta` resolved, DPO's metrics (every response checked against the
    description by the fixture)."""
    from helpers import preference_data

    engine, c, job = flow
    import tempfile

    pairs = [
        preference_data.pair(f"Salue-moi {i}", "Coucou toi !", "Bonjour madame, monsieur.")
        for i in range(10)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        f.write("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs))
    file_id = upload(c, Path(f.name)).id
    created = c.fine_tuning.jobs.create(
        model=job.fine_tuned_model,
        training_file=file_id,
        suffix="prefs",
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 2}}},
        seed=5,
    )
    strict(FineTuningJob, created)
    assert created.model == job.fine_tuned_model and created.method.type == "dpo"
    done = wait_job(c, created.id, timeout=300)
    strict(FineTuningJob, done)
    assert done.status == "succeeded", done.error
    hp = done.method.dpo.hyperparameters
    assert (hp.beta, hp.n_epochs) == (0.2, 2) and isinstance(hp.batch_size, int)
    assert ":prefs:" in done.fine_tuned_model and done.trained_tokens > 0
    evs = [
        strict(FineTuningJobEvent, e) for e in c.fine_tuning.jobs.list_events(done.id, limit=200)
    ]
    metrics = [e.data for e in evs if e.type == "metrics"]
    assert metrics and all(
        {"step", "total_steps", "train_loss", "train_reward_margin", "train_reward_accuracy"}
        <= set(m)
        for m in metrics
    )
    assert evs[0].message == "The job has successfully completed"
    for ck in c.fine_tuning.jobs.checkpoints.list(done.id):
        strict(FineTuningJobCheckpoint, ck)
    answer = c.chat.completions.create(
        model=done.fine_tuned_model,
        messages=[{"role": "user", "content": "Salue-moi 3"}],
        temperature=0,
        max_tokens=20,
    )
    assert isinstance(answer.choices[0].message.content, str)
    assert done.fine_tuned_model in {m.id for m in c.models.list()}
