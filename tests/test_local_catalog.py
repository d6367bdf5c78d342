"""Local mode's catalog and doctor: no torch needed (these run in the base venv too)."""

from __future__ import annotations

import sys

import pytest

from helpers.local import catalog


def test_base_kit_never_imports_local_or_torch():
    import subprocess

    code = (
        "import sys, helpers, helpers.client, helpers.settings; "
        "assert not any(m == 'torch' or m.startswith('helpers.local') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_helpers_local_is_light():
    import subprocess

    code = (
        "import sys, helpers.local; helpers.local.doctor(check_device=False); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_openai_names_mean_the_default_local_model(monkeypatch):
    monkeypatch.delenv(catalog.LOCAL_MODEL_VAR, raising=False)
    assert catalog.resolve("gpt-4o-mini-2024-07-18").id == catalog.DEFAULT_LOCAL_MODEL
    assert (
        catalog.resolve("ft:gpt-4o-mini-2024-07-18:sandbox:x:abc").id == catalog.DEFAULT_LOCAL_MODEL
    )
    assert catalog.resolve(None).id == catalog.DEFAULT_LOCAL_MODEL
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "qwen2.5-0.5b-instruct")
    assert catalog.resolve("gpt-4o-mini").source == "Qwen/Qwen2.5-0.5B-Instruct"
    assert catalog.resolve("HuggingFaceTB/SmolLM2-360M-Instruct").id == "smollm2-360m-instruct"
    assert catalog.resolve("someone/My_Model").id == "my-model"
    assert catalog.resolve("tiny").builtin


def test_folders_and_unknown_names(tmp_path, monkeypatch):
    folder = tmp_path / "MonModele"
    folder.mkdir()
    with pytest.raises(catalog.LocalModelError, match="config.json"):
        catalog.resolve(str(folder))
    (folder / "config.json").write_text("{}")
    model = catalog.resolve(str(folder))
    assert model.id == "monmodele" and catalog.is_cached(model)
    (folder / "atelier_tiny.json").write_text("{}")
    assert catalog.resolve(str(folder)).id == "tiny"  # built by tiny.build: tiny's settings
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, str(folder))
    assert catalog.resolve("tiny").source == str(folder.resolve())
    with pytest.raises(catalog.LocalModelError, match="inconnu"):
        catalog.resolve("pas un modèle !")


def test_offline_message_is_french_and_actionable(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    text = catalog.unavailable_message(catalog.CATALOG["smollm2-135m-instruct"])
    assert "HF_HUB_OFFLINE=1" in text and "ATELIER_LOCAL_MODEL=tiny" in text and "internet" in text


def test_lora_defaults_scale_with_examples():
    small = catalog.lora_defaults(12, catalog.CATALOG["tiny"])
    large = catalog.lora_defaults(1000, catalog.CATALOG["smollm2-135m-instruct"])
    assert (small.r, small.dropout, small.learning_rate) == (8, 0.0, 3e-3)
    assert (large.r, large.alpha, large.learning_rate) == (16, 32, 5e-4)


def test_doctor_reports_missing_packages(monkeypatch):
    real = catalog._version
    monkeypatch.setattr(catalog, "_version", lambda p: None if p == "peft" else real(p))
    report = catalog.doctor(check_device=False)
    assert not report.usable
    text = str(report)
    assert "peft absent" in text and "pip install" in text and "❌" in text
    assert not catalog.is_available()  # it reads the same package metadata as the doctor


def test_doctor_when_usable(monkeypatch):
    monkeypatch.setattr(catalog, "_version", lambda p: "99.0")
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "tiny")
    report = catalog.doctor(check_device=False)
    assert report.usable and report.model_ready
    assert "✅ utilisable" in "\n".join(catalog.doctor_lines(check_device=False))


def test_doctor_summary_when_local_is_not_the_mode(monkeypatch):
    monkeypatch.setattr(catalog, "_version", lambda p: None)
    line = catalog.doctor(check_device=False).summary()
    assert line.startswith("Mode local (optionnel) : pas installé") and "pip install" in line
    monkeypatch.setattr(catalog, "_version", lambda p: "99.0")
    monkeypatch.setenv(catalog.LOCAL_MODEL_VAR, "tiny")
    assert "✅ utilisable" in catalog.doctor(check_device=False).summary()
