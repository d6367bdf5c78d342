"""Job monitor, driven headless against the sandbox: success, failure, cancel, background
thread, one poller per job, resuming from the workspace, and the sandbox going away."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
from _widget_harness import text
from conftest import DATA, REPO

from helpers import jobs, kit_server, workspace
from helpers.widgets import JobMonitor, stop_all
from helpers.widgets.job_monitor import MonitorError

SVG = b"<svg"  # the chart: helpers.charts, not matplotlib (a light kernel)


@pytest.fixture(autouse=True)
def _cleanup(workspace):
    yield
    stop_all()
    kit_server.stop(workspace)


class JobClock:
    """The clock of the kit server's jobs, held by the test: a job stays where it is (still
    validating) until the test moves the clock, whatever the machine's load."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def finish_jobs(self) -> None:
        self.now += 3600  # far past any COUCOU job's end


@pytest.fixture
def job_clock(monkeypatch) -> JobClock:
    """The workspace's in-process kit server (started after this) runs its jobs on `JobClock`."""
    from helpers.kit_server.engines import registry

    clock = JobClock()
    make = registry.make
    monkeypatch.setattr(
        registry, "make", lambda name, home, files, _clock=None: make(name, home, files, clock)
    )
    return clock


def start_job(path=DATA / "coucou.jsonl", **options):
    file = jobs.upload(path, check=False)
    return jobs.create(file.id, **options)


