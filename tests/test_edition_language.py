"""Each edition speaks its own language (issue 23): the English notebooks' reference outputs
and the kit's English messages hold no French sentence; the French notebooks' reference
outputs hold none of the kit's English translations (the layer picked the right language).
The real API's messages are English in both editions: they are not the kit's translations."""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("babel")  # tools/translations.py reads the catalogs (requirements-dev.txt)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import translations  # noqa: E402

# French that English text never holds: accented letters, French quotes, French words.
FRENCH = re.compile(
    r"[éèêàùçôîâœ«»]|\b(?:les|des|une|est|pas|avec|pour|dans|ton|tes|votre|ligne|fichier|"
    r"exemples?|réponse|modèle)\b",
    re.IGNORECASE,
)
TAG = re.compile(r"<[^>]+>")
REFERENCE = "nbval-check-output"


def outputs_text(cell: dict) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append("".join(output["text"]))
        data = output.get("data", {})
        for kind in ("text/plain", "text/markdown", "text/html"):
            if kind in data:
                value = data[kind]
                text = "".join(value) if isinstance(value, list) else value
                parts.append(html.unescape(TAG.sub(" ", text)) if kind == "text/html" else text)
    return "\n".join(parts)


def reference_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if REFERENCE in c.get("metadata", {}).get("tags", [])]


def english_messages() -> list[tuple[str, str]]:
    found = []
    for domain in translations.DOMAINS:
        catalog = translations.read(translations.po_path("en", domain))
        for message in catalog or []:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found += [(ids[0], s) for s in strings if message.id and s]
    return found


FR_NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EN_NOTEBOOKS = sorted((ROOT / "notebooks" / "en").glob("[0-9][0-9]_*.ipynb"))


def test_the_finder_sees_french():
    assert FRENCH.search("Ton fichier a 3 exemples")
    assert FRENCH.search("« COUCOU »")
    assert not FRENCH.search("Your file has 3 examples: line 4, field `role`.")


def test_the_kit_english_messages_hold_no_french():
    french = [(i, s) for i, s in english_messages() if FRENCH.search(s)]
    assert not french, "\n".join(f"{i!r} → {s!r}" for i, s in french[:20])


def test_every_english_reference_cell_has_its_output():
    """The English twin of each French reference cell carries a reference output (so the next
    test reads real outputs: python tools/notebooks.py --outputs --edition en)."""
    assert len(EN_NOTEBOOKS) == len(FR_NOTEBOOKS)
    for fr, en in zip(FR_NOTEBOOKS, EN_NOTEBOOKS, strict=True):
        wanted = len(reference_cells(fr))
        have = [c for c in reference_cells(en) if c.get("outputs")]
        assert len(have) == wanted, f"{en.name}: {len(have)} of {wanted} reference outputs"


@pytest.mark.parametrize("path", EN_NOTEBOOKS, ids=lambda p: p.name)
def test_english_outputs_hold_no_french(path):
    for cell in reference_cells(path):
        text = outputs_text(cell)
        for line in text.splitlines():
            assert not FRENCH.search(line), f"{path.name}: {line!r}"


@pytest.mark.parametrize("path", FR_NOTEBOOKS, ids=lambda p: p.name)
def test_french_outputs_hold_none_of_the_kit_english(path):
    english = {s for i, s in english_messages() if s != i and len(s) >= 25 and "{" not in s}
    text = "\n".join(outputs_text(c) for c in reference_cells(path))
    leaked = [s for s in english if s in text]
    assert not leaked, f"{path.name}: {leaked[:5]}"
