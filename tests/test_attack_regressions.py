"""What bench/attack.py found (issue 12, second round), kept as regression tests.

Each test stands alone (no bench needed): a chat request whose tool-call ids are lists or
objects, a conversation of 100,000 messages, the proxy's own refusals of a method or a route,
and `follow` on a finished job with a long history.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from fakeapi import FakeAPI, install
from sandboxkit import auth
from starlette.testclient import TestClient

from helpers import jobs
from helpers.dataset import example, write_jsonl
from helpers.kit_server.resources import chat_completions
from helpers.proxy import ProxySettings, create_app

MODEL = "gpt-4o-mini-2024-07-18"


def _post(url: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={**auth(url), "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _tool_conversation(call_id, answer_id) -> list[dict]:
    return [
        {"role": "user", "content": "Quel temps fait-il ?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "content": "Beau", "tool_call_id": answer_id},
    ]


@pytest.mark.parametrize(
    "call_id, answer_id",
    [([1], "call_1"), ({"a": 1}, "call_1"), ("call_1", [1]), ("call_1", {"a": 1})],
    ids=["call id list", "call id object", "answer id list", "answer id object"],
)
def test_unhashable_tool_call_ids_are_a_400_not_a_500(module_sandbox, call_id, answer_id):
    """A list or an object as a tool call's id reached a set: TypeError → 500."""
    body = {"model": MODEL, "messages": _tool_conversation(call_id, answer_id)}
    status, answer = _post(module_sandbox, "/chat/completions", body)
    assert status == 400, answer
    assert answer["error"]["type"] == "invalid_request_error"


def test_a_tool_answer_still_needs_its_call(module_sandbox):
    ok = {"model": MODEL, "messages": _tool_conversation("call_1", "call_1")}
    assert _post(module_sandbox, "/chat/completions", ok)[0] == 200
    orphan = {"model": MODEL, "messages": _tool_conversation("call_1", "call_2")}
    status, answer = _post(module_sandbox, "/chat/completions", orphan)
    assert status == 400 and "preceeding message with 'tool_calls'" in answer["error"]["message"]


class _CountedReads(dict):
    """A message that counts how often the check reads it."""

    reads = 0

    def get(self, *args):
        _CountedReads.reads += 1
        return super().get(*args)

    def __getitem__(self, key):
        _CountedReads.reads += 1
        return super().__getitem__(key)

    def __contains__(self, key):
        _CountedReads.reads += 1
        return super().__contains__(key)


def test_a_long_conversation_is_checked_in_linear_work():
    """Each tool message used to re-read every message before it: 100,000 short messages
    (1.3 MB) kept the kit server busy for about a minute. Counted, not timed: the reads of the
    messages stay a few per message (bench/attack.py times the 100,000-message request)."""
    plain = [{"role": "user", "content": "a"}] * 5_000 + _tool_conversation(
        "call_1", "call_1"
    ) * 500
    messages = [_CountedReads(m) for m in plain]
    _CountedReads.reads = 0
    chat_completions.chat_request({"model": MODEL, "messages": messages}, max_n=128)
    per_message = _CountedReads.reads / len(messages)
    print(f"{_CountedReads.reads} reads for {len(messages)} messages")
    assert 0 < per_message < 40, per_message  # re-reading the history: ≈ 2,500 per message


def _proxy() -> TestClient:
    settings = ProxySettings(model=MODEL, api_key="sk-test-proxy", static_dir=None)
    return TestClient(create_app(settings), base_url="http://localhost")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_proxy_wrong_method_is_a_french_json_error(method):
    """Starlette's plain-text « Method Not Allowed » on /api/chat; the page reads JSON."""
    answer = _proxy().request(method, "/api/chat")
    assert answer.status_code == 405
    error = answer.json()["error"]
    assert error["code"] == "method_not_allowed" and "POST" in error["message"]
    assert "refusée" in error["message"]
    assert "POST" in answer.headers["allow"]


def test_proxy_unknown_route_is_a_french_json_error():
    answer = _proxy().post("/api/banana", json={})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


