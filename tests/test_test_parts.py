"""The test parts hold together: a test that needs a notebook kernel, a browser, Node, Promptfoo,
the Colab venv, a hub or torch says so with its marker (pyproject's markers), so that `make
check` (the tests with none of them) stays fast and each part of `make test` and CI finds its
tests; and the Makefile's parts name only declared markers."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

# What, in a test module's text, means it needs what the marker names.
NEEDS = {
    "notebook": ("NotebookClient", "KernelManager", "run_cells.py"),
    "browser": ("playwright",),
    "node": ('HERE / "node"', "tests/node"),
    "promptfoo": ('"promptfoo" / "node_modules"', "tests/promptfoo"),
    "colab": (".venv-colab",),
    "hub": ("hubkit",),
    "local": ("need_torch()",),
}


def _declared_markers() -> set[str]:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    block = text.split("markers = [", 1)[1].split("]", 1)[0]
    return set(re.findall(r'"(\w+):', block))


@pytest.mark.parametrize("path", sorted((REPO / "tests").glob("test_*.py")), ids=lambda p: p.stem)
def test_a_test_that_needs_something_says_so(path):
    text = path.read_text(encoding="utf-8")
    if path.name == "test_test_parts.py":
        return
    for marker, signs in NEEDS.items():
        if any(sign in text for sign in signs):
            assert f"pytest.mark.{marker}" in text, (
                f"{path.name} needs what `{marker}` names: mark it (pytestmark or @pytest.mark.{marker})"
            )


def test_the_parts_name_declared_markers():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    needs = re.search(r"^NEEDS := (.+)$", makefile, re.M)
    parts = re.search(r"^TEST_PARTS := (.+)$", makefile, re.M)
    assert needs and parts
    markers = set(needs.group(1).split()) - {"or"}
    assert markers == set(NEEDS), markers ^ set(NEEDS)
    assert markers <= _declared_markers()
    for part in parts.group(1).split():
        assert part in ("check", "notebooks", "notebooks-en") or part in markers, part
        assert re.search(rf"^(test-{part}\b|.*\btest-{part}\b.*:)", makefile, re.M), part


def test_the_signs_are_seen():
    """The scan finds the tests it is meant to find (a sign renamed would silence it)."""
    found = {
        marker
        for marker, signs in NEEDS.items()
        for path in (REPO / "tests").glob("test_*.py")
        if path.name != "test_test_parts.py"
        and any(sign in path.read_text(encoding="utf-8") for sign in signs)
    }
    assert found == set(NEEDS), set(NEEDS) - found
