"""One owner per concept (issue 21): the mode and the engine names belong to `helpers.modes`,
the `ATELIER_*` variables to `helpers.settings` (and the step-8 proxy's own to
`helpers.proxy.ProxySettings`). These tests read helpers/'s code (AST) and fail on a
comparison with a mode's name, or a read of a setting's variable, anywhere else.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from conftest import REPO

from helpers.modes import ENGINE_NAMES, MODE_NAMES

HELPERS = REPO / "helpers"
#: The names a mode or an engine goes by: compared only by their owner.
NAMES = frozenset(MODE_NAMES) | frozenset(ENGINE_NAMES)
MODE_OWNER = HELPERS / "modes.py"


def _python_files() -> Iterator[Path]:
    yield from sorted(HELPERS.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _name_constant(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in NAMES:
        return node.value
    return None


def _names_in(node: ast.AST) -> list[str]:
    """Mode or engine names `node` stands for: a name, or a tuple/list/set literal of them."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [n for elt in node.elts if (n := _name_constant(elt))]
    name = _name_constant(node)
    return [name] if name else []


def _is_sys_modules(node: ast.AST) -> bool:
    """`sys.modules`: `"openai" in sys.modules` asks whether the SDK is imported (no mode)."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "modules"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def mode_comparisons(source: str) -> list[tuple[int, str]]:
    """(line, name) of every comparison (==, !=, is, in…, match) of a value with a mode or an
    engine name spelled as a string."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands[:-1], operands[1:], strict=True):
                if isinstance(op, ast.In | ast.NotIn):
                    names = _names_in(right)
                    if not _is_sys_modules(right):
                        names += _names_in(left)
                else:
                    names = _names_in(left) + _names_in(right)
                found += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.match_case):
            for sub in ast.walk(node.pattern):
                if isinstance(sub, ast.MatchValue) and (n := _name_constant(sub.value)):
                    found.append((sub.lineno, n))
    return found


def test_the_scan_finds_every_kind_of_mode_comparison():
    source = """
if mode == "sandbox": pass
if "openai" != mode: pass
if mode in ("sandbox", "local"): pass
if engine is not "simulated": pass
if "local" in modes: pass
match mode:
    case "openai": pass
    case Mode.LOCAL: pass
if "openai" in sys.modules: pass
if mode == Mode.SANDBOX or mode.traits.kit_server: pass
label = {"sandbox": "bac à sable"}.get(mode)
"""
    assert mode_comparisons(source) == [
        (2, "sandbox"),
        (3, "openai"),
        (4, "sandbox"),
        (4, "local"),
        (5, "simulated"),
        (6, "local"),
        (8, "openai"),
    ]


def test_no_mode_is_compared_as_a_string_outside_its_owner():
    offenders = []
    for path in _python_files():
        if path == MODE_OWNER:
            continue
        for line, name in mode_comparisons(path.read_text(encoding="utf-8")):
            offenders.append(f"{_relative(path)}:{line} compares with {name!r}")
    assert not offenders, (
        "Compare modes and engines through helpers.modes (Mode.X, mode.traits…, Engine.X):\n"
        + "\n".join(offenders)
    )


# --------------------------------------------------------------------------- settings

SETTINGS_OWNERS = {HELPERS / "settings" / "variables.py", HELPERS / "proxy" / "settings.py"}


def _is_environ(node: ast.AST) -> bool:
    """`os.environ` (or `environ` imported from os)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _variable_names(trees: list[ast.Module]) -> set[str]:
    """Module-level names bound to a setting's variable: `X_VAR = "ATELIER_…"` or
    `X_VAR = Settings.variable("…")`."""
    names = set()
    for tree in trees:
        for node in tree.body:
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                continue
            target, value = node.targets[0], node.value
            if not isinstance(target, ast.Name):
                continue
            literal = isinstance(value, ast.Constant) and str(value.value).startswith("ATELIER_")
            derived = (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "variable"
            )
            if literal or derived:
                names.add(target.id)
    return names


def _is_variable(node: ast.AST, names: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value.startswith("ATELIER_")
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Attribute):
        return node.attr in names
    return False


def environment_uses(tree: ast.Module, names: set[str]) -> list[int]:
    """Lines that read or write an `ATELIER_*` variable in `os.environ` (or `os.getenv`)."""
    lines = []
    for node in ast.walk(tree):
        key: ast.AST | None = None
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            owner = node.func.value
            if _is_environ(owner) or (
                node.func.attr == "getenv" and isinstance(owner, ast.Name) and owner.id == "os"
            ):
                key = node.args[0]
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            key = node.left
        if key is not None and _is_variable(key, names):
            lines.append(node.lineno)
    return lines


def test_the_scan_finds_every_read_of_a_setting():
    source = """
import os
from os import environ
A = os.environ.get("ATELIER_MODE")
B = os.environ["ATELIER_HOME"]
os.environ["ATELIER_HOME"] = "x"
C = os.getenv("ATELIER_MODE", "")
D = os.environ.get(IDLE_VAR, "")
E = "ATELIER_CLASS_URL" in os.environ
F = environ.setdefault(catalog.TURNS_VAR, "x")
G = os.environ.get("OPENAI_API_KEY")
H = os.environ.get(KEY_VAR)
"""
    names = {"IDLE_VAR", "TURNS_VAR"}
    assert environment_uses(ast.parse(source), names) == [4, 5, 6, 7, 8, 9, 10]
    assert _variable_names([ast.parse('X_VAR = "ATELIER_X"\nY = Settings.variable("y")')]) == {
        "X_VAR",
        "Y",
    }


def test_settings_are_read_by_their_owner_only():
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in _python_files()}
    names = _variable_names(list(trees.values()))
    offenders = [
        f"{_relative(path)}:{line}"
        for path, tree in trees.items()
        if path not in SETTINGS_OWNERS
        for line in environment_uses(tree, names)
    ]
    assert not offenders, (
        "Read (or set) ATELIER_* variables through helpers.settings (current(), put(), "
        "overridden(), environment()):\n" + "\n".join(offenders)
    )


def _settings_table():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "atelier_tools_settings_table", REPO / "tools" / "settings_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_settings_table_is_up_to_date():
    stale = [
        path.name
        for path, text in _settings_table().wanted().items()
        if path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"stale: {stale}; run `python tools/settings_table.py`"


def test_every_variable_named_in_helpers_is_in_the_table():
    """A variable the code names (read, or told to the learner) is a field of one of the two
    settings objects, so it has its row in docs/reglages.md."""
    import re

    documented = {row["var"] for row in _settings_table().rows()}
    named = set()
    for path in HELPERS.rglob("*"):
        if path.suffix in (".py", ".js", ".html") and path.is_file():
            text = path.read_text(encoding="utf-8")
            named |= set(re.findall(r"\bATELIER_[A-Z0-9_]*[A-Z0-9]\b", text))
    assert named <= documented, f"variables without a settings field: {sorted(named - documented)}"
    assert len(documented) == len(_settings_table().rows()), "a variable has two fields"
