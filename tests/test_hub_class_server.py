"""The class server beside a real JupyterHub (127.0.0.1): students are identified by their own
hub API token through JupyterHub's HubAuth (the class server holds a service token), each is
an isolated tenant (an e-mail user name too, in a folder of its own), a token the hub does not
know is refused, a hub that does not answer is named as such, and a member of the teachers'
group opens the teacher's overview.

Runs in `make test-hub` (the hub's venv has jupyterhub); a plain `pytest tests` skips it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import openai
import pytest
from conftest import REPO, require
from hubkit import free_port, running_hub, wait_for
from sandboxkit import COUCOU, client, upload, wait_job

from helpers import models

VENV = Path(os.environ.get("ATELIER_HUB_VENV", REPO / ".venv-hub"))
NODE = Path(os.environ.get("ATELIER_HUB_NODE", REPO / ".hub-node"))
pytestmark = [pytest.mark.timeout(600), pytest.mark.hub]


@pytest.fixture(scope="module")
def hub_and_class(tmp_path_factory):
    require((VENV / "bin" / "jupyterhub").exists(), f"no hub venv at {VENV}: make test-hub")
    require(
        (NODE / "node_modules" / ".bin" / "configurable-http-proxy").exists(),
        "configurable-http-proxy missing: make venv-hub",
    )
    root = tmp_path_factory.mktemp("hub-class")
    with running_hub(root / "hub", VENV, NODE) as hub:
        port = free_port()
        proc = _class_server(hub, port, root / "classe", root / "classe.log")
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _answers(base), 60, "the class server")
            yield hub, base, root / "classe"
        finally:
            proc.terminate()
            proc.wait(10)


def _class_server(hub, port: int, home: Path, log: Path) -> subprocess.Popen:
    """`python -m helpers class serve --hub` beside the hub, with the hub's service token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "ATELIER_"))}
    env.update(
        JUPYTERHUB_API_URL=f"{hub.url}/hub/api",
        JUPYTERHUB_API_TOKEN=hub.token,  # the class server's service token
        ATELIER_SANDBOX_SPEED="1000",
        PYTHONPATH=str(REPO),
    )
    return subprocess.Popen(
        [str(VENV / "bin" / "python"), "-m", "helpers", "class", "serve", "--hub"]
        + ["--port", str(port), "--home", str(home)],
        cwd=REPO,
        env=env,
        stdout=open(log, "ab"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
    )


def _answers(base: str) -> bool:
    try:
        urllib.request.urlopen(base + "/classe/", timeout=2)  # noqa: S310 - loopback
        return True
    except OSError:
        return False


def _token(hub, user: str) -> str:
    status, _ = hub.api("POST", f"/hub/api/users/{user}")
    assert status in (201, 409)
    status, body = hub.api("POST", f"/hub/api/users/{user}/tokens", {"note": "atelier"})
    assert status in (200, 201), body
    return body["token"]


def test_students_are_who_the_hub_says(hub_and_class):
    hub, base, home = hub_and_class
    alice, bob = _token(hub, "alice"), _token(hub, "bob")
    a = client(base + "/v1", api_key=alice, timeout=60)
    f = upload(a, COUCOU)
    job = wait_job(
        a, a.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id, 60
    )
    assert job.status == "succeeded"
    b = client(base + "/v1", api_key=bob, timeout=60)
    with pytest.raises(openai.NotFoundError):
        b.fine_tuning.jobs.retrieve(job.id)
    with pytest.raises(openai.NotFoundError):
        b.files.retrieve(f.id)
    assert job.fine_tuned_model not in {m.id for m in b.models.list()}
    with pytest.raises(openai.AuthenticationError):
        client(base + "/v1", api_key="not-a-hub-token").models.list()
    # an e-mail user name (« Incorrect API key » before): a tenant of its own
    mail = client(base + "/v1", api_key=_token(hub, "alice@ecole.fr"), timeout=60)
    mailed = upload(mail, COUCOU)
    assert [x.id for x in mail.files.list().data] == [mailed.id]
    with pytest.raises(openai.NotFoundError):
        a.files.retrieve(mailed.id)
    with pytest.raises(openai.NotFoundError):
        mail.files.retrieve(f.id)
    assert (home / "students" / "alice%40ecole.fr" / "sandbox.sqlite3").is_file()


def test_a_hub_that_does_not_answer_is_named(tmp_path):
    """JupyterHub's HubAuth against a hub that is down: 503 hub_unavailable, not « Incorrect
    API key » (needs the hub's venv only, not a running hub)."""
    from types import SimpleNamespace

    require((VENV / "bin" / "jupyterhub").exists(), f"no hub venv at {VENV}: make test-hub")
    port = free_port()
    down = SimpleNamespace(url=f"http://127.0.0.1:{free_port()}", token="service-token")
    proc = _class_server(down, port, tmp_path / "classe", tmp_path / "classe.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), 60, "the class server")
        with pytest.raises(openai.InternalServerError) as err:
            client(base + "/v1", api_key="a-hub-token", timeout=60).models.list()
        assert err.value.status_code == 503 and err.value.code == "hub_unavailable"
        assert "JupyterHub did not answer" in err.value.message
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_teachers_group_opens_the_overview(hub_and_class):
    hub, base, _ = hub_and_class
    teacher = _token(hub, "prof")
    status, _ = hub.api("POST", "/hub/api/groups/enseignants", {"users": ["prof"]})
    assert status in (201, 409)
    if status == 409:
        hub.api("POST", "/hub/api/groups/enseignants/users", {"users": ["prof"]})
    time.sleep(0.1)
    request = urllib.request.Request(
        base + "/classe/api/overview", headers={"Authorization": f"Bearer {teacher}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
        overview = json.loads(answer.read())
    assert "alice" in [s["name"] for s in overview["students"]]
    student = _token(hub, "alice")
    request = urllib.request.Request(
        base + "/classe/api/overview", headers={"Authorization": f"Bearer {student}"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 - loopback
    assert refused.value.code == 401


# -- three students run notebooks 03–07 against the class server ------------------------------

NOTEBOOKS = ["03_dataset.ipynb", "04_envoi.ipynb", "05_lancement.ipynb", "06_suivi.ipynb"]
NOTEBOOKS += ["07_test.ipynb", "12_evaluer.ipynb"]


def test_three_students_run_the_course_on_the_class_server(tmp_path_factory):
    """The hub gives each student ATELIER_CLASS_URL; their notebooks (unchanged) send their own
    JUPYTERHUB_API_TOKEN; the class server, beside the hub, keeps each in their own tenant.
    Each student's evaluation (notebook 12) appears on the teacher's page, with the ranking."""
    import threading

    from hubkit import CLONE, Hub, git_server, pull_through_api, run_notebook_remotely

    require((VENV / "bin" / "jupyterhub").exists(), f"no hub venv at {VENV}: make test-hub")
    root = tmp_path_factory.mktemp("hub-class-course")
    port = free_port()

    class ClassHub(Hub):
        def config(self) -> str:
            return super().config() + (
                f"\nc.Spawner.environment['ATELIER_CLASS_URL'] = 'http://127.0.0.1:{port}'\n"
            )

    hub = ClassHub(root / "hub", VENV, NODE)
    server = _class_server(hub, port, root / "classe", root / "classe.log")
    users = ["eleve0", "eleve1", "eleve2"]
    out: dict[str, list[str]] = {}

    def student(user: str) -> None:
        try:
            hub.spawn(user)
            pull_through_api(hub, user, hub.repo_url)
            for name in NOTEBOOKS:
                errors = run_notebook_remotely(hub, user, f"{CLONE}/notebooks/{name}")
                if errors:
                    out[user] = [name, *errors]
                    return
            out[user] = []
        except BaseException as exc:  # reported below
            out[user] = [repr(exc)]

    try:
        with git_server(root / "git") as repo_url:
            hub.repo_url = repo_url
            hub.start()
            wait_for(lambda: _answers(f"http://127.0.0.1:{port}"), 60, "the class server")
            for user in users:
                hub.add_student(user)
            threads = [threading.Thread(target=student, args=(u,)) for u in users]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert all(v == [] for v in out.values()), f"{out}\n{hub.log_tail()}"
            tenants = root / "classe" / "students"
            assert sorted(p.name for p in tenants.iterdir()) == users
            for user in users:  # each student's jobs are in their own tenant, none elsewhere
                assert (tenants / user / "sandbox.sqlite3").is_file()
                assert not list(hub.home(user).rglob("sandbox-simulated.json"))
            _the_teacher_sees_the_evaluations(hub, f"http://127.0.0.1:{port}", users)
    finally:
        hub.stop()
        server.terminate()
        server.wait(10)


def _the_teacher_sees_the_evaluations(hub, base: str, users: list[str]) -> None:
    """Notebook 12 ran as each student: the teacher's page has their three contenders, and the
    ranking has the three of them (the same seeds: the same figures for the whole class)."""
    teacher = _token(hub, "prof")
    status, _ = hub.api("POST", "/hub/api/groups/enseignants", {"users": ["prof"]})
    if status == 409:
        hub.api("POST", "/hub/api/groups/enseignants/users", {"users": ["prof"]})
    request = urllib.request.Request(
        base + "/classe/api/evaluations", headers={"Authorization": f"Bearer {teacher}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
        page = json.loads(answer.read())
    assert sorted(s["name"] for s in page["students"]) == users, page
    for row in page["students"]:
        assert all(row[c] and row[c]["total"] == 18 for c in ("base", "prompt", "fine-tune")), row
        assert row["simulated"] is True
    assert sorted(r["name"] for r in page["ranking"]) == users
    assert len({r["accuracy"] for r in page["ranking"]}) == 1, "same seeds, same figures"
