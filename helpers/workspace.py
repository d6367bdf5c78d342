"""What each step produced, persisted so the next notebook (a new kernel) continues.

They live in the workspace's state file (`settings.state_path()`, beside the saved mode).
Records are kept per mode: a sandbox file id means nothing to the real API. The key is never
written here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import settings

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


def _mode(mode: str | None) -> str:
    return mode or settings.get_mode()


def get(name: str, default: Any = None, *, mode: str | None = None) -> Any:
    return settings.load_state().get("runs", {}).get(_mode(mode), {}).get(name, default)


def snapshot(mode: str | None = None) -> dict[str, Any]:
    """Every record of a mode (a copy)."""
    return dict(settings.load_state().get("runs", {}).get(_mode(mode), {}))


def record(*, mode: str | None = None, **values: Any) -> dict[str, Any]:
    """Save what a step produced, e.g. `record(file_id="file-…")`. Returns the mode's records."""
    for name in values:
        if any(word in name.lower() for word in _FORBIDDEN):
            raise ValueError(f"refusing to store {name!r} in the workspace")
    data = settings.load_state()
    run = data.setdefault("runs", {}).setdefault(_mode(mode), {})
    for name, value in values.items():
        if isinstance(value, Path):
            value = str(value)
        if value is None:
            run.pop(name, None)
        else:
            run[name] = value
    settings.save_state(data)
    return dict(run)


def reset(step: int | None = None, *, mode: str | None = None) -> list[str]:
    """Forget what step `step` and later steps produced (all of it when `step` is None)."""
    data = settings.load_state()
    run = data.get("runs", {}).get(_mode(mode), {})
    gone = [k for k in run if step is None or STEP_OF.get(k, 99) >= step]
    for k in gone:
        del run[k]
    settings.save_state(data)
    return gone
