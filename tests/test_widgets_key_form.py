"""Key form, driven headless: normal path, bad input, and the key never leaving the kernel."""

from __future__ import annotations

import logging
import os
import socket
import stat

import pytest
from _widget_harness import SentMessages, browser_sets, text, widget_state_text

from helpers import client as client_mod
from helpers import settings
from helpers.widgets import KeyForm

SECRET = "sk-proj-TESTsecretVALUE0123456789abcdefWXYZ"


@pytest.fixture
def env_file(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    monkeypatch.setattr(settings, "env_file", lambda: path)
    monkeypatch.chdir(tmp_path)
    return path


@pytest.fixture
def sent(monkeypatch):
    return SentMessages(monkeypatch)


def fake_verdict(monkeypatch, status: str, message: str) -> list[str]:
    calls: list[str] = []

    def check_key(key, mode=None, **_):
        calls.append(key)
        return client_mod.KeyCheck(status, message)

    monkeypatch.setattr(client_mod, "check_key", check_key)
    return calls


def test_valid_key_goes_to_environment_and_nowhere_else(env_file, sent, workspace, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    form = KeyForm()
    browser_sets(form.key, value=SECRET)  # the browser syncs the field (Enter or focus lost)
    assert form.key.value == ""  # taken out of the widget at once
    form.validate.click()
    # the sandbox accepts any key: the verdict says it checked nothing, and keeps the key
    assert form.result.status == "unchecked"
    assert "non vérifiée" in text(form.status.value) and "valide" not in text(form.status.value)
    assert os.environ["OPENAI_API_KEY"] == SECRET
    shown = text(form.status.value)
    assert "sk-…WXYZ" in shown and "session" in shown
    # nowhere the browser, the notebook file, the workspace or a log could see it
    assert SECRET not in sent.joined()
    assert SECRET not in widget_state_text()
    assert SECRET not in repr(form)
    for path in workspace.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in caplog.text
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert not env_file.exists()  # not asked to remember


def test_echo_update_is_off_for_the_secret_field():
    form = KeyForm()
    # ipywidgets 8 echoes every value the browser sends back to it unless told not to
    assert form.key.trait_metadata("value", "echo_update") is False


def test_remember_writes_env_file_owner_only(env_file, monkeypatch):
    fake_verdict(monkeypatch, "valid", "✅ Clé valide.")
    env_file.write_text("AUTRE=1\n", encoding="utf-8")
    form = KeyForm()
    form.remember.value = True
    browser_sets(form.key, value=SECRET)
    form.validate.click()
    content = env_file.read_text(encoding="utf-8")
    assert f"OPENAI_API_KEY={SECRET}" in content and "AUTRE=1" in content
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "Mémorisée dans .env" in text(form.status.value)
    assert SECRET not in form.status.value
    form.forget.click()
    assert "OPENAI_API_KEY" not in os.environ
    assert "OPENAI_API_KEY" not in env_file.read_text(encoding="utf-8")
    assert "oubliée" in text(form.status.value)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", "vide"),
        ("   ", "vide"),
        ("bonjour", "commence par « sk- »"),
        ("sk-abc def ghi jkl", "espace"),
        ("sk-abc", "forme inattendue"),
        ("sk-abc€€€€€€€€€€€€", "forme inattendue"),
    ],
)
def test_empty_or_malformed_key_is_refused_without_any_call(env_file, monkeypatch, typed, expected):
    calls = fake_verdict(monkeypatch, "valid", "✅")
    form = KeyForm()
    if typed:
        browser_sets(form.key, value=typed)
    form.validate.click()
    assert expected in text(form.status.value)
    assert form.result.status == "invalid"
    assert calls == []
    assert "OPENAI_API_KEY" not in os.environ


def test_pasted_with_quotes_or_variable_name_is_forgiven(env_file, monkeypatch):
    calls = fake_verdict(monkeypatch, "valid", "✅ Clé valide.")
    form = KeyForm()
    browser_sets(form.key, value=f' OPENAI_API_KEY="{SECRET}" ')
    form.validate.click()
    assert calls == [SECRET]
    assert os.environ["OPENAI_API_KEY"] == SECRET


