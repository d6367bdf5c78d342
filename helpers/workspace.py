"""What each step produced, persisted so the next notebook (a new kernel) continues.

They live in the workspace's state file (`settings.state_path()`, beside the saved mode).
Records are kept per mode: a sandbox file id means nothing to the real API. The key is never
written here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from . import settings
from .modes import Mode

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


def _mode(mode: str | Mode | None) -> str:
    """The state file's section of `mode` (the active mode's when None)."""
    return settings.resolve_mode(mode).value


def get(name: str, default: Any = None, *, mode: str | Mode | None = None) -> Any:
    return settings.load_state().get("runs", {}).get(_mode(mode), {}).get(name, default)


def snapshot(mode: str | Mode | None = None) -> dict[str, Any]:
    """Every record of a mode (a copy)."""
    return dict(settings.load_state().get("runs", {}).get(_mode(mode), {}))


def record(*, mode: str | Mode | None = None, **values: Any) -> dict[str, Any]:
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


def reset(step: int | None = None, *, mode: str | Mode | None = None) -> list[str]:
    """Forget what step `step` and later steps produced (all of it when `step` is None)."""
    data = settings.load_state()
    run = data.get("runs", {}).get(_mode(mode), {})
    gone = [k for k in run if step is None or STEP_OF.get(k, 99) >= step]
    for k in gone:
        del run[k]
    settings.save_state(data)
    return gone


_MODES = "|".join(settings.MODES)
_SECTION = re.compile(rf'"({_MODES})"\s*:\s*\{{')
_RECORD = re.compile(rf'"({"|".join(STEP_OF)})"\s*:\s*("(?:[^"\\\n]|\\.)*")')
_MODE = re.compile(rf'^\s*\{{\s*"mode"\s*:\s*"({_MODES})"')


def salvage(text: str) -> dict[str, Any]:
    """What can be read back from a damaged state file's text: the saved mode and each mode's
    records (a file cut short keeps its beginning; a hand-edited one what still has its shape)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    kept: dict[str, Any] = {}
    if isinstance(data, dict):  # the right JSON, in the wrong shape: keep the right parts
        if data.get("mode") in settings.MODES:
            kept["mode"] = data["mode"]
        saved = data.get("runs")
        if isinstance(saved, dict):
            good = {m: r for m, r in saved.items() if m in settings.MODES and isinstance(r, dict)}
            if good:
                kept["runs"] = good
        return kept
    found = _MODE.match(text)
    if found:
        kept["mode"] = found.group(1)
    sections = list(_SECTION.finditer(text))
    runs: dict[str, dict[str, Any]] = {}
    for i, section in enumerate(sections):
        end = sections[i + 1].start() if i + 1 < len(sections) else len(text)
        for record in _RECORD.finditer(text, section.end(), end):
            try:
                runs.setdefault(section.group(1), {})[record.group(1)] = json.loads(record.group(2))
            except ValueError:
                continue
    if runs:
        kept["runs"] = runs
    return kept
