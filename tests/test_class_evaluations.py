"""Notebook 12's results on the class server: a student's `helpers.evaluate` run reaches the
teacher's page (students × base / prompt / fine-tune), figures only; the ranking; the doors
(a student cannot read them, an unknown key cannot write, a bad body is refused in French)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from sandboxkit import REPO

from helpers import evaluation, jobs, models
from helpers.asgi_thread import serve_in_thread
from helpers.kit_server.classroom import create_class_app
from helpers.kit_server.classroom.roster import Roster


@pytest.fixture
def classroom(tmp_path, monkeypatch):
    home = tmp_path / "classe"
    roster = Roster(home)
    keys = roster.add_students(["alice", "bob", "chloe"])
    teacher = roster.teacher_key()
    running = serve_in_thread(create_class_app(home))
    yield f"http://127.0.0.1:{running.port}", keys, teacher, home
    running.stop()


def _call(base: str, path: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path,
        data=data,
        method="GET" if body is None else "POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _as_student(monkeypatch, base: str, key: str) -> None:
    monkeypatch.setenv("ATELIER_CLASS_URL", base)
    monkeypatch.setenv("ATELIER_CLASS_KEY", key)


def test_a_students_evaluation_reaches_the_teachers_page(classroom, monkeypatch):
    base, keys, teacher, home = classroom
    _as_student(monkeypatch, base, keys["alice"])
    split = evaluation.split(REPO / "data" / "matieres.jsonl")
    job = jobs.wait(jobs.create(jobs.upload(split.train).id, suffix="matieres", seed=3).id)
    runs = [
        evaluation.evaluate(models.DEFAULT_MODEL, split.heldout, progress=False),
        evaluation.evaluate(
            models.DEFAULT_MODEL,
            split.heldout,
            system=evaluation.few_shot_prompt(evaluation.read_examples(split.train)),
            progress=False,
        ),
        evaluation.evaluate(job.fine_tuned_model, split.heldout, progress=False),
    ]
    assert [r.label for r in runs] == ["base", "prompt", "fine-tune"]
    status, page = _call(base, "/classe/api/evaluations", teacher)
    assert status == 200
    (alice,) = page["students"]
    assert alice["name"] == "alice" and alice["simulated"] is True
    for run in runs:
        got = alice[run.label]
        assert (got["correct"], got["total"]) == (run.correct, run.total)
        assert got["accuracy"] == pytest.approx(run.accuracy)
    assert page["ranking"] == [
        {
            "rank": 1,
            "name": "alice",
            "display": "alice",
            "accuracy": pytest.approx(runs[2].accuracy),
            "gain_over_base": pytest.approx(runs[2].accuracy - runs[0].accuracy),
        }
    ]
    stored = (home / "students" / "alice" / "evaluations.jsonl").read_text(encoding="utf-8")
    question = evaluation.question_of(evaluation.read_examples(split.heldout)[0])
    assert question not in stored and "Exemples" not in stored  # figures only


def test_the_ranking_and_its_ties(classroom):
    base, keys, teacher, _ = classroom
    for name, right in (("alice", 9), ("bob", 14), ("chloe", 14)):
        run = {
            "label": "fine-tune",
            "model": "ft:m",
            "dataset": "d.jsonl",
            "correct": right,
            "total": 18,
        }
        assert _call(base, "/kit/evaluations", keys[name], run)[0] == 201
    _call(
        base,
        "/kit/evaluations",
        keys["bob"],
        {"label": "base", "model": "m", "dataset": "d", "correct": 2, "total": 18},
    )
    _, page = _call(base, "/classe/api/evaluations", teacher)
    assert [(r["rank"], r["name"]) for r in page["ranking"]] == [
        (1, "bob"),
        (1, "chloe"),
        (3, "alice"),
    ]
    assert page["ranking"][0]["gain_over_base"] == pytest.approx(12 / 18)
    assert page["ranking"][1]["gain_over_base"] is None
    # a later run replaces the earlier one of the same contender
    _call(
        base,
        "/kit/evaluations",
        keys["alice"],
        {"label": "fine-tune", "model": "ft:m", "dataset": "d", "correct": 18, "total": 18},
    )
    _, page = _call(base, "/classe/api/evaluations", teacher)
    assert page["ranking"][0]["name"] == "alice"


def test_the_doors(classroom):
    base, keys, teacher, _ = classroom
    good = {"label": "base", "model": "m", "dataset": "d", "correct": 1, "total": 2}
    assert _call(base, "/kit/evaluations", "pas-une-cle", good)[0] == 401
    assert _call(base, "/classe/api/evaluations", keys["alice"])[0] == 401  # teachers only
    status, body = _call(base, "/kit/evaluations", keys["alice"], {**good, "correct": 3})
    assert status == 400 and "correct" in body["error"]["message"]
    status, body = _call(base, "/kit/evaluations", keys["alice"], {**good, "total": True})
    assert status == 400
    status, body = _call(base, "/kit/evaluations", keys["alice"], {**good, "label": "x" * 41})
    assert status == 400 and "label" in body["error"]["message"]
    _, page = _call(base, "/classe/api/evaluations", teacher)
    assert page["students"] == [] and page["ranking"] == []
    with urllib.request.urlopen(base + "/classe/evaluations.js", timeout=10) as answer:  # noqa: S310
        assert b"montrer les noms" in answer.read()
    with urllib.request.urlopen(base + "/classe/", timeout=10) as answer:  # noqa: S310
        assert b"/classe/evaluations.js" in answer.read()
