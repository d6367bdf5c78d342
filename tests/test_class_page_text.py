"""The teacher page speaks the request's language: the class server's own setting
(ATELIER_LANG) when set, else the browser's Accept-Language, else French; its texts come from
the kit's catalogs (GET /classe/api/page-text) and the page and the list cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from pagetexts import marked_texts
from starlette.testclient import TestClient

from helpers.kit_server.classroom import create_class_app
from helpers.kit_server.classroom.page_text import PAGE_TEXTS, STATUS_FR, accepted
from helpers.kit_server.classroom.roster import Roster

PAGE = Path(__file__).resolve().parent.parent / "helpers" / "kit_server" / "classroom" / "page"


@pytest.fixture
def classroom(tmp_path, monkeypatch):
    monkeypatch.delenv("ATELIER_LANG", raising=False)
    home = tmp_path / "classe"
    keys = Roster(home).add_students(["alice"])
    return TestClient(create_class_app(home)), keys["alice"]


def test_accept_language_is_read_by_preference():
    assert accepted("en-GB,en;q=0.8,fr;q=0.5") == ["en", "en", "fr"]
    assert accepted("fr;q=0.4, en;q=0.9") == ["en", "fr"]
    assert accepted("de, *;q=0.5, en;q=0") == ["de"]
    assert accepted("") == []


def test_the_page_texts_in_the_browser_language(classroom):
    client, _ = classroom
    english = client.get("/classe/api/page-text", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.status_code == 200 and english.headers["vary"] == "Accept-Language"
    body = english.json()
    assert body["lang"] == "en"
    assert body["texts"]["Élève"] == "Student"
    assert body["texts"]["Répond COUCOU ?"] == "Answers COUCOU?"
    assert body["texts"]["entraînement en cours"] == "training"  # a job's status
    assert set(body["texts"]) == set(PAGE_TEXTS) | set(STATUS_FR.values())
    french = client.get("/classe/api/page-text", headers={"Accept-Language": "fr-FR,en;q=0.5"})
    assert french.json() == {"lang": "fr", "texts": {}}
    unknown = client.get("/classe/api/page-text", headers={"Accept-Language": "de"})
    assert unknown.json()["lang"] == "fr"  # a language the kit does not speak: French


def test_the_class_server_setting_wins(classroom, monkeypatch):
    client, _ = classroom
    monkeypatch.setenv("ATELIER_LANG", "en")
    body = client.get("/classe/api/page-text", headers={"Accept-Language": "fr"}).json()
    assert body["lang"] == "en"


def test_the_teacher_refusal_in_the_request_language(classroom):
    client, student_key = classroom
    for language, expected in (
        ("en", "This page is for the teacher: give the teacher's key."),
        ("fr", "Page réservée à l'enseignant·e : donne la clé enseignant·e."),
    ):
        refused = client.get(
            "/classe/api/overview",
            headers={"Authorization": f"Bearer {student_key}", "Accept-Language": language},
        )
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == expected
        assert refused.json()["error"]["code"] == "teacher_only"  # what the page tests


def test_every_text_of_the_teacher_page_goes_through_the_catalog():
    found = marked_texts(PAGE / "index.html", PAGE / "app.js", PAGE / "evaluations.js")
    listed = set(PAGE_TEXTS)
    assert len(found) > 30
    assert found - listed == set(), "add these to PAGE_TEXTS (classroom/page_text.py)"
    assert listed - found == set(), "no longer on the page: remove from PAGE_TEXTS"
    scripts = (PAGE / "app.js").read_text(encoding="utf-8")
    assert "t(job.status_fr)" in scripts and "t(j.status_fr)" in scripts  # STATUS_FR's texts
