"""settings: mode precedence, workspace folder, key lookup and masking (never printed)."""

from __future__ import annotations

import os

import pytest

from helpers import settings


def test_mode_precedence(monkeypatch):
    assert settings.get_mode() == "sandbox"  # ATELIER_MODE from conftest
    monkeypatch.delenv("ATELIER_MODE")
    assert settings.get_mode() == "sandbox"
    settings.save_mode("openai")
    assert settings.get_mode() == "openai"
    monkeypatch.setenv("ATELIER_MODE", "sandbox")
    assert settings.get_mode() == "sandbox"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.delenv("ATELIER_MODE")
    settings.save_mode("sandbox")
    assert settings.get_mode() == "sandbox"  # a key never switches the mode
    with pytest.raises(settings.SettingsError):
        settings.check_mode("cloud")


def test_workspace_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_HOME", str(tmp_path / "h"))
    assert settings.workspace_dir() == tmp_path / "h" and (tmp_path / "h").is_dir()


def test_sandbox_speed(monkeypatch):
    monkeypatch.setenv("ATELIER_SANDBOX_SPEED", "2.5")
    assert settings.sandbox_speed() == 2.5
    for bad in ("fast", "0", "-1"):
        monkeypatch.setenv("ATELIER_SANDBOX_SPEED", bad)
        with pytest.raises(settings.SettingsError):
            settings.sandbox_speed()


def test_key_sources_and_env_file(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "env_file", lambda: tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    assert settings.find_api_key() is None and settings.key_source() is None
    (tmp_path / ".env").write_text("OTHER=1\n", encoding="utf-8")
    path = settings.save_key_to_env_file("sk-proj-abcdefghijklmnop1234")
    assert oct(os.stat(path).st_mode)[-3:] == "600"
    assert "OTHER=1" in path.read_text()
    assert (
        settings.key_source() == ".env"
        and settings.find_api_key() == "sk-proj-abcdefghijklmnop1234"
    )
    settings.use_key_for_session(" sk-env-key-000000000 ")
    assert (
        settings.key_source() == "environnement"
        and os.environ["OPENAI_API_KEY"] == "sk-env-key-000000000"
    )
    settings.forget_key()
    assert settings.find_api_key() is None and "OTHER=1" in path.read_text()
    with pytest.raises(settings.SettingsError):
        settings.save_key_to_env_file('sk-"quoted"')
    with pytest.raises(settings.SettingsError):
        settings.use_key_for_session("  ")


def test_mask_key():
    assert settings.mask_key("sk-proj-abcdefghijklmnop1234") == "sk-…1234"
    assert settings.mask_key("short") == "…"
    assert settings.mask_key(None) == "(aucune)"


def _no_language_settings(monkeypatch, tmp_path):
    for var in (settings.LANG_VAR, "JPY_SESSION_NAME", *settings.LOCALE_VARS):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def test_language_precedence(monkeypatch, tmp_path):
    _no_language_settings(monkeypatch, tmp_path)
    assert settings.language() == "fr"  # nothing set: the course's source language
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert settings.language() == "en"  # the locale
    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")
    assert settings.language() == "fr"  # LC_ALL before LANG (POSIX order)
    english = tmp_path / "kit" / "notebooks" / "en"
    english.mkdir(parents=True)
    monkeypatch.chdir(english)
    assert settings.language() == "en"  # a kernel of the English edition, whatever the locale
    monkeypatch.setenv(settings.LANG_VAR, "fr")
    assert settings.language() == "fr"  # ATELIER_LANG wins
    monkeypatch.setenv(settings.LANG_VAR, "de")
    assert settings.language() == "en"  # a language the kit does not speak is ignored


def test_the_notebooks_edition_comes_from_its_folder(monkeypatch, tmp_path):
    _no_language_settings(monkeypatch, tmp_path)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    french = tmp_path / "kit" / "notebooks"
    (french / "colab" / "en").mkdir(parents=True)
    monkeypatch.chdir(french)
    assert settings.notebook_edition() == "fr" and settings.language() == "fr"
    monkeypatch.chdir(french / "colab" / "en")
    assert settings.notebook_edition() == "en"
    # Jupyter Server names the kernel's notebook (the server may run from elsewhere).
    monkeypatch.chdir(tmp_path)
    assert settings.notebook_edition() is None
    monkeypatch.setenv("JPY_SESSION_NAME", "atelier/notebooks/en/03_dataset.ipynb")
    assert settings.language() == "en"
    monkeypatch.setenv("JPY_SESSION_NAME", str(french / "03_dataset.ipynb"))
    assert settings.language() == "fr"
