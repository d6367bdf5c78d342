"""What notebooks 08, 12 and 13 show, in the English edition (ATELIER_LANG=en): the evaluation's
report, tables and charts, the preference rate, the Promptfoo configuration's README, the
step-8 key check; numbers with a decimal point. French stays the other tests' (and, for the
number helpers, the first test here)."""

from __future__ import annotations

import json

import pytest
from conftest import REPO
from fake_upstream import FakeUpstream

from helpers import charts, evaluation, preference_eval, promptfoo, tables, webdemo
from helpers.evaluation import Evaluation, Outcome
from helpers.exceptions import EvaluationError

SUBJECTS = REPO / "data" / "en" / "subjects.jsonl"
KEY = "sk-test-SECRETenglish-" + "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
MODEL = "ft:gpt-4o-mini-2024-07-18:sandbox:coucou:ab12cd34"


def test_numbers_follow_the_learners_language(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "fr")
    assert tables.decimal(0.0062, 4) == "0,0062" and tables.decimal(1.5) == "1,5"
    assert tables.grouped(12345) == "12\u202f345"
    assert tables.percent(0.833, 1) == "83,3\u202f%"
    assert evaluation.percent_fr(0.5) == "50\u202f%"
    assert tables.cell_text(2.5) == "2,5"
    assert ">0,5</text>" in charts.bars(["a"], [0.5], title="t")._repr_svg_()
    monkeypatch.setenv("ATELIER_LANG", "en")
    assert tables.decimal(0.0062, 4) == "0.0062" and tables.decimal(1.5) == "1.5"
    assert tables.grouped(12345) == "12,345"
    assert tables.percent(0.833, 1) == "83.3%"
    assert evaluation.percent_fr(0.5) == "50%"
    assert tables.cell_text(2.5) == "2.5"
    assert ">0.5</text>" in charts.bars(["a"], [0.5], title="t")._repr_svg_()
    assert repr(charts.bars(["a"], [1], title="Scores")) == "<chart: Scores>"


@pytest.fixture
def english(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")


def _evaluations() -> tuple[Evaluation, Evaluation]:
    outcomes = [
        Outcome("q1", "A", "A", True),
        Outcome("q2", "B", "A", False),
        Outcome("q3", "B", "nope", False),
    ]
    tuned = Evaluation("m", "fine-tune", "loose", "held.jsonl", outcomes, "sandbox", True)
    base = Evaluation("m0", "base", "exact", "held.jsonl", outcomes[:1], "sandbox", True)
    return base, tuned


def test_the_evaluation_report_speaks_english(english):
    base, tuned = _evaluations()
    lines = tuned.lines()
    assert lines[0] == (
        "Evaluation of m on held.jsonl (3 examples, ignoring case, spaces and accents)"
    )
    assert lines[1] == "Right: 1/3 (33%)"
    assert lines[2] == "By expected answer:"
    assert "Mistakes (2):" in lines
    assert "  ❌ q2 → A (expected: B)" in lines
    assert lines[-1].startswith("⚠️ Sandbox: simulated figures.")
    assert tuned.per_class().headers == ["expected answer", "right", "total", "rate (%)"]
    confusion = tuned.confusion()
    assert confusion.headers == ["expected ↓ / answered →", "A", "B", "(other answer)"]
    assert tuned.mistakes().headers == ["question", "expected", "the model's answer"]
    scores = evaluation.compare([base, tuned])
    assert scores.headers[:2] == ["contender", "model"]
    assert scores.column("contender") == ["base model", "fine-tuned model"]
    assert evaluation.per_class_table([base, tuned]).headers[0] == "expected answer (rate in %)"
    svg = evaluation.chart([base, tuned])._repr_svg_()
    assert "Right answers on the held-out questions" in svg and "fine-tuned model" in svg
    loss = evaluation.loss_chart(
        [{"step": 1.0, "train_loss": 1.2}, {"step": 2.0, "train_loss": 0.9}]
    )._repr_svg_()
    assert "<title>Training loss</title>" in loss
    assert ">0.5</text>" in loss and ">0,5</text>" not in loss  # ticks with a decimal point


def test_the_evaluations_errors_and_prompt_speak_english(english, tmp_path):
    with pytest.raises(EvaluationError, match="Unknown comparison: 'fuzzy'."):
        evaluation.check_match("fuzzy")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(EvaluationError) as info:
        evaluation.read_examples(bad)
    assert str(info.value).startswith("bad.jsonl, line 1: this is not valid JSON")
    examples = evaluation.read_examples(SUBJECTS)
    prompt = evaluation.few_shot_prompt(examples)
    assert "Answer with only one of these answers, written exactly like this" in prompt
    assert "Examples:" in prompt and "\nQuestion: " in prompt and "\nAnswer: " in prompt


def test_the_split_is_described_in_english(english, workspace):
    split = evaluation.split(SUBJECTS)
    text = split.describe()
    assert text.startswith(f"Split of {SUBJECTS.name} (made and saved, seed 0): ")
    assert "examples for training" in text and "held out for the evaluation." in text
    assert " training · " in text and "évaluation" not in text


def test_the_preference_rate_speaks_english(english):
    rate = preference_eval.StyleRate(
        model="m",
        label="DPO",
        questions=["q1", "q2"],
        answers=[
            "Short.",
            "A longer answer with many more words than fifteen, really many words, yes",
        ],
        styled=[True, False],
        simulated=True,
    )
    assert rate.headline() == ("DPO: 1/2 answers in the preferred style (50%), 7 words on average")
    assert rate.table().headers[-1] == "preferred style"
    assert rate.table().rows[0][3] == "no"
    assert preference_eval.compare([rate]).headers[2] == "preferred style"
    assert "Answers in the preferred style" in preference_eval.chart([rate])._repr_svg_()


def test_the_promptfoo_configuration_speaks_english(english, workspace, tmp_path):
    heldout = evaluation.split(SUBJECTS).heldout
    written = promptfoo.write_config(tmp_path / "pf", ["m"], heldout)
    lines = written.lines()
    assert lines[0].startswith("Promptfoo configuration written: ")
    assert "test cases × 1 model(s): " in lines[1]
    readme = (tmp_path / "pf" / "LISEZMOI.md").read_text(encoding="utf-8")
    assert readme.startswith("# Promptfoo evaluation written by the fine-tuning workshop")
    assert "- Models asked through the kit's server (sandbox): " in readme
    config = json.loads(written.config.read_text(encoding="utf-8"))
    assert config["description"].startswith("Atelier fine-tuning: m on ")
    assert config["description"].endswith("(exact comparison)")


def test_the_key_check_speaks_english(english):
    upstream = FakeUpstream()
    try:
        webdemo.start(model=MODEL, base_url=upstream.base_url, api_key=KEY)
        report = webdemo.check_key_hidden()
        text = str(report)
        assert report.ok
        assert "✅ The page (/): HTTP 200, " in text and "bytes, no key" in text
        assert "Proxy status (/healthz)" in text
        assert 'The model\'s answer to "Hello": ' in text
        assert text.endswith("✅ The key appears nowhere in what the browser gets.")
        html = report._repr_html_()
        assert "What the browser gets" in html and "Chat answer" in html
        assert str(webdemo.current()).startswith("Step 8 proxy on http://127.0.0.1:")
    finally:
        webdemo.stop()
        upstream.close()
    with pytest.raises(webdemo.WebDemoError, match="The proxy is not started"):
        webdemo.check_key_hidden()
