"""The kit's forms (core ipywidgets only: they render in JupyterLab, Notebook 7, hubs and Colab).

    from helpers.widgets import KeyForm, DatasetTable, JobMonitor
    KeyForm()                       # notebook 02: the key, checked, never shown
    table = DatasetTable()          # notebook 03: build and check a dataset, export to data/perso/
    monitor = JobMonitor(); monitor # notebook 06: follow the workspace's job
    monitor.wait()                  # block until the job ends (updates the widget meanwhile)

Imports are lazy: `import helpers.widgets` does not load ipywidgets or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_API: dict[str, tuple[str, str]] = {
    "KeyForm": ("key_form", "KeyForm"),
    "DatasetTable": ("dataset_table", "DatasetTable"),
    "JobMonitor": ("job_monitor", "JobMonitor"),
    "stop_all": ("job_monitor", "stop_all"),
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        module, attr = _API[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'helpers.widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
