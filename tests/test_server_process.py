"""One kit server process per workspace: started on demand, found by every later process,
race-free, detached from the kernel that started it, stopped after an idle period. (That a
kernel running the course imports only the client side is checked on every notebook by
tests/test_course_sentinel.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import kit_server
from helpers.kit_server import launcher

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(os.name != "posix", reason="detached server processes: POSIX")


@pytest.fixture
def server_processes(workspace, monkeypatch):
    """The client's default path (no in-process server); the workspace's server stopped after."""
    monkeypatch.delenv("ATELIER_SANDBOX_IN_PROCESS", raising=False)
    yield workspace
    kit_server.shutdown(workspace)


def _connect_in_subprocess(*, extra: str = "") -> subprocess.Popen[str]:
    code = f"from helpers import kit_server; {extra}print(kit_server.connect(), flush=True)"
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _advert(home: Path) -> dict:
    return json.loads((home / "sandbox-simulated.json").read_text())


def test_started_on_demand_detached_and_found_again(server_processes):
    home = server_processes
    url = kit_server.connect()
    pid = _advert(home)["pid"]
    assert pid != os.getpid() and _advert(home)["url"] == url
    assert os.getsid(pid) != os.getsid(0)  # its own session: a kernel shutdown does not reach it
    assert os.getppid() != pid
    with open(f"/proc/{pid}/stat") as stat:  # not a child of this process
        assert int(stat.read().rsplit(")", 1)[1].split()[1]) != os.getpid()
    assert kit_server.connect() == url
    # A later process (a restarted kernel, a command) finds the same server.
    later = _connect_in_subprocess()
    out, err = later.communicate(timeout=60)
    assert out.strip() == url, err
    assert kit_server.shutdown() is True
    assert not launcher.pid_alive(pid) and not (home / "sandbox-simulated.json").exists()


def test_two_kernels_at_once_share_one_server(server_processes):
    first, second = _connect_in_subprocess(), _connect_in_subprocess()
    urls = {p.communicate(timeout=90)[0].strip() for p in (first, second)}
    assert len(urls) == 1 and next(iter(urls)).startswith("http://127.0.0.1:")
    pid = _advert(server_processes)["pid"]
    servers = subprocess.run(
        ["pgrep", "-f", f"helpers.kit_server --port 0 --home {server_processes}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert servers == [str(pid)]


def test_outlives_the_process_that_started_it(server_processes):
    starter = _connect_in_subprocess()
    url = starter.communicate(timeout=60)[0].strip()
    assert starter.returncode == 0
    assert launcher.answers(url, kit_server.key())  # the "kernel" is gone, the server still answers
    assert kit_server.connect() == url


def test_stops_after_the_idle_period(server_processes, monkeypatch):
    monkeypatch.setenv("ATELIER_SERVER_IDLE", "1.5")
    url = kit_server.connect()
    pid = _advert(server_processes)["pid"]
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:  # requests keep it up
        assert launcher.answers(url, kit_server.key())
        time.sleep(0.3)
    deadline = time.monotonic() + 15
    while launcher.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not launcher.pid_alive(pid)
    assert not (server_processes / "sandbox-simulated.json").exists()
    again = kit_server.connect()  # started again on demand: a new process, which answers
    assert _advert(server_processes)["pid"] != pid
    assert launcher.answers(again, kit_server.key())


def test_idle_setting_is_checked(monkeypatch):
    monkeypatch.setenv("ATELIER_SERVER_IDLE", "bientôt")
    with pytest.raises(ValueError, match="ATELIER_SERVER_IDLE"):
        launcher.idle_seconds()
    monkeypatch.delenv("ATELIER_SERVER_IDLE")
    assert launcher.idle_seconds() == launcher.DEFAULT_IDLE


def test_engine_follows_the_mode(server_processes, monkeypatch):
    from helpers import client

    monkeypatch.setenv("ATELIER_MODE", "sandbox")
    url = client.base_url()
    assert _advert(server_processes)["url"] == url
    command = Path(f"/proc/{_advert(server_processes)['pid']}/cmdline").read_bytes().split(b"\0")
    assert b"--engine" in command and command[command.index(b"--engine") + 1] == b"simulated"


def test_a_server_that_cannot_start_is_reported(server_processes, monkeypatch):
    monkeypatch.setattr(launcher, "command", lambda *a, **k: [sys.executable, "-c", "boom("])
    with pytest.raises(launcher.ServerStartError, match="démarrage") as caught:
        launcher.ensure(server_processes, timeout=60)  # seen dead at once, not at the timeout
    assert "SyntaxError" in str(caught.value)  # the server's own words, from its log


def test_stops_when_its_workspace_is_deleted(tmp_path, monkeypatch):
    monkeypatch.delenv("ATELIER_SANDBOX_IN_PROCESS", raising=False)
    home = tmp_path / "temporary-workspace"
    home.mkdir()
    kit_server.connect(home)
    pid = _advert(home)["pid"]
    import shutil

    shutil.rmtree(home)
    deadline = time.monotonic() + 20
    while launcher.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not launcher.pid_alive(pid)


def test_a_kernel_counts_tokens_with_the_kit_server(server_processes):
    """A kernel never loads an encoding while the workspace's kit server runs (≈ 45 MB each)."""
    from helpers import tokens

    kit_server.connect()
    texts = ["Bonjour le monde", "Écris un poème sur la mer 🌊", "x" * 5000, "\ud800 seul"]
    code = (
        "import sys, types, json\n"
        "sys.modules['ipykernel'] = types.ModuleType('ipykernel')  # as in a notebook's kernel\n"
        "from helpers import tokens, dataset\n"
        f"counts = [tokens.count_text(t, 'gpt-4o-mini') for t in {texts!r}]\n"
        "report = dataset.check_file('data/coucou.jsonl')\n"
        "print(json.dumps([counts, report.token_counts, 'tiktoken' in sys.modules]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ATELIER_SANDBOX_IN_PROCESS"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    counts, dataset_counts, loaded = json.loads(done.stdout)
    assert loaded is False
    assert counts == [tokens.count_text(t, "gpt-4o-mini") for t in texts]
    from helpers import dataset

    assert dataset_counts == list(dataset.check_file(REPO / "data" / "coucou.jsonl").token_counts)


def test_a_server_start_failure_is_reported_at_once(server_processes):
    """The server's own (French) reason reaches the kernel at once, not after a timeout."""
    (server_processes / "sandbox.sqlite3").mkdir()  # the database cannot be opened
    with pytest.raises(launcher.ServerStartError) as caught:
        kit_server.connect()
    assert "n'a pas démarré en" not in str(caught.value)  # not the timeout's message
    assert str(server_processes) in str(caught.value) or "ATELIER_HOME" in str(caught.value)


def test_local_mode_without_its_packages_says_so_at_once(server_processes, monkeypatch):
    from helpers.kit_server.engines.local import LocalModeUnavailable
    from helpers.local import catalog

    monkeypatch.setattr(catalog, "is_available", lambda: False)
    with pytest.raises(LocalModeUnavailable, match="torch"):
        kit_server.connect(engine="local")
    assert not (server_processes / "sandbox-local.json").exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux /proc only")
def test_an_exited_server_not_yet_reaped_counts_as_stopped():
    """A zombie (exited, parent not waiting yet) holds no port: `--stop` and the launcher
    do not wait for the container's init to reap it."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if Path(f"/proc/{child.pid}/stat").read_bytes().rpartition(b")")[2].split()[0] == b"Z":
            break
        time.sleep(0.01)
    try:
        assert not launcher.pid_alive(child.pid)
    finally:
        child.wait()
    assert launcher.pid_alive(os.getpid())
