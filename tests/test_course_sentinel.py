"""Every notebook runs alone, in a fresh workspace, and never leaks the learner's key.

Each course notebook is executed in its own new workspace (so it must rebuild the earlier
steps itself, as on Colab) in sandbox mode, with `OPENAI_API_KEY` set to a random sentinel.
The sentinel — or any 16 consecutive characters of it — must then appear nowhere: not in a
cell output, not in the saved notebook, not in a workspace file (state, SQLite, logs), not
in what the kernel and its servers printed to stdout/stderr.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COURSE = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WINDOW = 16

RUNNER = r"""
import sys, nbformat
from nbclient import NotebookClient
source, target = sys.argv[1], sys.argv[2]
nb = nbformat.read(source, as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, target)
"""


def _leaks(blob: bytes, key: str) -> bool:
    """The whole key or any WINDOW consecutive characters of it (UTF-8 or UTF-16 encoded)."""
    for encoding in ("utf-8", "utf-16-le"):
        raw = blob
        for i in range(len(key) - WINDOW + 1):
            if key[i : i + WINDOW].encode(encoding) in raw:
                return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize("path", COURSE, ids=lambda p: p.stem)
def test_notebook_runs_alone_and_never_leaks_the_key(path: Path, tmp_path: Path):
    sentinel = "sk-" + "SENTINEL" + secrets.token_hex(24)  # built at run time: never in the repo
    home = tmp_path / "home"
    home.mkdir()
    saved = tmp_path / f"executed-{path.name}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "ATELIER_")) and k != "PYTEST_CURRENT_TEST"
    }
    env.update(
        {
            "OPENAI_API_KEY": sentinel,
            "ATELIER_HOME": str(home),
            "ATELIER_MODE": "sandbox",
            "ATELIER_SANDBOX_SPEED": "1000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    run = subprocess.run(
        [sys.executable, "-c", RUNNER, str(path), str(saved), str(path.parent)],
        env=env,
        capture_output=True,
        timeout=900,
        cwd=str(path.parent),
    )
    logs = run.stdout + run.stderr
    assert run.returncode == 0, (
        f"{path.name} failed when run alone in a fresh workspace:\n"
        + logs.decode("utf-8", "replace")[-4000:].replace(sentinel, "<SENTINEL>")
    )
    assert saved.is_file()
    places = {
        "kernel and server output (stdout/stderr)": logs,
        "saved notebook": saved.read_bytes(),
    }
    for file in home.rglob("*"):
        if file.is_file():
            places[f"workspace file {file.relative_to(home)}"] = file.read_bytes()
    leaked = [where for where, blob in places.items() if _leaks(blob, sentinel)]
    assert not leaked, f"{path.name}: the key leaked into {leaked}"
    assert len(places) > 2, "the workspace should hold the notebook's state"
