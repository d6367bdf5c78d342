"""errors.explain: every SDK error class, kit errors, failed jobs, the guide's table (step 10)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import openai
import pytest
from fakeapi import api_error

from helpers import errors
from helpers.client import MissingKeyError
from helpers.dataset import DatasetError, check_bytes

TODAY = date(2026, 11, 23)


def explain(exc):
    return errors.explain(exc, today=TODAY)


def test_auth_masks_key_no_more_than_api():
    exc = api_error(
        401,
        "Incorrect API key provided: sk-proj-ab***************************wxyz. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )
    assert isinstance(exc, openai.AuthenticationError)
    d = explain(exc)
    assert d.code == "invalid_api_key"
    text = str(d) + d._repr_html_()
    assert "sk-proj-ab" not in text and "wxyz" in text  # the API showed the last 4; we do too
    assert "401" in d.title


def test_auth_with_unmasked_echo_is_masked():
    exc = api_error(
        401, "Incorrect API key provided: sk-secretsecretsecret1234.", code="invalid_api_key"
    )
    assert "secretsecret" not in str(explain(exc))


def test_permission_denied_fine_tuning_wind_down():
    exc = api_error(
        403,
        "You do not have access to fine-tuning.",
        type_="invalid_request_error",
        path="/fine_tuning/jobs",
    )
    d = explain(exc)
    assert d.code == "fine_tuning_refused"
    assert "7 mai 2026" in d.cause and "6 janvier 2027" in d.cause
    assert "sandbox" in d.fix
    late = errors.explain(exc, today=date(2027, 2, 1))
    assert "plus aucun" in late.cause


def test_permission_denied_other():
    d = explain(api_error(403, "Project does not have access to model gpt-4o"))
    assert d.code == "permission_denied"


def test_not_found_shut_down_guide_model():
    exc = api_error(
        404,
        "The model `gpt-3.5-turbo-0125` does not exist or you do not have access to it.",
        code="model_not_found",
        path="/chat/completions",
    )
    d = explain(exc)
    assert d.code == "model_shut_down"
    assert "gpt-4o-mini-2024-07-18" in d.fix and "23/10/2026" in d.cause


def test_not_found_fine_tune_and_plain_model():
    d = explain(
        api_error(
            404,
            "The model `ft:gpt-4o-mini-2024-07-18:sandbox:coucou:ab12cd34` does not exist",
            code="model_not_found",
        )
    )
    assert d.code == "model_not_found" and "ft:" in d.title
    assert (
        explain(api_error(404, "The model `gpt-9` does not exist", code="model_not_found")).code
        == "model_not_found"
    )


def test_not_found_file_and_job():
    assert (
        explain(
            api_error(404, "No such File object: file-abc", param="id", path="/files/file-abc")
        ).code
        == "file_not_found"
    )
    assert (
        explain(api_error(404, "No such job", path="/fine_tuning/jobs/ftjob-x")).code
        == "job_not_found"
    )
    assert explain(api_error(404, "Not found", path="/other")).code == "not_found"


def test_bad_request_invalid_training_file():
    d = explain(
        api_error(
            400, "invalid training_file: file-nope", param="training_file", path="/fine_tuning/jobs"
        )
    )
    assert d.code == "invalid_training_file"
    assert "virgule" in d.cause and "file-" in d.fix


@pytest.mark.parametrize(
    ("message", "param", "code"),
    [
        ("Invalid file format for Fine-Tuning API. Must be .jsonl", "file", "invalid_file_format"),
        (
            "Model gpt-3.5-turbo-0125 is not available for fine-tuning or does not exist.",
            None,
            "model_not_fine_tunable",
        ),
        # the alias of a model still open: « utilise le nom daté » (the real API's param: null)
        ("Model gpt-4o is not available for fine-tuning or does not exist.", None, "model_alias"),
        # the alias of a model shut down: the alias is not the problem
        (
            "Model gpt-3.5-turbo is not available for fine-tuning or does not exist.",
            None,
            "model_not_fine_tunable",
        ),
        ("suffix must be at most 64 characters", "suffix", "bad_suffix"),
        (
            "max_tokens is too large: 100000. This model supports at most 16384 completion "
            "tokens, whereas you provided 100000.",
            "max_tokens",
            "max_tokens_too_large",
        ),
        (
            "Invalid type for 'n': expected an integer, but got a string instead.",
            "n",
            "invalid_type",
        ),
        ("Something else is wrong", None, "invalid_request"),
    ],
)
def test_bad_request_variants(message, param, code):
    assert explain(api_error(400, message, param=param)).code == code


def test_quota_vs_rate_limit():
    quota = api_error(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        type_="insufficient_quota",
        code="insufficient_quota",
    )
    assert isinstance(quota, openai.RateLimitError)
    assert explain(quota).code == "insufficient_quota"
    rate = api_error(
        429,
        "Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1. Please try again in 20s.",
        type_="requests",
        code="rate_limit_exceeded",
        headers={"retry-after": "7"},
    )
    d = explain(rate)
    assert d.code == "rate_limit" and "7 s" in d.fix
    no_header = api_error(
        429, "Rate limit reached … Please try again in 20s.", code="rate_limit_exceeded"
    )
    assert "20 s" in explain(no_header).fix


def test_server_conflict_unprocessable():
    assert explain(api_error(500, "boom")).code == "server_error"
    assert explain(api_error(409, "already")).code == "conflict"
    assert explain(api_error(422, "bad")).code == "unprocessable"


@pytest.mark.parametrize(
    ("failure", "sdk_error", "code"),
    [
        ("ConnectError", openai.APIConnectionError, "connection"),
        ("ReadTimeout", openai.APITimeoutError, "timeout"),
    ],
)
def test_connection_and_timeout(failure, sdk_error, code):
    import fakeapi

    fake_hx = fakeapi.hx

    def fail(request):
        raise getattr(fake_hx, failure)("no answer", request=request)

    api = openai.OpenAI(
        api_key="x",
        base_url="http://fake.test/v1",
        max_retries=0,
        http_client=fake_hx.Client(transport=fake_hx.MockTransport(fail)),
    )
    with pytest.raises(sdk_error) as info:
        api.models.list()
    assert explain(info.value).code == code


def test_missing_credentials(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(openai.OpenAIError) as info:
        openai.OpenAI()
    assert explain(info.value).code == "missing_key"
    # openai 2.x wording
    assert (
        explain(
            openai.OpenAIError(
                "The api_key client option must be set either by passing api_key "
                "to the client or by setting the OPENAI_API_KEY environment variable"
            )
        ).code
        == "missing_key"
    )


def test_kit_errors():
    assert explain(MissingKeyError("x")).code == "missing_key"
    report = check_bytes(b'{"messages": [{"role": "user", "content": "hi"}]},\n')
    d = explain(DatasetError(report))
    assert d.code == "dataset" and "Ligne 1" in d.cause
    assert explain(FileNotFoundError(2, "No such file", "nope.jsonl")).code == "file_missing"
    assert explain(ValueError("weird")).code == "unknown"


def test_every_kit_error_carries_its_french_fix():
    """Each class of helpers.exceptions is explained by its type, with its fix, whatever
    modules are loaded (no lookup through sys.modules)."""
    from helpers import exceptions

    kinds = [
        c
        for c in vars(exceptions).values()
        if isinstance(c, type) and issubclass(c, exceptions.KitError)
    ]
    assert len(kinds) >= 10
    job = SimpleNamespace(id="ftjob-3", error=SimpleNamespace(code="boom", message="x"))
    argument = {DatasetError: check_bytes(b"{}\n"), exceptions.JobFailedError: job}
    for kind in kinds:
        assert kind.fix and " " in kind.fix, kind
        assert kind.fix in explain(kind(argument.get(kind, "x"))).fix, kind
    assert explain(exceptions.UsageError("x", "Fais ceci.")).fix == "Fais ceci."


def test_failed_jobs():
    job = SimpleNamespace(
        id="ftjob-1",
        status="failed",
        error=SimpleNamespace(
            code="invalid_n_examples",
            param="training_file",
            message="Training file has 3 example(s), but must have at least 10 examples",
        ),
    )
    d = explain(job)
    assert d.code == "invalid_n_examples" and "3 exemple(s)" in d.cause
    job.error = SimpleNamespace(
        code="invalid_training_file",
        param="training_file",
        message="The job failed due to an invalid training file. Invalid file format. "
        "Example 100, message 2 Discriminator 'role' is missing in value",
    )
    d = explain(job)
    assert d.code == "invalid_training_file" and "100" in d.cause
    job.error = SimpleNamespace(code="server_error", param=None, message="oops")
    assert explain(job).code == "job_failed:server_error"


def test_job_failed_error():
    from helpers.jobs import JobFailedError

    job = SimpleNamespace(
        id="ftjob-2",
        status="failed",
        error=SimpleNamespace(
            code="invalid_n_examples", param=None, message="Training file has 3 example(s)"
        ),
    )
    assert explain(JobFailedError(job)).code == "invalid_n_examples"


def test_guide_table_rows():
    codes = {msg: d.code for msg, d in errors.iter_table(TODAY)}
    assert codes == {
        "invalid training_file": "invalid_training_file",
        "invalid choice: chat_completions.create": "invalid_choice",
        "exceeded_quota": "insufficient_quota",
        "invalid_request_error": "invalid_request",
        "ENOENT: package.json": "enoent_package_json",
    }
    d = explain("invalid choice: chat_completions.create")
    assert "chat.completions.create" in d.fix


def test_never_raises_and_html():
    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("no str")

    d = errors.explain(Weird())
    assert isinstance(d, errors.Diagnosis)
    assert "<b>" in explain(ValueError("<script>")).__class__._repr_html_(
        explain(ValueError("<script>"))
    )
    assert "<script>" not in explain(ValueError("<script>"))._repr_html_()


def test_friendly_swallows_and_shows(capsys):
    with errors.friendly() as f:
        raise MissingKeyError("x")
    assert f.diagnosis is not None and f.diagnosis.code == "missing_key"
    assert "Aucune clé" in capsys.readouterr().err
    with pytest.raises(MissingKeyError), errors.friendly(reraise=True):
        raise MissingKeyError("x")


def test_a_number_typed_as_text_is_explained():
    """Issue 20: a value from a text widget or input() is a string; the fix converts it."""
    d = explain(
        api_error(
            400,
            "Invalid type for 'n': expected an integer, but got a string instead.",
            param="n",
        )
    )
    assert "int(valeur)" in d.fix and "input()" in d.cause
    d = explain(
        api_error(
            400,
            "Invalid type for 'metadata.tp': expected a string, but got an integer instead.",
            param="metadata.tp",
        )
    )
    assert d.code == "invalid_type" and "du texte" in d.cause and "widget" not in d.cause
