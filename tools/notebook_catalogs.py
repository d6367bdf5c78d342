"""The translation catalogs of the course notebooks (gettext .po files, read and written by Babel).

One catalog per French notebook: `notebooks/locale/<lang>/<French stem>.po`. One entry per
distinct French body cell (not the cells tools/notebooks.py generates): msgid = the French
cell's exact source, msgstr = the translated cell's source. An empty or fuzzy msgstr is a
missing translation. The file is written deterministically (a fixed header, no dates, no
tool version, entries in cell order, one po line per source line) so that `--check` can
compare it with what the tool would write.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

GENERATED_ROLES = ("header", "colab-setup", "footer", "part")
# Babel adds these flags by looking at the msgid: not ours, and Babel versions disagree on them.
FORMAT_FLAGS = frozenset({"python-format", "python-brace-format"})


def header(lang: str, notebook_name: str) -> str:
    return (
        f"# Translation ({lang}) of the course notebook notebooks/{notebook_name}.\n"
        "# msgid: the French cell, exactly; msgstr: the translated cell. Kept up to date by\n"
        "# tools/notebooks.py (new cells get an empty msgstr; a changed cell, its old\n"
        "# translation marked fuzzy); translate the msgstr, then run tools/notebooks.py.\n"
        'msgid ""\n'
        'msgstr ""\n'
        '"Project-Id-Version: atelier-fine-tuning\\n"\n'
        f'"Language: {lang}\\n"\n'
        '"MIME-Version: 1.0\\n"\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Content-Transfer-Encoding: 8bit\\n"\n'
        "\n"
    )


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def body_cells(nb: dict) -> list[dict]:
    """The cells a person wrote (not the header, preparation, footer the tool generates)."""
    return [c for c in nb["cells"] if c.get("metadata", {}).get("atelier") not in GENERATED_ROLES]


def template(nb: dict) -> Catalog:
    """The msgids of a French notebook, in cell order, each noting its kind of cell."""
    catalog = Catalog(fuzzy=False)
    for cell in body_cells(nb):
        text = source(cell)
        if not text.strip() or text in catalog:
            continue
        note = f"{cell['cell_type']} cell"
        if "nbval-check-output" in cell.get("metadata", {}).get("tags", []):
            note += " (reference output)"
        catalog.add(text, auto_comments=[note])
    return catalog


def read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, charset="utf-8")


def updated(old: Catalog | None, nb: dict) -> Catalog:
    """The catalog for the notebook as it is now: kept translations, new cells untranslated,
    a changed cell with the old translation of the closest former cell, marked fuzzy (Babel's
    matching); entries of cells that no longer exist are dropped."""
    new = template(nb)
    if old is None:
        return new
    previous = {m.id: m.previous_id for m in old if m.id and m.previous_id}
    old.update(new, no_fuzzy_matching=False, update_header_comment=False)
    old.obsolete.clear()
    for message in old:
        if message.id and message.fuzzy and not message.previous_id:
            message.previous_id = previous.get(message.id, [])
        if message.id and not message.fuzzy:
            message.previous_id = []
    return old


def translation(catalog: Catalog | None, text: str) -> str | None:
    """The translated cell, or None when missing, empty or fuzzy."""
    if catalog is None:
        return None
    message = catalog.get(text)
    if message is None or message.fuzzy or not message.string:
        return None
    return message.string if isinstance(message.string, str) else None


def set_translation(catalog: Catalog, text: str, translated: str) -> bool:
    """Record a translation (clearing fuzzy); False when `text` is not a msgid."""
    message = catalog.get(text)
    if message is None:
        return False
    message.string = translated
    message.flags.discard("fuzzy")
    message.previous_id = []
    return True


def dumps(catalog: Catalog, lang: str, notebook_name: str) -> str:
    out = io.BytesIO()
    clean = Catalog(fuzzy=False)
    for message in catalog:
        if not message.id:
            continue
        copy = Message(
            message.id,
            message.string,
            auto_comments=message.auto_comments,
            user_comments=message.user_comments,
            flags=message.flags,
            previous_id=message.previous_id,
        )
        copy.flags = set(message.flags) - FORMAT_FLAGS
        clean[message.id] = copy
    write_po(out, clean, width=0, omit_header=True, no_location=True, include_previous=True)
    return header(lang, notebook_name) + out.getvalue().decode("utf-8")
