"""The ipywidgets 7.7 ↔ 8 shims, and the widgets package's lazy imports."""

from __future__ import annotations

import subprocess
import sys

import ipywidgets
from conftest import REPO

from helpers.widgets import compat


def test_version_detection_matches_the_installed_ipywidgets():
    assert ipywidgets.__version__.startswith("8.") == compat.IPYWIDGETS_8


def test_tooltips_on_buttons_and_described_widgets():
    button, text = ipywidgets.Button(), ipywidgets.Text(description="x")
    compat.set_tooltip(button, "bouton")
    compat.set_tooltip(text, "champ")
    assert compat.get_tooltip(button) == "bouton"
    assert compat.get_tooltip(text) == "champ"


def test_upload_round_trip():
    upload = ipywidgets.FileUpload()
    assert compat.uploaded_files(upload) == []
    compat.simulate_upload(upload, "a.jsonl", b"{}\n")
    assert compat.uploaded_files(upload) == [("a.jsonl", b"{}\n")]
    compat.clear_upload(upload)
    assert compat.uploaded_files(upload) == []
    compat.simulate_upload(upload, "b.csv", b"user,assistant\n")  # a second pick still arrives
    assert compat.uploaded_files(upload) == [("b.csv", b"user,assistant\n")]


def test_live_widgets_lists_new_widgets():
    w = ipywidgets.Label("là")
    assert w in compat.live_widgets()


def test_importing_helpers_widgets_is_lazy():
    code = (
        "import sys, helpers.widgets as w; "
        "assert 'ipywidgets' not in sys.modules and 'matplotlib' not in sys.modules, sorted(sys.modules); "
        "w.KeyForm; assert 'ipywidgets' in sys.modules and 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
