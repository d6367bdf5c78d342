"""The widget tests again, under Colab's versions (ipywidgets 7.7.1, openai 2.54, pandas 2.2.3).

Needs a second virtual environment, `.venv-colab` (`make venv-colab`), or
`ATELIER_COLAB_PYTHON` pointing at an interpreter that has those versions. Skipped with a
reason on a laptop without it; fails in CI, where `.ci/run` builds it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, require

from helpers.widgets import compat

pytestmark = pytest.mark.colab

COLAB_PYTHON = Path(
    os.environ.get("ATELIER_COLAB_PYTHON") or REPO / ".venv-colab" / "bin" / "python"
)
WIDGET_TESTS = [
    "tests/test_widgets_compat.py",
    "tests/test_widgets_key_form.py",
    "tests/test_widgets_dataset_table.py",
    "tests/test_widgets_dataset_table_pairs.py",
    "tests/test_widgets_job_monitor.py",
]


@pytest.mark.slow
def test_widget_tests_pass_with_colab_versions():
    if not compat.IPYWIDGETS_8:
        pytest.skip(
            "this interpreter already runs ipywidgets 7.7: the widget tests above were the Colab run"
        )
    require(COLAB_PYTHON.exists(), f"no Colab-like environment at {COLAB_PYTHON} (make venv-colab)")
    probe = subprocess.run(
        [
            str(COLAB_PYTHON),
            "-c",
            "import ipywidgets, openai, pandas; "
            "print(ipywidgets.__version__, openai.__version__, pandas.__version__)",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["7.7.1", "2.54.0", "2.2.3"], probe.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    run = subprocess.run(
        [
            str(COLAB_PYTHON),
            "-m",
            "pytest",
            *WIDGET_TESTS,
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::DeprecationWarning",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=900,
    )
    tail = "\n".join((run.stdout + run.stderr).splitlines()[-40:])
    print(tail)
    assert run.returncode == 0, tail
