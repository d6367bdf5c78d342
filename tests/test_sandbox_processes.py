"""Several processes share one workspace; a `kill -9` loses nothing that was acknowledged."""

from __future__ import annotations

import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from openai.types.fine_tuning import FineTuningJob
from sandboxkit import COUCOU, UNSEEN, client, strict, upload, wait_job

from helpers import kit_server, models
from helpers.kit_server import database

BASE = models.DEFAULT_MODEL
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")


def _wait_status(c, job_id, wanted, timeout=20.0):
    deadline = time.monotonic() + timeout
    while (job := c.fine_tuning.jobs.retrieve(job_id)).status not in wanted:
        assert time.monotonic() < deadline, job.status
        time.sleep(0.02)
    return job


def test_job_survives_kill_9_and_restart(tmp_path):
    home = tmp_path / "home"
    with sandboxkit_standalone(home, speed=40) as (first, url):  # a COUCOU job takes ~1.4 s
        c = client(url)
        f = upload(c, COUCOU)
        job = c.fine_tuning.jobs.create(training_file=f.id, model=BASE, suffix="survie")
        _wait_status(c, job.id, {"running"})
        seen = list(c.fine_tuning.jobs.list_events(job.id, limit=1000))
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    with sandboxkit_standalone(home, speed=1000) as (_, url2):  # the stored speed (40) still rules
        c2 = client(url2)
        assert c2.files.retrieve(f.id).bytes == COUCOU.stat().st_size
        assert c2.files.content(f.id).read() == COUCOU.read_bytes()
        done = strict(FineTuningJob, wait_job(c2, job.id))
        assert done.status == "succeeded" and done.fine_tuned_model.startswith(
            f"ft:{BASE}:sandbox:survie:"
        )
        after = list(c2.fine_tuning.jobs.list_events(job.id, limit=1000))
        ids = [e.id for e in after]
        assert len(ids) == len(set(ids))  # nothing emitted twice
        assert [(e.id, e.message) for e in seen] == [(e.id, e.message) for e in after[-len(seen) :]]
        assert (
            c2.chat.completions.create(
                model=done.fine_tuned_model,
                temperature=0,
                messages=[{"role": "user", "content": UNSEEN[2]}],
            )
            .choices[0]
            .message.content
            == "COUCOU"
        )
        results = [x.id for x in c2.files.list(purpose="fine-tune-results")]
        assert results == done.result_files


def test_job_created_in_one_process_followed_in_another(tmp_path):
    home = tmp_path / "home"
    c = client(kit_server.start(home))  # this process (a "kernel")
    f = upload(c, COUCOU)
    job = c.fine_tuning.jobs.create(training_file=f.id, model=BASE, suffix="ailleurs")
    with sandboxkit_standalone(home) as (_, other):  # another process, same workspace
        followed = strict(FineTuningJob, wait_job(client(other), job.id))
        assert followed.status == "succeeded"
        same = client(other).fine_tuning.jobs.list_events(job.id, limit=1000)
    here = c.fine_tuning.jobs.list_events(job.id, limit=1000)
    assert [e.id for e in same] == [e.id for e in here]
    assert c.fine_tuning.jobs.retrieve(job.id).fine_tuned_model == followed.fine_tuned_model
    kit_server.stop(home)


def test_two_servers_write_concurrently(tmp_path):
    home = tmp_path / "home"
    with sandboxkit_standalone(home) as (_, a), sandboxkit_standalone(home) as (_, b):
        clients = [client(a), client(b)]
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda i: upload(clients[i % 2], COUCOU).id, range(24)))
        for c in clients:
            assert {x.id for x in c.files.list()} == set(ids)


def test_without_wal(tmp_path, monkeypatch):
    """Network home folders: no WAL, the default rollback journal, same behaviour."""
    monkeypatch.setenv("ATELIER_SANDBOX_WAL", "0")
    db = database.Database(tmp_path)
    assert db.wal is False
    assert db.conn().execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal"
    url = kit_server.start(tmp_path)
    c = client(url)
    f = upload(c, COUCOU)
    assert (
        wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=BASE).id).status
        == "succeeded"
    )
    kit_server.stop(tmp_path)
    db.close()


def test_wal_by_default_on_local_disks(tmp_path, monkeypatch):
    monkeypatch.delenv("ATELIER_SANDBOX_WAL", raising=False)
    db = database.Database(tmp_path)
    assert db.wal is True
    db.close()
    assert database._filesystem_type(tmp_path) is not None or sys.platform != "linux"


from sandboxkit import standalone as sandboxkit_standalone  # noqa: E402
