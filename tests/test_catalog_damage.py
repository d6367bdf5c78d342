"""A damaged or odd translation setup never breaks the kit: a compiled catalog (.mo) that is
empty, truncated, not a .mo or badly encoded leaves its messages in French (the source
language) instead of raising on every message; a language that is not a plain code (`en/`,
`../x`, an absolute path) is not looked up on disk. The kit (helpers.i18n) and the proxy
(helpers.proxy.translation, which reads the same files with the standard library) alike."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import i18n
from helpers.proxy import translation
from helpers.proxy.settings import proxy_language

DAMAGES = {
    "empty": lambda good: b"",
    "truncated": lambda good: good[:40],
    "not a .mo": lambda good: b"this is not a compiled catalog at all" * 3,
    "bad encoding": lambda good: good[:-10] + b"\xff\xfe" * 5,
}


@pytest.fixture
def locale(tmp_path, monkeypatch) -> Path:
    """A copy of the kit's catalogs that the test may damage, used by both readers."""
    copy = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, copy)
    monkeypatch.setattr(i18n, "LOCALE_DIR", copy)
    monkeypatch.setattr(translation, "LOCALE_DIR", copy)
    i18n.translations.cache_clear()
    translation.catalog.cache_clear()
    yield copy
    i18n.translations.cache_clear()
    translation.catalog.cache_clear()


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_catalog_leaves_its_messages_in_french(locale, damage):
    mo = locale / "en" / "LC_MESSAGES" / "checks.mo"
    mo.write_bytes(DAMAGES[damage](mo.read_bytes()))
    assert i18n.in_language("en", "Format : {format}.") == "Format : {format}."  # French
    assert i18n.in_language("en", "Clé d'API incorrecte") == "Incorrect API key"  # intact


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_servers_catalog_leaves_the_proxy_in_french(locale, damage):
    mo = locale / "en" / "LC_MESSAGES" / "servers.mo"
    mo.write_bytes(DAMAGES[damage](mo.read_bytes()))
    assert translation.in_language("en", "Proxy joignable") == "Proxy joignable"


def test_a_language_is_a_plain_code_never_a_path(locale, tmp_path):
    # A catalog outside the kit's locale folder, reachable by a path as "language".
    (tmp_path / "elsewhere" / "LC_MESSAGES").mkdir(parents=True)
    for domain in ("servers", "checks"):
        shutil.copy(
            locale / "en" / "LC_MESSAGES" / f"{domain}.mo",
            tmp_path / "elsewhere" / "LC_MESSAGES" / f"{domain}.mo",
        )
    for odd in ("en/", "en/../en", str(tmp_path / "elsewhere"), "../locale/en"):
        assert proxy_language({"ATELIER_LANG": odd}) == "fr", odd
        assert not translation.speaks(odd)
        assert translation.in_language(odd, "Proxy joignable") == "Proxy joignable"
        assert i18n.in_language(odd, "Format : {format}.") == "Format : {format}."
    assert proxy_language({"ATELIER_LANG": "EN"}) == "en"
    assert translation.in_language("en", "Proxy joignable") == "Proxy reachable"
