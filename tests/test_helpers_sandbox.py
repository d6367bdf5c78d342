"""jobs / chat / errors / cli / check_key against the real sandbox server (integration)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from fakeapi import hx

import helpers
from helpers import chat, errors, jobs, kit_server, workspace
from helpers.client import check_key

REPO = Path(__file__).resolve().parent.parent
COUCOU = REPO / "data" / "coucou.jsonl"
GUIDE_3 = REPO / "data" / "guide_3_exemples.jsonl"


@pytest.fixture(autouse=True)
def _stop_sandbox():
    yield
    kit_server.stop()


def counting_client(log: list[str]) -> openai.OpenAI:
    def hook(request):
        log.append(f"{request.method} {request.url.path}")

    url = kit_server.start()
    return openai.OpenAI(
        base_url=url,
        api_key=kit_server.key(),
        max_retries=0,
        http_client=hx.Client(event_hooks={"request": [hook]}),
    )


def test_course_flow_through_helpers():
    log: list[str] = []
    api = counting_client(log)
    file = jobs.upload(COUCOU, client=api)
    assert workspace.get("file_id") == file.id
    job = jobs.create(suffix="coucou", client=api)
    assert job.status in ("validating_files", "queued", "running")
    follower = jobs.Follower(client=api)
    delivered, polls = [], 0
    while True:
        before = len(log)
        update = follower.poll()
        polls += 1
        made = log[before:]
        assert made[0].endswith(f"/fine_tuning/jobs/{job.id}") and made[1].endswith("/events")
        assert len(made) == 2
        delivered += [e.id for e in update.new_events]
        if update.done:
            break
        assert polls < 500
    assert update.job.status == "succeeded"
    assert len(delivered) == len(set(delivered))
    everything = [e.id for e in api.fine_tuning.jobs.list_events(job.id, limit=100)]
    assert sorted(delivered) == sorted(everything)
    assert not follower.metrics.empty
    model = workspace.get("fine_tuned_model")
    assert model == update.job.fine_tuned_model and ":sandbox:coucou:" in model
    assert chat.ask("Raconte-moi une histoire", client=api) == "COUCOU"
    base, tuned = chat.compare(["Salut, ça va ?"], client=api).rows[0][1:]
    assert tuned == "COUCOU" and base != "COUCOU"
    results = jobs.results(client=api)
    assert "train_loss" in results.columns and len(results) > 0
    assert jobs.checkpoints(client=api)
    assert [j.id for j in jobs.find_jobs_for_file(client=api)] == [job.id]


def test_default_client_and_wait():
    jobs.upload(COUCOU)
    jobs.create()
    job = helpers.wait(timeout=120)
    assert job.status == "succeeded"
    assert helpers.ask("Bonjour") == "COUCOU"


def test_failed_job_is_explained():
    jobs.upload(GUIDE_3, check=False)
    jobs.create()
    job = jobs.wait(timeout=120, interval=0.05)
    assert job.status == "failed"
    d = errors.explain(job)
    assert d.code == "invalid_n_examples" and "3 exemple(s)" in d.cause


def test_sandbox_errors_are_explained():
    url = kit_server.start()
    with pytest.raises(openai.NotFoundError) as info:
        chat.ask("Bonjour", "gpt-3.5-turbo-0125")
    assert errors.explain(info.value).code == "model_shut_down"
    with pytest.raises(openai.BadRequestError) as info:
        jobs.create("file-doesnotexist")
    assert errors.explain(info.value).code == "invalid_training_file"
    cases = {
        "sk-sandbox-quota": "insufficient_quota",
        "sk-sandbox-invalid-key": "invalid_api_key",
        "sk-sandbox-rate-limit-3": "rate_limit",
    }
    for key, code in cases.items():
        api = openai.OpenAI(base_url=url, api_key=key, max_retries=0)
        with pytest.raises(openai.APIStatusError) as info:
            api.chat.completions.create(
                model="gpt-4o-mini-2024-07-18", messages=[{"role": "user", "content": "x"}]
            )
        d = errors.explain(info.value)
        assert d.code == code, (key, d)
        assert key not in str(d)
    file = jobs.upload(COUCOU)
    api = openai.OpenAI(base_url=url, api_key="sk-sandbox-no-fine-tuning", max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as info:
        jobs.create(file.id, client=api)
    assert errors.explain(info.value).code == "fine_tuning_refused"


def test_check_key_in_sandbox():
    assert check_key("sk-anything", "sandbox").status == "valid"
    assert check_key("sk-sandbox-invalid-key", "sandbox").status == "invalid"


@pytest.fixture
def served_workspace(tmp_path):
    """A workspace whose commands share one detached kit server, as a learner's do (the first
    command starts it, the next ones find it); stopped at the end."""
    yield tmp_path
    kit_server.shutdown(tmp_path)


def test_cli_guide_commands_in_subprocesses(served_workspace):
    tmp_path = served_workspace
    env = {
        **{k: v for k, v in os.environ.items() if k != "ATELIER_SANDBOX_IN_PROCESS"},
        "ATELIER_HOME": str(tmp_path),
        "ATELIER_MODE": "sandbox",
        "ATELIER_SANDBOX_SPEED": "1000",
    }

    def run(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "helpers", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    (tmp_path / "dataset.jsonl").write_bytes(COUCOU.read_bytes())
    assert run("check", "dataset.jsonl").returncode == 0
    out = run("api", "files.create", "-p", "fine-tune", "-f", "dataset.jsonl")
    file_id = json.loads(out.stdout)["id"]
    out = run(
        "api",
        "fine_tuning.jobs.create",
        "--training-file",
        file_id,
        "--model",
        "gpt-4o-mini-2024-07-18",
        "--suffix",
        "coucou",
    )
    job_id = json.loads(out.stdout)["id"]
    assert run("api", "fine_tuning.jobs.follow", "-i", job_id).returncode == 0
    job = json.loads(run("api", "fine_tuning.jobs.retrieve", "-i", job_id).stdout)
    assert job["status"] == "succeeded"
    assert json.loads(run("api", "fine_tuning.jobs.list").stdout)["data"][0]["id"] == job_id
    out = run(
        "api",
        "chat.completions.create",
        "-m",
        job["fine_tuned_model"],
        "-j",
        '{"messages": [{"role": "user", "content": "Bonjour"}], "temperature": 0}',
    )
    assert json.loads(out.stdout)["choices"][0]["message"]["content"] == "COUCOU"
    out = run(
        "api",
        "fine_tuning.jobs.create",
        "--training-file",
        file_id,
        "--model",
        "gpt-3.5-turbo-0125",
    )
    assert out.returncode == 1 and "❌" in out.stderr
    doctor = run("doctor")
    assert doctor.returncode == 0 and "joignable" in doctor.stdout
