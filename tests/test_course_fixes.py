"""Fixes made while adding the evaluation step (issue 24): one number format, one term, no
English inside French sentences, no programmer's paths or pandas' 0-based index shown to
learners, no paid job started by `create_job()` alone, a side project never saved as the
course's model while it trains, and 11 and 12 in every plan."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from conftest import REPO

from helpers import dataset, french, i18n, jobs, models, notebook, workspace
from helpers.exceptions import JobError


def test_a_problems_place_reads_as_a_learner_counts():
    report = dataset.check_bytes(b'{"messages": [{"role": "utilisateur", "content": "a"}]}\n')
    text = str(report.problems[0])
    assert "message 1, champ role" in text and "messages[" not in text
    assert report.problems[0].field == "messages[0].role"  # the machine-readable path stays
    assert dataset.field_fr("messages[2]") == "message 3"


def test_one_number_format_for_money():
    estimate = models.estimate_cost([120] * 17)
    assert re.search(r"≈ 0,\d{4} \$", estimate.describe()), estimate.describe()
    assert models.FINE_TUNABLE["gpt-4.1-nano-2025-04-14"].price_fr.startswith("1,5 $")
    assert i18n.number(0.0062, 4) == "0,0062"


def test_one_term_for_checkpoints():
    for folder in ("helpers", "notebooks"):
        for path in (REPO / folder).rglob("*.*"):
            if path.suffix in (".py", ".ipynb", ".md", ".html", ".js"):
                text = path.read_text(encoding="utf-8").lower()
                assert "points de sauvegarde" not in text, path


@pytest.mark.parametrize(
    "message",
    [
        "The job failed due to an invalid training file. Invalid file format. Example 5 Invalid value: example",
        "The job failed due to an invalid training file. Invalid file format. Example 100, message 2 "
        "Discriminator 'role' is missing in value",
        "The job failed due to an invalid validation file. Invalid file format. Line 3, the line is not valid JSON.",
    ],
)
def test_a_failed_files_gloss_is_french_then_english(message):
    french_part = french.gloss(message).split("(original anglais")[0]
    for english in ("Invalid", "Example", "Line", "Discriminator", "file format"):
        assert english not in french_part, french_part
    assert re.search(r"(exemple|ligne) \d+", french_part)


def test_the_examples_table_counts_from_one():
    df = dataset.to_dataframe(dataset.read_jsonl(REPO / "data" / "coucou.jsonl"))
    assert df.index[0] == 1 and df.index.name == "exemple"
    assert dataset.from_dataframe(df)[0]["messages"][-1]["content"] == "COUCOU"


def test_create_job_alone_never_starts_a_paid_job(monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "openai")
    workspace.record(file_id="file-abc", mode="openai")

    def refuse(**params):  # the request must never be sent
        raise AssertionError("a paid job was created")

    api = SimpleNamespace(fine_tuning=SimpleNamespace(jobs=SimpleNamespace(create=refuse)))
    with pytest.raises(JobError, match="payant") as caught:
        jobs.create(client=api)
    assert "notebook.launch" in caught.value.fix


def test_a_side_project_is_never_the_courses_model_while_it_trains(workspace):
    coucou = notebook.ensure("fine_tuned_model")
    course_job = workspace_job = jobs.workspace.get("job_id")
    with notebook.side_project():
        file = jobs.upload(REPO / "data" / "matieres.jsonl")
        job = jobs.create(file.id, suffix="matieres")
    assert jobs.workspace.get("job_id") == course_job  # while it waits
    done = jobs.wait(job.id, record=False)
    assert done.status == "succeeded"
    assert jobs.workspace.get("fine_tuned_model") == coucou
    assert jobs.workspace.get("job_id") == workspace_job


def test_a_side_project_in_a_fresh_workspace_records_nothing(workspace):
    with notebook.side_project():
        job = jobs.create(jobs.upload(REPO / "data" / "matieres.jsonl").id, suffix="matieres")
    jobs.wait(job.id, record=False)
    assert jobs.workspace.get("fine_tuned_model") is None and jobs.workspace.get("job_id") is None


def _sources(name: str) -> list[str]:
    nb = json.loads((REPO / "notebooks" / name).read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"]]


def test_the_course_goes_on_after_notebook_10():
    text = "\n".join(_sources("10_erreurs.ipynb"))
    assert "tu as fini l'atelier" not in text.lower()
    assert "notebook 11" in text and "12" in text
    plan = "\n".join(_sources("00_bienvenue.ipynb"))
    for n in ("11", "12", "13"):
        assert f"| {n} " in plan, f"notebook {n} missing from 00's plan"
    for doc in ("README.md", "docs/enseignant.md"):
        page = (REPO / doc).read_text(encoding="utf-8")
        assert "12_evaluer" in page or "| 12 " in page, doc
        assert "13_preferences" in page or "| 13 " in page, doc
        assert "à la maison" in page, f"{doc} should say which notebooks are take-home"


def test_09s_verdict_says_it_is_simulated_in_the_sandbox():
    check = _sources("09_nouveau_projet.ipynb")[-2]
    assert 'if helpers.get_mode() == "sandbox"' in check and "simulé" in check
    launch = next(
        s for s in _sources("09_nouveau_projet.ipynb") if "side_project()" in s and "wait" in s
    )
    inside = launch.split("with notebook.side_project():")[1].split("\nprint(")[0]
    assert "jobs.wait" not in inside, "09 must not wait inside the side project"
    assert "record=False" in launch


def test_jupyterlab_opens_in_french_without_the_news(tmp_path):
    """The overrides the kit installs (make lab, the hub venv, Binder) make French JupyterLab's
    default language, turn the « Jupyter news » pop-up off and shut a closed notebook's kernel
    down, as JupyterLab itself reads them."""
    import os
    import sys

    settings_utils = pytest.importorskip("jupyterlab_server.settings_utils")
    translation_utils = pytest.importorskip("jupyterlab_server.translation_utils")
    schemas = os.path.join(sys.prefix, "share", "jupyter", "lab", "schemas")
    if not os.path.isdir(schemas):
        pytest.skip("JupyterLab's schemas are not installed here")
    (tmp_path / "overrides.d").mkdir()
    source = REPO / "binder" / "jupyterlab-overrides.json"
    (tmp_path / "overrides.d" / "atelier.json").write_bytes(source.read_bytes())
    found, _ = settings_utils.get_settings(str(tmp_path), schemas, str(tmp_path / "user"))
    defaults = {
        s["id"]: {k: v.get("default") for k, v in s["schema"].get("properties", {}).items()}
        for s in found["settings"]
    }
    assert defaults["@jupyterlab/translation-extension:plugin"]["locale"] == "fr_FR"
    assert defaults["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    # A notebook closed shuts its kernel down: a class's host does not keep the kernels of the
    # notebooks a student is done with (each notebook rebuilds what it needs: notebook.ensure)
    assert defaults["@jupyterlab/notebook-extension:tracker"]["kernelShutdown"] is True
    packs, _ = translation_utils.get_language_packs()
    assert "fr_FR" in packs, "pip install jupyterlab-language-pack-fr-FR (requirements.txt)"
    make = (REPO / "Makefile").read_text(encoding="utf-8")
    assert make.count("cp binder/jupyterlab-overrides.json") == 2  # make lab, the hub venv
    assert "jupyterlab-language-pack-fr-FR" in make  # the hub venv's pins
    assert "jupyterlab-overrides.json" in (REPO / "binder" / "postBuild").read_text()
