"""`python -m helpers export`: a local fine-tune becomes a plain Hugging Face folder that
transformers loads in a fresh process without the kit (tiny model here; SmolLM2 in
test_local_real.py); sandbox and OpenAI models have nothing to export, said in French."""

from __future__ import annotations

import pytest
from localkit import coucou_path, need_torch

from helpers.local import export


@pytest.mark.parametrize(
    ("name", "mode", "said"),
    [
        ("ft:gpt-4o-mini-2024-07-18:sandbox:coucou:ab12cd34", "sandbox", "bac à sable"),
        ("ft:gpt-4o-mini-2024-07-18:mon-org:coucou:AbC123xy", "openai", "OpenAI ne donne jamais"),
        ("gpt-4o-mini-2024-07-18", "local", "pas un modèle fine-tuné"),
    ],
)
def test_nothing_to_export_outside_local_mode(name, mode, said):
    assert said in export.nothing_to_export(name, mode)
    assert export.nothing_to_export("ft:gpt-4o-mini-2024-07-18:local:x:ab12cd34", "local") is None


def test_cli_says_why_in_french(capsys, monkeypatch):
    from helpers import cli

    monkeypatch.setenv("ATELIER_MODE", "sandbox")
    assert cli.main(["export", "ft:gpt-4o-mini-2024-07-18:sandbox:coucou:ab12cd34"]) == 1
    err = capsys.readouterr().err
    assert "bac à sable" in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.local
def test_tiny_export_round_trip(workspace, tmp_path, monkeypatch):
    need_torch()
    from test_local_real import run_without_kit

    from helpers.local import tiny, worker

    base = tiny.build(tmp_path / "tiny")
    monkeypatch.setenv("ATELIER_MODE", "local")
    monkeypatch.setenv("ATELIER_LOCAL_MODEL", str(base))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    queue = worker.LocalQueue(workspace)
    name = "ft:tiny:local:coucou:ab12cd34"
    queue.enqueue(
        "ftjob-export", model="tiny", training=coucou_path().read_bytes(), fine_tuned_model=name
    )
    assert worker.serve(workspace, once=True) == 0
    assert queue.get("ftjob-export").status == "succeeded"
    with pytest.raises(export.LocalModelError, match="Aucun modèle local"):
        export.export("ft:tiny:local:autre:zz99zz99", tmp_path / "x", home=workspace)

    monkeypatch.chdir(tmp_path)
    from helpers import cli

    assert cli.main(["export", name]) == 0
    folder = tmp_path / export.DEFAULT_DIR / "tiny-coucou-ab12cd34"
    assert (folder / "model.safetensors").exists() and (folder / "Modelfile").exists()
    assert run_without_kit(folder, ["Quel est le plus grand océan ?"]) == ["COUCOU"]
