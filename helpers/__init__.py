"""Atelier fine-tuning — the small public API the notebooks use.

Imports are lazy (PEP 562): `import helpers` is instant; each name loads its module on
first use. See DESIGN.md for the layout.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_API: dict[str, tuple[str, str]] = {
    # settings, workspace, client
    "get_mode": ("settings", "get_mode"),
    "use_mode": ("settings", "save_mode"),
    "workspace_dir": ("settings", "workspace_dir"),
    "client": ("client", "client"),
    # datasets, tokens, costs
    "check_file": ("dataset", "check_file"),
    "check_examples": ("dataset", "check_examples"),
    "read_jsonl": ("dataset", "read_jsonl"),
    "write_jsonl": ("dataset", "write_jsonl"),
    "example": ("dataset", "example"),
    "count_messages": ("tokens", "count_messages"),
    "estimate_cost": ("models", "estimate_cost"),
}

_MODULES = {
    "settings", "workspace", "client", "dataset", "tokens", "models", "jobs", "chat", "errors",
    "sandbox", "widgets", "cli", "notebook",
}

__all__ = sorted(_API)


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
