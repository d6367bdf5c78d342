"""The doors of a learner's own kit server (issue 19, items 7 and 9).

- It accepted any key: on a shared host every user shares the loopback, and another user who
  found the port could read or delete a learner's files and models. Now each workspace has
  its own key (an owner-only file), the kit's clients send it, every other request is refused
  with the real API's 401 envelope; learners see no change.
- `POST /kit/tokens` needed no key and had no size limit (100 MB → 5 GB of memory): the same
  key as `/v1`, a body cap, 413 beyond it (JSON envelope). The `/v1` routes got their caps too.
"""

from __future__ import annotations

import http.client
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from sandboxkit import COUCOU, REPO, upload

import helpers
from helpers import advert, errors, kit_server
from helpers.advert import KEY_HEADER, TOKENS_MAX_BODY, TOKENS_PATH, RemoteLengths
from helpers.client import still_served
from helpers.tokens import local_lengths

MODEL = "gpt-4o-mini-2024-07-18"


def _port(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


def _request(
    url: str,
    method: str,
    path: str,
    *,
    key: str | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", _port(url), timeout=60)
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    try:
        conn.request(method, path, body=body, headers=sent)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def _envelope(raw: bytes) -> dict:
    body = json.loads(raw)
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


# -- the workspace's key ---------------------------------------------------------------------


def test_the_workspace_key_is_an_owner_only_file_made_once(workspace):
    key = kit_server.key()
    path = advert.key_path(workspace)
    assert path.read_text().strip() == key and kit_server.key() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not key.startswith("sk-")  # nothing in a workspace looks like an OpenAI key


@pytest.mark.parametrize("damage", ["readable by others", "a symbolic link", "not a key"])
def test_a_key_file_others_could_read_or_choose_is_replaced(workspace, tmp_path, damage):
    path = advert.key_path(workspace)
    chosen = "atelier-kit-" + "A" * 43
    if damage == "readable by others":
        path.write_text(chosen)
        path.chmod(0o644)
    elif damage == "a symbolic link":
        elsewhere = tmp_path / "elsewhere.key"
        elsewhere.write_text(chosen)
        elsewhere.chmod(0o600)
        path.symlink_to(elsewhere)
    else:
        path.write_text("sandbox")
        path.chmod(0o600)
    key = kit_server.key()
    assert key != chosen and key != "sandbox"
    assert not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600
    if damage == "a symbolic link":
        assert (tmp_path / "elsewhere.key").read_text() == chosen  # never written through


def test_python_m_helpers_sandbox_key_prints_it(workspace):
    done = subprocess.run(
        [sys.executable, "-m", "helpers.kit_server", "--key", "--home", str(workspace)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.strip() == kit_server.key(workspace)


# -- who gets in -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v1/models"),
        ("GET", "/v1/files"),
        ("DELETE", "/v1/files/file-abc"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/"),
        ("POST", TOKENS_PATH),
        ("GET", "/nowhere"),
    ],
)
def test_a_request_without_the_workspace_key_is_refused(workspace, method, path):
    url = kit_server.start(workspace)
    for key in (None, "sandbox", "sk-anything", kit_server.key(workspace)[:-1] + "x"):
        status, headers, raw = _request(url, method, path, key=key, body=b"{}")
        assert status == 401, (key, raw)
        error = _envelope(raw)
        assert error["code"] == (None if key is None else "invalid_api_key")
        assert headers.get("x-request-id", "").startswith("req_")
        assert key is None or key not in raw.decode()  # never echoed


def test_the_workspace_key_opens_every_door(workspace):
    url = kit_server.start(workspace)
    key = kit_server.key(workspace)
    assert _request(url, "GET", "/v1/models", key=key)[0] == 200
    assert _request(url, "GET", "/", key=key)[0] == 200
    # beside another key (a fault key, a key typed in the key form): in its own header
    assert _request(url, "GET", "/v1/models", key="sk-other", headers={KEY_HEADER: key})[0] == 200
    body = json.dumps({"encoding": "o200k_base", "texts": ["Bonjour"]}).encode()
    status, _, raw = _request(url, "POST", TOKENS_PATH, key=key, body=body)
    assert status == 200 and json.loads(raw) == {"lengths": [1]}


def test_another_workspace_key_is_refused(tmp_path):
    """A student who finds another student's kit server (the same host: a lab machine, The
    Littlest JupyterHub) cannot read, add or delete anything there."""
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    alice_url, bob_url = kit_server.start(alice), kit_server.start(bob)
    alice_api = openai.OpenAI(base_url=alice_url, api_key=kit_server.key(alice), max_retries=0)
    file = upload(alice_api, COUCOU)
    bob_on_alice = openai.OpenAI(base_url=alice_url, api_key=kit_server.key(bob), max_retries=0)
    for attempt in (
        lambda: bob_on_alice.files.list(),
        lambda: bob_on_alice.files.content(file.id),
        lambda: bob_on_alice.files.delete(file.id),
        lambda: bob_on_alice.models.list(),
    ):
        with pytest.raises(openai.AuthenticationError) as err:
            attempt()
        assert errors.explain(err.value).code == "kit_server_key"
    assert alice_api.files.retrieve(file.id).id == file.id
    assert _request(bob_url, "GET", "/v1/models", key=kit_server.key(bob))[0] == 200
    kit_server.stop(alice)
    kit_server.stop(bob)


def test_faults_on_demand_still_work(workspace):
    """By key through the kit's client (the key form, notebook 10), and by key from any
    client for the faults that answer an error at once (they read and write nothing)."""
    url = kit_server.start(workspace)
    with pytest.raises(openai.RateLimitError) as err:
        helpers.client(api_key="sk-sandbox-quota", max_retries=0).models.list()
    assert err.value.code == "insufficient_quota"
    slow = helpers.client(api_key="sk-sandbox-slow-0.1", max_retries=0)
    assert slow.models.list().data  # answered, late
    stranger = openai.OpenAI(base_url=url, api_key="sk-sandbox-invalid-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        stranger.models.list()
    assert err.value.code == "invalid_api_key" and "kit server" not in str(err.value)
    slow_stranger = openai.OpenAI(base_url=url, api_key="sk-sandbox-slow-0.1", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:  # answers normally: the key needed
        slow_stranger.models.list()
    assert "kit server" in str(err.value)


def test_learners_see_no_change(workspace):
    """The kit's clients send the key by themselves: the SDK client, still_served, the token
    counts of a kernel (RemoteLengths), the step-8 proxy in sandbox mode."""
    from helpers import jobs, webdemo

    api = helpers.client(max_retries=0)
    file = jobs.upload(COUCOU, client=api)
    assert still_served("file_id", file.id)
    url = kit_server.connect()
    lengths = RemoteLengths(url, "o200k_base", kit_server.key())
    assert lengths.many(["Bonjour", "COUCOU"]) == local_lengths("o200k_base", ["Bonjour", "COUCOU"])
    with pytest.raises(OSError):
        RemoteLengths(url, "o200k_base", "sk-someone-else").many(["Bonjour"])
    job = jobs.create(file.id, suffix="portes", client=api)
    model = jobs.wait(job.id, client=api).fine_tuned_model
    webdemo.start(model=model)
    try:
        report = webdemo.check_key_hidden()
        assert report.ok and report.reply == "COUCOU", str(report)
    finally:
        webdemo.stop()


def test_the_key_is_written_nowhere_else(workspace):
    api = helpers.client(max_retries=0)
    api.models.list()
    key = kit_server.key()
    for path in Path(workspace).rglob("*"):
        if path.is_file() and path.name != advert.KEY_NAME:
            assert key.encode() not in path.read_bytes(), path


# -- /kit/tokens and the /v1 bodies: capped ---------------------------------------------------


def test_kit_tokens_refuses_a_huge_body_at_once(workspace):
    """100 MB announced: a 413 in the API's envelope before anything is read, connection closed."""
    url = kit_server.start(workspace)
    conn = http.client.HTTPConnection("127.0.0.1", _port(url), timeout=60)
    conn.putrequest("POST", TOKENS_PATH)
    conn.putheader("Authorization", f"Bearer {kit_server.key()}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(100 * 1024 * 1024))
    conn.endheaders()
    conn.send(b'{"encoding": "o200k_base", "texts": ["')
    answer = conn.getresponse()
    raw = answer.read()
    assert answer.status == 413 and _envelope(raw)["code"] == "request_too_large"
    assert answer.getheader("connection") == "close"
    conn.close()


def test_kit_tokens_refuses_a_chunked_body_past_the_cap(workspace):
    url = kit_server.start(workspace)
    conn = http.client.HTTPConnection("127.0.0.1", _port(url), timeout=60)
    chunk = b"a" * (1024 * 1024)

    def body():
        yield b'{"encoding": "o200k_base", "texts": ["'
        for _ in range(TOKENS_MAX_BODY // len(chunk) + 2):
            yield chunk
        yield b'"]}'

    headers = {"Authorization": f"Bearer {kit_server.key()}", "Content-Type": "application/json"}
    try:
        conn.request("POST", TOKENS_PATH, body=body(), headers=headers, encode_chunked=True)
        answer = conn.getresponse()
        status, raw = answer.status, answer.read()
    except (BrokenPipeError, ConnectionResetError):  # closed while we were still sending
        status, raw = 413, b'{"error": {"message": "", "type": "", "param": null, "code": ""}}'
    finally:
        conn.close()
    assert status == 413 and _envelope(raw)


@pytest.mark.parametrize(
    "method, body, status",
    [
        ("GET", None, 405),
        ("POST", b"not json", 400),
        ("POST", b'{"encoding": "gpt2", "texts": []}', 400),
        ("POST", b'{"encoding": "o200k_base", "texts": [1]}', 400),
        ("POST", b'{"encoding": "o200k_base", "texts": ' + b"[" * 100_000 + b"}", 400),
    ],
)
def test_kit_tokens_refusals_use_the_api_envelope(workspace, method, body, status):
    url = kit_server.start(workspace)
    got, _, raw = _request(url, method, TOKENS_PATH, key=kit_server.key(), body=body)
    assert got == status and _envelope(raw)


def test_remote_lengths_stay_under_the_cap(workspace, monkeypatch):
    from helpers.kit_server.resources import kit

    monkeypatch.setattr(advert, "TOKENS_MAX_BODY", 4000)
    monkeypatch.setattr(kit, "TOKENS_MAX_BODY", 4000)
    url = kit_server.start(workspace)
    lengths = RemoteLengths(url, "o200k_base", kit_server.key())
    texts = [f"Bonjour numéro {i}" for i in range(200)]  # ~4 KB of JSON: several requests
    assert lengths.many(texts) == local_lengths("o200k_base", texts)
    with pytest.raises(OSError):  # one text bigger than a request: the kernel counts it itself
        lengths.many(["a" * 5000])


@pytest.mark.parametrize(
    "path, limit",
    [("/v1/chat/completions", "MAX_JSON_BODY"), ("/v1/files", "MAX_UPLOAD_BODY")],
)
def test_v1_bodies_past_their_limit_are_refused_at_once(workspace, path, limit):
    from helpers.kit_server.gate import Gate

    url = kit_server.start(workspace)
    conn = http.client.HTTPConnection("127.0.0.1", _port(url), timeout=60)
    conn.putrequest("POST", path)
    conn.putheader("Authorization", f"Bearer {kit_server.key()}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(getattr(Gate, limit) + 1))
    conn.endheaders()
    conn.send(b"{")
    answer = conn.getresponse()
    raw = answer.read()
    conn.close()
    assert answer.status == 413 and _envelope(raw)["code"] == "request_too_large"


def test_a_server_process_refuses_the_key_of_another_workspace(tmp_path, monkeypatch):
    """The detached server a notebook starts (not only a thread's)."""
    from helpers.kit_server import launcher

    monkeypatch.delenv("ATELIER_SANDBOX_IN_PROCESS")
    mine, other = tmp_path / "mine", tmp_path / "other"
    mine.mkdir()
    other.mkdir()
    url = launcher.ensure(mine, idle=60)
    try:
        assert launcher.answers(url, kit_server.key(mine))
        assert not launcher.answers(url, kit_server.key(other))
        # The advert says where, never the key.
        assert kit_server.key(mine) not in launcher.advert_path(mine, "simulated").read_text()
        assert os.stat(advert.key_path(mine)).st_mode & 0o077 == 0
    finally:
        launcher.shutdown(mine)


def test_a_new_workspace_is_owner_only(tmp_path, monkeypatch):
    """The data at rest too: another user of the host cannot read the sandbox's database or
    the state file of a workspace the kit created."""
    from helpers import settings

    home = tmp_path / "nouveau" / "atelier"
    monkeypatch.setenv("ATELIER_HOME", str(home))
    settings.workspace_dir()
    assert stat.S_IMODE(home.stat().st_mode) & 0o077 == 0
    given = tmp_path / "donne"  # a workspace given to the sandbox itself (--home, start(home))
    kit_server.key(given)
    assert stat.S_IMODE(given.stat().st_mode) & 0o077 == 0
