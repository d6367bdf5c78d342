"""The house's structure: no import cycle in helpers/, no private name used from another
module, and the import-linter contracts hold.

Imports inside functions count (grimp reads them as import-linter does): a lazy import is
still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Set
from pathlib import Path

import pytest
from conftest import REPO

grimp = pytest.importorskip("grimp")

# TODO(dataset): the token counting that goes to one home in `tokens` (issue 10).
PENDING_PRIVATE = {
    ("helpers.dataset", "helpers.tokens._value_text"),
}


def import_cycles(imports: Mapping[str, Set[str]]) -> list[list[str]]:
    """Groups of modules that import each other in a loop (Tarjan's strongly connected
    components of more than one module, or a module importing itself), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(imports.get(module, ())):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in imports.get(module, ()):
                cycles.append(sorted(group))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return sorted(cycles)


def helpers_imports() -> dict[str, set[str]]:
    graph = grimp.build_graph("helpers", cache_dir=None)
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def test_cycle_finder_finds_cycles():
    imports = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},
        "d": set(),
        "e": {"e"},
        "f": {"d"},
    }
    assert import_cycles(imports) == [["a", "b", "c"], ["e"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_helpers():
    cycles = import_cycles(helpers_imports())
    assert not cycles, f"import cycles in helpers/: {cycles}"


def _private(name: str) -> bool:
    # `_` alone is gettext's public name (helpers.i18n._: every module translates with it)
    return name.startswith("_") and not name.startswith("__") and name != "_"


def private_uses(
    source: str, module: str, is_package: bool, is_module: Callable[[str], bool]
) -> list[str]:
    """Private names of other kit modules that `source` (module `module`) uses: imported
    (`from .tokens import _x`), read through a module (`tokens._x`), or a private module
    imported from outside its package (`from ..widgets import _common`)."""
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(source)
    modules: dict[str, str] = {}  # local name -> kit module
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("helpers.") and alias.asname:
                    modules[alias.asname] = alias.name
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            source_module = ".".join(parts + ([node.module] if node.module else []))
        else:
            source_module = node.module or ""
        if source_module.split(".")[0] != "helpers":
            continue
        owner = source_module.rpartition(".")[0]
        if any(_private(p) for p in source_module.split(".")) and owner != package:
            found.append(source_module)
        for alias in node.names:
            full = f"{source_module}.{alias.name}"
            if is_module(full):
                modules[alias.asname or alias.name] = full
                if _private(alias.name) and source_module != package:
                    found.append(full)
            elif _private(alias.name) and source_module != module:
                found.append(full)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and _private(node.attr)
        ):
            found.append(f"{modules[node.value.id]}.{node.attr}")
    return found


def _kit_modules() -> dict[str, Path]:
    found = {}
    for path in sorted((REPO / "helpers").rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def test_private_name_finder():
    kit = {"helpers.tokens", "helpers.jobs", "helpers.widgets._common"}
    uses = private_uses(
        "from .tokens import _value_text, count\n"
        "from . import jobs\n"
        "from .widgets import _common\n"
        "jobs._job_id('x'); jobs.resolve_job_id('x')\n",
        "helpers.dataset",
        False,
        kit.__contains__,
    )
    assert uses == [
        "helpers.tokens._value_text",
        "helpers.widgets._common",
        "helpers.jobs._job_id",
    ]
    inside = "from ._common import box\nfrom . import _common\n"
    assert private_uses(inside, "helpers.widgets.key_form", False, kit.__contains__) == []
    gettext = "from .i18n import N_, _, ngettext\n"  # gettext's `_` is public
    assert private_uses(gettext, "helpers.jobs", False, kit.__contains__) == []


def test_no_private_name_used_across_modules():
    """What another module needs is public."""
    kit = _kit_modules()
    uses = {
        (module, name)
        for module, path in kit.items()
        for name in private_uses(
            path.read_text(encoding="utf-8"), module, path.name == "__init__.py", kit.__contains__
        )
    }
    assert not uses - PENDING_PRIVATE, sorted(uses - PENDING_PRIVATE)


def test_import_contracts_kept(capsys):
    """`lint-imports` with pyproject's contracts (layers, proxy alone, engines independent)."""
    cli = pytest.importorskip("importlinter.cli")
    code = cli.lint_imports(
        config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True
    )
    assert code == 0, capsys.readouterr().out


def _contracts() -> list[dict]:
    tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def _named(contract: dict) -> set[str]:
    """The modules a contract names (a name covers its submodules)."""
    if contract["type"] == "layers":
        names = {
            part.strip().strip("()")
            for layer in contract["layers"]
            for part in layer.replace(":", "|").split("|")
        }
        containers = contract.get("containers") or [""]
        return {f"{c}.{n}" if c else n for c in containers for n in names}
    if contract["type"] == "forbidden":
        return set(contract["source_modules"])
    return set(contract.get("modules", []))


def uncovered(modules: Set[str], contracts: list[dict]) -> list[str]:
    """Modules of the kit that no import contract names, and children of a contract's
    container that its layers leave out."""
    named = set().union(*(_named(c) for c in contracts))
    out = [
        m
        for m in sorted(modules)
        if m != "helpers" and not any(m == n or m.startswith(n + ".") for n in named)
    ]
    for contract in contracts:
        for container in contract.get("containers", []):
            layers = _named(contract)
            out += [
                m
                for m in sorted(modules)
                if m.startswith(container + ".")
                and m.count(".") == container.count(".") + 1
                and m not in layers
                # a subpackage whose modules have their layers (engines.local, resources.files)
                and not any(n.startswith(m + ".") for n in layers)
            ]
    return out


def test_the_coverage_finder_sees_a_module_left_out():
    contracts = [
        {"type": "layers", "layers": ["helpers.a | helpers.b", "helpers.pkg"]},
        {"type": "layers", "containers": ["helpers.pkg"], "layers": ["x", "(y)"]},
    ]
    modules = {"helpers", "helpers.a", "helpers.b", "helpers.pkg", "helpers.pkg.x"}
    assert uncovered(modules, contracts) == []
    # a subpackage is covered by its modules' layers
    contracts[1]["layers"].append("sub.m")
    assert uncovered(modules | {"helpers.pkg.sub", "helpers.pkg.sub.m"}, contracts) == []
    assert uncovered(modules | {"helpers.c", "helpers.pkg.z"}, contracts) == [
        "helpers.c",
        "helpers.pkg.z",
    ]


def test_every_module_is_inside_an_import_contract():
    """lint-imports covers the whole kit: every module is named by a contract (a layer, a
    forbidden source, an independent module), and every module of a contract's container
    (the kit server's) has its layer there."""
    assert uncovered(set(_kit_modules()), _contracts()) == []
