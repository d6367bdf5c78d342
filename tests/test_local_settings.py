"""Local mode serves what the settings say, and says what it serves (issue 19, items 12, 14).

No torch here: the kit server's process is faked at its edges (advert, the file where a local
server says which model it serves, the launcher); tests/test_local_sandbox.py restarts a real
one. These run in the base venv too.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.local import catalog


@pytest.fixture
def other_process():
    """A live process that is not this one (stands for a workspace's server process)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def fake_server(home: Path, pid: int, serves: str | None) -> None:
    """The files a running local server leaves in its workspace: its advert, and what it serves."""
    (home / "sandbox-local.json").write_text(
        json.dumps({"url": "http://127.0.0.1:9/v1", "pid": pid}), encoding="utf-8"
    )
    if serves is not None:
        (home / "local").mkdir(exist_ok=True)
        (home / "local" / catalog.SERVED_FILE).write_text(
            json.dumps({"pid": pid, "model": serves}), encoding="utf-8"
        )


def model_folder(path: Path, n_parameters: int = 64_000) -> Path:
    """A folder that looks like `save_pretrained`'s: config.json and a safetensors header."""
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}", encoding="utf-8")
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [n_parameters // 64, 64], "data_offsets": [0, 0]}}
    ).encode()
    (path / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    return path


def test_wanted_spec_makes_paths_absolute_and_keeps_catalog_ids(tmp_path, monkeypatch):
    folder = model_folder(tmp_path / "mon-modele")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "mon-modele")  # relative to this folder
    assert catalog.wanted_spec() == str(folder.resolve())
    (tmp_path / "tiny").mkdir()  # a folder named like a catalog id: the catalog id wins
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "tiny")
    assert catalog.wanted_spec() == "tiny"
    monkeypatch.delenv(catalog.LOCAL_MODEL_VAR)
    assert catalog.wanted_spec() == catalog.DEFAULT_LOCAL_MODEL


def _fake_launcher(monkeypatch) -> list[tuple]:
    from helpers.kit_server import launcher
    from helpers.kit_server.engines import local as local_engine

    calls: list[tuple] = []
    monkeypatch.delenv("ATELIER_SANDBOX_IN_PROCESS", raising=False)
    monkeypatch.setattr(local_engine, "check_usable", lambda: None)
    monkeypatch.setattr(launcher, "shutdown", lambda home, engine: calls.append(("stop", engine)))

    def ensure(home, engine="simulated", *, env=None, **_):
        calls.append(("start", engine, env))
        return "http://127.0.0.1:9/v1"

    monkeypatch.setattr(launcher, "ensure", ensure)
    return calls


def test_a_local_server_serving_another_model_is_restarted(
    workspace, tmp_path, monkeypatch, other_process
):
    from helpers import kit_server

    calls = _fake_launcher(monkeypatch)
    folder = model_folder(tmp_path / "modele")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "modele")
    fake_server(workspace, other_process, serves="smollm2-135m-instruct")  # started by doctor
    assert kit_server.local_model_served(workspace) == "smollm2-135m-instruct"
    kit_server.connect(workspace, engine="local")
    # stopped, then started again with the setting of this process (an absolute path: the
    # server runs from the workspace folder, where "modele" would mean another folder)
    assert calls == [
        ("stop", "local"),
        ("start", "local", {catalog.LOCAL_MODEL_VAR: str(folder.resolve())}),
    ]


def test_a_local_server_serving_the_wanted_model_is_kept(workspace, monkeypatch, other_process):
    from helpers import kit_server

    calls = _fake_launcher(monkeypatch)
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "tiny")
    fake_server(workspace, other_process, serves="tiny")
    kit_server.connect(workspace, engine="local")
    assert calls == [("start", "local", {catalog.LOCAL_MODEL_VAR: "tiny"})]  # finds it running
    (workspace / "local" / catalog.SERVED_FILE).unlink()  # an older server that did not say
    assert kit_server.local_model_served(workspace) == "?"
    calls.clear()
    kit_server.connect(workspace, engine="local")
    assert calls[0] == ("stop", "local")


def test_banner_says_the_running_server_is_restarted_with_the_new_model(
    workspace, monkeypatch, other_process
):
    from helpers import notebook

    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "tiny")
    fake_server(workspace, other_process, serves="smollm2-135m-instruct")
    text = repr(notebook.banner())
    assert "Modèle ouvert entraîné : tiny" in text
    assert "sert encore « smollm2-135m-instruct »" in text and "redémarre avec « tiny »" in text
    fake_server(workspace, other_process, serves="tiny")
    assert "sert encore" not in repr(notebook.banner())


def test_banner_never_shows_an_unknown_parameter_count(workspace, tmp_path, monkeypatch):
    from helpers import notebook

    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, str(model_folder(tmp_path / "MonModele")))
    text = repr(notebook.banner())
    assert "Modèle ouvert entraîné : monmodele (0,1 M paramètres, prêt)" in text
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "quelquun/un-modele-du-hub")  # not downloaded
    text = repr(notebook.banner())
    assert "un-modele-du-hub (pas sur cette machine)" in text and "?" not in text


def test_parameter_count_of_a_converted_folder():
    assert catalog.parameters_fr(catalog.CATALOG["smollm2-135m-instruct"]) == "135 M"
    assert catalog.parameters_fr(catalog.from_spec("quelquun/modele")) is None


def usable_here(monkeypatch) -> None:
    """Local mode's packages reported installed (without torch: the device is not checked)."""
    monkeypatch.setattr(catalog, "_version", lambda p: "99.0")
    monkeypatch.setattr(catalog, "device", lambda: "cpu")


def test_doctor_lines_in_local_mode_fail_when_the_model_is_not_here(monkeypatch):
    usable_here(monkeypatch)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "smollm2-360m-instruct")  # never downloaded here
    report = catalog.doctor(check_device=False)
    assert report.usable and not report.ready
    active = "\n".join(report.lines(active=True))
    assert "❌ pas utilisable" in active and "❌ Le modèle « smollm2-360m-instruct »" in active
    assert "%env ATELIER_LOCAL_MODEL=tiny" in active and "à télécharger" not in active
    # local mode not in use: a warning and one line, not an error
    assert "⚠️ Le modèle" in "\n".join(report.lines()) and "✅ utilisable" in str(report)
    assert "ATELIER_LOCAL_MODEL=tiny" in report.summary()
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "tiny")
    assert catalog.doctor(check_device=False).ready


def test_doctor_command_in_local_mode_without_a_model_is_not_ready(capsys, monkeypatch, workspace):
    from helpers import cli, doctor

    usable_here(monkeypatch)
    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "smollm2-360m-instruct")
    monkeypatch.setattr(doctor, "_doctor_sandbox", lambda mode: True)
    code = cli.main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1 and "Tout est prêt" not in out and "❌" in out
    assert "bac à sable" not in out.lower()  # local mode has no sandbox
    assert "inutile en mode local" in out
    assert os.environ[catalog.LOCAL_MODEL_VAR] == "smollm2-360m-instruct"
