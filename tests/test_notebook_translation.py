"""The English notebooks' checker (tools/notebooks.py, tools/code_equivalence.py).

A French cell without its English translation fails (a French code change included: its old
translation becomes fuzzy), and a translated code cell must be the same program: own names
may be renamed consistently, comments and text may change, nothing else.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("babel")
pytest.importorskip("IPython")

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools"


def _load(name: str):
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location(f"atelier_tools_{name}", TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


tools = _load("notebooks")
equivalence = _load("code_equivalence")
catalogs = _load("notebook_catalogs")


def differences(*pairs: tuple[str, str]) -> list[tuple[int, str]]:
    return equivalence.program_differences(list(pairs))


# --------------------------------------------------------------------------- same program


def test_renamed_variables_comments_and_text_are_the_same_program():
    french = (
        "chemin = helpers.write_jsonl(exemples, helpers.workspace_dir() / 'dataset.jsonl')\n"
        "print(f'Écrit : {chemin} ({len(exemples)} exemples)')  # le fichier du cours"
    )
    english = (
        "# the course's file\n"
        "path = helpers.write_jsonl(examples, helpers.workspace_dir() / 'dataset.jsonl')\n"
        "print(f'{len(examples)} examples written to {path}')"
    )
    assert differences(("exemples = []", "examples = []"), (french, english)) == []


def test_a_changed_call_attribute_keyword_or_number_is_not():
    base = "rapport = helpers.check_file(chemin, model='x')\nprint(rapport.cost(3).describe())"
    assert differences(("chemin = 1", "path = 1"), (base, base.replace("chemin", "path"))) == []
    for changed in (
        base.replace("check_file", "check_bytes"),  # another function
        base.replace(".describe()", ".summary()"),  # another attribute
        base.replace("model=", "engine="),  # another keyword
        base.replace("cost(3)", "cost(4)"),  # another number
        base.replace("print(", "repr("),  # another builtin
        base + "\nprint('one more line')",  # more code
    ):
        problems = differences(
            ("chemin = 1", "path = 1"), (base, changed.replace("chemin", "path"))
        )
        assert [i for i, _ in problems] == [1], changed


def test_names_are_renamed_consistently_across_the_notebook():
    cells = [("fichier = 1", "file = 1"), ("print(fichier)", "print(upload)")]
    assert [i for i, _ in differences(*cells)] == [1]
    # two French names onto one English name would merge two variables
    assert differences(("a = 1\nb = 2", "x = 1\nx = 2"))
    # an own name onto a builtin would shadow it
    assert differences(("liste = [1]", "list = [1]"), ("print(list(liste))", "print(list(list))"))
    # a builtin or a kit name never changes
    assert differences(("print(helpers.get_mode())", "print(helpers.mode())"))
    assert differences(("import json as j", "import json as js"))


def test_fstring_values_are_code_and_stay_whatever_their_order():
    french = 'print(f"Nous sommes le {jour:%d/%m/%Y}, {n} exemples")'
    assert (
        differences(
            ("jour = n = 1", "day = n = 1"), (french, 'print(f"{n} examples on {day:%Y-%m-%d}")')
        )
        == []
    )
    assert differences(("jour = n = 1", "day = n = 1"), (french, 'print(f"{n} examples")'))
    assert differences(("jour = n = 1", "day = n = 1"), (french, 'print(f"{n + 1} on {day}")'))


def test_magics_and_shell_lines_are_compared_as_written():
    assert differences(('!"{sys.executable}" -m helpers --help',) * 2) == []
    assert differences(
        ('!"{sys.executable}" -m helpers --help', '!"{sys.executable}" -m helpers -h')
    )
    assert differences(("%time x = 1", "%timeit x = 1"))
    assert differences(("#@title Préparation\nx = 1", "#@title Setup\nx = 1")) == []


def test_a_cell_that_does_not_parse_is_reported():
    assert differences(("x = 1", "x = (1"))[0][0] == 0


# --------------------------------------------------------------------------- the catalogs


@pytest.fixture
def french03() -> dict:
    path = REPO / "notebooks" / "03_dataset.ipynb"
    course = [(p.name, tools._title(p)) for p in tools.course_paths()]
    return tools.refresh(json.loads(path.read_text(encoding="utf-8")), course, 3)


@pytest.fixture
def catalog03(french03):
    path = tools.catalog_path(REPO / "notebooks" / "03_dataset.ipynb")
    return catalogs.updated(catalogs.read(path), french03)


def _code_cell(nb: dict, needle: str) -> dict:
    return next(c for c in nb["cells"] if c["cell_type"] == "code" and needle in c["source"])


def test_the_committed_catalog_translates_every_cell(french03, catalog03):
    english, problems, _ = tools.translate(french03, catalog03, None)
    assert problems == []
    assert tools.code_problems(french03, english) == []


def test_a_missing_translation_fails(french03, catalog03):
    cell = _code_cell(french03, "check_bytes(abime)")
    catalog03[cell["source"]].string = ""
    english, problems, _ = tools.translate(french03, catalog03, None)
    assert len(problems) == 1 and f"cell {cell['id']} untranslated" in problems[0]
    assert _code_cell(english, "check_bytes(abime)")["source"] == cell["source"]  # French kept


def test_a_changed_french_code_cell_fails_until_the_english_follows(french03, catalog03):
    changed = copy.deepcopy(french03)
    cell = _code_cell(changed, "rapport.cost().describe()")
    cell["source"] = cell["source"].replace("rapport.cost()", "rapport.cost('auto')")
    catalog = catalogs.updated(catalog03, changed)
    message = catalog[cell["source"]]
    assert message.fuzzy and message.string  # the old English, to review
    _, problems, _ = tools.translate(changed, catalog, None)
    assert [p for p in problems if f"cell {cell['id']} untranslated" in p]
    # The translator updates the English the same way: the check passes again.
    catalogs.set_translation(
        catalog, cell["source"], message.string.replace("cost()", "cost('auto')")
    )
    english, problems, _ = tools.translate(changed, catalog, None)
    assert problems == [] and tools.code_problems(changed, english) == []


def test_an_english_cell_that_is_another_program_fails(french03, catalog03):
    cell = _code_cell(french03, "rapport.cost().describe()")
    english = catalog03[cell["source"]].string
    catalogs.set_translation(
        catalog03, cell["source"], english.replace(".describe()", ".summary()")
    )
    translated, _, _ = tools.translate(french03, catalog03, None)
    problems = tools.code_problems(french03, translated)
    assert len(problems) == 1 and f"code cell {cell['id']}" in problems[0], problems


def test_catalog_files_round_trip_exactly(french03, catalog03):
    text = catalogs.dumps(catalog03, "en", "03_dataset.ipynb")
    path = tools.catalog_path(REPO / "notebooks" / "03_dataset.ipynb")
    assert text == path.read_text(encoding="utf-8")
    assert "Generated-By" not in text and "POT-Creation-Date" not in text  # no version, no date


def test_reference_cells_wait_for_english_outputs(french03, catalog03):
    english, _, pending = tools.translate(french03, catalog03, None)
    french_refs = [c for c in french03["cells"] if tools.is_reference(c)]
    assert pending == len(french_refs) > 0
    assert not any(tools.is_reference(c) or c.get("outputs") for c in english["cells"])
    # once `--outputs --edition en` wrote them, they are kept (for the same English source)
    ran = copy.deepcopy(english)
    for twin, cell in zip(french03["cells"], ran["cells"], strict=True):
        if tools.is_reference(twin):
            cell["metadata"].update(twin["metadata"])
            cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["ok\n"]}]
    again, _, pending = tools.translate(french03, catalog03, ran)
    assert pending == 0
    assert sum(tools.is_reference(c) and bool(c["outputs"]) for c in again["cells"]) == len(
        french_refs
    )


def test_english_links_must_lead_somewhere():
    nb = {
        "cells": [
            {
                "cell_type": "markdown",
                "id": "1",
                "metadata": {},
                "source": "[ok](00_welcome.ipynb)",
            },
            {
                "cell_type": "markdown",
                "id": "2",
                "metadata": {},
                "source": "[no](00_bienvenue.ipynb)",
            },
            {"cell_type": "markdown", "id": "3", "metadata": {}, "source": "[up](../../README.md)"},
        ]
    }
    problems = tools.link_problems(nb, tools.EN_NOTEBOOKS)
    assert len(problems) == 1 and "00_bienvenue.ipynb" in problems[0]


def test_harvest_takes_the_english_edited_in_jupyter(tmp_path, monkeypatch, french03):
    """A translator edits notebooks/en/03_dataset.ipynb in Jupyter; --harvest writes its cells
    into the catalog. A markdown cell still identical to the French is not taken."""
    french = REPO / "notebooks" / "03_dataset.ipynb"
    english = json.loads((tools.EN_NOTEBOOKS / "03_dataset.ipynb").read_text(encoding="utf-8"))
    po = tmp_path / "locale" / "en" / "03_dataset.po"
    po.parent.mkdir(parents=True)
    po.write_text(tools.catalog_path(french).read_text(encoding="utf-8"), encoding="utf-8")
    fr_body = [c for c in french03["cells"] if not c["metadata"].get("atelier")]
    en_body = [c for c in english["cells"] if not c["metadata"].get("atelier")]
    title, other = fr_body[0]["source"], fr_body[2]["source"]  # two markdown cells
    assert fr_body[2]["cell_type"] == "markdown"
    en_body[0]["source"] = "# 03 · Your own dataset"
    en_body[2]["source"] = other  # left in French by mistake
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "03_dataset.ipynb").write_text(json.dumps(english), encoding="utf-8")
    monkeypatch.setattr(tools, "EN_NOTEBOOKS", tmp_path / "en")
    monkeypatch.setattr(tools, "LOCALE", tmp_path / "locale")
    before = catalogs.read(po)[other].string
    assert tools.harvest([french]) == []
    catalog = catalogs.read(po)
    assert catalogs.translation(catalog, title) == "# 03 · Your own dataset"
    assert catalog[other].string == before != other
