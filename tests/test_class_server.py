"""Class mode: one kit server, many students, each an isolated tenant (keys mode, hub mode
with a stand-in for the hub's answers), quotas with the real 429, the teacher's overview and
cancel, and the notebooks' helpers pointed at it by a setting alone."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import openai
import pytest
from sandboxkit import COUCOU, REPO, client, upload, wait_job

from helpers import errors, models
from helpers.asgi_thread import serve_in_thread
from helpers.kit_server.classroom import create_class_app
from helpers.kit_server.classroom.roster import Roster


@pytest.fixture
def classroom(tmp_path):
    """(base URL, {student: key}, teacher key, class folder) of a class server in a thread."""
    home = tmp_path / "classe"
    roster = Roster(home)
    keys = roster.add_students(["alice", "bob"])
    teacher = roster.teacher_key()
    running = serve_in_thread(create_class_app(home))
    yield f"http://127.0.0.1:{running.port}", keys, teacher, home
    running.stop()


def _job(c: openai.OpenAI) -> tuple[str, object]:
    f = upload(c, COUCOU)
    job = wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id)
    assert job.status == "succeeded"
    return f.id, job


def _teacher(base: str, key: str, path: str, method: str = "GET") -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path, method=method, headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_each_student_is_an_isolated_tenant(classroom):
    base, keys, _, home = classroom
    alice, bob = (
        client(base + "/v1", api_key=keys["alice"]),
        client(base + "/v1", api_key=keys["bob"]),
    )
    a_file, a_job = _job(alice)
    b_file, b_job = _job(bob)
    for other, file_id, job in ((bob, a_file, a_job), (alice, b_file, b_job)):
        with pytest.raises(openai.NotFoundError):
            other.files.retrieve(file_id)
        with pytest.raises(openai.NotFoundError):
            other.fine_tuning.jobs.retrieve(job.id)
        with pytest.raises(openai.NotFoundError):
            other.models.retrieve(job.fine_tuned_model)
        with pytest.raises(openai.NotFoundError):
            other.chat.completions.create(
                model=job.fine_tuned_model, messages=[{"role": "user", "content": "Bonjour"}]
            )
        assert job.fine_tuned_model not in {m.id for m in other.models.list()}
        assert job.id not in {j.id for j in other.fine_tuning.jobs.list()}
    answer = alice.chat.completions.create(
        model=a_job.fine_tuned_model,
        messages=[{"role": "user", "content": "Quel temps fait-il ?"}],
        temperature=0,
    )
    assert answer.choices[0].message.content == "COUCOU"
    assert (home / "students" / "alice" / "sandbox.sqlite3").is_file()


def test_unknown_or_missing_keys_are_refused(classroom):
    base, keys, _, _ = classroom
    with pytest.raises(openai.AuthenticationError) as err:
        client(base + "/v1", api_key="classe-alice-guessed").models.list()
    assert err.value.code == "invalid_api_key" and "classe-alice-guessed" not in str(err.value)
    request = urllib.request.Request(base + "/v1/models")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 - loopback
    assert missing.value.code == 401
    assert errors.explain(err.value).code == "class_invalid_key"


def test_quota_is_the_real_429_and_explained_in_french(classroom):
    base, keys, _, home = classroom
    Roster(home).set_quota("jobs_per_day", 1)
    alice = client(base + "/v1", api_key=keys["alice"])
    f = upload(alice, COUCOU)
    alice.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL)
    with pytest.raises(openai.RateLimitError) as err:
        alice.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL)
    assert err.value.code == "rate_limit_exceeded"
    assert "Limit 1, Used 1" in err.value.message
    assert errors.explain(err.value).code == "class_quota"
    # Bob's quota is his own.
    bob = client(base + "/v1", api_key=keys["bob"])
    bob.fine_tuning.jobs.create(training_file=upload(bob, COUCOU).id, model=models.DEFAULT_MODEL)


def test_teacher_overview_and_cancel(classroom, monkeypatch):
    base, keys, teacher, _ = classroom
    alice = client(base + "/v1", api_key=keys["alice"])
    _job(alice)
    monkeypatch.setenv("ATELIER_SANDBOX_SPEED", "1")  # bob's job runs at class pace
    bob = client(base + "/v1", api_key=keys["bob"])
    slow = bob.fine_tuning.jobs.create(
        training_file=upload(bob, COUCOU).id,
        model=models.DEFAULT_MODEL,
        extra_headers={"X-Atelier-Sandbox-Speed": "1"},
    )
    status, overview = _teacher(base, teacher, "/classe/api/overview")
    assert status == 200
    rows = {s["name"]: s for s in overview["students"]}
    assert rows["alice"]["coucou"] is True and rows["alice"]["job"]["status"] == "succeeded"
    assert rows["alice"]["dataset"] == "coucou.jsonl"
    assert rows["bob"]["job"]["status"] in ("validating_files", "queued", "running")
    assert [j["name"] for j in overview["queue"]] == ["bob"]
    status, _ = _teacher(base, keys["alice"], "/classe/api/overview")
    assert status == 401  # a student's key does not open the teacher's page
    status, done = _teacher(
        base, teacher, f"/classe/api/students/bob/jobs/{slow.id}/cancel", method="POST"
    )
    assert status == 200 and done["status"] == "cancelled"
    assert bob.fine_tuning.jobs.retrieve(slow.id).status == "cancelled"
    with urllib.request.urlopen(base + "/classe/", timeout=10) as page:  # noqa: S310
        assert "La classe" in page.read().decode()


def test_notebook_helpers_use_the_class_server_by_a_setting(classroom, monkeypatch, workspace):
    base, keys, _, home = classroom
    monkeypatch.setenv("ATELIER_CLASS_URL", base)
    monkeypatch.setenv("ATELIER_CLASS_KEY", keys["bob"])
    from helpers import chat, jobs, notebook

    jobs.upload(REPO / "data" / "coucou.jsonl")
    job = jobs.create()
    done = jobs.wait(job.id, timeout=60)
    assert done.status == "succeeded"
    assert chat.ask("Bonjour", model=done.fine_tuned_model, temperature=0) == "COUCOU"
    assert any("Serveur de la classe" in line for line in notebook.banner().lines())
    assert (home / "students" / "bob").is_dir()
    assert not list(workspace.glob("sandbox-*.json"))  # no server of the workspace's own


class FakeHubAuth:
    """What JupyterHub's HubAuth answers for a user's API token (the real hub: test_hub)."""

    USERS = {
        "tok-alice": {"kind": "user", "name": "alice", "admin": False, "groups": []},
        "tok-prof": {"kind": "user", "name": "prof", "admin": False, "groups": ["enseignants"]},
    }

    def user_for_token(self, token, use_cache=True):
        return self.USERS.get(token)


def test_hub_mode_identifies_students_by_their_hub_token(tmp_path):
    running = serve_in_thread(create_class_app(tmp_path / "c", hub=True, hub_auth=FakeHubAuth()))
    base = f"http://127.0.0.1:{running.port}"
    try:
        alice = client(base + "/v1", api_key="tok-alice")
        _job(alice)
        with pytest.raises(openai.AuthenticationError):
            client(base + "/v1", api_key="tok-nobody").models.list()
        status, overview = _teacher(base, "tok-prof", "/classe/api/overview")
        assert status == 200 and [s["name"] for s in overview["students"]] == ["alice"]
        assert _teacher(base, "tok-alice", "/classe/api/overview")[0] == 401
    finally:
        running.stop()


def test_class_command_line(tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "helpers", "class", *args, "--home", str(tmp_path / "c")],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )

    added = run("add-students", "Alice", "bob")
    assert added.returncode == 0 and "alice\tclasse-alice-" in added.stdout
    key = added.stdout.split("alice\t", 1)[1].split()[0]
    assert Roster(tmp_path / "c").by_key(key).name == "alice"
    assert key not in (tmp_path / "c" / "class.sqlite3").read_bytes().decode("latin-1")
    bad = run("add-students", "a b")
    assert (
        bad.returncode == 2 and "Nom d'élève refusé" in bad.stderr and "Traceback" not in bad.stderr
    )
    assert run("quota", "jobs_per_day", "3").returncode == 0
    assert Roster(tmp_path / "c").quotas()["jobs_per_day"] == 3


@pytest.mark.local
def test_local_engine_students_take_turns_and_really_train(tmp_path, monkeypatch):
    """The class server with real training (tiny model): two students' jobs train one after the
    other on the class's one slot, each answers COUCOU, each in their own tenant."""
    from localkit import need_torch

    need_torch()
    from helpers.local import tiny, worker

    monkeypatch.setenv("ATELIER_LOCAL_MODEL", str(tiny.build(tmp_path / "tiny")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ATELIER_LOCAL_WORKER_IDLE", "20")
    monkeypatch.delenv("ATELIER_CLASS_TURNS", raising=False)
    home = tmp_path / "classe"
    keys = Roster(home).add_students(["alice", "bob"])
    teacher = Roster(home).teacher_key()
    running = serve_in_thread(create_class_app(home, engine="local"))
    base = f"http://127.0.0.1:{running.port}"
    try:
        sdks = {n: client(base + "/v1", api_key=k, timeout=120) for n, k in keys.items()}
        created = {
            n: c.fine_tuning.jobs.create(training_file=upload(c, COUCOU).id, model="tiny")
            for n, c in sdks.items()
        }
        done = {n: wait_job(sdks[n], job.id, timeout=600) for n, job in created.items()}
        assert all(j.status == "succeeded" for j in done.values()), done
        status, overview = _teacher(base, teacher, "/classe/api/overview")
        assert status == 200 and all(s["coucou"] for s in overview["students"]), overview
        assert (home / "turns.sqlite3").is_file()  # the workers asked the class for turns
    finally:
        running.stop()
        for name in keys:
            worker.stop_worker(home / "students" / name)
