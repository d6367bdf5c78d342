"""The course notebooks are committed clean, and nothing in the repository looks like a key.

Clean = no outputs except the reference cells (tag `nbval-check-output`, which nbval reads,
and `keep_output` metadata),
no execution counts (reference cells keep 1, which nbval requires), no widget state, and
the generated cells (Colab install, badge, navigation, Colab edition) up to date — i.e.
`python tools/notebooks.py` would change nothing.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("**/*.ipynb"))
COURSE = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
ID_RE = re.compile(
    r"\b(file-|ftjob-|ftckpt_|ftevent-|chatcmpl-)[A-Za-z0-9]{6,}|\bft:[a-z0-9.-]+:[\w-]*:[\w-]*:\w{6,}"
)

# A real OpenAI key: `sk-` then 20+ characters (sk-proj-…, sk-svcacct-…, legacy sk-…).
KEY_RE = re.compile(r"sk-[A-Za-z0-9_\-]{20,}")
# Tests hold deliberate fake keys (to prove they never leak). Allowed there only when the
# fake is obviously one: it says so, or is a keyboard run nobody gets from OpenAI.
# `sk-sandbox-<fault>` keys ask the sandbox for a fault (helpers/kit_server/faults.py): not keys.
SANDBOX_FAULT_PREFIX = "sk-sandbox-"
FAKE_MARKERS = (
    "test",
    "secret",
    "sentinel",
    "fake",
    "demo",
    "example",
    "abcdefgh",
    "0123456789",
    "00000000",
)


def _tools():
    spec = importlib.util.spec_from_file_location(
        "atelier_tools_notebooks", REPO / "tools" / "notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_there_are_fourteen_course_notebooks():
    assert [p.name[:2] for p in COURSE] == [f"{i:02}" for i in range(14)]


def test_the_english_edition_has_the_same_notebooks():
    english = sorted((REPO / "notebooks" / "en").glob("[0-9][0-9]_*.ipynb"))
    tools = _tools()
    assert [p.name for p in english] == [tools.english_name(p) for p in COURSE]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in nb.get("metadata", {}), "widget state saved in the notebook"
    for cell in nb["cells"]:
        where = f"{path.name} cell {cell.get('id')}"
        if cell["cell_type"] != "code":
            assert "outputs" not in cell, where
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        meta = cell.get("metadata", {})
        keep = bool(meta.get("keep_output"))
        assert "NBVAL_" not in source, (
            f"{where}: nbval markers are cell tags (nbval-check-output…), not comments learners see"
        )
        assert keep == ("nbval-check-output" in meta.get("tags", [])), (
            f"{where}: keep_output and the nbval-check-output tag go together"
        )
        if not keep:
            assert cell["outputs"] == [], (
                f"{where}: outputs left in (run `python tools/notebooks.py`)"
            )
            assert cell["execution_count"] is None, f"{where}: execution count left in"
            continue
        assert cell["outputs"], (
            f"{where}: reference cell without its reference output (tools/notebooks.py --outputs)"
        )
        assert cell["execution_count"] == 1, (
            f"{where}: reference cells keep execution_count 1 for nbval"
        )
        for out in cell["outputs"]:
            assert WIDGET_MIME not in out.get("data", {}), (
                f"{where}: a widget cell must not be a reference cell"
            )
            assert out.get("output_type") != "error", f"{where}: reference output is an error"
            text = json.dumps(out, ensure_ascii=False)
            assert not ID_RE.search(text), (
                f"{where}: reference output prints an id ({ID_RE.search(text).group(0)})"
            )


def test_generated_cells_and_colab_edition_are_up_to_date():
    tools = _tools()
    stale = [
        str(p.relative_to(REPO))
        for p, text in tools.build().items()
        if not p.exists() or p.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run `python tools/notebooks.py` (stale: {stale})"


def test_every_cell_is_translated_into_the_same_program():
    """A French cell without its English translation (a French change included), a translated
    code cell that is another program, a link to nowhere: `tools/notebooks.py --check` fails."""
    problems = _tools().build_all().problems
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("edition", ["fr", "en"])
def test_colab_cell_installs_only_what_colab_lacks(edition, monkeypatch):
    tools = _tools()
    # set, then removed: monkeypatch puts back what was there before (the cell below sets
    # ATELIER_LANG in this process; left behind, the next tests would speak its language)
    monkeypatch.setenv("ATELIER_LANG", "fr")
    monkeypatch.delenv("ATELIER_LANG")
    source = tools.colab_setup_source(tools.FR if edition == "fr" else tools.EN)
    assert 'if "google.colab" in sys.modules:' in source
    assert tools.repository_url() in source
    for forbidden in ("jupyterlab", "nbval", "notebook>", "ipykernel", "--upgrade", '"-U"', '"-e"'):
        assert forbidden not in source, forbidden
    # Outside Colab the cell only touches sys.path when `helpers` is not importable.
    namespace: dict = {}
    exec(compile(source, "colab-setup", "exec"), namespace)  # noqa: S102 - our own generated code
    # Each edition's kernels speak its language (ATELIER_LANG unless the teacher set it): the
    # French one too, on Colab or a hub whose locale is English (issue 23's attack, finding 2).
    assert tools.os.environ.get("ATELIER_LANG") == edition


def _repo_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [REPO / name for name in out.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        skip = {".git", ".venv", ".atelier", "node_modules", "__pycache__"}
        return [
            p
            for p in REPO.rglob("*")
            if p.is_file()
            and not skip & set(p.relative_to(REPO).parts)
            and not p.relative_to(REPO).parts[0].startswith(".venv")
        ]


def test_nothing_in_the_repository_looks_like_a_real_key():
    found = []
    for path in _repo_files():
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rel = path.relative_to(REPO)
        for match in KEY_RE.finditer(text):
            key = match.group(0)
            if key.startswith(SANDBOX_FAULT_PREFIX):
                continue
            if rel.parts[0] == "tests" and any(m in key.lower() for m in FAKE_MARKERS):
                continue
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{rel}:{line}: {key[:6]}…")  # never print the whole thing
    assert not found, "key-like strings (sk- + 20 characters) found:\n" + "\n".join(found)
