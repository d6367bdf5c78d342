"""jobs: upload, create (method form), Follower (cursor, no event twice), wait, results."""

from __future__ import annotations

import pytest
from fakeapi import FakeAPI, install

from helpers import jobs, workspace
from helpers.dataset import DatasetError, example, write_jsonl


def _dataset(tmp_path, n=12):
    return write_jsonl([example(f"Question {i}", "COUCOU") for i in range(n)], tmp_path / "d.jsonl")


@pytest.fixture
def fake(monkeypatch) -> FakeAPI:
    return install(monkeypatch)


def test_upload_records_and_refuses_bad_files(fake, tmp_path):
    f = jobs.upload(_dataset(tmp_path))
    assert f.id.startswith("file-") and f.purpose == "fine-tune"
    assert workspace.get("file_id") == f.id
    assert workspace.get("dataset_path").endswith("d.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []},\n', encoding="utf-8")
    with pytest.raises(DatasetError):
        jobs.upload(bad)
    assert len(fake.files) == 1  # nothing sent
    jobs.upload(bad, check=False)
    assert len(fake.files) == 2


def test_create_uses_method_form_and_records(fake, tmp_path):
    jobs.upload(_dataset(tmp_path))
    job = jobs.create(suffix="coucou", n_epochs=3, seed=7)
    body = None
    for method, path in fake.requests:
        if method == "POST" and path.endswith("/fine_tuning/jobs"):
            body = fake.jobs[job.id].data
    assert body is not None
    assert body["method"] == {
        "type": "supervised",
        "supervised": {
            "hyperparameters": {
                "n_epochs": 3,
                "batch_size": "auto",
                "learning_rate_multiplier": "auto",
            }
        },
    }
    assert workspace.get("job_id") == job.id
    assert workspace.get("base_model") == "gpt-4o-mini-2024-07-18"
    assert workspace.get("suffix") == "coucou"


def test_create_without_file_is_a_french_error(fake):
    with pytest.raises(jobs.JobError, match="Aucun fichier"):
        jobs.create()
    with pytest.raises(jobs.JobError, match="suffixe"):
        jobs.create("file-x", suffix="x" * 65)


def test_follow_yields_each_event_once_oldest_first(fake, tmp_path):
    jobs.upload(_dataset(tmp_path))
    job = jobs.create(suffix="coucou")
    seen, statuses, polls = [], [], 0
    for update in jobs.follow(interval=0):
        polls += 1
        seen += [e.id for e in update.new_events]
        statuses.append(update.status)
        assert update.requests == 2
    assert (
        statuses[0] == "validating_files" and "queued" in statuses and statuses[-1] == "succeeded"
    )
    all_ids = [e["id"] for e in fake.jobs[job.id].events]
    assert seen == all_ids  # every event, once, in order
    counts = fake.counts()
    assert counts["GET /v1/fine_tuning/jobs/{id}"] == polls
    assert counts["GET /v1/fine_tuning/jobs/{id}/events"] == polls
    assert workspace.get("fine_tuned_model") == "ft:gpt-4o-mini-2024-07-18:test:coucou:abcd1234"


def test_follower_walks_older_pages_when_a_page_is_too_small(fake, tmp_path):
    fake.metrics_steps = 40
    jobs.upload(_dataset(tmp_path))
    job = jobs.create()
    follower = jobs.Follower(page_size=3)
    got, polls = [], 0
    while True:
        n_before = len(fake.requests)
        update = follower.poll()
        polls += 1
        assert len(fake.requests) - n_before == 2  # one retrieve + one events page
        got += [e.id for e in update.new_events]
        if update.done:
            break
        assert polls < 200
    assert got == [e["id"] for e in fake.jobs[job.id].events]
    assert len(set(got)) == len(got)
    m = follower.metrics
    assert list(m.columns[:3]) == ["step", "train_loss", "valid_loss"]
    assert m["step"].tolist() == list(range(1, 41))
    rows = follower.metric_rows()  # the same, without pandas (the job monitor's)
    assert [r["step"] for r in rows] == list(range(1, 41))
    assert [r["train_loss"] for r in rows] == m["train_loss"].tolist()


def test_wait_returns_failed_job_and_can_raise(fake, tmp_path):
    jobs.upload(_dataset(tmp_path, n=3), check=False)
    jobs.create()
    job = jobs.wait(interval=0)
    assert job.status == "failed" and job.error.code == "invalid_n_examples"
    jobs.create(workspace.get("file_id"))
    with pytest.raises(jobs.JobFailedError):
        jobs.wait(interval=0, raise_on_failure=True)


def test_follow_timeout(fake, tmp_path):
    fake.metrics_steps = 50
    jobs.upload(_dataset(tmp_path))
    jobs.create()
    with pytest.raises(TimeoutError, match="continue"):
        for _ in jobs.follow(interval=0.01, timeout=0.001):
            pass


def test_follow_resumes_from_workspace(fake, tmp_path):
    jobs.upload(_dataset(tmp_path))
    job = jobs.create()
    assert jobs.Follower().job_id == job.id
    workspace.reset()
    with pytest.raises(jobs.JobError):
        jobs.Follower()


def test_retrieve_cancel_list_find_checkpoints_events_results(fake, tmp_path):
    jobs.upload(_dataset(tmp_path))
    a = jobs.create()
    assert jobs.retrieve().id == a.id
    assert [j.id for j in jobs.list_jobs()] == [a.id]
    assert [j.id for j in jobs.find_jobs_for_file()] == [a.id]
    assert jobs.find_jobs_for_file("file-other") == []
    assert jobs.checkpoints() == []
    assert jobs.cancel().status == "cancelled"
    b = jobs.create()
    with pytest.raises(jobs.JobError, match="résultats"):
        jobs.results(b.id)
    jobs.wait(b.id, interval=0)
    df = jobs.results(b.id)
    assert list(df.columns)[:2] == ["step", "train_loss"] and len(df) == 2
    assert jobs.events(b.id)[0].message.startswith("Created fine-tuning job")


def test_results_base64(fake, tmp_path):
    import base64

    csv = b"step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,0.5,0.9,,\n"
    assert jobs._maybe_base64(base64.b64encode(csv)) == csv
    assert jobs._maybe_base64(csv) == csv
    assert jobs._maybe_base64(b"\x00garbage") == b"\x00garbage"


def test_status_fr_covers_the_guide():
    for status in ("validating_files", "queued", "running", "succeeded", "failed", "cancelled"):
        assert jobs.STATUS_FR[status]


def test_status_fr_covers_every_status_of_the_sdk():
    """Every status the SDK's job type can carry has its French meaning (a new one fails here)."""
    from typing import get_args

    from openai.types.fine_tuning import FineTuningJob

    statuses = set(get_args(FineTuningJob.model_fields["status"].annotation))
    assert statuses and statuses <= set(jobs.STATUS_FR), statuses - set(jobs.STATUS_FR)
    assert all(isinstance(v, str) and v.strip() for v in jobs.STATUS_FR.values())
