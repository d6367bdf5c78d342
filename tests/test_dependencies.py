"""Declared dependencies only: every third-party module that the kit, its tests, benches and
tools import is declared (requirements.txt, requirements-dev.txt or pyproject's extras), and
every declared test dependency is used (imported, or a tool a make target runs)."""

from __future__ import annotations

import ast
import functools
import re
import sys
from importlib import metadata

from conftest import REPO

FOLDERS = ("helpers", "tests", "bench", "tools")
# Imported only where they exist, never installed by the kit: a guarded import.
PROVIDED_BY_THE_PLACE = {
    "google": "google.colab: Colab's own package, imported only on Colab",
    "jupyterhub": "the hub image's; the class server imports it only on a hub (make test-hub)",
}
# Modules of packages not installed in this environment (the `local` extra, .venv-local).
NOT_INSTALLED_HERE = {
    "torch": "torch",
    "transformers": "transformers",
    "peft": "peft",
    "accelerate": "accelerate",
    "gguf": "gguf",
    "huggingface_hub": "huggingface-hub",
    "tokenizers": "tokenizers",
    "trl": "trl",  # bench/local_dpo_trainers.py, the dpo-comparison extra
    "datasets": "datasets",
}
# Declared for what a make target runs, not for an import.
TOOLS = {
    "pytest-timeout": "pyproject's timeout",
    "pytest-xdist": "make check (-n 2)",
    "nbval": "make test's notebooks part",
    "ruff": "make check",
    "import-linter": "make check (lint-imports)",
    "mypy": "make check",
    "ipykernel": "the notebooks' kernel",
    "jupyterlab": "make lab, the browser tests",
    "jupyterlab-language-pack-fr-fr": "JupyterLab in French",
    "tenacity": "the Cookbook notebook (tests/test_cookbook_function_calling.py) imports it",
    "scikit-learn": "imported as sklearn",
    "pyyaml": "imported as yaml",
    "websocket-client": "imported as websocket",
    "jupyter-client": "imported as jupyter_client",
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        names.add(_normal(re.split(r"[\s<>=!~\[;]", line, maxsplit=1)[0]))
    return names


def _declared() -> set[str]:
    names = _requirement_names((REPO / "requirements.txt").read_text(encoding="utf-8"))
    names |= _requirement_names((REPO / "requirements-dev.txt").read_text(encoding="utf-8"))
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    project = pyproject.split("dependencies = [", 1)[1].split("[project.scripts]", 1)[0]
    names |= {_normal(n) for n in re.findall(r'"([A-Za-z0-9_.\-]+)\s*(?:[<>=!~][^"]*)?"', project)}
    return names


@functools.cache
def _imports() -> dict[str, set[str]]:
    """Top-level third-party module → the files importing it."""
    first_party = {"helpers"} | {p.stem for f in FOLDERS[1:] for p in (REPO / f).glob("*.py")}
    found: dict[str, set[str]] = {}
    for folder in FOLDERS:
        for path in (REPO / folder).rglob("*.py"):
            if "node_modules" in path.parts:  # an npm package's own Python files
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in first_party or top == "__future__":
                        continue
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


@functools.cache
def _installed() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    if module in NOT_INSTALLED_HERE:
        return {NOT_INSTALLED_HERE[module]}
    return {_normal(d) for d in _installed().get(module, [])}


def test_every_imported_package_is_declared():
    declared = _declared()
    missing = {
        module: sorted(files)[:3]
        for module, files in _imports().items()
        if module not in PROVIDED_BY_THE_PLACE and not _distributions(module) & declared
    }
    assert not missing, f"imported but not declared (requirements*.txt, pyproject): {missing}"


def test_every_declared_test_dependency_is_used():
    dev = _requirement_names((REPO / "requirements-dev.txt").read_text(encoding="utf-8"))
    used = set(TOOLS)
    for module in _imports():
        used |= _distributions(module)
    unused = sorted(dev - used)
    assert not unused, f"declared in requirements-dev.txt but never used: {unused}"


def test_the_scan_sees_a_real_import():
    """The scan itself works: it finds what the kit is known to import."""
    found = _imports()
    assert "helpers/tokens.py" in found["tiktoken"]
    assert "yaml" in found and _distributions("yaml") == {"pyyaml"}
