"""The kit's one translation layer (helpers.i18n, helpers/locale): every message the code marks
has its English translation, with the same placeholders; the catalogs and their compiled .mo
are up to date with the code; no French sentence is left outside the layer."""

from __future__ import annotations

import ast
import re
import string
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from helpers import i18n

pytest.importorskip("babel")  # a maintainer's tool (requirements-dev.txt); not in test-oldest's set
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import translations  # noqa: E402

FRENCH = re.compile(
    r"[éèêàùçôîâœ«»ÉÈÀÇ]|\b(?:le|la|les|des|du|une|est|pas|ton|ta|tes|ce|cette|il|avec)\b",
    re.IGNORECASE,
)
MARKERS = {"_", "N_", "ngettext", "in_language"}
KEEP = "i18n: keep"  # a line comment: this French text is data, not something a learner reads

# Modules not yet through the layer, with how many French literals each still holds: the count
# may only go down (issue 23); a module done is removed.
NOT_YET: dict[str, int] = {}


def placeholders(text: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def catalogs():
    for lang in translations.LANGUAGES:
        for domain in translations.DOMAINS:
            catalog = translations.read(translations.po_path(lang, domain))
            if catalog is not None:
                yield lang, domain, catalog


def test_the_layer_and_the_tool_name_the_same_domains():
    assert tuple(translations.DOMAINS) == i18n.DOMAINS


def test_every_module_has_one_domain():
    for path in translations.modules():
        translations.domain_of(path)


def test_the_catalogs_and_their_mo_are_up_to_date():
    out = subprocess.run(
        [sys.executable, "tools/translations.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_message_is_translated():
    missing = [
        f"{lang}/{domain}: {msgid!r}"
        for lang, domain, catalog in catalogs()
        for msgid in translations.missing(catalog)
    ]
    assert not missing, "python tools/translations.py --missing\n" + "\n".join(missing[:40])


def test_a_translation_keeps_the_placeholders():
    wrong = []
    for lang, domain, catalog in catalogs():
        for message in catalog:
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            expected = set().union(*(placeholders(i) for i in ids))
            for translated in strings:
                if translated and placeholders(translated) != expected:
                    wrong.append(f"{lang}/{domain}: {ids[0]!r} → {translated!r}")
    assert not wrong, "\n".join(wrong)


DATA_PATH = re.compile(r"\bdata/[\w./-]*\w")


def test_a_data_file_named_in_english_is_the_english_edition_s():
    """Rehearsal F3: the dataset form suggested `data/coucou.jsonl` (the French edition's data)
    to English learners. A data file an English text names lives under data/en/ and exists."""
    wrong = []
    for lang, domain, catalog in catalogs():
        for message in catalog:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in filter(None, strings):
                for found in DATA_PATH.findall(text):
                    if not Path(found).suffix:  # a folder (data/, data/perso/)
                        continue
                    if not found.startswith(f"data/{lang}/") or not (ROOT / found).is_file():
                        wrong.append(f"{lang}/{domain}: {found} in {text!r}")
    assert not wrong, "\n".join(wrong)


def test_a_message_in_two_domains_has_one_translation():
    """The domains are chained into one translation: a msgid two areas share (a plural in one,
    a singular in the other) must read the same in both, else one area speaks the other's."""
    seen: dict[tuple[str, str], tuple[str, object]] = {}
    clashes = []
    for lang, domain, catalog in catalogs():
        for message in catalog:
            if not message.id:
                continue
            key = (lang, message.id if isinstance(message.id, str) else message.id[0])
            value = message.string if isinstance(message.string, tuple) else (message.string,)
            if key in seen and seen[key][1] != value and seen[key][1][0] != value[0]:
                clashes.append(f"{key[1]!r}: {seen[key][0]} {seen[key][1]} ≠ {domain} {value}")
            seen.setdefault(key, (domain, value))
    assert not clashes, "\n".join(clashes)


def test_the_placeholder_check_sees_a_difference():
    assert placeholders("{n} exemples") == {"n"}
    assert placeholders("{n} examples in {file}") != placeholders("{n} exemples")
    assert placeholders("{n") == {"<unbalanced braces>"}


def test_the_layer_reads_the_compiled_catalogs(monkeypatch):
    i18n.translations.cache_clear()
    for lang, _domain, catalog in catalogs():
        for message in list(catalog)[1:6]:
            if isinstance(message.id, str) and message.string and not message.fuzzy:
                assert i18n.in_language(lang, message.id) == message.string
    assert i18n.in_language("fr", "Bonjour") == "Bonjour"


def unwrapped_french(path: Path) -> list[tuple[int, str]]:
    """French string literals (f-strings included) outside the layer's markers, docstrings
    and lines marked `# i18n: keep`."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    kept = set()
    with path.open("rb") as handle:
        for tok in tokenize.tokenize(handle.readline):
            if tok.type == tokenize.COMMENT and KEEP in tok.string:
                kept.add(tok.start[0])
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if isinstance(node.func, ast.Attribute):
                name = node.func.attr
            if name in MARKERS:
                for sub in ast.walk(node):
                    skip.add(id(sub))
    found = []
    for node in ast.walk(tree):
        if (
            id(node) in skip
            or isinstance(node, ast.JoinedStr) is False
            and not (isinstance(node, ast.Constant) and isinstance(node.value, str))
        ):
            continue
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                skip.add(id(part))
            text = "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)
        else:
            text = node.value
        lines = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        if FRENCH.search(text) and not lines & kept:
            found.append((node.lineno, text))
    return found


def test_the_french_finder_sees_an_unwrapped_sentence(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text(
        '"""Docstring : ignorée."""\n'
        "from helpers.i18n import _\n"
        'a = _("Déjà traduit : {n}")\n'
        'b = "Pas encore traduit"\n'
        'c = f"Il reste {a} exemples"\n'
        'd = "données de test"  # i18n: keep (a file name)\n'
        'e = "plain English text"\n',
        encoding="utf-8",
    )
    assert [line for line, _ in unwrapped_french(sample)] == [4, 5]


@pytest.mark.parametrize(
    "path", translations.modules(), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_no_french_outside_the_layer(path):
    rel = path.relative_to(ROOT).as_posix()
    found = unwrapped_french(path)
    allowed = NOT_YET.get(rel, 0)
    shown = "\n".join(f"{rel}:{line}: {text[:80]!r}" for line, text in found[:20])
    assert len(found) <= allowed, f"wrap in _() (helpers.i18n) or mark `# {KEEP}`:\n{shown}"
    if rel in NOT_YET:
        assert len(found) == allowed, f"{rel}: {len(found)} left, lower NOT_YET to it"


def test_a_module_alone_speaks_the_settings_language():
    """The layer asks the settings for the language even when nothing imported them yet (a
    module used alone, `from helpers import models`)."""
    code = (
        "import sys; from helpers import models; "
        "assert 'helpers.settings' not in sys.modules; "
        "print(models.estimate_cost([100], models.DEFAULT_MODEL).describe())"
    )
    env = {**__import__("os").environ, "ATELIER_LANG": "en"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "1 example × " in out.stdout and "billed tokens" in out.stdout, out.stdout


UNTRUE_NOW = re.compile(
    r"still (?:in )?French|translation is under way|once the kit's messages are translated",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    "doc",
    [
        "README.en.md",
        *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs/en").glob("*.md")),
    ],
)
def test_the_english_docs_do_not_say_the_kit_speaks_french(doc):
    """Rehearsal F4: README.en and docs/en/class-server.md said the kit's messages were still
    French, after they were translated."""
    text = " ".join((ROOT / doc).read_text(encoding="utf-8").split())
    assert not UNTRUE_NOW.search(text), UNTRUE_NOW.search(text)
