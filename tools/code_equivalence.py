"""Is a translated notebook code cell the same program as the original?

Two editions of a notebook (French, English) must run the same code; only what a reader
reads may differ. `program_differences` compares the two editions' code cells, in order, as
Python ASTs after IPython's input transformer (`!shell` and `%magic` lines become calls):

- free: comments (gone from the AST), the text of string constants and f-strings (an
  f-string's `{expressions}` must all be there, in any order, with any format spec), and
  the names the notebook itself binds (variables, functions, parameters, loop and
  comprehension targets, `as` names), renamed consistently across the whole notebook: one
  original name ↔ one translated name, and never onto a name the other edition uses for
  something else (a builtin, an imported module);
- equal: everything else — calls, attributes, keyword names, numbers, bytes, operators,
  structure, imports, and the command line of a `!shell` / `%magic` call.

Used by tools/notebooks.py --check (a translated cell that does something else fails).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

# IPython turns `!cmd` / `%magic` into get_ipython().<method>(...): those strings are code.
MAGIC_METHODS = frozenset({"system", "getoutput", "run_line_magic", "run_cell_magic"})
IGNORED_FIELDS = frozenset({"ctx", "type_comment", "kind"})


class NotSameProgram(Exception):
    """The first difference found, as a sentence for the translator."""


def python_source(cell_source: str) -> str:
    """The cell as plain Python: IPython's transformer rewrites magics and shell escapes."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def parse(cell_source: str) -> ast.Module:
    return ast.parse(python_source(cell_source))


def bound_names(trees: Iterable[ast.AST]) -> tuple[set[str], set[str]]:
    """(names the code binds — free to rename —, names bound as function parameters).

    Names bound by imports are not free: imports must be equal."""
    bound: set[str] = set()
    params: set[str] = set()
    imported: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                bound.add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
                params.add(node.arg)
            elif isinstance(
                node,
                ast.FunctionDef
                | ast.AsyncFunctionDef
                | ast.ClassDef
                | ast.ExceptHandler
                | ast.MatchAs
                | ast.MatchStar,
            ):
                if node.name:
                    bound.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                bound.add(node.rest)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                imported.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound - imported, params - imported


@dataclass
class Renaming:
    """The notebook-wide correspondence between the two editions' own names."""

    left_bound: set[str]
    right_bound: set[str]
    left_params: set[str] = field(default_factory=set)
    right_params: set[str] = field(default_factory=set)
    forward: dict[str, str] = field(default_factory=dict)
    backward: dict[str, str] = field(default_factory=dict)

    def copy(self) -> Renaming:
        return Renaming(
            self.left_bound,
            self.right_bound,
            self.left_params,
            self.right_params,
            dict(self.forward),
            dict(self.backward),
        )

    def adopt(self, other: Renaming) -> None:
        self.forward, self.backward = other.forward, other.backward

    def pair(self, left: str, right: str) -> None:
        left_own, right_own = left in self.left_bound, right in self.right_bound
        if not left_own and not right_own:
            if left != right:
                raise NotSameProgram(
                    f"`{left}` became `{right}` (only the notebook's own names may be renamed)"
                )
            return
        if left_own:
            if not right_own:
                raise NotSameProgram(
                    f"`{left}` (a name the notebook defines) became `{right}`, which is not "
                    "one of the translation's own names (a builtin, an import, the kit's)"
                )
        elif right_own:
            raise NotSameProgram(
                f"`{left}` (a builtin, an import, the kit's) became `{right}`, a name the "
                "translation defines for itself"
            )
        known_right = self.forward.setdefault(left, right)
        known_left = self.backward.setdefault(right, left)
        if known_right != right:
            raise NotSameProgram(
                f"`{left}` is `{known_right}` elsewhere in the notebook but `{right}` here"
            )
        if known_left != left:
            raise NotSameProgram(
                f"`{right}` stands for `{known_left}` elsewhere but for `{left}` here"
            )

    def keyword(self, left: str | None, right: str | None) -> None:
        if left in self.left_params and right in self.right_params:
            self.pair(left, right)  # a parameter of a function the notebook defines
        elif left != right:
            raise NotSameProgram(f"keyword `{left}=` became `{right}=`")


def _is_text(node: object) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _interpolations(node: ast.AST) -> list[ast.AST]:
    """The code inside an f-string (its `{…}` values, and those nested in format specs)."""
    if not isinstance(node, ast.JoinedStr):
        return []
    found = []
    for part in node.values:
        if isinstance(part, ast.FormattedValue):
            found.append(part.value)
            if part.format_spec is not None:
                found.extend(_interpolations(part.format_spec))
    return found


def _is_magic(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in MAGIC_METHODS
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "get_ipython"
    )


def _show(node: object) -> str:
    try:
        text = ast.unparse(node) if isinstance(node, ast.AST) else repr(node)
    except Exception:  # noqa: BLE001 - only for a message
        text = type(node).__name__
    return text if len(text) <= 80 else text[:77] + "…"


