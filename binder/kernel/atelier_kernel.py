"""Launcher of the course's Python kernel (the `python3` kernel spec of the hub image).

The same ipykernel as `python -m ipykernel_launcher`, with two packages that no course cell
uses made unavailable to the kernel, because every kernel would otherwise load them for
nothing (a student keeps one kernel per notebook: docs/jupyterhub.md, bench/hub_class.py):

- debugpy, JupyterLab's visual debugger (≈ 8 MiB per kernel): ipykernel imports it at start
  whenever it is installed, and when the import fails it runs without the debugger (no
  "debugger" in its kernel_info). `%debug`, `%pdb` and `breakpoint()` (pdb) still work;
- aiohttp (≈ 9 MiB per kernel that uses the SDK): JupyterHub and jupyter-server-proxy install
  it beside the kernels, and openai 3.x imports it with the SDK whenever it is installed, for
  an opt-in transport (`DefaultAioHttpClient`) the course never uses; without it the SDK uses
  its default (httpx2), as where aiohttp is not installed.

A cell that imports either one gets a message saying why and how to get it back
(`python -m ipykernel install --sys-prefix` restores ipykernel's own kernel spec), in the
notebook's language: English when ATELIER_LANG is English (each edition's first cell sets it)
or the notebook is an English one (under notebooks/en/), else French. Standard library only
(this file is copied alone into the kernel spec's folder, install.py): its two sentences are
the kit's only text outside helpers.i18n, for that reason.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

UNAVAILABLE = ("debugpy", "aiohttp")
MESSAGE = (
    "« {name} » est désactivé dans les noyaux du cours pour économiser la mémoire du hub "
    "(docs/jupyterhub.md). Pour le retrouver, ta formatrice ou ton formateur remet le noyau "
    "Python d'origine : python -m ipykernel install --sys-prefix"
)
MESSAGE_EN = (
    "'{name}' is turned off in the course's kernels to save the hub's memory "
    "(docs/en/jupyterhub.md). To get it back, your teacher restores the original Python "
    "kernel: python -m ipykernel install --sys-prefix"
)


def message(name: str) -> str:
    """Why `name` cannot be imported, in the notebook's language."""
    lang = os.environ.get("ATELIER_LANG", "").strip().lower()
    session = os.environ.get("JPY_SESSION_NAME", "").replace(os.sep, "/")
    english = lang.startswith("en") or (not lang and "/notebooks/en/" in "/" + session)
    return (MESSAGE_EN if english else MESSAGE).format(name=name)


class Unavailable(MetaPathFinder):
    """Refuses the import of the UNAVAILABLE packages (an ImportError, as if not installed)."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        name = fullname.partition(".")[0]
        if name in UNAVAILABLE:
            raise ModuleNotFoundError(message(name), name=fullname)
        return None


if __name__ == "__main__":
    # This file's folder (the kernel spec's) is no place to import from: ipykernel_launcher
    # removes sys.path[0] too, and IPython puts the notebook's folder ('') back.
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        del sys.path[0]
    sys.meta_path.insert(0, Unavailable())

    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
