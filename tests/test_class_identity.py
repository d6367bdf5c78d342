"""The class server's doors (issue 19): reserved names and no silent takeover of a key or a
role, every JupyterHub user name mapped one-to-one to a workspace, a hub that does not answer
named as such, and the teacher's page answering JSON in the API's envelope everywhere."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import openai
import pytest
from sandboxkit import COUCOU, REPO, client, upload

from helpers import errors
from helpers.asgi_thread import serve_in_thread
from helpers.kit_server.classroom import create_class_app
from helpers.kit_server.classroom.identity import hub_tenant
from helpers.kit_server.classroom.roster import Roster, RosterError


def _get(base: str, key: str, path: str, method: str = "GET") -> tuple[int, dict, str]:
    request = urllib.request.Request(
        base + path, method=method, headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read()), answer.headers["content-type"]
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), err.headers["content-type"]


def _envelope(body: dict) -> dict:
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


@pytest.fixture
def served():
    running = []

    def serve(app) -> str:
        running.append(serve_in_thread(app))
        return f"http://127.0.0.1:{running[-1].port}"

    yield serve
    for r in running:
        r.stop()


# -- reserved names, no takeover ----------------------------------------------------------------


def test_no_student_takes_the_teachers_name_key_or_role(tmp_path, served):
    home = tmp_path / "classe"
    roster = Roster(home)
    teacher = roster.teacher_key()
    for name in ("enseignant", "Enseignant", "teacher"):
        with pytest.raises(RosterError, match="réservé"):
            roster.add_students(["alice", name])
    assert roster.students() == []  # the whole list is refused, nothing half done
    assert roster.by_key(teacher).teacher
    # a teacher the hub enrolled keeps their role too
    roster.enrol("prof", "teacher", "prof")
    with pytest.raises(RosterError, match="enseignant·e"):
        roster.add_students(["prof"])
    # and the teacher's key never takes a student's name (nor their role)
    roster.add_students(["bob"])
    with pytest.raises(RosterError, match="élève"):
        roster.teacher_key("bob")
    assert roster.role_of("bob") == "student"


def test_the_teachers_key_on_v1_is_not_a_student(tmp_path, served):
    home = tmp_path / "classe"
    roster = Roster(home)
    keys = roster.add_students(["alice"])
    teacher = roster.teacher_key()
    base = served(create_class_app(home))
    prof = client(base + "/v1", api_key=teacher)
    upload(prof, COUCOU)  # the teacher may try the course on the class server…
    assert (home / "teachers" / "enseignant" / "sandbox.sqlite3").is_file()
    assert not (home / "students" / "enseignant").exists()  # …never as a student
    status, overview, _ = _get(base, teacher, "/classe/api/overview")
    assert status == 200 and [s["name"] for s in overview["students"]] == ["alice"]
    alice = client(base + "/v1", api_key=keys["alice"])
    assert alice.files.list().data == []  # and the workspaces stay apart


def test_add_students_says_when_a_key_is_replaced(tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "helpers", "class", *args, "--home", str(tmp_path / "c")],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )

    teacher = run("teacher-key")
    assert teacher.returncode == 0 and "nouvelle clé" not in teacher.stdout
    assert "nouvelle clé" in run("teacher-key").stdout  # the first one stops working: said
    refused = run("add-students", "alice", "enseignant")
    assert refused.returncode == 2 and "réservé" in refused.stderr
    assert "Traceback" not in refused.stderr
    first, again = run("add-students", "alice"), run("add-students", "alice")
    assert "nouvelle clé" not in first.stdout and "nouvelle clé" in again.stdout
    assert run("quota", "storage_bytes", "50M").returncode == 0
    assert Roster(tmp_path / "c").quotas()["storage_bytes"] == 50 * 1024 * 1024
    bad = run("quota", "storage_bytes", "beaucoup")
    assert bad.returncode == 2 and "valeur refusée" in bad.stderr


# -- hub user names -----------------------------------------------------------------------------

TRICKY = [
    "alice",
    "Alice",
    "ALICE",
    "alice@ecole.fr",
    "Alice@Ecole.fr",
    "alice%40ecole.fr",
    "alice%2540ecole.fr",
    "élodie",
    "e\u0301lodie",  # the same letters, decomposed: another hub name
    "jean-pierre",
    "jean pierre",
    "jean/pierre",
    "..",
    ".",
    ".alice",
    "-alice",
    "_alice",
    "enseignant",
    "Enseignant",
    "%65nseignant",
    "teacher",
    "李雷",
    "a" * 300,
    "a" * 299 + "b",
    "x~y",
]


def test_every_hub_name_gets_its_own_safe_workspace_folder():
    tenants = [hub_tenant(n) for n in TRICKY]
    assert len(set(tenants)) == len(TRICKY)  # one-to-one
    for tenant in tenants:
        assert "/" not in tenant and "\\" not in tenant and not tenant.startswith(".")
        assert (
            0 < len(tenant) <= 96 and tenant.isascii() and tenant not in ("enseignant", "teacher")
        )
    assert hub_tenant("alice") == "alice"
    assert hub_tenant("alice@ecole.fr") == "alice%40ecole.fr"
    assert hub_tenant("Alice") == "%41lice"


class FakeHubAuth:
    """What JupyterHub's HubAuth answers for a user's API token (the real hub: test_hub_*)."""

    def __init__(self, names: list[str], down: bool = False) -> None:
        self.users = {f"tok-{i}": n for i, n in enumerate(names)}
        self.down = down

    def user_for_token(self, token, use_cache=True):
        if self.down:  # what HubAuth raises when it cannot reach the hub
            raise RuntimeError("HTTP 500: Failed to connect to Hub API")
        name = self.users.get(token)
        if name is None:
            return None
        teacher = name == "prof"
        return {"kind": "user", "name": name, "admin": teacher, "groups": []}


def test_hub_users_with_any_name_are_each_in_their_own_tenant(tmp_path, served):
    names = ["alice@ecole.fr", "Alice", "alice", "enseignant", "prof"]
    home = tmp_path / "classe"
    teacher_key = Roster(home).teacher_key()
    base = served(create_class_app(home, hub=True, hub_auth=FakeHubAuth(names)))
    files = {}
    for i, name in enumerate(names):
        sdk = client(base + "/v1", api_key=f"tok-{i}")
        files[name] = upload(sdk, COUCOU).id
        assert [f.id for f in sdk.files.list().data] == [files[name]], name
    students = home / "students"
    assert sorted(p.name for p in students.iterdir()) == sorted(
        hub_tenant(n) for n in names if n != "prof"
    )
    assert (home / "teachers" / "prof").is_dir()
    # the hub user called « enseignant » is a student of their own; the teacher's key is not
    status, overview, _ = _get(base, teacher_key, "/classe/api/overview")
    assert status == 200
    shown = {s["display"]: s["name"] for s in overview["students"]}
    assert shown == {n: hub_tenant(n) for n in names if n != "prof"}
    status, overview, _ = _get(base, "tok-4", "/classe/api/overview")  # a hub admin
    assert status == 200


def test_a_hub_that_does_not_answer_is_named(tmp_path, served, monkeypatch):
    base = served(create_class_app(tmp_path / "c", hub=True, hub_auth=FakeHubAuth([], down=True)))
    with pytest.raises(openai.InternalServerError) as err:
        client(base + "/v1", api_key="tok-0").models.list()
    assert err.value.status_code == 503 and err.value.code == "hub_unavailable"
    assert "JupyterHub did not answer" in err.value.message
    diagnosis = errors.explain(err.value)
    assert diagnosis.code == "hub_unavailable" and "JupyterHub" in diagnosis.title
    status, body, _ = _get(base, "tok-0", "/classe/api/overview")
    assert status == 503 and _envelope(body)["code"] == "hub_unavailable"


class HungHubAuth(FakeHubAuth):
    """A hub that accepts the connection and never answers (until the test ends)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self.hung = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def user_for_token(self, token, use_cache=True):
        self.calls += 1
        if self.hung.is_set():
            self.release.wait(120)
            raise RuntimeError("HTTP 500: Failed to connect to Hub API")
        return super().user_for_token(token, use_cache)


