"""Bad uploads get the real API's kind of error — at upload (400) or as a failed job — never a 500."""

from __future__ import annotations

import json

import openai
import pytest
from openai.types import FileObject
from openai.types.fine_tuning import FineTuningJob
from sandboxkit import (
    COUCOU,
    client,
    events_oldest_first,
    example,
    strict,
    upload,
    wait_job,
    write_lines,
)

from helpers import models

BASE = models.DEFAULT_MODEL
PROMPTS = [f"Question numéro {i} : que penses-tu de ceci ?" for i in range(12)]


@pytest.fixture(scope="module")
def url(module_sandbox):
    return module_sandbox


def _job_for(c: openai.OpenAI, path) -> FineTuningJob:
    f = strict(FileObject, upload(c, path))
    return strict(
        FineTuningJob, wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=BASE).id)
    )


def test_empty_file_is_refused_at_upload(url, tmp_path):
    with pytest.raises(openai.BadRequestError) as err:
        upload(client(url), write_lines(tmp_path / "vide.jsonl", [], raw=b""))
    assert err.value.status_code == 400 and err.value.param == "file"


def test_wrong_extension_is_refused(url, tmp_path):
    path = write_lines(tmp_path / "coucou.txt", [], raw=COUCOU.read_bytes())
    with pytest.raises(openai.BadRequestError) as err:
        upload(client(url), path)
    assert err.value.body["message"] == "Invalid file format for Fine-Tuning API. Must be .jsonl"


@pytest.mark.parametrize("purpose", ["fine_tune", "finetune", ""])
def test_wrong_purpose_is_refused(url, purpose):
    with pytest.raises(openai.BadRequestError) as err:
        upload(client(url), COUCOU, purpose=purpose)
    assert err.value.param == "purpose"


def test_other_valid_purpose_cannot_train(url):
    c = client(url)
    f = upload(c, COUCOU, purpose="user_data")
    with pytest.raises(openai.BadRequestError) as err:
        c.fine_tuning.jobs.create(training_file=f.id, model=BASE)
    assert err.value.param == "training_file"


def test_nine_examples(url, tmp_path):
    job = _job_for(
        client(url), write_lines(tmp_path / "neuf.jsonl", [example(p) for p in PROMPTS[:9]])
    )
    assert job.status == "failed" and job.error.code == "invalid_n_examples"
    assert job.error.message == "Training file has 9 example(s), but must have at least 10 examples"


def test_whole_file_json_array_is_not_json_lines(url, tmp_path):
    pretty = json.dumps([example(p) for p in PROMPTS], indent=2, ensure_ascii=False).encode()
    c = client(url)
    job = _job_for(c, write_lines(tmp_path / "tableau.jsonl", [], raw=pretty))
    assert job.status == "failed" and job.error.code == "invalid_training_file"
    assert job.error.message.startswith(
        "The job failed due to an invalid training file. Invalid file format."
    )
    assert job.error.param == "training_file"
    assert events_oldest_first(c, job.id)[-1].level == "error"


def test_bom(url, tmp_path):
    raw = b"\xef\xbb\xbf" + "".join(json.dumps(example(p)) + "\n" for p in PROMPTS).encode()
    job = _job_for(client(url), write_lines(tmp_path / "bom.jsonl", [], raw=raw))
    assert (
        job.status == "failed"
        and job.error.code == "invalid_training_file"
        and "BOM" in job.error.message
    )


def test_missing_role_names_example_and_message(url, tmp_path):
    lines = [example(p) for p in PROMPTS]
    lines[1] = {"messages": [{"content": "sans rôle"}, {"role": "assistant", "content": "COUCOU"}]}
    job = _job_for(client(url), write_lines(tmp_path / "role.jsonl", lines))
    assert job.error.code == "invalid_training_file"
    assert job.error.message == (
        "The job failed due to an invalid training file. Invalid file format. "
        "Example 2, message 1 Discriminator 'role' is missing in value"
    )


def test_legacy_prompt_completion(url, tmp_path):
    lines = [{"prompt": p, "completion": "COUCOU"} for p in PROMPTS]
    job = _job_for(client(url), write_lines(tmp_path / "ancien.jsonl", lines))
    assert job.error.code == "invalid_training_file"
    assert job.error.message.endswith(
        "Unexpected file format, expected either prompt/completion pairs or chat messages."
    )


@pytest.mark.parametrize(
    "raw",
    [
        "".join(json.dumps(example(p), ensure_ascii=False) + "\n" for p in PROMPTS).encode(
            "latin-1"
        ),
        bytes(range(256)) * 40,
        b"not json at all\n" * 20,
    ],
)
def test_garbage_fails_the_job_cleanly(url, tmp_path, raw):
    job = _job_for(client(url), write_lines(tmp_path / "bizarre.jsonl", [], raw=raw))
    assert job.status == "failed" and job.error.code == "invalid_training_file"


def test_huge_line_is_truncated_not_refused(url, tmp_path):
    lines = [example(p) for p in PROMPTS]
    lines[0] = example("mot " * 80_000)  # ~80k tokens, more than gpt-4o-mini's 65,536 per example
    c = client(url)
    job = _job_for(c, write_lines(tmp_path / "enorme.jsonl", lines))
    assert job.status == "succeeded"
    warnings = [e for e in events_oldest_first(c, job.id) if e.level == "warn"]
    assert len(warnings) == 1 and "65536 tokens" in warnings[0].message
    assert job.trained_tokens < 13 * 65_536 * job.hyperparameters.n_epochs


def test_multipart_without_file_or_purpose(url):
    c = client(url)
    with pytest.raises(openai.BadRequestError) as err:
        c.post(
            "/files",
            body={"purpose": "fine-tune"},
            cast_to=object,
            options={"headers": {"Content-Type": "multipart/form-data"}},
        )
    assert err.value.status_code == 400
    with pytest.raises(openai.BadRequestError) as err:
        c.post("/files", body=None, cast_to=object)
    assert err.value.status_code == 400
