"""A damaged workspace gets a French diagnosis that names the file and a way out (issue 19,
item 10), and `python -m helpers doctor --repair` sets the damaged file aside (never deleted):

- a full disk at start was a 60 s wait, then « Erreur inattendue (RuntimeError) » pointing to
  an empty log;
- a corrupted `sandbox.sqlite3` was « Erreur inattendue » with SQLite's English text, and
  advice to rerun a cell that fails forever;
- a hand-edited `state.json` (`{"runs": []}`, a folder of that name) was a raw traceback; a
  truncated one was silently reset, losing the recorded ids.

The full disk is a real one: a small tmpfs, filled up (mounting needs root and a container
allowed to mount, as here and in CI; elsewhere that test skips).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from sandboxkit import COUCOU, REPO

import helpers
from helpers import errors, kit_server, notebook, settings
from helpers import workspace as records
from helpers.exceptions import DamagedFileError, ServerStartError, WorkspaceError
from helpers.kit_server import database, launcher


@contextlib.contextmanager
def full_disk() -> Iterator[Path]:
    """A workspace folder on a 512 KiB tmpfs with no space left."""
    mount = Path(tempfile.mkdtemp(prefix="atelier-full-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:  # not root, or a container without CAP_SYS_ADMIN
        mount.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()})")
    try:
        home = mount / "atelier"
        home.mkdir()
        with open(mount / "filler", "wb", buffering=0) as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 4096)
        yield home
    finally:
        launcher.shutdown(mount / "atelier")
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


@pytest.fixture
def server_processes(monkeypatch):
    """The kit server runs in its own process, as for a learner (not in the test's)."""
    monkeypatch.delenv("ATELIER_SANDBOX_IN_PROCESS")
    yield
    for home in (settings.workspace_dir(),):
        launcher.shutdown(home)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "ATELIER_SANDBOX_IN_PROCESS"},
    )


# -- a full disk -----------------------------------------------------------------------------


def test_a_full_disk_at_start_is_named_at_once(server_processes, monkeypatch):
    with full_disk() as home:
        monkeypatch.setenv("ATELIER_HOME", str(home))
        with pytest.raises(WorkspaceError) as caught:
            helpers.client().models.list()
        diagnosis = errors.explain(caught.value)
        assert diagnosis.code == "workspace" and str(home) in diagnosis.cause
        assert "plein" in diagnosis.cause and "ATELIER_HOME" in diagnosis.fix
        done = _cli("doctor")
        assert done.returncode == 1 and "plein" in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr


def test_a_server_that_dies_while_starting_is_seen_at_once(workspace, server_processes):
    """No report and no advert (a full disk writes neither): the launcher sees the process
    die and says why, instead of waiting for the timeout."""
    (workspace / "sandbox.sqlite3").mkdir()
    (workspace / launcher.failure_path(workspace, "simulated").name).mkdir()  # no report either
    with pytest.raises(ServerStartError) as caught:
        launcher.ensure(workspace, timeout=600)
    assert "journal" in str(caught.value) or str(workspace) in str(caught.value)


# -- a corrupted sandbox.sqlite3 ---------------------------------------------------------------


