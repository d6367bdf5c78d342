"""The teacher's page of the class server in Chromium: the teacher's key opens it, every
student shows up with their step, a student whose model answers COUCOU is marked so, a job
can be cancelled from the page, and a student's key does not open it. Screenshot in
`test-artifacts/`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import ARTIFACTS, chromium
from sandboxkit import COUCOU, client, upload, wait_job

from helpers import models
from helpers.asgi_thread import serve_in_thread
from helpers.kit_server.classroom import create_class_app
from helpers.kit_server.classroom.roster import Roster

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as browser:
        yield browser


def test_teacher_page_in_chromium(browser, tmp_path):
    home = tmp_path / "classe"
    roster = Roster(home)
    keys = roster.add_students(["alice", "bob"])
    teacher = roster.teacher_key()
    running = serve_in_thread(create_class_app(home))
    base = f"http://127.0.0.1:{running.port}"
    try:
        alice = client(base + "/v1", api_key=keys["alice"])
        f = upload(alice, COUCOU)
        wait_job(
            alice, alice.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id
        )
        bob = client(base + "/v1", api_key=keys["bob"])
        slow = bob.fine_tuning.jobs.create(
            training_file=upload(bob, COUCOU).id,
            model=models.DEFAULT_MODEL,
            extra_headers={"X-Atelier-Sandbox-Speed": "0.5"},
        )
        page = browser.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # "Annuler le job de bob ?"
        page.goto(base + "/classe/")
        page.fill("#cle-champ", keys["alice"])  # a student's key: refused
        page.click("#cle button")
        page.wait_for_selector("text=réservée à l'enseignant", timeout=15_000)
        page.fill("#cle-champ", teacher)
        page.click("#cle button")
        page.wait_for_selector("tr[data-eleve='alice'] td.ok", timeout=20_000)
        assert "oui" in page.inner_text("tr[data-eleve='alice']")
        assert "coucou.jsonl" in page.inner_text("tr[data-eleve='alice']")
        assert "bob" in page.inner_text("#file")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "classe-enseignant.png"), full_page=True)
        page.click("tr[data-eleve='bob'] button.annuler")
        page.wait_for_selector("tr[data-eleve='bob'] td.etat-cancelled", timeout=20_000)
        assert bob.fine_tuning.jobs.retrieve(slow.id).status == "cancelled"
        assert keys["alice"] not in page.content() and teacher not in page.content()
        page.close()
    finally:
        running.stop()
