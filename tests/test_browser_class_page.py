"""The teacher's page of the class server in Chromium: the teacher's key opens it, every
student shows up with their step, a student whose model answers COUCOU is marked so, a job
can be cancelled from the page, and a student's key does not open it. Screenshot in
`test-artifacts/`. In English for a browser that asks for English (Accept-Language)."""

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
        page = browser.new_page(locale="fr-FR")  # the page follows Accept-Language
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


def test_teacher_page_in_english_in_chromium(browser, tmp_path, monkeypatch):
    """An English browser gets the page in English (Accept-Language): titles, headers, the
    refusal, the cells; screenshot `test-artifacts/class-teacher-en.png`."""
    monkeypatch.delenv("ATELIER_LANG", raising=False)
    home = tmp_path / "classe"
    roster = Roster(home)
    keys = roster.add_students(["alice"])
    teacher = roster.teacher_key()
    running = serve_in_thread(create_class_app(home))
    base = f"http://127.0.0.1:{running.port}"
    try:
        alice = client(base + "/v1", api_key=keys["alice"])
        f = upload(alice, COUCOU)
        wait_job(
            alice, alice.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id
        )
        page = browser.new_page(locale="en-US")
        page.goto(base + "/classe/")
        page.wait_for_selector("text=Teacher's key (given by", timeout=15_000)
        assert page.title() == "Atelier fine-tuning — the class"
        assert page.get_attribute("html", "lang") == "en"
        page.fill("#cle-champ", keys["alice"])  # a student's key: refused, in English
        page.click("#cle button")
        page.wait_for_selector("text=This page is for the teacher", timeout=15_000)
        page.fill("#cle-champ", teacher)
        page.click("#cle button")
        page.wait_for_selector("tr[data-eleve='alice'] td.ok", timeout=20_000)
        row = page.inner_text("tr[data-eleve='alice']")
        assert "✅ yes" in row and "finished" in row
        header = page.inner_text("thead")
        assert "Student" in header and "Answers COUCOU?" in header and "Élève" not in header
        assert "Nobody is waiting." in page.inner_text("#file")
        assert page.inner_text("#quotas").startswith("Quotas per student and per day:")
        assert page.inner_text("#resume") == "1 student(s); 1 model(s) answer “COUCOU”."
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "class-teacher-en.png"), full_page=True)
        page.close()
    finally:
        running.stop()