def test_a_hung_hub_does_not_hold_the_class_server(tmp_path, served, monkeypatch):
    from helpers.kit_server.classroom import identity

    monkeypatch.setattr(identity, "HUB_TIMEOUT", 0.5)
    hub = HungHubAuth(["alice", "bob"])
    base = served(create_class_app(tmp_path / "c", hub=True, hub_auth=hub))
    try:
        alice = client(base + "/v1", api_key="tok-0", timeout=30)
        upload(alice, COUCOU)  # alice was named by the hub before it hung
        hub.hung.set()
        with pytest.raises(openai.InternalServerError) as err:  # bob: not an endless wait
            client(base + "/v1", api_key="tok-1", timeout=30).models.list()
        assert err.value.code == "hub_unavailable"
        calls = hub.calls
        with pytest.raises(openai.InternalServerError):
            client(base + "/v1", api_key="tok-1", timeout=30).models.list()
        assert hub.calls == calls  # left alone for a moment, no thread piled up on it
        assert len(alice.files.list().data) == 1  # alice goes on meanwhile
    finally:
        hub.release.set()


def test_a_wrong_class_key_is_explained_as_the_class_s(tmp_path, served):
    Roster(tmp_path / "c").add_students(["alice"])
    base = served(create_class_app(tmp_path / "c"))
    with pytest.raises(openai.AuthenticationError) as err:
        client(base + "/v1", api_key="classe-alice-wrong").models.list()
    diagnosis = errors.explain(err.value)
    assert diagnosis.code == "class_invalid_key" and "enseignant" in diagnosis.fix
    assert "platform.openai.com" not in str(diagnosis)


