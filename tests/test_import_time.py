"""`import helpers` stays instant because it is lazy: it loads no submodule of the kit and no
third-party package (the time itself is printed by bench/import_time.py), and the kit never
imports httpx/httpx2."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = (
    "import sys, json; before = set(sys.modules); import helpers; "
    "print(json.dumps(sorted(set(sys.modules) - before)))"
)


def _loaded_by_import_helpers() -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_import_helpers_loads_nothing_else_of_the_kit_nor_any_package():
    loaded = _loaded_by_import_helpers()
    assert "helpers" in loaded
    outside = [
        m for m in loaded if m != "helpers" and m.split(".")[0] not in sys.stdlib_module_names
    ]
    assert not outside, f"`import helpers` loads {outside}: keep it lazy (helpers/__init__.py)"


def test_a_public_name_loads_only_its_module():
    """`helpers.get_mode` needs settings, not openai, pandas or tiktoken."""
    code = (
        "import sys, json, helpers; helpers.get_mode(); "
        "print(json.dumps(sorted(m for m in ('openai', 'pandas', 'httpx', 'httpx2', 'tiktoken', "
        "'numpy', 'ipywidgets', 'starlette') if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_helpers_never_imports_httpx():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "helpers"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            stripped = line.strip()
            assert not stripped.startswith(("import httpx", "from httpx")), f"{path}: {line}"