def eventually(condition, timeout: float = 20.0, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return condition()


def test_follows_a_job_to_success(capfd):
    job = start_job(suffix="coucou")
    monitor = JobMonitor(job.id)
    final = monitor.wait(timeout=60)
    assert final.status == "succeeded" and monitor.done and not monitor.running
    assert "succeeded" in text(monitor.status_html.value)
    assert "Terminé" in text(monitor.status_html.value)  # the guide's French meaning
    assert monitor.progress.value == monitor.progress.max > 1
    assert f"étape {monitor.progress.max} / {monitor.progress.max}" in text(
        monitor.progress_label.value
    )
    # the chart: an SVG in an Image widget, shown
    assert monitor.chart.format == "svg+xml" and bytes(monitor.chart.value).startswith(SVG)
    assert monitor.chart.layout.display is None
    assert b"(train loss)" in bytes(monitor.chart.value)
    assert len(monitor.metrics) > 3
    # events: every one of the server's, each once, oldest first
    import helpers

    server = [e.id for e in helpers.client().fine_tuning.jobs.list_events(job.id, limit=100)][::-1]
    assert [e.id for e in monitor.events] == server
    assert "Journal du job" in text(monitor.events_html.value)
    # the model's name, copy-friendly, and recorded for the next notebooks
    assert final.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:sandbox:coucou:")
    assert final.fine_tuned_model in text(monitor.model_html.value)
    assert "user-select:all" in monitor.model_html.value
    assert workspace.get("fine_tuned_model") == final.fine_tuned_model
    # checkpoints when done
    assert len(monitor.checkpoints) == 3
    assert "ckpt-step-" in text(monitor.checkpoints_html.value)
    assert monitor.cancel_button.disabled
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""  # the monitor never prints


def test_resumes_the_workspace_job_after_a_restart():
    job = start_job()
    assert workspace.get("job_id") == job.id
    monitor = JobMonitor()  # a new kernel: no id at hand
    assert monitor.job_id == job.id
    assert monitor.wait(timeout=60).status == "succeeded"


def test_no_job_recorded_yet_is_explained():
    monitor = JobMonitor()
    assert monitor.done and not monitor.running
    assert "Aucun job" in text(monitor.diagnosis_html.value)
    with pytest.raises(MonitorError):
        monitor.wait()


def test_a_failing_job_shows_the_diagnosis():
    job = start_job(DATA / "guide_3_exemples.jsonl")
    monitor = JobMonitor(job.id)
    assert monitor.wait(timeout=60).status == "failed"
    assert monitor.diagnosis.code == "invalid_n_examples"
    shown = text(monitor.diagnosis_html.value)
    assert "pas assez d'exemples" in shown and "10" in shown
    assert "failed" in text(monitor.status_html.value)
    assert monitor.progress.bar_style == "danger"
    assert monitor.fine_tuned_model is None and monitor.model_html.value == ""
    with pytest.raises(jobs.JobFailedError):
        JobMonitor(job.id).wait(raise_on_failure=True)


def test_unknown_job_stops_with_a_diagnosis():
    kit_server.start()
    monitor = JobMonitor("ftjob-doesnotexist000000000")
    assert monitor.done and not monitor.running
    assert monitor.diagnosis is not None
    assert text(monitor.diagnosis_html.value)
    with pytest.raises(MonitorError):
        monitor.wait(timeout=5)


def test_background_thread_only_sets_values_and_stops(job_clock, capfd):
    job = start_job()
    monitor = JobMonitor(job.id, interval=0.1)
    assert monitor.running  # the job's clock stands still: it cannot have finished
    assert eventually(lambda: monitor.polls > 1)
    assert monitor.running and monitor.status == "validating_files"
    job_clock.finish_jobs()
    assert eventually(lambda: monitor.metrics is not None and len(monitor.metrics) > 0)
    assert eventually(lambda: bytes(monitor.chart.value).startswith(SVG))
    assert eventually(lambda: monitor.done, timeout=60)
    assert eventually(lambda: not monitor.running)
    assert monitor.status == "succeeded" and bytes(monitor.chart.value).startswith(SVG)
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""


def test_stop_and_start(job_clock):
    job = start_job()  # still running while the test runs: its clock stands still
    monitor = JobMonitor(job.id, interval=0.05)
    monitor.stop()
    assert not monitor.running
    polls = monitor.polls
    time.sleep(0.3)
    assert monitor.polls == polls  # really stopped
    monitor.start()
    assert eventually(lambda: monitor.polls > polls)
    monitor.stop()


def test_one_poller_per_job(job_clock):
    job = start_job()  # still running while the test runs: its clock stands still
    first = JobMonitor(job.id, interval=0.05)
    assert first.running
    second = JobMonitor(job.id, interval=0.05)
    assert second.running and not first.running
    assert "plus récent" in text(first.connection_html.value)
    second.stop()


def test_wait_pauses_the_background_poller_and_times_out(job_clock):
    job = start_job()  # still running while the test runs: its clock stands still
    monitor = JobMonitor(job.id, interval=0.05)
    with pytest.raises(TimeoutError, match="continue"):
        monitor.wait(timeout=0.5)
    assert monitor.running  # following goes on in the background after a timeout
    monitor.stop()


def test_cancel_needs_two_clicks(job_clock):
    job = start_job()  # still running while the test runs: its clock stands still
    monitor = JobMonitor(job.id, interval=0.05)
    monitor.cancel_button.click()
    assert monitor.cancel_button.description == "Confirmer l'annulation"
    assert jobs.retrieve(job.id).status not in jobs.TERMINAL
    monitor.cancel_button.click()
    assert monitor.wait(timeout=30).status == "cancelled"
    assert "annulé" in text(monitor.diagnosis_html.value).lower()
    assert monitor.cancel_button.disabled


def test_sandbox_gone_backs_off_and_gives_up_in_wait(job_clock):
    job = start_job()  # still running while the test runs: its clock stands still
    monitor = JobMonitor(job.id, interval=0.05, max_interval=0.4, max_failures=3)
    assert monitor.running
    kit_server.stop()  # the server goes away mid-job
    assert eventually(lambda: monitor.failures >= 2, timeout=60)
    shown = text(monitor.connection_html.value)
    assert "Impossible de joindre" in shown and "réessaie" in shown
    assert monitor.running  # still trying, more and more slowly
    assert eventually(
        lambda: len(monitor.delays) >= 3 and monitor.delays[-1] > monitor.interval, timeout=60
    )
    with pytest.raises(MonitorError, match="n'arrive plus"):
        monitor.wait()
    assert monitor.diagnosis.code == "connection"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_sandbox(port: int, home, speed: str) -> subprocess.Popen:
    env = {**os.environ, "ATELIER_SANDBOX_SPEED": speed, "ATELIER_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers.kit_server", "--port", str(port), "--home", str(home)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    assert eventually(up, timeout=30), "the sandbox did not start"
    return proc


@pytest.mark.slow
def test_sandbox_restart_mid_job_is_recovered(monkeypatch, tmp_path):
    port = free_port()
    home = tmp_path / "serveur"
    server = run_sandbox(port, home, speed="8")
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    # The kit server answers only with its workspace's key: in openai mode it is the API key.
    monkeypatch.setenv("OPENAI_API_KEY", kit_server.key(home))
    try:
        job = start_job()
        monitor = JobMonitor(job.id, interval=0.1, max_interval=0.8, max_failures=50)
        assert eventually(lambda: monitor.status == "running", timeout=60)
        server.terminate()
        server.wait(10)
        assert eventually(lambda: monitor.failures >= 2, timeout=60)
        assert "Impossible de joindre" in text(monitor.connection_html.value)
        server = run_sandbox(port, home, speed="8")
        final = monitor.wait(timeout=120)
        assert final.status == "succeeded"
        assert (
            "rétablie" in text(monitor.connection_html.value) or monitor.connection_html.value == ""
        )
        ids = [e.id for e in monitor.events]
        assert len(ids) == len(set(ids))  # nothing shown twice across the outage
        assert bytes(monitor.chart.value).startswith(SVG)
    finally:
        server.terminate()
        server.wait(10)