@pytest.fixture
def fake(monkeypatch) -> FakeAPI:
    return install(monkeypatch)


def test_follow_reads_a_finished_jobs_long_history_without_waiting(fake, tmp_path, monkeypatch):
    """`python -m helpers api fine_tuning.jobs.follow -i <finished job>` waited the poll
    interval (10 s with the real API) between pages of its history."""
    fake.metrics_steps = 300
    jobs.upload(write_jsonl([example(f"Q {i}", "COUCOU") for i in range(12)], tmp_path / "d.jsonl"))
    job = jobs.wait(jobs.create().id, interval=0)
    assert job.status == "succeeded"
    naps: list[float] = []
    monkeypatch.setattr(jobs.time, "sleep", naps.append)
    updates = list(jobs.follow(job.id, interval=10))
    assert len(updates) > 1 and naps == []  # several pages, read one after the other
    seen = [e.id for u in updates for e in u.new_events]
    assert seen == [e["id"] for e in fake.jobs[job.id].events]


def _chat_status(port: int, forwarded_for: str) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/api/chat",
            body=json.dumps({"messages": [{"role": "user", "content": "Bonjour"}]}),
            headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        )
        return conn.getresponse().status
    finally:
        conn.close()


def test_proxy_rate_limit_is_not_bypassed_by_x_forwarded_for(module_sandbox):
    """uvicorn trusted X-Forwarded-For from 127.0.0.1 by default: a local caller changing it
    at each request was a new client each time for the per-client rate limit."""
    from helpers import kit_server
    from helpers.asgi_thread import serve_in_thread

    settings = ProxySettings(
        model=MODEL,
        api_key=kit_server.key_for(module_sandbox),
        base_url=module_sandbox,
        static_dir=None,
        rate_limit=2,
        daily_limit=0,
    )
    running = serve_in_thread(create_app(settings), name="test-proxy")
    try:
        statuses = [_chat_status(running.port, f"10.0.0.{i}") for i in range(4)]
    finally:
        running.stop()
    assert statuses == [200, 200, 429, 429]


def test_proxy_command_reads_the_tcp_peer(monkeypatch):
    """`python -m helpers.proxy` (Render, a learner's machine) runs uvicorn without its own
    reading of X-Forwarded-For: ATELIER_PROXY_FORWARDED_HOPS alone decides."""
    import uvicorn

    from helpers import proxy

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    monkeypatch.setenv("ATELIER_PROXY_MODEL", MODEL)
    assert proxy.main(["--port", "0"]) == 0
    assert seen["proxy_headers"] is False


@pytest.mark.parametrize(
    "raw, says",
    [
        ('{"messages": NaN}', "NaN"),
        ('{"messages": [{"role": "user", "content": "a"}], "temperature": Infinity}', "Infinity"),
        ('{"messages": "Bonjour"}', "liste"),
    ],
)
def test_cli_chat_json_that_is_not_json_is_a_french_usage_error(raw, says, capsys):
    """`-j '{"messages": NaN}'` was « Erreur inattendue (TypeError) »: Python's json reads NaN."""
    from helpers import cli

    code = cli.main(["api", "chat.completions.create", "-m", MODEL, "-j", raw])
    err = capsys.readouterr().err
    assert code == 2 and says in err and "inattendue" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    "raw",
    [
        '{"messages": [{"role": "user", "content": "a"}], "max_tokens": ' + "9" * 5000 + "}",
        '{"messages": ' + "[" * 100_000 + "}",
    ],
    ids=["5000 digits", "nested 100,000 deep"],
)
def test_cli_chat_json_python_cannot_read_is_a_french_usage_error(raw, capsys):
    """Issue 19: a 5000-digit number in `-j` was « Erreur inattendue (ValueError) » with
    Python's English limit message."""
    from helpers import cli

    code = cli.main(["api", "chat.completions.create", "-m", MODEL, "-j", raw])
    err = capsys.readouterr().err
    assert code == 2 and "chiffres" in err and "inattendue" not in err
    assert "Exceeds" not in err and "Traceback" not in err
