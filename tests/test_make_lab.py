"""`make lab` / `make lab-en` (rehearsal F5, F14): JupyterLab's root is the repository (data/,
.atelier/ reachable), it opens on the edition's first notebook, and LAB_ARGS passes options
(as root: --allow-root). Read with `make -n` (nothing installed, nothing started)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make absent")


def lab_command(target: str, *args: str) -> str:
    out = subprocess.run(
        ["make", "-n", "-s", target, *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return next(line for line in out.stdout.splitlines() if "jupyter lab" in line)


@pytest.mark.parametrize(
    ("target", "first"),
    [("lab", "notebooks/00_bienvenue.ipynb"), ("lab-en", "notebooks/en/00_welcome.ipynb")],
)
def test_lab_serves_the_repository_and_opens_the_first_notebook(target, first):
    line = lab_command(target, "LAB_ARGS=--allow-root --no-browser --port 8899")
    assert f'--ServerApp.root_dir="{ROOT}"' in line
    assert f"--LabApp.default_url=/lab/tree/{first}" in line
    assert (ROOT / first).is_file()
    assert line.endswith("--allow-root --no-browser --port 8899")
    assert not line.rstrip().endswith(".ipynb")  # a notebook argument would root Jupyter there


@pytest.mark.parametrize("readme", ["README.md", "README.en.md"])
def test_the_readmes_say_how_to_pass_jupyter_options(readme):
    assert 'LAB_ARGS="--allow-root' in (ROOT / readme).read_text(encoding="utf-8")
