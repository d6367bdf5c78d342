"""The evaluation step (notebook 12): held-out split, `helpers.evaluate`, `python -m helpers eval`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest
from conftest import REPO

import helpers
from helpers import evaluation, jobs, models, notebook
from helpers.exceptions import EvaluationError

MATIERES = REPO / "data" / "matieres.jsonl"


def _answers(path):
    return [evaluation.answer_of(e) for e in evaluation.read_examples(path)]


def test_split_is_stratified_reproducible_and_reused(workspace):
    first = evaluation.split(MATIERES, heldout=0.25, seed=3)
    assert not first.reused
    first_bytes = first.heldout.read_bytes()
    assert first.train.parent == workspace / "evaluation"
    held, train = _answers(first.heldout), _answers(first.train)
    assert len(held) + len(train) == len(_answers(MATIERES))
    for subject in set(train):  # each answer keeps its share on both sides
        assert held.count(subject) == 3 and train.count(subject) == 9
    questions = {evaluation.question_of(e) for e in evaluation.read_examples(first.heldout)}
    assert not questions & {
        evaluation.question_of(e) for e in evaluation.read_examples(first.train)
    }
    again = evaluation.split(MATIERES, heldout=0.25, seed=3)
    assert again.reused and again.heldout.read_bytes() == first_bytes
    other = evaluation.split(MATIERES, heldout=0.25, seed=4)
    assert not other.reused and other.heldout.read_bytes() != first_bytes
    assert not list(workspace.glob("evaluation/*.bak"))  # the kit's own files: no backup


def test_split_keeps_a_hand_edited_file(workspace):
    split = evaluation.split(MATIERES, seed=1)
    split.heldout.write_text(split.heldout.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    redone = evaluation.split(MATIERES, seed=1)
    assert not redone.reused
    backups = list(split.heldout.parent.glob("matieres.heldout.jsonl.*.bak"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8").endswith("\n\n")


def test_stratified_indices_never_hold_out_a_whole_answer():
    answers = ["a"] * 5 + ["b"] * 2 + ["c"]
    held = evaluation.stratified_indices(answers, 0.9, seed=0)
    kept = [a for i, a in enumerate(answers) if i not in held]
    assert set(kept) == {"a", "b", "c"}  # every answer can still be learned
    assert [answers[i] for i in held].count("b") == 1


def test_loose_match_ignores_case_spaces_and_accents():
    assert evaluation.normalize(" Mathématiques\n", "loose") == evaluation.normalize(
        "mathematiques", "loose"
    )
    assert evaluation.normalize("Histoire-Géographie", "loose") == "histoire-geographie"
    assert evaluation.normalize(" SVT", "exact") != "SVT"


def test_few_shot_prompt_lists_every_answer_and_two_examples():
    examples = evaluation.read_examples(MATIERES)
    prompt = evaluation.few_shot_prompt(examples)
    for subject in set(_answers(MATIERES)):
        assert f"- {subject}\n" in prompt + "\n"
    assert prompt.count("Question : ") == 2 and prompt.count("Réponse : ") == 2
    assert prompt.startswith(examples[0]["messages"][0]["content"])


class _Recorder:
    """A stand-in SDK client that answers `expected` after a pause and records concurrency."""

    def __init__(self, answers: dict[str, str]):
        self.answers = answers
        self.active = self.most = 0
        self.lock = threading.Lock()
        self.calls: list[dict] = []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))

    def create(self, **params):
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
            self.calls.append(params)
        time.sleep(0.05)
        with self.lock:
            self.active -= 1
        text = self.answers.get(params["messages"][-1]["content"], "?")
        message = SimpleNamespace(content=text)
        return SimpleNamespace(
            choices=[SimpleNamespace(message=message)], system_fingerprint="fp_x"
        )


def test_evaluate_sends_requests_concurrently_at_temperature_0(workspace):
    examples = evaluation.read_examples(MATIERES)[:8]
    answers = {evaluation.question_of(e): evaluation.answer_of(e) for e in examples}
    answers[evaluation.question_of(examples[0])] = "faux"
    fake = _Recorder(answers)
    result = evaluation.evaluate("m", examples, client=fake, workers=4, progress=False)
    assert fake.most == 4  # a small pool: the local engine batches what arrives together
    assert all(c["temperature"] == 0 and c["max_tokens"] > 0 for c in fake.calls)
    assert (result.correct, result.total) == (7, 8)
    assert [o.question for o in result.outcomes] == [evaluation.question_of(e) for e in examples]
    assert result.mistakes().column("question") == [evaluation.question_of(examples[0])]
    assert result.path is not None and result.path.parent == workspace / "evaluation" / "results"
    saved = json.loads(result.path.read_text(encoding="utf-8"))
    assert saved["correct"] == 7 and saved["label"] == "base" and not saved["simulated"]


def test_evaluate_names_the_line_without_an_answer(workspace, tmp_path):
    bad = tmp_path / "sans_reponse.jsonl"
    bad.write_text(
        '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}\n'
        '{"messages": [{"role": "user", "content": "c"}]}\n',
        encoding="utf-8",
    )
    with pytest.raises(EvaluationError, match="ligne 2"):
        evaluation.evaluate("m", bad, client=_Recorder({}), progress=False)
    assert helpers.explain(EvaluationError("x")).code == "evaluation"


@pytest.fixture
def subject_model(workspace):
    split = evaluation.split(MATIERES)
    job = jobs.wait(jobs.create(jobs.upload(split.train).id, suffix="matieres", seed=1).id)
    return split, job.fine_tuned_model


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_cli_eval_prints_the_accuracy_of_a_plain_sdk_loop(subject_model):
    """`python -m helpers eval` and a plain loop over chat.completions.create at temperature
    0 (no cap, one by one) agree."""
    split, model = subject_model
    client = helpers.client()
    examples = evaluation.read_examples(split.heldout)
    right = 0
    for example in examples:
        messages = example["messages"][:-1]
        reply = client.chat.completions.create(model=model, messages=messages, temperature=0)
        right += reply.choices[0].message.content == example["messages"][-1]["content"]
    assert 0 < right < len(examples)  # a test that can tell a wrong count
    done = _cli("eval", model, str(split.heldout))
    assert done.returncode == 0, done.stderr
    percent = f"{round(100 * right / len(examples))}\u202f%"
    assert f"Justes : {right}/{len(examples)} ({percent})" in done.stdout
    assert "chiffres simulés" in done.stdout and "Résultats enregistrés" in done.stdout
    machine = json.loads(_cli("eval", model, str(split.heldout), "--json").stdout)
    assert (machine["correct"], machine["total"], machine["simulated"]) == (
        right,
        len(examples),
        True,
    )
    assert machine["label"] == "fine-tune" and os.path.isfile(machine["path"])


def test_cli_eval_few_shot_and_loose(subject_model):
    split, _ = subject_model
    done = _cli(
        "eval",
        models.DEFAULT_MODEL,
        str(split.heldout),
        "--few-shot",
        str(split.train),
        "--loose",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["label"] == "prompt" and result["match"] == "loose"
    assert "Exemples :" in result["system"]


def test_cli_eval_bad_input_gets_a_french_diagnosis(workspace, tmp_path):
    missing = _cli("eval", "ft:x", str(tmp_path / "absent.jsonl"))
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "Fichier introuvable" in missing.stderr
    broken = tmp_path / "casse.jsonl"
    broken.write_text('{"messages": [}\n', encoding="utf-8")
    done = _cli("eval", "ft:x", str(broken))
    assert done.returncode == 1 and "ligne 1" in done.stderr and "Traceback" not in done.stderr
    usage = _cli("eval", "ft:x", str(broken), "--workers", "0")
    assert usage.returncode == 2 and "--workers" in usage.stderr


def test_cli_eval_unknown_model_is_explained(subject_model):
    split, _ = subject_model
    done = _cli("eval", "ft:gpt-4o-mini-2024-07-18:sandbox:absent:xxxxxxxx", str(split.heldout))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "modèle" in done.stderr.lower()


def test_cli_eval_writes_the_promptfoo_configuration(subject_model, tmp_path):
    split, model = subject_model
    done = _cli("eval", model, str(split.heldout), "--promptfoo", str(tmp_path / "pf"))
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "pf" / "promptfooconfig.yaml").read_text(encoding="utf-8"))
    (provider,) = config["providers"]
    assert provider["id"] == f"openai:chat:{model}"
    assert provider["config"]["apiBaseUrl"] == helpers.client().base_url.__str__().rstrip("/")
    assert provider["config"]["temperature"] == 0
    assert len(config["tests"]) == len(evaluation.read_examples(split.heldout))
    assert config["tests"][0]["assert"] == [{"type": "equals", "value": "{{expected}}"}]
    assert "PROMPTFOO_DISABLE_TELEMETRY=1" in done.stdout
    assert (tmp_path / "pf" / "LISEZMOI.md").is_file()


def test_ensure_is_still_the_notebook_entry(workspace):
    """Notebook 12 asks for the COUCOU model like 07 does (the forgetting check)."""
    assert notebook.ensure("fine_tuned_model").startswith("ft:")


def test_tables_and_charts_need_no_pandas_nor_matplotlib(workspace):
    """Notebook 12's tables and charts keep its kernel small (bench/class_memory.py)."""
    import xml.etree.ElementTree as ET

    code = (
        "import sys, json\n"
        "from helpers import evaluation\n"
        "from helpers.evaluation import Evaluation, Outcome\n"
        "o = [Outcome('q1', 'A', 'A', True), Outcome('q2', 'B', 'A', False), Outcome('q<3>', 'B', 'zut', False)]\n"
        "e = Evaluation('m', 'fine-tune', 'exact', 'd', o, 'sandbox', True)\n"
        "b = Evaluation('m', 'base', 'exact', 'd', o[:1], 'sandbox', True)\n"
        "parts = [e.per_class(), e.confusion(), e.mistakes(), evaluation.compare([b, e]),\n"
        "         evaluation.per_class_table([b, e])]\n"
        "html = [t._repr_html_() for t in parts]\n"
        "svg = [evaluation.chart([b, e])._repr_svg_(),\n"
        "       evaluation.loss_chart([{'step': 1.0, 'train_loss': 2.0, 'valid_loss': 2.5},\n"
        "                              {'step': 2.0, 'train_loss': 1.0, 'valid_loss': None}])._repr_svg_()]\n"
        "print(json.dumps({'html': html, 'text': [repr(t) for t in parts], 'svg': svg,\n"
        "  'heavy': sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["heavy"] == []
    per_class, confusion, mistakes, scores, by_class = out["html"]
    assert "q&lt;3&gt;" in mistakes and "<td" in mistakes
    assert "(autre réponse)" in confusion  # « zut » is no class
    assert "modèle de base" in scores and "modèle fine-tuné" in scores
    assert ">100</td></tr>" in per_class and ">0</td></tr>" in per_class  # A: 1/1, B: 0/2
    assert "réponse attendue" in out["text"][0].splitlines()[0]
    for svg in out["svg"]:
        root = ET.fromstring(svg)  # well-formed SVG
        assert root.tag.endswith("svg")
    assert out["svg"][0].count("<rect") == 3  # background + two bars
    assert "validation" in out["svg"][1] and "<circle" in out["svg"][1]


def test_loss_chart_of_a_job_without_validation_says_training_only():
    """Notebook 06's job has no validation file: its chart is the training loss alone."""
    svg = evaluation.loss_chart(
        [{"step": 1.0, "train_loss": 2.0, "valid_loss": None}, {"step": 2.0, "train_loss": 1.0}]
    )._repr_svg_()
    assert "<title>Perte d&#x27;entraînement</title>" in svg and "validation" not in svg


def test_promptfoo_config_never_holds_a_key(workspace, tmp_path, monkeypatch):
    """openai mode: Promptfoo reads OPENAI_API_KEY itself and goes to OpenAI (no loopback-only
    proxy); a class server: the variable holding the student's key, never the key."""
    from helpers import promptfoo

    secret = "sk-" + "proj-" + "x" * 40  # built at run time
    heldout = evaluation.split(MATIERES).heldout
    monkeypatch.setenv("ATELIER_MODE", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    written = promptfoo.write_config(
        tmp_path / "openai", ["ft:gpt-4o-mini-2024-07-18:o::x"], heldout
    )
    text = written.config.read_text(encoding="utf-8")
    assert secret not in text and "apiKey" not in text
    assert json.loads(text)["providers"][0]["config"]["apiBaseUrl"] == "https://api.openai.com/v1"
    assert written.key_variable == "OPENAI_API_KEY" and "HTTPS_PROXY" not in written.env
    monkeypatch.setenv("ATELIER_MODE", "sandbox")
    monkeypatch.setenv("ATELIER_CLASS_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("ATELIER_CLASS_KEY", "cle-de-classe-secrete")
    written = promptfoo.write_config(tmp_path / "classe", ["m"], heldout, match="loose")
    config = json.loads(written.config.read_text(encoding="utf-8"))
    assert "cle-de-classe-secrete" not in written.config.read_text(encoding="utf-8")
    assert config["providers"][0]["config"]["apiKeyEnvar"] == "ATELIER_CLASS_KEY"
    assert config["providers"][0]["config"]["apiBaseUrl"] == "http://127.0.0.1:9/v1"
    assert config["tests"][0]["assert"][0]["type"] == "javascript"
    assert written.env["NO_PROXY"].startswith("127.0.0.1")


def test_local_mode_sends_a_whole_batch_at_once():
    """The local engine batches the temperature-0 requests that arrive together (at most
    MAX_BATCH): an evaluation in local mode has that many in flight, elsewhere a gentle 4."""
    from helpers.local import generate

    assert evaluation.default_workers("local") == generate.MAX_BATCH
    assert evaluation.default_workers("sandbox") == evaluation.default_workers("openai") == 4