class _Comparer:
    def __init__(self, renaming: Renaming):
        self.renaming = renaming

    def same(self, left: object, right: object, strict_text: bool = False) -> None:
        if _is_text(left) and _is_text(right) and not strict_text:
            self._same_text(left, right)
            return
        if type(left) is not type(right):
            raise NotSameProgram(f"`{_show(left)}` became `{_show(right)}`")
        if isinstance(left, list):
            if len(left) != len(right):
                raise NotSameProgram(
                    f"{len(left)} items became {len(right)}: "
                    f"`{', '.join(map(_show, left))}` vs `{', '.join(map(_show, right))}`"
                )
            for a, b in zip(left, right, strict=True):
                self.same(a, b, strict_text)
            return
        if not isinstance(left, ast.AST):
            if left != right:
                raise NotSameProgram(f"`{left!r}` became `{right!r}`")
            return
        self._same_node(left, right, strict_text)

    def _same_node(self, left: ast.AST, right: ast.AST, strict_text: bool) -> None:
        r = self.renaming
        skip = set(IGNORED_FIELDS)
        if isinstance(left, ast.Name):
            r.pair(left.id, right.id)
            return
        if isinstance(left, ast.arg):
            r.pair(left.arg, right.arg)
            skip.add("arg")
        elif isinstance(left, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            r.pair(left.name, right.name)
            skip.add("name")
        elif isinstance(left, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
            if (left.name is None) != (right.name is None):
                raise NotSameProgram(f"`{_show(left)}` became `{_show(right)}`")
            if left.name is not None:
                r.pair(left.name, right.name)
            skip.add("name")
        elif isinstance(left, ast.MatchMapping) and left.rest and right.rest:
            r.pair(left.rest, right.rest)
            skip.add("rest")
        elif isinstance(left, ast.Global | ast.Nonlocal):
            for a, b in zip(left.names, right.names, strict=False):
                r.pair(a, b)
            skip.add("names")
        elif isinstance(left, ast.keyword):
            r.keyword(left.arg, right.arg)
            skip.add("arg")
        elif isinstance(left, ast.Call) and _is_magic(left):
            try:
                self.same(left.func, right.func)
                self.same(left.args, right.args, strict_text=True)
                self.same(left.keywords, right.keywords, strict_text=True)
            except NotSameProgram:
                raise NotSameProgram(
                    f"a `!` or `%` line changed: `{_show(left)}` became `{_show(right)}`"
                ) from None
            return
        try:
            for name in left._fields:
                if name not in skip:
                    self.same(getattr(left, name, None), getattr(right, name, None), strict_text)
        except NotSameProgram as exc:
            if isinstance(left, ast.stmt | ast.expr) and not str(exc).startswith("in `"):
                raise NotSameProgram(f"in `{_show(left)}`: {exc}") from None
            raise

    def _same_text(self, left: ast.AST, right: ast.AST) -> None:
        """Free text; the f-string's interpolated expressions are code, in any order."""
        mine, theirs = _interpolations(left), _interpolations(right)
        if len(mine) != len(theirs):
            raise NotSameProgram(
                f"the text `{_show(left)}` interpolates {len(mine)} value(s), "
                f"its translation `{_show(right)}` {len(theirs)}"
            )
        remaining = list(theirs)
        for expr in mine:
            for candidate in remaining:
                trial = self.renaming.copy()
                try:
                    _Comparer(trial).same(expr, candidate)
                except NotSameProgram:
                    continue
                self.renaming.adopt(trial)
                remaining.remove(candidate)
                break
            else:
                raise NotSameProgram(
                    f"`{{{_show(expr)}}}` of the text `{_show(left)}` is missing from "
                    f"its translation `{_show(right)}`"
                )


def program_differences(pairs: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """Compare a notebook's code cells with their translations, in notebook order.

    `pairs` = [(original source, translated source)]; returns [(index in pairs, why)] for the
    cells that are not the same program (a cell that does not parse is reported too)."""
    problems: list[tuple[int, str]] = []
    trees: list[tuple[ast.Module, ast.Module] | None] = []
    for i, (left, right) in enumerate(pairs):
        try:
            trees.append((parse(left), parse(right)))
        except SyntaxError as exc:
            trees.append(None)
            problems.append((i, f"does not parse: {exc.msg} (line {exc.lineno})"))
    parsed = [t for t in trees if t is not None]
    left_bound, left_params = bound_names(t[0] for t in parsed)
    right_bound, right_params = bound_names(t[1] for t in parsed)
    renaming = Renaming(left_bound, right_bound, left_params, right_params)
    for i, pair in enumerate(trees):
        if pair is None:
            continue
        trial = renaming.copy()  # a cell that differs teaches the notebook no names
        try:
            _Comparer(trial).same(pair[0], pair[1])
        except NotSameProgram as exc:
            problems.append((i, str(exc)))
        else:
            renaming.adopt(trial)
    return sorted(problems)
