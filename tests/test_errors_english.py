"""The diagnoses in the English edition (ATELIER_LANG=en): the same diagnosis, in English, with
the API's own English message kept as it was sent (issue 23 items 1 and 4)."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest
from fakeapi import api_error

from helpers import api_messages, errors, exceptions, french, i18n, jobs, models

TODAY = date(2026, 11, 23)
# What only a French sentence of the kit would hold (the kit's own words, not the API's).
FRENCH = re.compile(r"[éèêàùçœ«»]|\b(?:Pourquoi|Que faire|ton|ta|tes|une|avec|pas)\b")


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")


def explain(exc):
    return errors.explain(exc, today=TODAY)


def test_a_401_in_english_keeps_the_apis_own_message():
    message = (
        "Incorrect API key provided: sk-proj-ab***************************wxyz. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    d = explain(api_error(401, message, code="invalid_api_key"))
    assert d.code == "invalid_api_key"
    assert d.title == "API key refused (error 401)"
    assert d.cause.startswith("OpenAI does not recognise this key: it was copied wrong")
    assert "Create a new key at https://platform.openai.com/api-keys" in d.fix
    text = str(d)
    assert text.startswith("❌ API key refused (error 401)\nWhy: OpenAI does not recognise")
    assert "\nWhat to do: Create a new key" in text
    # the API's own English, as sent (the key masked as the API masked it)
    assert "(original message: Incorrect API key provided: sk-proj-ab" not in text
    assert "(original message: Incorrect API key provided: sk-…wxyz" in text
    assert "You can find your API key at" in text
    html = d._repr_html_()
    assert "<b>Why:</b>" in html and "<b>What to do:</b>" in html and "original message:" in html
    assert not FRENCH.search(text.replace(d.detail or "", "")), text


def test_fewer_than_ten_examples_in_english():
    job = SimpleNamespace(
        id="ftjob-1",
        status="failed",
        error=SimpleNamespace(
            code="invalid_n_examples",
            param="training_file",
            message="Training file has 3 example(s), but must have at least 10 examples",
        ),
    )
    d = explain(job)
    assert d.code == "invalid_n_examples"
    assert d.title == "The job ftjob-1 failed: not enough examples"
    assert d.cause == "Your file has 3 examples; OpenAI (and so the kit) requires at least 10."
    assert d.fix.startswith("Add examples (at least 10; 50 to 100 is better)")
    assert d.detail == "Training file has 3 example(s), but must have at least 10 examples"
    # the gloss of the same API message: the API's own words, then the diagnosis in plain English
    assert french.gloss(d.detail) == (
        "Training file has 3 example(s), but must have at least 10 examples  (in plain words: "
        "Your file has 3 examples; OpenAI (and so the kit) requires at least 10.)"
    )
    assert french.event_fr(d.detail) == "The training file has 3 example(s); it needs at least 10"
    assert french.gloss("Fine-tuning job started") == "Fine-tuning job started"  # not re-translated


def test_a_failed_job_in_english(monkeypatch):
    job = SimpleNamespace(
        id="ftjob-9", status="failed", error=SimpleNamespace(code="server_error", message="oops")
    )
    d = explain(job)
    assert d.code == "job_failed:server_error"
    assert d.title == "The job ftjob-9 failed"
    assert d.cause == "The sandbox stopped the simulated training (code server_error)."
    assert d.fix.startswith("Read the original message and the job's events")
    refused = SimpleNamespace(
        id="ftjob-8",
        status="failed",
        error=SimpleNamespace(
            code="invalid_training_file",
            message="The job failed due to an invalid training file. Invalid file format. "
            "Example 5, message 2 Field required: content",
        ),
    )
    d = explain(refused)
    assert d.title == "The job ftjob-8 failed: invalid training file"
    assert d.cause.startswith("The sandbox rejected example no. 5 of the file. The training")
    assert french.event_fr(refused.error.message) == (
        "The job failed: invalid training file, at example 5 (message 2): "
        "the field content is missing"
    )


def test_a_kit_errors_fix_in_english():
    err = exceptions.MissingKeyError("x")
    assert err.fix.startswith("Enter your key in the form of notebook 02")
    assert err._render_traceback_()[1].startswith("👉 What to do: Enter your key")
    damaged = exceptions.DamagedFileError("/w/state.json", reason="cut short")
    assert str(damaged) == "The file /w/state.json (one of the kit's files) is damaged: cut short."
    assert damaged.fix.startswith("Run `python -m helpers doctor --repair`")
    d = explain(exceptions.WorkspaceError("/w"))
    assert d.title == "The workspace cannot be written to"
    assert d.cause == "The kit keeps your work in /w, but it cannot be written to."
    assert d.fix.startswith("Free some space or choose a folder you can write to")
    d = explain(api_error(429, "You exceeded your current quota, please check your plan."))
    assert d.fix.endswith(
        'To follow the course with no account and no cost: `helpers.use_mode("sandbox")`.'
    )


def test_the_api_message_tables_read_in_english():
    assert jobs.STATUS_FR["running"] == "Training in progress"
    assert jobs.STATUS_FR.get("nope", "?") == "?"
    assert french.status_fr("succeeded") == "succeeded (✅ Done)"
    assert french.event_fr("Step 3/10: training loss=0.25") == "Step 3/10: training loss 0.25"
    assert i18n.number(1.5, None) == "1.5" and i18n.number(4_884_480, group=True) == "4,884,480"
    info = models.FINE_TUNABLE["gpt-4o-mini-2024-07-18"]
    assert info.shutdown_phrase(TODAY) == "shuts down on 14 January 2027"
    assert models.facts_markdown(TODAY).startswith("| model | training price | training | usage |")


def test_the_same_diagnoses_stay_french_by_default(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "fr")
    d = explain(api_error(401, "Incorrect API key provided: sk-x.", code="invalid_api_key"))
    assert d.title == "Clé d'API refusée (erreur 401)" and "\nPourquoi : " in str(d)
    assert i18n.number(1.5, None) == "1,5"


@pytest.mark.parametrize("entry", api_messages.MESSAGES, ids=lambda m: m.name)
def test_every_api_messages_diagnosis_speaks_english(entry):
    """Each message of the table, as text: its diagnosis in English, the API's words kept."""
    text = entry.render(**entry.example)
    d = errors.explain(text, today=TODAY)
    # a damaged database's cause and fix end with kit_server.database's own text (the servers'
    # catalog, translated there)
    own = (d.title,) if entry is api_messages.WORKSPACE_DAMAGED else (d.title, d.cause, d.fix)
    for part in own:
        assert not FRENCH.search(part), (entry.name, part)
    glossed = french.gloss(text)
    assert glossed.startswith(text) and "in plain words: " in glossed and d.cause in glossed


def test_the_wind_down_in_english():
    lines = models.wind_down(TODAY)
    assert lines[0] == (
        "07 May 2026: organizations (accounts) that had never fine-tuned can no longer start a "
        'job: the API answers "permission denied" (error 403)'
    )
    assert any(line.endswith("nobody will be able to start a job any more") for line in lines)
    for line in lines:
        assert not FRENCH.search(line), line