def test_invalid_key_from_the_sandbox_is_not_kept(env_file, sent):
    bad = "sk-sandbox-invalid-key"
    form = KeyForm(mode="sandbox")
    browser_sets(form.key, value=bad)
    form.validate.click()
    assert form.result.status == "invalid"
    assert "OPENAI_API_KEY" not in os.environ
    shown = text(form.status.value)
    assert "non gardée" in shown
    assert bad not in shown and bad not in sent.joined()


@pytest.mark.parametrize(
    ("status", "kept", "kind"),
    [("no_fine_tuning", True, "warning"), ("quota", True, "warning"), ("invalid", False, "error")],
)
def test_each_verdict_is_shown_in_french(env_file, monkeypatch, status, kept, kind):
    fake_verdict(monkeypatch, status, f"Message pour {status}.")
    form = KeyForm()
    browser_sets(form.key, value=SECRET)
    form.validate.click()
    assert f"Message pour {status}." in text(form.status.value)
    assert f"atelier-{kind}" in form.status.value
    assert ("OPENAI_API_KEY" in os.environ) is kept


def test_no_network_is_explained(env_file, monkeypatch):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    form = KeyForm(mode="openai")
    browser_sets(form.key, value=SECRET)
    form.validate.click()
    assert form.result.status == "no_network"
    assert "impossible de vérifier" in text(form.status.value)
    assert SECRET not in form.status.value


def test_check_key_crashing_never_shows_a_traceback(env_file, monkeypatch):
    def boom(key, mode=None, **_):
        raise RuntimeError(f"boom with {key}")

    monkeypatch.setattr(client_mod, "check_key", boom)
    form = KeyForm()
    browser_sets(form.key, value=SECRET)
    form.validate.click()
    assert form.result.status == "no_network"
    assert SECRET not in form.status.value


def test_existing_key_is_announced_masked_and_checked_on_click(env_file, monkeypatch):
    calls = fake_verdict(monkeypatch, "valid", "✅ Clé valide.")
    env_file.write_text(f"OPENAI_API_KEY={SECRET}\n", encoding="utf-8")
    form = KeyForm()
    assert ".env" in text(form.status.value) and SECRET not in form.status.value
    form.validate.click()
    assert calls == [SECRET]
    assert "lue depuis .env" in text(form.status.value)


def test_colab_offers_the_secrets_panel(env_file, monkeypatch):
    calls = fake_verdict(monkeypatch, "valid", "✅ Clé valide.")
    monkeypatch.setattr(settings, "on_colab", lambda: True)
    monkeypatch.setattr(settings, "_from_colab_secrets", lambda: SECRET)
    form = KeyForm()
    assert "Secrets" in text(form.colab_help.value)
    assert form.remember.layout.display == "none"
    form.validate.click()  # nothing typed: the secret is read
    assert calls == [SECRET]
    assert "Colab" in text(form.status.value)


def test_only_the_real_api_calls_a_key_valid(env_file, sent, monkeypatch):
    fake_verdict(monkeypatch, "valid", "✅ Clé valide.")
    monkeypatch.setenv("ATELIER_MODE", "openai")
    form = KeyForm()
    browser_sets(form.key, value=SECRET)
    form.validate.click()
    assert form.result.status == "valid"
    monkeypatch.setenv("ATELIER_MODE", "sandbox")
    form = KeyForm()
    browser_sets(form.key, value=SECRET)
    form.validate.click()
    assert form.result.status == "unchecked", (
        "a made-up key must never be « valide » in the sandbox"
    )


@pytest.mark.parametrize(
    ("mode", "status", "words"),
    [
        ("sandbox", "no_key_needed", "normal"),
        ("local", "no_key_needed", "normal"),
        ("openai", "invalid", "Aucune clé"),
    ],
)
def test_no_key_verdict_is_true_to_the_mode(mode, status, words):
    from helpers.widgets.key_form import key_verdict

    verdict = key_verdict(None, mode)
    assert verdict.status == status and words in verdict.message
    assert "valide" not in verdict.message.replace("invalide", "")
