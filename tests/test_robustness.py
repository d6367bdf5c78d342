"""Nothing a student sends can break the kit: no 500, no hang, no lost job, no traceback.

Each test is one of the failures found by trying the kit as an attacker would (issue 12),
kept as a regression test: the kit server, the step-8 proxy, the key check, the workspace.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request

import openai
import pytest
from sandboxkit import REPO, auth, client, upload, wait_job, write_lines

from helpers import errors, kit_server, models
from helpers.exceptions import WorkspaceError


def _examples(n: int, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    return [
        {
            "messages": [
                {"role": "user", "content": f"Question {i} sur le sujet {rnd.randint(0, 50)}"},
                {"role": "assistant", "content": f"Réponse {rnd.randint(0, 30)}"},
            ]
        }
        for i in range(n)
    ]


def _post(url: str, path: str, raw: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        url + path,
        data=raw,
        method="POST",
        headers={**auth(url), "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# -- job creation ---------------------------------------------------------------------------


def test_job_creation_answers_at_once_so_a_client_timeout_orphans_nothing(workspace):
    """3,500 examples used to be validated inside the request: a client with a short timeout
    gave up, the SDK retried, and the server created a job per attempt."""
    c = client(kit_server.start(workspace), timeout=2.0, max_retries=2)
    f = upload(c, write_lines(workspace / "big.jsonl", _examples(3500)))
    job = c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL)
    assert job.status == "validating_files"
    assert [j.id for j in c.fine_tuning.jobs.list().data] == [job.id]
    done = wait_job(client(kit_server.start(workspace)), job.id, timeout=120)
    assert done.status == "succeeded" and done.trained_tokens


def test_a_very_long_job_is_planned(workspace):
    """n_epochs=50, batch_size=1 on 3,500 examples = 175,000 steps: no job after 6 minutes."""
    c = client(kit_server.start(workspace), timeout=60)
    f = upload(c, write_lines(workspace / "big.jsonl", _examples(3500)))
    job = c.fine_tuning.jobs.create(
        training_file=f.id,
        model=models.DEFAULT_MODEL,
        hyperparameters={"n_epochs": 50, "batch_size": 1},
    )
    done = wait_job(c, job.id, timeout=240)
    assert done.status == "succeeded"
    assert done.hyperparameters.n_epochs == 50
    metrics = [e for e in c.fine_tuning.jobs.list_events(job.id, limit=1000).data if e.data]
    assert metrics and metrics[0].data["total_steps"] == 175_000
    steps = [c.step_number for c in c.fine_tuning.jobs.checkpoints.list(job.id).data]
    assert steps == [175_000, 171_500, 168_000]


# -- any bytes in a request -----------------------------------------------------------------

BAD_BODIES = {
    "NaN literal": b'{"model": "gpt-4o-mini-2024-07-18", "training_file": "file-x", "seed": NaN}',
    "Infinity learning rate": (
        b'{"model": "gpt-4o-mini-2024-07-18", "training_file": "file-x", '
        b'"hyperparameters": {"learning_rate_multiplier": Infinity}}'
    ),
    "lone surrogate in metadata": (
        b'{"model": "gpt-4o-mini-2024-07-18", "training_file": "file-x", '
        b'"metadata": {"k": "\\ud800"}}'
    ),
    "lone surrogate in a key": b'{"model": "m", "\\udc00": 1}',
    "nested 100,000 deep": b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "nested 100 deep": b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}",
    "not UTF-8": b'{"model": "\xff\xfe"}',
}


@pytest.mark.parametrize("path", ["/fine_tuning/jobs", "/chat/completions"])
@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_malformed_json_bodies_get_the_real_400(module_sandbox, path, name):
    status, body = _post(module_sandbox, path, BAD_BODIES[name])
    assert status == 400, body
    assert body["error"]["type"] == "invalid_request_error"
    assert "could not parse the JSON body" in body["error"]["message"]


def test_a_file_with_a_lone_surrogate_never_breaks_lists(workspace):
    """A training file with `"\\ud800"` used to make every list/retrieve touching its job 500."""
    lines = [json.dumps(e) for e in _examples(12)]
    lines[3] = '{"messages": [{"role": "user", "content": "x\\ud800y"}, ' + (
        '{"role": "assistant", "content": "\\udfff"}]}'
    )
    c = client(kit_server.start(workspace))
    f = upload(c, write_lines(workspace / "surrogate.jsonl", lines))
    job = wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id)
    assert job.status in ("failed", "succeeded")
    assert c.fine_tuning.jobs.retrieve(job.id).id == job.id
    assert job.id in {j.id for j in c.fine_tuning.jobs.list().data}
    assert c.fine_tuning.jobs.list_events(job.id).data
    assert c.files.retrieve(f.id).id == f.id


def test_over_long_context_is_the_real_400(module_sandbox):
    c = client(module_sandbox)
    # ~175k tokens exact; 30 MB (under the 32 MiB body limit of the kit server) stopped early
    for size in (700_000, 10_000_000):
        with pytest.raises(openai.BadRequestError) as err:
            c.chat.completions.create(
                model=models.DEFAULT_MODEL, messages=[{"role": "user", "content": "ab " * size}]
            )
        assert err.value.code == "context_length_exceeded"
        assert err.value.param == "messages"
        assert "maximum context length is 128000 tokens" in err.value.message


# -- no traceback in front of learners ------------------------------------------------------


def test_a_server_bug_is_a_500_and_its_traceback_goes_to_the_log_file(
    workspace, monkeypatch, capfd
):
    from helpers.kit_server.engines.simulated import engine

    def broken(self, body):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(engine.SimulatedEngine, "chat", broken)
    c = client(kit_server.start(workspace))
    with pytest.raises(openai.InternalServerError):
        c.chat.completions.create(
            model=models.DEFAULT_MODEL, messages=[{"role": "user", "content": "Bonjour"}]
        )
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "simulated bug" not in out + err
    log = (workspace / "logs" / "kit-server.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "simulated bug" in log
    monkeypatch.setenv("ATELIER_HOME", str(workspace))
    try:
        c.chat.completions.create(
            model=models.DEFAULT_MODEL, messages=[{"role": "user", "content": "Bonjour"}]
        )
    except openai.InternalServerError as exc:
        d = errors.explain(exc)
    assert "status.openai.com" not in d.fix and "kit-server.log" in d.fix


# -- read-only or full workspace ------------------------------------------------------------


def test_unwritable_workspace_at_start_is_a_french_diagnosis(workspace, monkeypatch):
    from helpers.kit_server import database

    def readonly(self, home):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(database.Database, "__init__", readonly)
    with pytest.raises(WorkspaceError) as err:
        kit_server.start(workspace / "ro")
    d = errors.explain(err.value)
    assert str(workspace / "ro") in d.cause and "lecture seule" in d.cause
    assert "ATELIER_HOME" in d.fix


def test_full_disk_during_a_request_is_explained(workspace, monkeypatch):
    from helpers.kit_server import file_store as files

    def full(self, *args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    c = client(kit_server.start(workspace))
    monkeypatch.setattr(files.FileService, "add", full)
    monkeypatch.setenv("ATELIER_HOME", str(workspace))
    with pytest.raises(openai.InternalServerError) as err:
        upload(c, REPO / "data" / "coucou.jsonl")
    assert err.value.code == "workspace_not_writable"
    d = errors.explain(err.value)
    assert d.code == "workspace" and str(workspace) in d.cause and "plein" in d.cause
    assert "ATELIER_HOME" in d.fix


def test_command_line_server_on_an_impossible_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = subprocess.run(
        [sys.executable, "-m", "helpers.kit_server", "--port", "0", "--home", str(blocker / "ws")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "ATELIER_HOME" in run.stderr and "fichier, pas à un dossier" in run.stderr


def test_os_errors_on_the_workspace_are_explained():
    import errno

    d = errors.explain(OSError(errno.EROFS, "Read-only file system", "/srv/atelier/state.json"))
    assert d.code == "workspace" and "/srv/atelier/state.json" in d.cause
    assert "lecture seule" in d.cause and "ATELIER_HOME" in d.fix


# -- the key check --------------------------------------------------------------------------


def test_key_check_tells_an_unavailable_service_from_a_refused_key(workspace):
    from helpers.client import check_key

    assert check_key("sk-sandbox-server-error", "sandbox").status == "unavailable"
    assert check_key("sk-sandbox-invalid-key", "sandbox").status == "invalid"


# -- the step-8 proxy -----------------------------------------------------------------------


@pytest.fixture
def proxy_client():
    from starlette.testclient import TestClient

    from helpers.proxy import ProxySettings, create_app

    def make(**options) -> TestClient:
        settings = ProxySettings(
            model="m", api_key="k", base_url="http://127.0.0.1:9/v1", **options
        )
        return TestClient(create_app(settings), base_url="http://127.0.0.1:8787")

    return make


PROXY_BODIES = {
    "max_tokens NaN": b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": NaN}',
    "max_tokens Infinity": (
        b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": Infinity}'
    ),
    "max_tokens 1e400": b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e400}',
    "nested": b'{"messages": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "lone surrogate": b'{"messages": [{"role": "user", "content": "\\ud800"}]}',
}


@pytest.mark.parametrize("name", sorted(PROXY_BODIES))
def test_proxy_refuses_bad_bodies_with_400(proxy_client, name):
    r = proxy_client(max_body_bytes=200_000).post(
        "/api/chat", content=PROXY_BODIES[name], headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text


def test_proxy_refuses_a_rebound_host(proxy_client):
    """DNS rebinding: evil.example re-pointed to 127.0.0.1 is "same-origin" with itself."""
    hello = {"messages": [{"role": "user", "content": "Bonjour"}]}
    attacker = {"Host": "evil.example:8787", "Origin": "http://evil.example:8787"}
    r = proxy_client().post("/api/chat", json=hello, headers=attacker)
    assert r.status_code == 403 and r.json()["error"]["code"] == "host_not_allowed"
    assert "ATELIER_PROXY_ALLOWED_HOSTS" in r.json()["error"]["message"]
    r = proxy_client().options("/api/chat", headers=attacker)
    assert r.status_code == 403
    # A deployed proxy names its host; "*" (behind a hub or Colab) accepts any.
    named = proxy_client(allowed_hosts=("127.0.0.1", "evil.example")).post(
        "/api/chat", json=hello, headers=attacker
    )
    assert named.status_code != 403
    assert (
        proxy_client(allowed_hosts=("*",))
        .post("/api/chat", json=hello, headers=attacker)
        .status_code
        != 403
    )


def test_proxy_allowed_hosts_from_the_environment():
    from helpers.proxy import ProxySettings

    s = ProxySettings.from_env(
        {
            "ATELIER_PROXY_ALLOWED_HOSTS": "proxy.example.org, other.example:443",
            "RENDER_EXTERNAL_HOSTNAME": "atelier.onrender.com",
        }
    )
    assert s.host_allowed("proxy.example.org") and s.host_allowed("other.example")
    assert s.host_allowed("atelier.onrender.com") and s.host_allowed("localhost:8787")
    assert s.host_allowed("[::1]:8787") and not s.host_allowed("evil.example")


def test_bad_bodies_never_break_the_module_sandbox(module_sandbox):
    assert client(module_sandbox).models.list().data


# -- the key file ---------------------------------------------------------------------------


def test_env_file_is_never_written_through_a_symlink(tmp_path, monkeypatch):
    """A `.env` that is a symlink to another file: the key lands in a `.env` of its own
    (owner-only), the link's target is neither written nor chmod-ed."""
    import os
    import stat

    from helpers import settings

    target = tmp_path / "somebody-elses-file"
    target.write_text("PRECIOUS=1\n")
    target.chmod(0o644)
    env = tmp_path / ".env"
    env.symlink_to(target)
    monkeypatch.setattr(settings, "env_file", lambda: env)
    settings.save_key_to_env_file("sk-test-" + "x" * 30)
    assert target.read_text() == "PRECIOUS=1\n" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not env.is_symlink() and stat.S_IMODE(os.stat(env).st_mode) == 0o600
    assert "sk-test-" in env.read_text() and "PRECIOUS=1" in env.read_text()
    settings.forget_key()
    assert "sk-test-" not in env.read_text() and stat.S_IMODE(os.stat(env).st_mode) == 0o600
