"""workspace: records per mode, reset by step, never a key, survives a corrupt file."""

from __future__ import annotations

import pytest

from helpers import settings, workspace
from helpers.exceptions import DamagedFileError


def test_record_get_per_mode():
    workspace.record(file_id="file-1", dataset_path="/x/d.jsonl")
    assert workspace.get("file_id") == "file-1"
    assert workspace.get("file_id", mode="openai") is None
    workspace.record(mode="openai", file_id="file-real")
    assert (
        workspace.get("file_id") == "file-1"
        and workspace.get("file_id", mode="openai") == "file-real"
    )
    workspace.record(file_id=None)
    assert workspace.get("file_id") is None and workspace.snapshot() == {
        "dataset_path": "/x/d.jsonl"
    }


def test_reset_by_step():
    workspace.record(
        dataset_path="d", file_id="f", job_id="j", base_model="m", suffix="s", fine_tuned_model="ft"
    )
    assert sorted(workspace.reset(5)) == ["base_model", "fine_tuned_model", "job_id", "suffix"]
    assert workspace.snapshot() == {"dataset_path": "d", "file_id": "f"}
    workspace.reset()
    assert workspace.snapshot() == {}


def test_never_stores_a_key():
    for name in ("api_key", "OPENAI_API_KEY", "secret", "token"):
        with pytest.raises(ValueError):
            workspace.record(**{name: "sk-x"})


def test_corrupt_state_is_named_never_reset():
    """A state file cut short was silently reset, losing its ids (issue 19): it is named, left
    as it is, and `python -m helpers doctor --repair` sets it aside (test_workspace_damage)."""
    settings.state_path().write_text('{"runs": {"sandbox": {"file_id": "f', encoding="utf-8")
    with pytest.raises(DamagedFileError, match="state.json"):
        workspace.get("file_id")
    with pytest.raises(DamagedFileError):
        workspace.record(file_id="g")
    assert settings.state_path().read_text(encoding="utf-8").endswith('"f')
