"""What a learner reads in the notebooks: French, honest, paced, no test plumbing.

Static checks over the committed notebooks (issue 15): the welcome notebook fits a 10-minute
slot, the preparation cell is collapsed below the title, learner cells hold no test
plumbing, every assert explains itself in French, the verdicts say what the mode really
did, step 8's check does not need the proxy stopped, and the last notebook says how to close
the kernels.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COURSE = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COURSE_EN = sorted((REPO / "notebooks" / "en").glob("[0-9][0-9]_*.ipynb"))
WORD_RE = re.compile(r"[^\W\d_]")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def _learner_code(path: Path) -> list[str]:
    return [
        _src(c)
        for c in _cells(path)
        if c["cell_type"] == "code" and not c.get("metadata", {}).get("atelier")
    ]


def _markdown(path: Path) -> str:
    return "\n".join(
        _src(c)
        for c in _cells(path)
        if c["cell_type"] == "markdown" and not c.get("metadata", {}).get("atelier")
    )


def _by_name(prefix: str) -> Path:
    return next(p for p in COURSE if p.name.startswith(prefix))


def test_welcome_fits_ten_minutes():
    words = [w for w in _markdown(_by_name("00")).split() if WORD_RE.search(w)]
    assert len(words) <= 700, f"notebook 00 has {len(words)} words of text (at most 700)"


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_preparation_is_collapsed_below_the_title(path: Path):
    cells = _cells(path)
    roles = [c.get("metadata", {}).get("atelier") for c in cells]
    setup = roles.index("colab-setup")
    assert setup == 2, f"{path.name}: the preparation cell comes right after the title"
    assert cells[1]["cell_type"] == "markdown" and _src(cells[1]).startswith("# "), path.name
    meta = cells[setup]["metadata"]
    assert meta["jupyter"]["source_hidden"] is True and meta["cellView"] == "form"
    assert _src(cells[setup]).startswith("#@title ⚙️ Préparation")
    assert "colab-badge.svg" not in _src(cells[0]), "an image badge is broken offline"


PLUMBING = ("today=models.", "SANDBOX_TODAY", "re.sub", "__name__", "NBVAL", "import re\n")


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_no_test_plumbing_in_learner_cells(path: Path):
    for source in _learner_code(path):
        for word in PLUMBING:
            assert word not in source, f"{path.name}: « {word} » in a learner cell:\n{source}"


def _asserts(source: str) -> list[ast.Assert]:
    clean = "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("!", "%"))
    )
    return [n for n in ast.walk(ast.parse(clean)) if isinstance(n, ast.Assert)]


@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_every_assert_says_what_is_wrong_in_french(path: Path):
    for source in _learner_code(path):
        for node in _asserts(source):
            line = ast.unparse(node)
            assert node.msg is not None, f"{path.name}: assert without a message: {line}"
            message = ast.unparse(node.msg)
            if isinstance(node.msg, ast.Name | ast.Attribute | ast.Call):  # rapport.summary()
                continue
            assert re.search(r"[a-zàâçéèêëîïôûù]{3,} \S", message), (
                f"{path.name}: the message should be a French sentence: {line}"
            )


def test_verdicts_are_true_to_the_mode():
    text04 = "\n".join(_learner_code(_by_name("04")))
    assert "en ligne" not in text04, "a sandbox file is not « en ligne »"
    assert '"sandbox": "dans le bac à sable' in text04
    text07 = "\n".join(_learner_code(_by_name("07")))
    assert 'if helpers.get_mode() == "sandbox"' in text07 and "rien n'a été entraîné" in text07
    text06 = _learner_code(_by_name("06"))[-1]
    assert 'if helpers.get_mode() == "sandbox"' in text06 and "simulé" in text06
    text02 = "\n".join(_learner_code(_by_name("02")))
    assert "key_verdict" in text02 and "check_key(" not in text02


def test_step_8_stays_up_after_run_all():
    sources = _learner_code(_by_name("08"))
    assert not any(s.strip() == "webdemo.stop()" for s in sources), "Run All would stop the page"
    check = sources[-1]
    assert "✅" in check and "current()" not in check, "the ✅ must not depend on stopping"


def test_the_last_notebook_says_how_to_close_the_kernels():
    text = _markdown(COURSE[-1]) if COURSE[-1].name.startswith("10") else _markdown(_by_name("10"))
    assert "Shut Down All Kernels" in text and "Arrêter tous les noyaux" in text
    assert "Déconnecter et supprimer l'environnement d'exécution" in text  # Colab


# Terms a learner meets, and the notebook where each is first explained (a parenthesis
# or a colon right after it).
TERMS = [
    ("01", "`httpx2`"),
    ("01", "`peft`"),
    ("03", "*Cookbook* d'OpenAI"),
    ("08", "Node.js"),
]


@pytest.mark.parametrize(("prefix", "term"), TERMS)
def test_terms_are_explained_at_first_use(prefix: str, term: str):
    text = _markdown(_by_name(prefix))
    assert term in text, f"{term} should be explained in notebook {prefix}"
    after = text[text.index(term) + len(term) :][:200]
    assert re.match(r"\s*(\(|,|:| —|\s+(la|le|les|un|une)\b)", after), (
        f"{term} is not explained where it first appears in {prefix}: {after[:80]!r}"
    )


def test_text_matches_the_code():
    text10 = _markdown(_by_name("10"))
    assert "check=False" not in text10 and "`envoie()`" in text10
    app = (REPO / "web" / "app.js").read_text(encoding="utf-8")
    local_branch = app[
        app.index("if (!configured)") : app.index(
            'return t(\n      "Impossible', app.index("if (!configured)") + 20
        )
    ]
    assert "GitHub Pages" not in local_branch and "ATELIER_PROXY" not in local_branch


# --------------------------------------------------------------------------- the English edition

FRENCH_WORDS = re.compile(r"\b(le|la|les|du|des|une|est|pas|ton|tes|ta|il|dans|avec|pour)\b")


def test_english_welcome_fits_ten_minutes():
    path = next(p for p in COURSE_EN if p.name.startswith("00"))
    words = [w for w in _markdown(path).split() if WORD_RE.search(w)]
    assert len(words) <= 700, f"notebook 00 has {len(words)} words of text (at most 700)"


@pytest.mark.parametrize("path", COURSE_EN, ids=lambda p: p.stem)
def test_english_preparation_is_collapsed_below_the_title(path: Path):
    cells = _cells(path)
    assert [c.get("metadata", {}).get("atelier") for c in cells].index("colab-setup") == 2
    assert cells[1]["cell_type"] == "markdown" and _src(cells[1]).startswith("# ")
    assert _src(cells[2]).startswith("#@title ⚙️ Setup")
    assert cells[2]["metadata"]["jupyter"]["source_hidden"] is True


@pytest.mark.parametrize("path", COURSE_EN, ids=lambda p: p.stem)
def test_no_test_plumbing_in_english_learner_cells(path: Path):
    for source in _learner_code(path):
        for word in PLUMBING:
            assert word not in source, f"{path.name}: « {word} » in a learner cell:\n{source}"


@pytest.mark.parametrize("path", COURSE_EN, ids=lambda p: p.stem)
def test_every_english_assert_says_what_is_wrong_in_english(path: Path):
    for source in _learner_code(path):
        for node in _asserts(source):
            line = ast.unparse(node)
            assert node.msg is not None, f"{path.name}: assert without a message: {line}"
            if isinstance(node.msg, ast.Name | ast.Attribute | ast.Call):  # report.summary()
                continue
            message = ast.unparse(node.msg)
            assert re.search(r"[a-z]{3,} \S", message), f"{path.name}: not a sentence: {line}"
            assert not FRENCH_WORDS.search(message), f"{path.name}: still French: {line}"


def test_every_notebook_showing_a_widget_or_the_page_is_seen_in_a_browser():
    """The browser rehearsal (tests/test_browser_widgets.py) runs only these notebooks: a new
    widget in another notebook must join them."""
    from browserkit import BROWSER_NOTEBOOKS, RENDERED_IN_A_BROWSER

    showing = {
        path.stem
        for path in COURSE
        if any(
            marker in _src(cell)
            for cell in _cells(path)
            if cell["cell_type"] == "code"
            for marker in RENDERED_IN_A_BROWSER
        )
    }
    assert showing, "the scan found no widget at all"
    assert showing <= set(BROWSER_NOTEBOOKS), showing - set(BROWSER_NOTEBOOKS)
    assert {p.stem for p in COURSE} >= set(BROWSER_NOTEBOOKS)
