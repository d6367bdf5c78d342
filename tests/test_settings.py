"""settings: mode precedence, workspace folder, key lookup and masking (never printed)."""

from __future__ import annotations

import dataclasses
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


def test_every_setting_is_read_once_typed_and_checked(monkeypatch):
    monkeypatch.setenv("ATELIER_SERVER_IDLE", "90")
    monkeypatch.setenv("ATELIER_CLASS_PORT", "9000")
    monkeypatch.setenv("ATELIER_LOCAL_BF16", "0")
    monkeypatch.setenv("ATELIER_MODE", " Local ")
    now = settings.current()
    assert (now.server_idle, now.class_port, now.local_bf16) == (90.0, 9000, False)
    assert now.mode is settings.Mode.LOCAL and settings.get_mode() is settings.Mode.LOCAL
    assert settings.current() is now  # nothing changed: the same object
    monkeypatch.setenv("ATELIER_CLASS_PORT", "")  # empty: the default
    assert settings.current().class_port == 8800
    with pytest.raises(dataclasses.FrozenInstanceError):
        now.class_port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ATELIER_MODE", "cloud", "sandbox, openai, local"),
        ("ATELIER_CLASS_PORT", "huit mille", "port"),
        ("ATELIER_LOCAL_THREADS", "0", "entier"),
        ("ATELIER_SANDBOX_WAL", "peut-être", "1 (oui) ou 0 (non)"),
        ("ATELIER_SERVER_IDLE", "bientôt", "secondes"),
        ("ATELIER_CLASS_URL", "salle-12:8800", "http"),
    ],
)
def test_a_bad_value_is_refused_in_french_with_its_variable(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(settings.SettingsError) as caught:
        settings.current()
    assert variable in str(caught.value) and expected in str(caught.value)
    assert repr(value) in str(caught.value) and "relance" in caught.value.fix


def test_a_secret_setting_never_shows(monkeypatch):
    monkeypatch.setenv("ATELIER_CLASS_KEY", "cle-secrete-de-bob")
    assert "cle-secrete-de-bob" not in repr(settings.current())
    assert settings.class_server() is None  # no class URL: no class server


def test_settings_are_given_to_this_process_and_its_children(monkeypatch):
    monkeypatch.delenv("ATELIER_SANDBOX_SPEED", raising=False)
    monkeypatch.delenv("ATELIER_JOB_SECONDS", raising=False)
    with settings.overridden(sandbox_speed=250.0) as inside:
        assert inside.sandbox_speed == 250.0 and os.environ["ATELIER_SANDBOX_SPEED"] == "250.0"
    assert "ATELIER_SANDBOX_SPEED" not in os.environ and settings.sandbox_speed() == 1.0
    assert settings.environment(local_model="tiny", sandbox_in_process=True) == {
        "ATELIER_LOCAL_MODEL": "tiny",
        "ATELIER_SANDBOX_IN_PROCESS": "1",
    }
    assert settings.Settings.variable("home") == "ATELIER_HOME"


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


def test_the_kit_finds_its_own_folders():
    """`helpers.settings` is a package: the kit's folder is still `helpers/`, and the
    checkout (its `data/`, its `.env`, its `.atelier/`) the folder above it."""
    from conftest import REPO

    assert settings.package_dir() == REPO / "helpers"
    assert settings.repo_root() == REPO
    assert settings.env_file() == REPO / ".env"


def test_a_c_or_posix_locale_says_nothing_of_the_language(monkeypatch, tmp_path):
    """Rehearsal F2: `LANG=C.UTF-8` (Docker, SSH, CI) is no preference: the next source decides."""
    _no_language_settings(monkeypatch, tmp_path)
    monkeypatch.setenv("ATELIER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    for neutral in ("C.UTF-8", "C", "POSIX"):
        monkeypatch.setenv("LC_ALL", neutral)
        assert settings.language() == "en"  # LC_ALL=C: as if unset, LANG decides
    monkeypatch.delenv("LANG")
    assert settings.language() == "fr"


def test_the_terminal_follows_the_edition_of_the_workspace_s_last_notebook(monkeypatch, tmp_path):
    """Rehearsal F2: an English learner's `python -m helpers check` in a C.UTF-8 terminal spoke
    French. The banner of a notebook records its edition in the workspace; a terminal (outside
    notebooks/) follows it, before the locale; ATELIER_LANG and a notebook's own edition win."""
    from helpers import notebook

    _no_language_settings(monkeypatch, tmp_path)
    monkeypatch.setenv("ATELIER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ATELIER_MODE", "sandbox")
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert settings.language() == "fr" and settings.saved_edition() is None
    english = tmp_path / "kit" / "notebooks" / "en"
    english.mkdir(parents=True)
    monkeypatch.chdir(english)
    notebook.banner()  # an English notebook runs
    assert settings.load_state()["edition"] == "en"
    monkeypatch.chdir(tmp_path)  # a terminal
    assert settings.language() == "en"
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert settings.language() == "en"  # the workspace's edition before the locale
    monkeypatch.chdir(tmp_path / "kit" / "notebooks")
    assert settings.language() == "fr"  # a French notebook's kernel speaks French...
    notebook.banner()
    monkeypatch.chdir(tmp_path)
    assert settings.language() == "fr"  # ...and the terminal follows it now
    monkeypatch.setenv(settings.LANG_VAR, "en")
    assert settings.language() == "en"  # ATELIER_LANG wins over everything
    monkeypatch.delenv(settings.LANG_VAR)
    settings.state_path().write_text("{cut", encoding="utf-8")  # damaged: no edition, no error
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert settings.language() == "en" and settings.saved_edition() is None