def test_a_corrupted_database_at_start_is_named_and_repaired(workspace, server_processes):
    (workspace / "sandbox.sqlite3").write_bytes(os.urandom(8192))
    with pytest.raises(ServerStartError) as caught:
        helpers.client().models.list()
    diagnosis = errors.explain(caught.value)
    assert diagnosis.code == "damaged_file"
    assert "sandbox.sqlite3" in diagnosis.cause and "doctor --repair" in diagnosis.fix
    assert "database" not in diagnosis.cause  # not SQLite's English
    done = _cli("doctor")
    assert done.returncode == 1 and "sandbox.sqlite3" in done.stdout and "--repair" in done.stdout
    before = (workspace / "sandbox.sqlite3").read_bytes()
    done = _cli("doctor", "--repair")
    assert "mis de côté" in done.stdout, done.stdout + done.stderr
    aside = list(workspace.glob("sandbox.sqlite3.abime-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == before  # never deleted
    assert helpers.client().models.list().data


def test_a_database_damaged_while_serving_is_named_not_retried(workspace, monkeypatch):
    monkeypatch.setenv("ATELIER_SANDBOX_WAL", "0")  # every page in the one file
    helpers.jobs.upload(COUCOU, client=helpers.client())
    kit_server.stop()
    path = workspace / "sandbox.sqlite3"
    size = path.stat().st_size
    with open(path, "r+b") as db:  # every page but the first: the schema still reads
        db.seek(4096)
        db.write(os.urandom(size - 4096))
    with pytest.raises(openai.APIStatusError) as caught:
        helpers.client(max_retries=2).files.list()
    assert caught.value.status_code == 500 and caught.value.code == "workspace_damaged"
    assert caught.value.response.headers["x-should-retry"] == "false"  # retrying cannot help
    diagnosis = errors.explain(caught.value)
    assert diagnosis.code == "damaged_file" and "sandbox.sqlite3" in diagnosis.cause
    assert "doctor --repair" in diagnosis.fix and "Relance la cellule. Si" not in diagnosis.fix
    assert database.check(workspace) is not None  # what doctor reports


# -- a hand-edited, truncated, or replaced state.json -----------------------------------------

STATE = {
    "mode": "sandbox",
    "runs": {
        "sandbox": {"dataset_path": "/x/coucou.jsonl", "file_id": "file-abc", "job_id": "ftjob-1"},
        "openai": {"file_id": "file-paid", "job_id": "ftjob-paid"},
    },
}


def _damage(path: Path, how: str) -> None:
    if how == "a folder":
        path.mkdir()
    elif how == "truncated":
        text = json.dumps(STATE, indent=2)
        path.write_text(text[: text.index('"job_id": "ftjob-paid"') + 10])
    elif how == "runs a list":
        path.write_text('{"runs": []}')
    elif how == "a list":
        path.write_text("[]")
    elif how == "runs of lists":
        path.write_text('{"mode": "sandbox", "runs": {"sandbox": []}}')
    elif how == "mode a number":
        path.write_text('{"mode": 3}')
    elif how == "empty":
        path.write_text("")
    else:
        path.write_bytes(b"\xff\xfe\x00garbage")


DAMAGES = [
    "a folder",
    "truncated",
    "runs a list",
    "a list",
    "runs of lists",
    "mode a number",
    "empty",
    "binary",
]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_state_file_is_named_never_reset(workspace, monkeypatch, how):
    monkeypatch.delenv("ATELIER_MODE")
    path = settings.state_path()
    _damage(path, how)
    before = path.read_bytes() if path.is_file() else None
    for call in (
        lambda: records.get("file_id"),
        lambda: records.record(file_id="file-new"),
        lambda: settings.get_mode(),
        lambda: settings.save_mode("sandbox"),
    ):
        with pytest.raises(DamagedFileError) as caught:
            call()
        diagnosis = errors.explain(caught.value)
        assert diagnosis.code == "damaged_file" and "state.json" in diagnosis.title
        assert str(path) in diagnosis.cause and "doctor --repair" in diagnosis.fix
    assert (path.read_bytes() if path.is_file() else None) == before  # nothing overwritten
    shown = notebook.banner()  # the notebook's first cell: the diagnosis, not a traceback
    assert "state.json" in str(shown) and "doctor --repair" in str(shown)
    done = _cli("reset")
    assert done.returncode == 1 and "state.json" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_doctor_repair_sets_a_truncated_state_aside_and_keeps_its_ids(workspace, monkeypatch):
    monkeypatch.delenv("ATELIER_MODE")
    path = settings.state_path()
    _damage(path, "truncated")
    before = path.read_text()
    done = _cli("doctor")
    assert done.returncode == 1 and "state.json" in done.stdout and "--repair" in done.stdout
    done = _cli("doctor", "--repair")
    assert "mis de côté" in done.stdout and "file_id" in done.stdout, done.stdout + done.stderr
    aside = list(workspace.glob("state.json.abime-*"))
    assert len(aside) == 1 and aside[0].read_text() == before
    assert records.get("job_id", mode="sandbox") == "ftjob-1"
    assert records.get("file_id", mode="openai") == "file-paid"  # a paid step is not redone
    assert settings.get_mode() == "sandbox"


def test_doctor_repair_sets_a_folder_named_state_json_aside(workspace, monkeypatch):
    monkeypatch.delenv("ATELIER_MODE")
    path = settings.state_path()
    path.mkdir()
    (path / "inside.txt").write_text("à garder")
    done = _cli("doctor", "--repair")
    assert "mis de côté" in done.stdout, done.stdout + done.stderr
    (aside,) = workspace.glob("state.json.abime-*")
    assert (aside / "inside.txt").read_text() == "à garder"
    records.record(file_id="file-x")
    assert records.get("file_id") == "file-x"


def test_kit_errors_show_their_diagnosis_in_a_notebook():
    """In a kernel, after the banner, a kit error's cell shows the French diagnosis (not
    Python's traceback); the cell still fails."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    try:
        monkey = notebook._french_errors_on
        notebook._french_errors_on = False
        shell.run_cell("from helpers import notebook; notebook.banner()")
        with capture_output() as out:
            result = shell.run_cell(
                "from helpers.exceptions import DamagedFileError\n"
                "raise DamagedFileError('/ws/state.json', 'état', 'coupé')"
            )
        assert result.error_in_exec is not None  # the cell failed
        (shown,) = out.outputs
        assert (
            "Que faire" in shown.data["text/plain"] and "doctor --repair" in shown.data["text/html"]
        )
        assert "Traceback" not in out.stdout + out.stderr + shown.data["text/plain"]
    finally:
        shell.set_custom_exc((), None)
        notebook._french_errors_on = monkey
        InteractiveShell.clear_instance()


@pytest.mark.parametrize("content", [b"[]", b'{"file_id": 3}', b"{coup", b"\xff\xfe"])
def test_a_damaged_saved_state_is_named_not_a_traceback(tmp_path, content):
    """The state saved on Drive (`notebook.export_state`, Colab) hand-edited or cut short: a
    French message naming it, nothing loaded (it was `AttributeError` or `JSONDecodeError`)."""
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(DamagedFileError) as caught:
        notebook.import_state(path)
    diagnosis = errors.explain(caught.value)
    assert str(path) in diagnosis.cause and "export_state" in diagnosis.fix
    assert records.snapshot() == {}
