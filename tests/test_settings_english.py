"""The settings' messages in English (issue 23): a value the kit cannot use, the mode's labels
and sources, the key's place, the state file's damage; the language comes from ATELIER_LANG
even while another variable is being refused (no recursion through the translation layer)."""

from __future__ import annotations

import pytest

from helpers import settings
from helpers.exceptions import DamagedFileError, SettingsError
from helpers.modes import Mode


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")


def test_an_unusable_setting_is_explained_in_english(monkeypatch):
    monkeypatch.setenv("ATELIER_CLASS_PORT", "eighty")
    monkeypatch.setenv("ATELIER_SANDBOX_SPEED", "-2")
    with pytest.raises(SettingsError) as info:
        settings.current()
    assert str(info.value) == (
        "Unusable setting: ATELIER_SANDBOX_SPEED='-2' (expected: a number greater than 0 "
        "(1: a one-minute COUCOU job)); ATELIER_CLASS_PORT='eighty' (expected: a port number, "
        "from 0 to 65535)."
    )
    assert info.value.fix.startswith("Fix the variable (a `%env NAME=value` cell")
    assert settings.language() == "en"  # ATELIER_LANG still read while the others are refused


def test_the_same_in_french(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "fr")
    monkeypatch.setenv("ATELIER_CLASS_PORT", "eighty")
    with pytest.raises(SettingsError) as info:
        settings.current()
    assert str(info.value) == (
        "Réglage inutilisable : ATELIER_CLASS_PORT='eighty' (attendu : un numéro de port, de 0 "
        "à 65535)."
    )


def test_modes_keys_and_sources_in_english(monkeypatch):
    assert settings.MODE_LABELS[Mode.SANDBOX] == "🧪 sandbox (local server, no key, free)"
    assert dict(settings.MODE_LABELS)[Mode.LOCAL].startswith("💻 local (real training")
    monkeypatch.delenv("ATELIER_MODE", raising=False)
    assert settings.mode_source() == "default"
    assert settings.mask_key(None) == "(none)"
    with pytest.raises(SettingsError, match="^Unknown mode: 'cloud'. Choose from "):
        settings.check_mode("cloud")
    with pytest.raises(SettingsError, match="^The key is empty.$"):
        settings.use_key_for_session("  ")
    monkeypatch.setenv("ATELIER_LANG", "fr")
    assert settings.MODE_LABELS[Mode.SANDBOX] == "🧪 bac à sable (serveur local, sans clé, gratuit)"
    assert settings.mode_source() == "par défaut"


def test_a_damaged_state_file_says_why_in_english():
    settings.state_path().write_text("", encoding="utf-8")
    with pytest.raises(DamagedFileError) as info:
        settings.load_state()
    text = str(info.value) + " " + str(getattr(info.value, "fix", ""))
    assert "it is empty" in text
    settings.state_path().write_text('{"runs": []}', encoding="utf-8")
    with pytest.raises(DamagedFileError) as info:
        settings.load_state()
    assert '"runs" should be an object' in str(info.value)


def test_every_setting_is_described_in_english():
    """docs/en/settings.md's rows come from the catalog: a variable added without `N_` on its
    description (or without its translation) would show French there."""
    from helpers.i18n import in_language

    for row in settings.Settings.table():
        assert in_language("en", row["doc"]) != row["doc"], row["var"]
