"""Short-lived commands use the workspace's running sandbox instead of starting their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers import kit_server


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def test_running_server_is_advertised_and_withdrawn(workspace):
    url = kit_server.start()
    advert = json.loads((workspace / "sandbox-simulated.json").read_text())
    assert advert == {"url": url, "pid": os.getpid()}
    assert kit_server.find_running() == url
    kit_server.stop()
    assert not (workspace / "sandbox-simulated.json").exists()
    assert kit_server.find_running() is None


def test_command_uses_the_kernels_server(workspace):
    url = kit_server.start()
    port = url.split(":")[2].split("/")[0]
    # Had the command started a server of its own, it would have advertised it (its pid).
    done = _cli("api", "files.create", "-p", "fine-tune", "-f", "data/coucou.jsonl")
    assert done.returncode == 0, done.stderr
    advert = json.loads((workspace / "sandbox-simulated.json").read_text())
    assert advert["pid"] == os.getpid() and port in advert["url"]
    kit_server.stop()


def test_stale_advert_is_ignored(workspace):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    (workspace / "sandbox-simulated.json").write_text(
        json.dumps({"url": "http://127.0.0.1:9/v1", "pid": int(dead)})
    )
    assert kit_server.find_running() is None
    done = _cli("api", "fine_tuning.jobs.list")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["object"] == "list"


def test_garbled_advert_is_ignored(workspace):
    (workspace / "sandbox-simulated.json").write_text("{not json")
    assert kit_server.find_running() is None
