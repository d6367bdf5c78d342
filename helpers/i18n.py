"""The kit's one translation layer: what a learner reads, in the learner's language.

The kit is written in French (the source language: every msgid is the French text) and
translated with gettext catalogs: `helpers/locale/<lang>/LC_MESSAGES/<domain>.po`, one domain
per area of the kit (DOMAINS), compiled to the `.mo` files committed beside them
(`python tools/translations.py` extracts, updates and compiles them with Babel;
tests/test_translations.py fails on a missing translation or a placeholder that differs).

How a module uses it:

    from .i18n import _, N_, ngettext

    print(_("Fichier vérifié : {n} exemples.").format(n=n))      # never an f-string in _()
    ngettext("{n} exemple", "{n} exemples", n).format(n=n)
    TITLES = {"ok": N_("Tout va bien")}                            # marked at import ...
    print(_(TITLES["ok"]))                                         # ... translated when shown

The language is the settings' (`helpers.settings.language()`: ATELIER_LANG > the notebook's
edition > the edition of the workspace's last notebook > the locale > French). This module sits
at the bottom of the kit's layers (everything may translate, the settings' own messages too),
so it reads the settings' language, `helpers.settings.language()`, by the module's name the
first time a text is translated (a static import would point up the layers, and wiring it in
`helpers/__init__.py` would load both at `import helpers`, which stays instant).
"""

from __future__ import annotations

import gettext
import importlib
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TypeVar

K = TypeVar("K")

SOURCE_LANGUAGE = "fr"
LOCALE_DIR = Path(__file__).parent / "locale"
# One catalog per area of the kit (tools/translations.py says which files each one holds).
DOMAINS = ("diagnoses", "checks", "learner", "servers")


def _settings_language() -> str:
    settings = importlib.import_module(f"{__package__}.settings")
    return str(settings.language())


_language_source: Callable[[], str] = _settings_language


def use_language_source(source: Callable[[], str]) -> None:
    """Where the language comes from (default: the settings'; a test or a tool may set another)."""
    global _language_source
    _language_source = source


def language() -> str:
    return _language_source()


def read_catalog(mo: Path) -> gettext.GNUTranslations | None:
    """The compiled catalog `mo`, or None when it is missing or unreadable (empty, truncated,
    not a .mo, bad encoding: gettext raises OSError, struct.error, UnicodeDecodeError…): its
    messages then stay in French rather than every message of the kit raising."""
    try:
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    except Exception:
        return None


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """Every domain's catalog for `lang`, chained; French (the source) is the identity, and
    so is a language the kit does not speak (only a plain code: `en`, never a path)."""
    chain: gettext.NullTranslations = gettext.NullTranslations()
    if lang == SOURCE_LANGUAGE or not (lang.isascii() and lang.isalpha()):
        return chain
    for domain in DOMAINS:
        found = read_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.mo")
        if found is not None:
            found.add_fallback(chain)
            chain = found
    return chain


def _(message: str) -> str:
    """`message` (French) in the learner's language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the learner's language."""
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks `message` for translation without translating it (tables built at import time:
    translate with `_()` when shown)."""
    return message


def in_language(lang: str, message: str) -> str:
    """`message` in a given language, whatever the learner's (a page served to others)."""
    return translations(lang).gettext(message)


def number(
    value: float, digits: int | None = 0, *, group: bool = False, lang: str | None = None
) -> str:
    """`value` with `digits` decimals (None: as few as needed) as the learner's language writes
    it: `0,25` in French, `0.25` in English; `group=True` separates the thousands (`12 345,5`
    with a narrow no-break space in French, `12,345.5` in English). `lang`: a given language (a
    page served to others), else the learner's. Standard library only (no Babel at run time)."""
    lang = lang or language()
    shape = "g" if digits is None else f".{digits}f"
    text = format(value, ("," if group else "") + shape)
    if lang != SOURCE_LANGUAGE:
        return text
    return text.replace(",", "\u202f").replace(".", ",")


class Translated(Mapping[K, str]):
    """A table of texts marked `N_()` at import time, read in the learner's language: every
    lookup translates (a table built once speaks the language of the moment it is read)."""

    def __init__(self, texts: Mapping[K, str]) -> None:
        self._texts = dict(texts)

    def __getitem__(self, key: K) -> str:
        return _(self._texts[key])

    def __iter__(self) -> Iterator[K]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)
