"""The kit's message catalogs (helpers/locale): extract, update, compile, check.

    python tools/translations.py            # extract every domain, update the catalogs, compile
    python tools/translations.py --check    # fail if a catalog or a .mo is not up to date
    python tools/translations.py --missing  # list the msgids without a translation

The source language is French: msgid = the French text as the code writes it (in `_()`, `N_()`,
`ngettext()`, `in_language()`), msgstr = the translation. One domain per area of the kit
(DOMAINS: which files each one holds; every module of helpers/ belongs to exactly one). Babel
extracts and writes; the .po files are written deterministically (sorted, no locations, no
dates) so that two people translating different areas never meet in a merge; the compiled .mo
files are committed (the kit reads them with the standard library's gettext, no Babel needed).
A new message gets an empty msgstr; a changed one keeps its former translation marked fuzzy
(Babel's matching) — both count as missing for tests/test_translations.py.
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import sys
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / "helpers"
LOCALE = HELPERS / "locale"
LANGUAGES = ("en",)
FIXED_DATE = datetime(2026, 12, 8, tzinfo=timezone.utc)
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "in_language": (2,)}
# Babel adds these flags by looking at the msgid: not ours, and Babel versions disagree on them.
FORMAT_FLAGS = frozenset({"python-format", "python-brace-format"})

# domain -> the files it holds (globs relative to helpers/); keep in step with helpers.i18n.DOMAINS
DOMAINS: dict[str, tuple[str, ...]] = {
    # what goes wrong and why: the API's refusals and the kit's diagnoses, jobs, chat, models
    "diagnoses": (
        "errors/*.py",
        "french.py",
        "exceptions.py",
        "client.py",
        "jobs.py",
        "chat.py",
        "repair.py",
        "models.py",
        "messages.py",
        "api_messages.py",
    ),
    # the dataset checks, tokens, the settings and the command line
    "checks": (
        "dataset/*.py",
        "dataset_io.py",
        "preference_data.py",
        "tokens.py",
        "settings/*.py",
        "argparse_fr.py",
        "cli.py",
        "doctor.py",
        "__main__.py",
        "__init__.py",
        "verbs.py",
        "workspace.py",
        "fileio.py",
        "heap.py",
        "modes.py",
        "advert.py",
        "i18n.py",
    ),
    # what the notebooks show: widgets, banners, evaluation, tables and charts
    "learner": (
        "widgets/*.py",
        "notebook.py",
        "evaluation.py",
        "preference_eval.py",
        "promptfoo.py",
        "webdemo.py",
        "tables.py",
        "charts.py",
    ),
    # the servers the kit starts and the local engine: kit server, class server, teacher page
    "servers": (
        "kit_server/*.py",
        "kit_server/*/*.py",
        "kit_server/*/*/*.py",
        "local/*.py",
        "local/*/*.py",
        "proxy/*.py",
        "asgi_thread.py",
    ),
}


def modules() -> list[Path]:
    return sorted(p for p in HELPERS.rglob("*.py") if "__pycache__" not in p.parts)


def domain_of(path: Path) -> str:
    rel = path.relative_to(HELPERS).as_posix()
    found = [d for d, globs in DOMAINS.items() if any(fnmatch.fnmatch(rel, g) for g in globs)]
    if len(found) != 1:
        raise SystemExit(f"helpers/{rel}: {len(found)} domains in tools/translations.py (DOMAINS)")
    return found[0]


def extracted(domain: str) -> Catalog:
    """The messages the code of `domain` marks, in a fresh catalog (ids only)."""
    catalog = Catalog(fuzzy=False)
    for path in modules():
        if domain_of(path) != domain:
            continue
        rel = path.relative_to(ROOT).as_posix()
        for lineno, message, comments, _context in extract_from_file(
            "python", path, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        ):
            catalog.add(message, locations=[(rel, lineno)], auto_comments=comments)
    return catalog


def po_path(lang: str, domain: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"


def read(path: Path) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, charset="utf-8")


def updated(old: Catalog | None, new: Catalog) -> Catalog:
    """Kept translations, new messages untranslated, a changed one with its closest former
    translation marked fuzzy; messages no longer in the code dropped."""
    if old is None:
        return new
    old.update(new, no_fuzzy_matching=False, update_header_comment=False)
    old.obsolete.clear()
    return old


def header(lang: str, domain: str) -> str:
    return (
        f"# The kit's messages ({domain}), {lang}. msgid: the French text in the code; msgstr: its\n"
        "# translation. Kept up to date by tools/translations.py (a new message gets an empty\n"
        "# msgstr, a changed one its former translation marked fuzzy): translate, remove the\n"
        "# fuzzy flag, then run python tools/translations.py. Keep every {placeholder}.\n"
        'msgid ""\n'
        'msgstr ""\n'
        '"Project-Id-Version: atelier-fine-tuning\\n"\n'
        f'"Language: {lang}\\n"\n'
        '"MIME-Version: 1.0\\n"\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Content-Transfer-Encoding: 8bit\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
        "\n"
    )


def dumps(catalog: Catalog, lang: str, domain: str) -> str:
    clean = Catalog(fuzzy=False)
    for message in sorted((m for m in catalog if m.id), key=lambda m: str(m.id)):
        copy = Message(
            message.id,
            message.string,
            auto_comments=message.auto_comments,
            flags=set(message.flags) - FORMAT_FLAGS,
            previous_id=message.previous_id if message.fuzzy else [],
        )
        clean[message.id] = copy
    out = io.BytesIO()
    write_po(out, clean, width=0, omit_header=True, no_location=True, include_previous=True)
    return header(lang, domain) + out.getvalue().decode("utf-8")


def compiled(catalog: Catalog) -> bytes:
    # Babel writes the creation and revision dates into the .mo's header: fixed, so that the
    # same catalog always compiles to the same bytes (--check compares them).
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def missing(catalog: Catalog) -> list[str]:
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def run(check: bool) -> list[str]:
    """Update (or, with check, compare) every catalog and .mo; the files that differ."""
    stale = []
    for lang in LANGUAGES:
        for domain in DOMAINS:
            path = po_path(lang, domain)
            text = dumps(updated(read(path), extracted(domain)), lang, domain)
            current = path.read_text(encoding="utf-8") if path.exists() else None
            mo = path.with_suffix(".mo")
            with io.BytesIO(text.encode("utf-8")) as handle:
                binary = compiled(read_po(handle, charset="utf-8"))
            if current != text or not mo.exists() or mo.read_bytes() != binary:
                stale.append(str(path.relative_to(ROOT)))
                if not check:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text, encoding="utf-8")
                    mo.write_bytes(binary)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if anything is not up to date")
    parser.add_argument("--missing", action="store_true", help="list untranslated messages")
    args = parser.parse_args(argv)
    if args.missing:
        count = 0
        for lang in LANGUAGES:
            for domain in DOMAINS:
                catalog = read(po_path(lang, domain))
                for msgid in missing(catalog) if catalog else []:
                    print(f"{lang}/{domain}: {msgid!r}")
                    count += 1
        return 1 if count else 0
    stale = run(check=args.check)
    for name in stale:
        print(("not up to date: " if args.check else "updated: ") + name)
    if args.check and stale:
        print("run: python tools/translations.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