def test_class_serve_hub_without_its_token_says_why(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "class", "serve", "--hub", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2 and "--hub" in done.stderr and "Traceback" not in done.stderr


# -- the teacher's page: JSON everywhere --------------------------------------------------------


def test_the_teachers_page_answers_json_in_the_envelope(tmp_path, served):
    home = tmp_path / "classe"
    roster = Roster(home)
    keys = roster.add_students(["alice"])
    teacher = roster.teacher_key()
    base = served(create_class_app(home))
    for method, path, status in (
        ("GET", "/classe/api/nope", 404),
        ("GET", "/classe/api/overview/", 404),
        ("GET", "/classe/nope.js", 404),
        ("POST", "/classe/api/overview", 405),
        ("DELETE", "/classe/", 405),
        ("GET", "/classe/api/students/alice/jobs/ftjob-x/cancel", 405),
        ("POST", "/classe/api/students/inconnu/jobs/ftjob-x/cancel", 404),
        ("POST", "/classe/api/students/alice/jobs/ftjob-x/cancel", 404),
        ("GET", "/nope", 404),
    ):
        got, body, ctype = _get(base, teacher, path, method)
        assert (got, ctype) == (status, "application/json"), (method, path, got, body)
        assert _envelope(body)["message"], (method, path)
    got, body, _ = _get(base, keys["alice"], "/classe/api/overview")
    assert got == 401 and "réservée" in _envelope(body)["message"]


def test_one_broken_workspace_does_not_hide_the_class(tmp_path, served, monkeypatch):
    home = tmp_path / "classe"
    roster = Roster(home)
    keys = roster.add_students(["alice", "bob"])
    teacher = roster.teacher_key()
    app = create_class_app(home)
    base = served(app)
    for name in keys:
        upload(client(base + "/v1", api_key=keys[name]), COUCOU)
    real = app.state.files_for

    def files_for(person):
        if person == "bob":
            raise OSError("disk I/O error")
        return real(person)

    monkeypatch.setattr(app.state, "files_for", files_for)
    status, overview, _ = _get(base, teacher, "/classe/api/overview")
    assert status == 200
    rows = {s["name"]: s for s in overview["students"]}
    assert rows["alice"]["dataset"] == "coucou.jsonl" and rows["bob"]["broken"]


def test_a_class_server_bug_answers_the_api_500_envelope(tmp_path, served, monkeypatch):
    roster = Roster(tmp_path / "c")
    keys = roster.add_students(["alice"])
    app = create_class_app(tmp_path / "c")
    base = served(app)

    def broken(key):
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.state.identity, "who", broken)
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
    connection.request("GET", "/v1/models", headers={"Authorization": f"Bearer {keys['alice']}"})
    answer = connection.getresponse()
    assert answer.status == 500 and answer.getheader("content-type") == "application/json"
    assert _envelope(json.loads(answer.read()))["type"] == "server_error"
