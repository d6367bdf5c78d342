"""What each step produced, persisted so the next notebook (a new kernel) continues.

One JSON file, `state.json`, in the workspace folder. Records are kept per mode: a sandbox
file id means nothing to the real API. The key is never written here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .settings import workspace_dir

# The step of the course that produces each record (for `reset(step=N)`).
STEP_OF = {
    "dataset_path": 3,
    "base_model": 5,
    "file_id": 4,
    "job_id": 5,
    "suffix": 5,
    "fine_tuned_model": 6,
}
_FORBIDDEN = ("key", "secret", "token")


def state_path() -> Path:
    return workspace_dir() / "state.json"


def _load() -> dict[str, Any]:
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: dict[str, Any]) -> None:
    path = state_path()
    tmp = path.with_name(f".state.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def saved_mode() -> str | None:
    return _load().get("mode")


def save_mode(mode: str) -> None:
    data = _load()
    data["mode"] = mode
    _save(data)


def _mode(mode: str | None) -> str:
    if mode:
        return mode
    from .settings import get_mode

    return get_mode()


def get(name: str, default: Any = None, *, mode: str | None = None) -> Any:
    return _load().get("runs", {}).get(_mode(mode), {}).get(name, default)


def snapshot(mode: str | None = None) -> dict[str, Any]:
    """Every record of a mode (a copy)."""
    return dict(_load().get("runs", {}).get(_mode(mode), {}))


def record(*, mode: str | None = None, **values: Any) -> dict[str, Any]:
    """Save what a step produced, e.g. `record(file_id="file-…")`. Returns the mode's records."""
    for name in values:
        if any(word in name.lower() for word in _FORBIDDEN):
            raise ValueError(f"refusing to store {name!r} in the workspace")
    data = _load()
    run = data.setdefault("runs", {}).setdefault(_mode(mode), {})
    for name, value in values.items():
        if isinstance(value, Path):
            value = str(value)
        if value is None:
            run.pop(name, None)
        else:
            run[name] = value
    _save(data)
    return dict(run)


def reset(step: int | None = None, *, mode: str | None = None) -> list[str]:
    """Forget what step `step` and later steps produced (all of it when `step` is None)."""
    data = _load()
    run = data.get("runs", {}).get(_mode(mode), {})
    gone = [k for k in run if step is None or STEP_OF.get(k, 99) >= step]
    for k in gone:
        del run[k]
    _save(data)
    return gone
