"""Atelier fine-tuning — the small public API the notebooks use.

Imports are lazy (PEP 562): `import helpers` is instant; each name loads its module on
first use. docs/ARCHITECTURE.md draws the layout.

One rule for names: a public name of `helpers` is either a function or class of `_API` or a
module of `_MODULES`, never both (tests/test_client.py checks it). `helpers.client` is a
module, `helpers/client.py`, and it is callable: `helpers.client()` builds the SDK client for
the mode (it calls `helpers.client.client()`), as the notebooks do. (Python binds a submodule
on its package once imported, so a function named like a module could not stay a function.)
The kit's own modules import by name: `from .client import client, check_key`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_API: dict[str, tuple[str, str]] = {
    # settings, workspace, client (`helpers.client` itself is the callable module: _MODULES)
    "get_mode": ("settings", "get_mode"),
    "use_mode": ("settings", "save_mode"),
    "workspace_dir": ("settings", "workspace_dir"),
    "check_key": ("client", "check_key"),
    "reset": ("workspace", "reset"),
    # datasets, tokens, costs
    "check_file": ("dataset", "check_file"),
    "check_examples": ("dataset", "check_examples"),
    "read_jsonl": ("dataset", "read_jsonl"),
    "write_jsonl": ("dataset", "write_jsonl"),
    "example": ("dataset", "example"),
    "count_messages": ("tokens", "count_messages"),
    "check_bytes": ("dataset", "check_bytes"),
    "to_dataframe": ("dataset", "to_dataframe"),
    "from_dataframe": ("dataset", "from_dataframe"),
    "DatasetError": ("dataset", "DatasetError"),
    "estimate_cost": ("models", "estimate_cost"),
    "auto_epochs": ("models", "auto_epochs"),
    # jobs
    "upload": ("jobs", "upload"),
    "create_job": ("jobs", "create"),
    "follow": ("jobs", "follow"),
    "wait": ("jobs", "wait"),
    "Follower": ("jobs", "Follower"),
    "retrieve_job": ("jobs", "retrieve"),
    "cancel_job": ("jobs", "cancel"),
    "list_jobs": ("jobs", "list_jobs"),
    "checkpoints": ("jobs", "checkpoints"),
    "results": ("jobs", "results"),
    "find_jobs_for_file": ("jobs", "find_jobs_for_file"),
    # chat
    "ask": ("chat", "ask"),
    "compare": ("chat", "compare"),
    # evaluation (notebook 12)
    "evaluate": ("evaluation", "evaluate"),
    "split": ("evaluation", "split"),
    # errors
    "explain": ("errors", "explain"),
    "friendly": ("errors", "friendly"),
}

_MODULES = {
    "settings",
    "workspace",
    "client",
    "dataset",
    "tokens",
    "models",
    "jobs",
    "chat",
    "evaluation",
    "promptfoo",
    "errors",
    "exceptions",
    "verbs",
    "kit_server",
    "widgets",
    "cli",
    "notebook",
    "webdemo",
    "proxy",
}

__all__ = sorted([*_API, "client"])


def __getattr__(name: str) -> Any:
    if name in _API:
        module, attr = _API[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API) | _MODULES)
