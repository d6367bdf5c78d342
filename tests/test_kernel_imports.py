"""What each notebook's kernel holds: only the heavy packages its own cells need.

One student's whole course must stay within 1 GiB on a hub with no kernel shut down
(bench/class_memory.py, bench/hub_class.py), and a kernel is ≈ 38 MiB before any cell runs:
every heavy package a kernel imports for nothing is paid once per notebook. So the course is
run as a student runs it (and as bench/class_memory.py measures it): the notebooks in order,
in one sandbox workspace, each in its own kernel, a last cell listing which heavy packages
that kernel imported. Each notebook has its line in `ALLOWED`, with the reason; a new
notebook must be given one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COURSE = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
pytestmark = [
    pytest.mark.notebook,  # the course's notebooks in real kernels (make test-notebooks)
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="kit server processes: POSIX"),
]

# Each one costs a kernel ≈ 7 (numpy) to 35 MiB (pandas, matplotlib) PSS, openai ≈ 20 MiB
# (≈ 29 MiB on a hub with ipykernel's own kernel, where it also imports aiohttp; the hub
# image's kernel, binder/kernel, keeps aiohttp out: tests/test_hub.py).
KIT_SERVER = {"starlette", "uvicorn", "scipy", "sklearn", "tiktoken", "torch"}
HEAVY = KIT_SERVER | {"numpy", "pandas", "matplotlib", "ipywidgets", "openai"}
SDK = {"openai"}  # a cell calls the SDK, directly or through helpers (client, jobs, chat…)
ALLOWED: dict[str, set[str]] = {
    "00_bienvenue": SDK,  # client.models.list()
    "01_installation": set(),  # counts tokens with the kit server: no encoding here
    "02_cle": {"ipywidgets"},  # the key form (no key to check in sandbox mode: no SDK)
    "03_dataset": {"ipywidgets"},  # the dataset table; the examples as a light table
    "04_envoi": SDK,
    "05_lancement": SDK,  # the models' facts as a light table (helpers.tables)
    "06_suivi": SDK | {"ipywidgets"},  # the job monitor; its chart and the loss are SVG
    "07_test": SDK,  # chat.compare is a light table
    # step 8's key-hiding proxy runs in the kernel (helpers.webdemo) and calls the SDK
    "08_page_web": SDK | {"starlette", "uvicorn"},
    "09_nouveau_projet": SDK,
    "10_erreurs": SDK,  # `import openai`: the SDK's exception classes
    "11_emporte_ton_modele": set(),  # asks the kit server with one plain GET (still_served)
    "12_evaluer": SDK,  # light tables and SVG charts (helpers.tables, helpers.charts)
    "13_preferences": SDK,
}
PROBE = (
    "import sys, json\n"
    f"print('MODULES', json.dumps(sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules)))"
)


def _stop_kit_servers(home: Path) -> None:
    for advert in home.glob("sandbox-*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            os.kill(int(json.loads(advert.read_text())["pid"]), signal.SIGINT)


@pytest.fixture(scope="module")
def course_imports(tmp_path_factory) -> dict[str, set[str] | str]:
    """The course in order in one workspace (kit server processes, as in class): notebook →
    its kernel's heavy packages (or the error that stopped it)."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    home = tmp_path_factory.mktemp("course-imports")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "OPENAI_"))}
    env.update(ATELIER_HOME=str(home), ATELIER_MODE="sandbox", ATELIER_SANDBOX_SPEED="1000")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    found: dict[str, set[str] | str] = {}
    try:
        for path in COURSE:
            nb = nbformat.read(path, as_version=4)
            nb.cells.append(nbformat.v4.new_code_cell(PROBE))
            km = KernelManager(kernel_name="python3")
            km.start_kernel(env=env, cwd=str(path.parent))
            try:
                NotebookClient(nb, km=km, timeout=300).execute()
                text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
                found[path.stem] = set(json.loads(text.split("MODULES", 1)[1]))
            except Exception as exc:  # noqa: BLE001 - reported by that notebook's test
                found[path.stem] = f"{type(exc).__name__}: {exc}"[:2000]
            finally:
                km.shutdown_kernel(now=True)
    finally:
        _stop_kit_servers(home)
    return found


def test_every_notebook_has_its_allowance():
    assert sorted(ALLOWED) == [p.stem for p in COURSE], (
        "give each notebook its line in ALLOWED (the heavy packages its cells need, and why)"
    )


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", [p.stem for p in COURSE])
def test_a_kernel_imports_only_what_its_cells_use(course_imports, name):
    modules = course_imports[name]
    assert not isinstance(modules, str), f"{name} did not run: {modules}"
    allowed = ALLOWED.get(name, set())
    assert not modules & KIT_SERVER - allowed, f"{name}: the kit server's packages {modules}"
    assert modules <= allowed, f"{name}'s kernel imported {sorted(modules - allowed)}"
