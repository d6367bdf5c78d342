"""Every notebook runs alone, in a fresh workspace, never leaks the learner's key, and its
kernel holds only the client side.

Each course notebook is executed in its own new workspace (so it must rebuild the earlier
steps itself, as on Colab) in sandbox mode, with `OPENAI_API_KEY` set to a random sentinel.
The sentinel — or any 16 consecutive characters of it — must then appear nowhere: not in a
cell output, not in the saved notebook, not in a workspace file (state, SQLite, logs), not
in what the kernel and its servers printed to stdout/stderr. The same run checks what the
kernel imported (a last cell lists it): never the kit server's packages (they live in the
workspace's server process), and of the display packages only what its own cells show.

This is the course's only "alone" run; make test's notebooks part also runs them in order
under nbval (one workspace, reference outputs) and the browser tests run the notebooks that
show widgets (tests/browserkit.py).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.notebook

REPO = Path(__file__).resolve().parent.parent
COURSE = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WINDOW = 16

# The kernel's heavy modules: the kit server's never (a kernel talks to the workspace's kit
# server process), the others only where the notebook's own cells need them.
SERVER_SIDE = {"starlette", "uvicorn", "scipy", "sklearn"}
DISPLAY = {"pandas", "matplotlib", "ipywidgets"}
ALLOWED = {
    "00_bienvenue": set(),
    "01_installation": set(),
    "02_cle": {"ipywidgets"},  # the key form
    "03_dataset": {"ipywidgets", "pandas"},  # the dataset table, its DataFrame
    "04_envoi": set(),
    "05_lancement": {"pandas"},  # the models' table (its own cell imports pandas)
    "06_suivi": {"ipywidgets", "matplotlib", "pandas"},  # the job monitor and its chart
    "07_test": {"pandas"},  # compare() shows a table
    # step 8's key-hiding proxy runs in the kernel (helpers.webdemo): Starlette and uvicorn
    "08_page_web": {"starlette", "uvicorn"},
    "09_nouveau_projet": set(),
    "10_erreurs": set(),
    "11_emporte_ton_modele": set(),
    "12_evaluer": set(),  # its tables and charts are light (helpers.tables, helpers.charts)
    "13_preferences": set(),  # pairs, jobs, style rates: light tables, no widget
}
PROBE = (
    "import sys, json\n"
    f"print('MODULES', json.dumps(sorted(m for m in {sorted(SERVER_SIDE | DISPLAY)!r} "
    "if m in sys.modules)))"
)
RUNNER = r"""
import sys, nbformat
from nbclient import NotebookClient
source, target, folder, probe = sys.argv[1:5]
nb = nbformat.read(source, as_version=4)
nb.cells.append(nbformat.v4.new_code_cell(probe))
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": folder}}).execute()
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
        [sys.executable, "-c", RUNNER, str(path), str(saved), str(path.parent), PROBE],
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

    probe = nbformat.read(saved, as_version=4).cells[-1]
    text = "".join(o.get("text", "") for o in probe.outputs)
    modules = set(json.loads(text.split("MODULES", 1)[1]))
    print(f"{path.stem}: {sorted(modules)}")
    allowed = ALLOWED.get(path.stem, DISPLAY)  # a new notebook: no server side, at least
    assert modules <= allowed, f"{path.name}: the kernel imported {modules - allowed}"
