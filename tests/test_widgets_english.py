"""The widgets in the English edition (ATELIER_LANG=en): labels, buttons, messages in English,
numbers with a decimal point; the French ones are the other test_widgets_* files'."""

from __future__ import annotations

import re

import pytest
from _widget_harness import text
from conftest import DATA

from helpers import client as client_mod
from helpers import jobs
from helpers.widgets import DatasetTable, JobMonitor, KeyForm
from helpers.widgets.row_view import header

FRENCH = re.compile(r"[éèêàùçôîâœ«»]|\b(?:le|la|les|des|du|une|est|pas|ton|ta|tes|avec)\b")


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")


def labels(widget) -> list[str]:
    """Every description, placeholder and tooltip of a widget tree."""
    out = []
    for name in ("description", "placeholder", "tooltip"):
        value = getattr(widget, name, None)
        if isinstance(value, str) and value:
            out.append(value)
    for child in getattr(widget, "children", ()) or ():
        out += labels(child)
    return out


def test_the_key_form_speaks_english(monkeypatch):
    form = KeyForm()
    assert form.key.description == "API key:"
    assert form.validate.description == "Validate"
    assert form.forget.description == "Forget the key"
    assert form.remember.description.startswith("remember in .env")
    assert "Active mode:" in text(form.status.value)
    for label in labels(form):
        assert not FRENCH.search(label), label

    form.key.value = "notakey"
    assert "Key received (hidden)" in text(form.status.value)
    form.validate.click()
    assert "That does not look like an OpenAI key" in text(form.status.value)

    monkeypatch.setattr(
        client_mod, "check_key", lambda key, mode=None, **_: client_mod.KeyCheck("valid", "ok")
    )
    form.key.value = "sk-proj-TESTsecretVALUE0123456789abcdefWXYZ"
    form.validate.click()
    status = text(form.status.value)
    assert "Key not checked: the sandbox accepts any key" in status
    assert "kept for this session." in status and "sk-…WXYZ" in status
    form.forget.click()
    assert "Key forgotten: removed from this session" in text(form.status.value)


def test_the_dataset_table_speaks_english(tmp_path):
    table = DatasetTable(path=DATA / "coucou.jsonl", export_dir=tmp_path)
    assert table.add_button.description == "Add a row"
    assert table.export_button.description == "Save"
    assert table.import_button.description == "Import this path"
    assert table.model.description == "Model:"
    assert table.path.placeholder == "or a path: data/en/coucou.jsonl"
    assert table.name.value == "my_dataset.jsonl"
    summary = text(table.summary.value)
    assert "examples: ✅ minimum of 10 reached (50 to 100 give better results)" in summary
    assert "tokens (≈" in summary and "per example" in summary
    assert "estimated training cost: $" in summary
    # numbers with a decimal point, thousands with a comma (no French decimal comma)
    cost = re.search(r"estimated training cost: \$(\S+)", summary).group(1)
    assert re.fullmatch(r"\d+\.\d{4}", cost), cost
    assert "✅ Ready to save and upload." in summary
    assert re.search(r"\b15 examples × \d+ epochs → ", summary), summary
    one = DatasetTable(path=None, export_dir=tmp_path)
    one.import_bytes(
        b'{"messages": [{"role": "user", "content": "Hi"}, '
        b'{"role": "assistant", "content": "COUCOU"}]}\n',
        "one.jsonl",
    )
    assert "(1 example × " in text(one.summary.value), text(one.summary.value)
    assert "page 1 / 1" in table.page_label.value and "rows)" in table.page_label.value
    view = table.view(0)
    assert view.turns[0][0].placeholder == "user: the question"
    assert view.system.placeholder == "system (optional): the model's role"
    titles = text(header().children[1].children[0].value)
    assert titles == "system (optional)"
    for label in labels(table):
        assert not FRENCH.search(label), label

    table.delete_row(0)
    assert table.undo_button.description == "Restore row 1"
    table.undo_delete()
    path = table.export("english.jsonl")
    assert path is not None
    assert "✅ Saved:" in text(table.message.value)
    assert "This is the file the rest of the course will upload." in text(table.message.value)
    assert not table.import_path("")
    assert "Give a path first" in text(table.message.value)
    assert not table.export("../elsewhere.jsonl")
    assert "File name refused" in text(table.message.value)


def test_the_dataset_table_of_pairs_speaks_english(tmp_path):
    pair = {
        "input": {"messages": [{"role": "user", "content": "Hi?"}]},
        "preferred_output": [{"role": "assistant", "content": "Hi!"}],
        "non_preferred_output": [{"role": "assistant", "content": "Good day to you."}],
    }
    table = DatasetTable([pair], export_dir=tmp_path)
    summary = text(table.summary.value)
    assert "📋 1 / 10 preference pairs: add 9 more (the API requires at least 10)." in summary
    assert "DPO method" in summary
    view = table.view(0)
    assert view.rejected.placeholder == "the answer to avoid"


def test_an_import_problem_is_explained_in_english(tmp_path):
    table = DatasetTable(export_dir=tmp_path)
    bad = b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}\nnot json\n'
    assert table.import_bytes(bad, "mixed.jsonl")
    message = text(table.message.value)
    assert '2 rows imported from "mixed.jsonl".' in message
    assert "1 unreadable line came in as is, as JSON, marked ❌: fix it in the table." in message


def test_the_job_monitor_speaks_english():
    file = jobs.upload(DATA / "coucou.jsonl", check=False)
    job = jobs.create(file.id, suffix="coucou")
    monitor = JobMonitor(job.id)
    monitor.wait(timeout=60)
    assert monitor.cancel_button.description == "Cancel the job"
    assert "base model" in text(monitor.title_html.value)
    assert re.search(r"step (\d+) / \1 \(100%\)", text(monitor.progress_label.value))
    assert "Job log" in text(monitor.events_html.value)
    assert "newest at the bottom" in text(monitor.events_html.value)
    assert "Your model is ready" in text(monitor.model_html.value)
    assert "It is also saved in the workspace" in text(monitor.model_html.value)
    checkpoints = text(monitor.checkpoints_html.value)
    assert "intermediate versions of the model, which you can use too (3)" in checkpoints
    losses = re.findall(r"\d+[.,]\d{3}", checkpoints)
    assert losses and all("." in loss for loss in losses)  # a decimal point, not a comma
    svg = bytes(monitor.chart.value).decode("utf-8")
    assert "training loss" in svg and "Loss curve: it should go down" in svg


def test_the_job_monitor_cancel_asks_in_english(monkeypatch):
    monkeypatch.setenv("ATELIER_SANDBOX_SPEED", "0.001")  # the job waits for the click
    file = jobs.upload(DATA / "coucou.jsonl", check=False)
    job = jobs.create(file.id, suffix="coucou")
    monitor = JobMonitor(job.id, autostart=False)
    assert not monitor.done
    monitor.cancel_button.click()
    assert monitor.cancel_button.description == "Confirm cancellation"
    assert 'Click "Confirm cancellation" again within 10 s' in text(monitor.connection_html.value)
    monitor.cancel_button.click()
    assert monitor.cancel_button.description == "Cancel the job"
    assert "Job cancelled: the training stopped." in text(monitor.diagnosis_html.value)
