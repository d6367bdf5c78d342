"""One kit server serves every kernel of a workspace: each kernel's sandbox speed (the class's
`ATELIER_JOB_SECONDS`, a fast replay) travels with its requests, not through the server's
environment."""

from __future__ import annotations

from sandboxkit import COUCOU, client, standalone, upload, wait_job

from helpers import models


def test_a_job_runs_at_the_speed_its_kernel_asks_for(tmp_path):
    with standalone(tmp_path, speed=1) as (_, url):  # the server's own setting: class speed
        c = client(url)
        f = upload(c, COUCOU)
        fast = c.fine_tuning.jobs.create(
            training_file=f.id,
            model=models.DEFAULT_MODEL,
            extra_headers={"X-Atelier-Sandbox-Speed": "1000"},
        )
        assert wait_job(c, fast.id, timeout=30).status == "succeeded"  # ~0.06 s, not ~50 s
        slow = c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL)
        assert c.fine_tuning.jobs.retrieve(slow.id).status in ("validating_files", "queued")
        for bad in ("0", "-3", "nan", "inf", "fast"):  # unusable: the server's setting applies
            job = c.fine_tuning.jobs.create(
                training_file=f.id,
                model=models.DEFAULT_MODEL,
                extra_headers={"X-Atelier-Sandbox-Speed": bad},
            )
            assert c.fine_tuning.jobs.retrieve(job.id).status in ("validating_files", "queued")


def test_the_kit_client_sends_the_kernel_speed(monkeypatch, workspace):
    from helpers.client import SPEED_HEADER
    from helpers.client import client as kit_client

    monkeypatch.setenv("ATELIER_SANDBOX_SPEED", "250")
    assert kit_client("sandbox").default_headers[SPEED_HEADER] == "250.0"
    monkeypatch.delenv("ATELIER_SANDBOX_SPEED")
    monkeypatch.setenv("ATELIER_JOB_SECONDS", "26")
    assert kit_client("sandbox").default_headers[SPEED_HEADER] == "2.0"
