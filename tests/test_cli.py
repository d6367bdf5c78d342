"""python -m helpers: the guide's verbs and flags, check, doctor, reset, French errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fakeapi import FakeAPI, install

from helpers import cli, workspace
from helpers.dataset import example, write_jsonl


@pytest.fixture
def fake(monkeypatch) -> FakeAPI:
    return install(monkeypatch)


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _dataset(tmp_path, n=12):
    return write_jsonl(
        [example(f"Question {i}", "COUCOU") for i in range(n)], tmp_path / "dataset.jsonl"
    )


def test_guide_flow(fake, capsys, tmp_path):
    path = _dataset(tmp_path)
    code, out, _ = run(capsys, "api", "files.create", "-p", "fine-tune", "-f", str(path))
    assert code == 0
    file_id = json.loads(out)["id"]
    assert file_id.startswith("file-")
    code, out, _ = run(
        capsys,
        "api",
        "fine_tuning.jobs.create",
        "--training-file",
        file_id,
        "--model",
        "gpt-4o-mini-2024-07-18",
        "--suffix",
        "coucou",
    )
    assert code == 0
    job = json.loads(out)
    assert job["id"].startswith("ftjob-") and job["user_provided_suffix"] == "coucou"
    for _ in range(10):
        code, out, _ = run(capsys, "api", "fine_tuning.jobs.retrieve", "-i", job["id"])
        assert code == 0
    assert json.loads(out)["status"] == "succeeded"
    model = json.loads(out)["fine_tuned_model"]
    code, out, _ = run(capsys, "api", "fine_tuning.jobs.list")
    assert code == 0 and json.loads(out)["data"][0]["id"] == job["id"]
    code, out, _ = run(
        capsys,
        "api",
        "chat.completions.create",
        "-m",
        model,
        "-j",
        '{"messages": [{"role": "user", "content": "Bonjour"}], "temperature": 0}',
    )
    assert code == 0
    assert json.loads(out)["choices"][0]["message"]["content"] == "COUCOU"
    assert fake.chat_bodies[-1]["temperature"] == 0


def test_short_flags_and_g(fake, capsys, tmp_path):
    file_id = fake.add_file(b"{}\n" * 12)
    code, out, _ = run(
        capsys,
        "api",
        "fine_tuning.jobs.create",
        "-F",
        file_id,
        "-m",
        "gpt-4o-mini-2024-07-18",
        "-s",
        "court",
    )
    assert code == 0 and json.loads(out)["user_provided_suffix"] == "court"
    code, out, _ = run(
        capsys,
        "api",
        "chat.completions.create",
        "-m",
        "ft:gpt-4o-mini-2024-07-18:t:c:1",
        "-g",
        "system",
        "Sois bref",
        "-g",
        "user",
        "Salut",
        "-t",
        "0.2",
        "-M",
        "5",
    )
    assert code == 0
    body = fake.chat_bodies[-1]
    assert body["messages"][1] == {"role": "user", "content": "Salut"}
    assert body["temperature"] == 0.2 and body["max_tokens"] == 5


def test_follow_and_events(fake, capsys, tmp_path):
    file_id = fake.add_file(b"{}\n" * 12)
    run(capsys, "api", "fine_tuning.jobs.create", "-F", file_id)
    code, out, _ = run(capsys, "api", "fine_tuning.jobs.follow")
    assert code == 0 and "succeeded" in out and "Étape 12/12 : perte d'entraînement" in out
    assert "Step 12/12" not in out  # the help promises French events (issue 19, item 14)
    code, out, _ = run(capsys, "api", "fine_tuning.jobs.list_events", "-l", "3")
    assert code == 0 and len(json.loads(out)["data"]) == 3


@pytest.mark.parametrize(
    "wrong", ["chat_completions.create", "chat.completion.create", "ChatCompletion.create"]
)
def test_invalid_choice_did_you_mean(capsys, wrong):
    code, out, err = run(capsys, "api", wrong, "-m", "x")
    assert code == 2 and out == ""
    assert "Tu voulais dire chat.completions.create" in err
    assert "Traceback" not in err


def test_verb_without_api(fake, capsys):
    code, out, _ = run(capsys, "fine_tuning.jobs.list")  # `api` forgotten: still understood
    assert code == 0 and json.loads(out)["object"] == "list"
    code, _, err = run(capsys, "chat_completions.create")
    assert code == 2 and "api chat.completions.create" in err


def test_missing_option_french(capsys):
    code, _, err = run(capsys, "api", "files.create", "-p", "fine-tune")
    assert code == 2 and "il manque" in err and "-f/--file" in err


def test_api_errors_are_diagnoses(fake, capsys):
    code, _, err = run(capsys, "api", "fine_tuning.jobs.create", "--training-file", "file-nope")
    assert code == 1 and "invalid training_file" in err and "Traceback" not in err
    code, _, err = run(
        capsys,
        "api",
        "chat.completions.create",
        "-m",
        "gpt-3.5-turbo-0125",
        "-g",
        "user",
        "Bonjour",
    )
    assert code == 1 and "n'existe plus" in err
    code, _, err = run(capsys, "api", "files.create", "-f", "absent.jsonl")
    assert code == 1 and "absent.jsonl" in err
    fake.faults["chat"] = (
        429,
        {
            "message": "You exceeded your current quota",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
            "param": None,
        },
        {},
    )
    code, _, err = run(
        capsys, "api", "chat.completions.create", "-m", "gpt-4o-mini", "-g", "user", "x"
    )
    assert code == 1 and "Crédit épuisé" in err


def test_bad_json_and_no_message(fake, capsys):
    code, _, err = run(
        capsys, "api", "chat.completions.create", "-m", "m", "-j", "{'messages': []}"
    )
    assert code == 2 and "JSON" in err
    code, _, err = run(capsys, "api", "chat.completions.create", "-m", "m")
    assert code == 2 and "Aucun message" in err
    code, _, err = run(capsys, "api", "chat.completions.create", "-g", "user", "x")
    assert code == 1 and "Aucun modèle fine-tuné" in err


def test_check(capsys, tmp_path):
    code, out, _ = run(capsys, "check", str(_dataset(tmp_path)))
    assert code == 0 and "✅ 12 exemples" in out and "Coût estimé" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]},\n', encoding="utf-8")
    code, out, _ = run(capsys, "check", str(bad), "--model", "gpt-3.5-turbo-0125")
    assert code == 1 and "Ligne 1" in out


def test_reset(capsys):
    workspace.record(file_id="file-1", job_id="ftjob-1", fine_tuned_model="ft:x")
    code, out, _ = run(capsys, "reset", "--step", "5")
    assert code == 0 and "job_id" in out
    assert workspace.get("file_id") == "file-1" and workspace.get("job_id") is None
    code, out, _ = run(capsys, "reset")
    assert workspace.snapshot() == {}


def test_doctor_never_shows_key(capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-SECRETSECRETSECRET9876")
    monkeypatch.setenv("ATELIER_MODE", "openai")
    code, out, err = run(capsys, "doctor")
    assert "présente" in out and "SECRET" not in out + err and "9876" not in out + err
    assert "openai" in out and code == 0


def test_doctor_no_key_in_openai_mode(capsys, monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setattr("helpers.settings.key_source", lambda: None)
    code, out, _ = run(capsys, "doctor")
    assert "absente" in out and code == 1


def test_help_exits_zero(capsys):
    assert cli.main(["--help"]) == 0
    assert cli.main(["api", "--help"]) == 0


def test_python_dash_m(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "api", "chat_completions.create"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "chat.completions.create" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_is_french_and_lists_every_verb(capsys):
    from helpers.verbs import VERBS

    code, out, _ = run(capsys, "api", "-h")
    assert code == 0 and out.startswith("utilisation : python -m helpers api")
    assert "usage:" not in out and "show this help" not in out
    lines = out.splitlines()
    for verb in VERBS:
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(verb))
        described = lines[at].strip()[len(verb) :].strip() or lines[at + 1].strip()
        assert described and not described.startswith(tuple(VERBS)), verb
    for verb in VERBS:
        code, out, _ = run(capsys, "api", verb, "-h")
        assert code == 0 and "utilisation :" in out and "options:" in out, verb
    code, out, _ = run(capsys, "-h")
    assert "export" in out and "class" in out and "utilisation :" in out


def test_a_command_that_changes_what_the_notebooks_use_says_so(fake, capsys, tmp_path):
    path = _dataset(tmp_path)
    code, out, err = run(capsys, "api", "files.create", "-f", str(path))
    first = json.loads(out)["id"]
    assert code == 0 and f"Les notebooks utiliseront désormais {first}" in err
    code, out, err = run(capsys, "api", "files.create", "-f", str(path))
    second = json.loads(out)["id"]  # stdout stays the JSON alone
    assert f"{second} comme le fichier envoyé (étape 04), au lieu de {first}" in err
    assert workspace.get("file_id") == second
    code, out, err = run(capsys, "api", "fine_tuning.jobs.create")
    assert code == 0 and "comme le job suivi (étapes 05 et 06)" in err
