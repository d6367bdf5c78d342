"""The hub's kernel launcher (binder/kernel/atelier_kernel.py): debugpy and aiohttp refused with
a message in the notebook's language (the hub test runs the real kernel: tests/test_hub.py)."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import REPO

spec = importlib.util.spec_from_file_location(
    "atelier_kernel", REPO / "binder" / "kernel" / "atelier_kernel.py"
)
assert spec and spec.loader
launcher = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launcher)


@pytest.mark.parametrize("name", ["aiohttp", "aiohttp.client", "debugpy"])
def test_the_two_packages_are_refused(name, monkeypatch):
    monkeypatch.delenv("ATELIER_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    with pytest.raises(ModuleNotFoundError, match="désactivé"):
        launcher.Unavailable().find_spec(name)
    assert launcher.Unavailable().find_spec("json") is None


def test_the_message_speaks_the_notebooks_language(monkeypatch):
    monkeypatch.delenv("ATELIER_LANG", raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/jovyan/course/notebooks/en/00_welcome.ipynb")
    assert launcher.message("aiohttp").startswith("'aiohttp' is turned off")
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/jovyan/course/notebooks/00_bienvenue.ipynb")
    assert "désactivé" in launcher.message("aiohttp")
    monkeypatch.setenv("ATELIER_LANG", "en")
    assert "turned off" in launcher.message("debugpy")
    monkeypatch.setenv("ATELIER_LANG", "fr")
    monkeypatch.setenv("JPY_SESSION_NAME", "/x/notebooks/en/00_welcome.ipynb")
    assert "désactivé" in launcher.message("debugpy")
