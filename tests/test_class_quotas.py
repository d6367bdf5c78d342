"""The class server's quotas hold under a hostile class (issue 19): a burst of concurrent job
creations cannot beat the daily job quota, jobs still training count their tokens, and each
student's storage (bytes, number of files) is capped, refused as the real API refuses a full
file storage (400) and explained in French by the kit's diagnosis."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from sandboxkit import COUCOU, client, upload

from helpers import errors, models
from helpers.asgi_thread import serve_in_thread
from helpers.kit_server.classroom import create_class_app
from helpers.kit_server.classroom.roster import DEFAULT_QUOTAS, Roster

KB = 1024


@pytest.fixture
def classroom(tmp_path):
    """(base URL, {student: key}, teacher key, roster, app) of a class server in a thread."""
    home = tmp_path / "classe"
    roster = Roster(home)
    keys = roster.add_students(["alice", "bob"])
    teacher = roster.teacher_key()
    app = create_class_app(home)
    running = serve_in_thread(app)
    yield f"http://127.0.0.1:{running.port}", keys, teacher, roster, app
    running.stop()


def _slow(c: openai.OpenAI, file_id: str):
    """A job that stays in training (speed 0.01: hours)."""
    return c.fine_tuning.jobs.create(
        training_file=file_id,
        model=models.DEFAULT_MODEL,
        extra_headers={"X-Atelier-Sandbox-Speed": "0.01"},
    )


def test_a_burst_of_job_creations_cannot_beat_the_daily_quota(classroom):
    base, keys, _, roster, _ = classroom
    roster.set_quota("jobs_per_day", 2)
    alice = client(base + "/v1", api_key=keys["alice"], timeout=60)
    file_id = upload(alice, COUCOU).id
    start = threading.Barrier(20)

    def create(_: int) -> str:
        start.wait(30)
        try:
            _slow(alice, file_id)
            return "created"
        except openai.RateLimitError:
            return "refused"

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(create, range(20)))
    assert outcomes.count("created") == 2, outcomes
    assert len(alice.fine_tuning.jobs.list(limit=100).data) == 2


def test_jobs_still_training_count_their_tokens(classroom):
    base, keys, _, roster, _ = classroom
    roster.set_quota("training_tokens_per_day", 100)
    alice = client(base + "/v1", api_key=keys["alice"])
    file_id = upload(alice, COUCOU).id
    _slow(alice, file_id)  # not trained yet: its file's tokens are counted already
    with pytest.raises(openai.RateLimitError) as err:
        _slow(alice, file_id)
    assert "training tokens per day" in err.value.message
    diagnosis = errors.explain(err.value)
    assert diagnosis.code == "class_quota" and "jetons d'entraînement" in diagnosis.cause


def test_the_daily_job_quota_is_explained_as_the_class_s(classroom):
    base, keys, _, roster, _ = classroom
    roster.set_quota("jobs_per_day", 1)
    alice = client(base + "/v1", api_key=keys["alice"])
    file_id = upload(alice, COUCOU).id
    _slow(alice, file_id)
    with pytest.raises(openai.RateLimitError) as err:
        _slow(alice, file_id)
    diagnosis = errors.explain(err.value)
    assert diagnosis.code == "class_quota" and "par jour" in diagnosis.cause
    assert "crédit" in diagnosis.cause and "modèle" in diagnosis.fix


def _storage_error(err: openai.BadRequestError) -> None:
    assert err.status_code == 400 and err.code is None and err.type == "invalid_request_error"
    assert "You have exceeded your file storage quota." in err.message
    diagnosis = errors.explain(err)
    assert diagnosis.code == "storage_quota"
    assert "files.delete" in diagnosis.fix and "place" in diagnosis.cause


def test_the_number_of_files_is_capped_and_deleting_frees_a_place(classroom):
    base, keys, _, roster, _ = classroom
    roster.set_quota("storage_files", 2)
    alice = client(base + "/v1", api_key=keys["alice"])
    first, _ = upload(alice, COUCOU), upload(alice, COUCOU)
    with pytest.raises(openai.BadRequestError) as err:
        upload(alice, COUCOU)
    _storage_error(err.value)
    assert len(alice.files.list().data) == 2
    upload(client(base + "/v1", api_key=keys["bob"]), COUCOU)  # bob's storage is his own
    alice.files.delete(first.id)
    upload(alice, COUCOU)


def test_the_bytes_are_capped_before_the_file_is_read(classroom):
    base, keys, teacher, roster, app = classroom
    alice = client(base + "/v1", api_key=keys["alice"])
    upload(alice, COUCOU)
    used = app.state.storage("alice")["bytes"]
    roster.set_quota("storage_bytes", used + 200 * KB)
    line = json.dumps(
        {
            "messages": [
                {"role": "user", "content": "x" * 400},
                {"role": "assistant", "content": "COUCOU"},
            ]
        }
    )
    big = (line + "\n") * 1000  # ≈ 470 KB
    with pytest.raises(openai.BadRequestError) as err:
        alice.files.create(file=("gros.jsonl", big.encode()), purpose="fine-tune")
    _storage_error(err.value)
    assert len(alice.files.list().data) == 1
    alice.files.create(
        file=("petit.jsonl", big[: 50 * KB].rsplit("\n", 1)[0].encode() + b"\n"),
        purpose="fine-tune",
    )
    # the teacher's page shows each student's storage and the quotas
    request = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
    request.request("GET", "/classe/api/overview", headers={"Authorization": f"Bearer {teacher}"})
    overview = json.loads(request.getresponse().read())
    assert set(DEFAULT_QUOTAS) <= set(overview["quotas"])
    rows = {s["name"]: s for s in overview["students"]}
    assert rows["alice"]["storage"]["files"] == 2 and rows["alice"]["storage"]["bytes"] > used


def test_a_chunked_upload_over_the_storage_left_is_refused(classroom):
    """No Content-Length: the class server reads the body itself, up to what is left."""
    base, keys, _, roster, app = classroom
    alice = client(base + "/v1", api_key=keys["alice"])
    upload(alice, COUCOU)
    roster.set_quota("storage_bytes", app.state.storage("alice")["bytes"] + 100 * KB)
    boundary = "atelier"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="g.jsonl"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    line = json.dumps({"messages": [{"role": "user", "content": "y" * 500}]}).encode() + b"\n"
    chunks = [head] + [line * 100] * 10 + [f"\r\n--{boundary}--\r\n".encode()]
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
    connection.request(
        "POST",
        "/v1/files",
        body=iter(chunks),
        headers={
            "Authorization": f"Bearer {keys['alice']}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        encode_chunked=True,
    )
    answer = connection.getresponse()
    body = json.loads(answer.read())
    assert answer.status == 400 and "file storage quota" in body["error"]["message"]
    assert len(alice.files.list().data) == 1


def test_concurrent_uploads_cannot_beat_the_file_quota(classroom):
    base, keys, _, roster, _ = classroom
    roster.set_quota("storage_files", 3)
    alice = client(base + "/v1", api_key=keys["alice"], timeout=60)
    start = threading.Barrier(12)

    def send(_: int) -> str:
        start.wait(30)
        try:
            upload(alice, COUCOU)
            return "stored"
        except (openai.BadRequestError, openai.RateLimitError):  # storage, or 8 at once
            return "refused"

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(send, range(12)))
    assert outcomes.count("stored") == 3 and len(alice.files.list().data) == 3


def test_stored_responses_count_in_the_storage(classroom):
    base, keys, _, roster, app = classroom
    alice = client(base + "/v1", api_key=keys["alice"])
    roster.set_quota("storage_bytes", app.state.storage("alice")["bytes"] + 20 * KB)
    text = "z" * (30 * KB)
    with pytest.raises(openai.BadRequestError) as err:
        alice.responses.create(model=models.DEFAULT_MODEL, input=text)
    _storage_error(err.value)
    answer = alice.responses.create(model=models.DEFAULT_MODEL, input=text, store=False)
    assert answer.output_text  # not stored: not counted, not refused


def test_a_huge_json_body_is_refused_before_it_is_read_into_memory(classroom):
    base, keys, _, _, _ = classroom
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
    body = (
        b'{"model": "gpt-4o-mini-2024-07-18", "messages": [], "x": "'
        + b"a" * (33 * 1024 * 1024)
        + b'"}'
    )
    connection.request(
        "POST",
        "/v1/chat/completions",
        body=body,
        headers={"Authorization": f"Bearer {keys['alice']}", "Content-Type": "application/json"},
    )
    answer = connection.getresponse()
    assert answer.status == 413
    assert json.loads(answer.read())["error"]["code"] == "request_too_large"


def test_a_full_storage_refuses_new_jobs_too(classroom):
    """A job writes its sample of the data and its results: not past a full storage."""
    base, keys, _, roster, app = classroom
    alice = client(base + "/v1", api_key=keys["alice"])
    file_id = upload(alice, COUCOU).id
    roster.set_quota("storage_bytes", app.state.storage("alice")["bytes"] - 1)
    with pytest.raises(openai.BadRequestError) as err:
        alice.fine_tuning.jobs.create(training_file=file_id, model=models.DEFAULT_MODEL)
    _storage_error(err.value)
    assert alice.fine_tuning.jobs.list().data == []


def test_one_student_cannot_take_all_the_server_s_threads(classroom):
    """20 requests at once from one student: at most IN_FLIGHT served at a time, the rest a
    429 the SDK retries; another student is answered meanwhile."""
    from helpers.kit_server.classroom.tenants import IN_FLIGHT

    base, keys, _, _, _ = classroom
    slow = client(base + "/v1", api_key=keys["alice"], timeout=60)
    start = threading.Barrier(21)

    def ask(_: int) -> str:
        start.wait(30)
        try:
            slow.models.list(extra_headers={"X-Sandbox-Fault": "slow=2"})
            return "served"
        except openai.RateLimitError as err:
            assert err.code == "rate_limit_exceeded"
            return "later"

    with ThreadPoolExecutor(20) as pool:
        asked = pool.map(ask, range(20))
        start.wait(30)
        bob = client(base + "/v1", api_key=keys["bob"], timeout=60)
        assert bob.models.list().data  # while alice's requests are all in progress
        outcomes = list(asked)
    assert outcomes.count("served") == IN_FLIGHT, outcomes
