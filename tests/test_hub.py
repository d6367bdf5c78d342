"""A class on a real JupyterHub (127.0.0.1): the README's nbgitpuller link pulls the course
from a loopback git server into each student's home; the students run the 11 notebooks at
the same time in their own single-user servers (REST + kernel websocket; one in Chromium);
no student sees another's workspace, files, jobs or models, nor gets into their kit server;
the step-8 page works behind the hub through jupyter-server-proxy, in Chromium.

`make test-hub` (ATELIER_HUB_STUDENTS, default 3) installs the hub's venv and the proxy first;
a plain `pytest tests` skips this module (fails in CI if the hub's venv is missing).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import REPO, require
from hubkit import (
    CLONE,
    api_student,
    browser_student,
    chromium_path,
    git_server,
    running_hub,
    student_memory,
)

VENV = Path(os.environ.get("ATELIER_HUB_VENV", REPO / ".venv-hub"))
NODE = Path(os.environ.get("ATELIER_HUB_NODE", REPO / ".hub-node"))
STUDENTS = int(os.environ.get("ATELIER_HUB_STUDENTS", "3"))
pytestmark = [pytest.mark.timeout(900), pytest.mark.hub]


def _ready() -> None:
    require(
        (VENV / "bin" / "jupyterhub").exists(),
        f"no hub venv at {VENV}: run make test-hub (it installs it)",
    )
    require(
        (NODE / "node_modules" / ".bin" / "configurable-http-proxy").exists(),
        "configurable-http-proxy missing: make venv-hub",
    )
    require(chromium_path() is not None, "Chromium absent (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    _ready()
    root = tmp_path_factory.mktemp("hub")
    with git_server(root / "git") as repo_url, running_hub(root / "hub", VENV, NODE) as hub:
        hub.repo_url = repo_url
        yield hub
    if os.environ.get("CI"):
        print((root / "hub" / "hub.log").read_text(errors="replace")[-3000:])


def test_a_class_on_jupyterhub(hub):
    users = [f"eleve{i}" for i in range(STUDENTS)]
    for user in users:
        hub.add_student(user)
    out: dict = {}
    threads = [threading.Thread(target=browser_student, args=(hub, users[0], out))]
    threads += [threading.Thread(target=api_student, args=(hub, u, out)) for u in users[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = {u: v for u, v in out.items() if v[0] != "ok"}
    assert not failed, f"{failed}\n{hub.log_tail()}"
    for user in users:  # the figures: bench/hub_class.py
        pss, rss = student_memory(hub, user)
        print(f"{user}: {out[user][1]:.0f} s, PSS {pss / 2**20:.0f} MiB, RSS {rss / 2**20:.0f} MiB")
    _check_isolation(hub, users)


def _check_isolation(hub, users: list[str]) -> None:
    """Each student's kit server, workspace, files, jobs and models are their own; a student
    who finds another student's kit server (every user shares the loopback) is refused."""
    import json

    import openai

    from helpers import kit_server

    seen: dict[str, dict[str, set[str]]] = {}
    urls: dict[str, str] = {}
    for user in users:
        workspace = hub.home(user) / CLONE / ".atelier"
        advert = json.loads((workspace / "sandbox-simulated.json").read_text())
        urls[user] = advert["url"]
        api = openai.OpenAI(
            base_url=advert["url"], api_key=kit_server.key(workspace), max_retries=0
        )
        seen[user] = {
            "files": {f.id for f in api.files.list()},
            "jobs": {j.id for j in api.fine_tuning.jobs.list(limit=100)},
            "models": {m.id for m in api.models.list() if m.id.startswith("ft:")},
        }
        assert all(seen[user].values()), (user, seen[user])
        # A student's Jupyter server shows their home only.
        other = next(u for u in users if u != user)
        status, _ = hub.api("GET", f"/user/{user}/api/contents/..%2F{other}")
        assert status in (400, 403, 404), status
    assert len(set(urls.values())) == len(users)  # one kit server per student
    for i, user in enumerate(users):  # with their own key, on the next student's server
        other = users[(i + 1) % len(users)]
        key = kit_server.key(hub.home(user) / CLONE / ".atelier")
        intruder = openai.OpenAI(base_url=urls[other], api_key=key, max_retries=0)
        for attempt in (intruder.files.list, intruder.models.list):
            with pytest.raises(openai.AuthenticationError):
                attempt()
    for kind in ("files", "jobs", "models"):
        for i, a in enumerate(users):
            for b in users[i + 1 :]:
                assert not seen[a][kind] & seen[b][kind], (kind, a, b)


# Starts the hub venv's `python3` kernel as the single-user server does (jupyter_client, from
# the kernel spec that binder/kernel/install.py installed), imports the SDK as notebook 00
# does, and reports what the kernel holds.
KERNEL_PROBE = '''
import json
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

CODE = """
import json, sys, openai
try:
    import aiohttp
    refused = ""
except ImportError as err:
    refused = str(err)
print(json.dumps({
    "modules": sorted(m for m in ("openai", "debugpy", "aiohttp") if m in sys.modules),
    "cwd_on_path": "" in sys.path,
    "spec_on_path": any(p.rstrip("/").endswith("kernels/python3") for p in sys.path),
    "refused": refused,
    "aio_client": hasattr(openai, "DefaultAioHttpClient"),
}))
"""
spec = KernelSpecManager().get_kernel_spec("python3")
km, kc = start_new_kernel(kernel_name="python3", startup_timeout=120)
try:
    info = kc.kernel_info(reply=True, timeout=60)["content"]
    out = []
    kc.execute_interactive(CODE, timeout=120, output_hook=lambda m: out.append(
        m["content"].get("text", "") if m["msg_type"] == "stream" else ""))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps({"metadata": spec.metadata, "features": info.get("supported_features", []),
                  "kernel": json.loads("".join(out))}))
'''


def test_the_course_kernels_load_neither_debugger_nor_aiohttp(tmp_path):
    """A student keeps one kernel per notebook: the hub image's `python3` kernel spec
    (binder/kernel) keeps debugpy (≈ 8 MiB a kernel) and aiohttp (≈ 9 MiB with the SDK) out
    of the kernels; the SDK works, and JupyterLab is told there is no debugger."""
    require((VENV / "bin" / "python").exists(), f"no hub venv at {VENV}: make venv-hub")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH"))}
    env["PATH"] = f"{VENV.resolve() / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run(
        [str(VENV.resolve() / "bin" / "python"), "-c", KERNEL_PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["kernel"]["modules"] == ["openai"], seen
    assert seen["metadata"].get("debugger") is False, seen["metadata"]
    assert "debugger" not in seen["features"], seen["features"]
    assert seen["kernel"]["cwd_on_path"], "the notebook's folder ('') on the kernel's sys.path"
    assert not seen["kernel"]["spec_on_path"], "the kernel spec's folder is no import path"
    assert seen["kernel"]["aio_client"], "the whole SDK loads, only its aiohttp transport is off"
    assert "python -m ipykernel install --sys-prefix" in seen["kernel"]["refused"]
