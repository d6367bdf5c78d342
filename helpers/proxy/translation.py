"""The proxy's messages in its language, from the kit's compiled catalogs read with the
standard library's gettext: `helpers/locale/<lang>/LC_MESSAGES/servers.mo` (data beside the
code, not the kit's code: the proxy imports nothing of the kit and is deployed alone with the
repository). French is the source language (msgid = the French text), as in `helpers.i18n`;
`python tools/translations.py` extracts these messages with the servers' ones.

The language is `ProxySettings.language` (`ATELIER_LANG`, French by default); a message is
translated where it is built: `in_language(lang, "…")`, through each module's `_` (the
settings' own errors, read before any settings exist, in the environment's language)."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

SOURCE_LANGUAGE = "fr"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "servers"


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    """The servers' catalog for `lang`; French (the source) or a missing file: identity."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    if not speaks(lang):
        return gettext.NullTranslations()
    try:
        with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as handle:
            return gettext.GNUTranslations(handle)
    except Exception:  # unreadable (empty, truncated, not a .mo, bad encoding): French
        return gettext.NullTranslations()


def in_language(lang: str, message: str) -> str:
    """`message` (French) in `lang`."""
    return catalog(lang).gettext(message)


def speaks(lang: str) -> bool:
    """True for French and every language with a compiled servers catalog (a plain code:
    `en`, never a path such as `en/` or `/tmp/x`)."""
    if lang == SOURCE_LANGUAGE:
        return True
    plain = lang.isascii() and lang.isalpha()
    return plain and (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()


def N_(message: str) -> str:
    """Marks `message` for translation (tables built at import time: translate when shown)."""
    return message
