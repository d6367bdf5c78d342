"""Faults on demand (helpers/kit_server/faults.py), by special key and by header, through the SDK."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import openai
import pytest
from sandboxkit import COUCOU, client, upload

from helpers import models
from helpers.kit_server import faults

BASE = models.DEFAULT_MODEL
HI = [{"role": "user", "content": "Bonjour"}]


@pytest.fixture(scope="module")
def url(module_sandbox):
    return module_sandbox


def _by_key(url, fault, **kw):
    return client(url, api_key=f"sk-sandbox-{fault}", **kw)


def _by_header(url, fault, **kw):
    return client(url, default_headers={"X-Sandbox-Fault": fault}, **kw)


@pytest.mark.parametrize("make", [_by_key, _by_header])
def test_invalid_key(url, make):
    with pytest.raises(openai.AuthenticationError) as err:
        make(url, "invalid-key").models.list()
    body = err.value.body
    assert body["code"] == "invalid_api_key" and body["message"].startswith(
        "Incorrect API key provided: "
    )


def test_invalid_key_masks_the_key(url):
    c = client(
        url,
        api_key="sk-proj-abcdefghijklmnop9876",
        default_headers={"X-Sandbox-Fault": "invalid_key"},
    )
    with pytest.raises(openai.AuthenticationError) as err:
        c.models.list()
    assert (
        "abcdefghijklmnop" not in err.value.body["message"]
        and err.value.body["message"].count("9876") == 1
    )


@pytest.mark.parametrize("make", [_by_key, _by_header])
def test_rate_limit_with_retry_after(url, make):
    with pytest.raises(openai.RateLimitError) as err:
        make(url, "rate-limit").chat.completions.create(model=BASE, messages=HI)
    assert err.value.code == "rate_limit_exceeded" and err.value.type == "requests"
    assert err.value.response.headers["retry-after"] == "1"
    assert "Please try again in 1s" in err.value.body["message"]


def _counting_http_client() -> tuple[object, list]:
    """The SDK's own HTTP client (httpx for openai 2.x, httpx2 for 3.x) counting the requests
    it sends: retries counted, not timed."""
    import openai._base_client as base

    http = getattr(base, "httpx2", None) or base.httpx
    sent: list = []
    return http.Client(event_hooks={"request": [sent.append]}), sent


def test_rate_limit_is_retried_by_the_sdk(url):
    http, sent = _counting_http_client()
    c = _by_header(url, "rate_limit=0.1", max_retries=2, http_client=http)
    with pytest.raises(openai.RateLimitError):
        c.chat.completions.create(model=BASE, messages=HI)
    assert len(sent) == 3  # the request and two retries after Retry-After


def test_quota_is_not_retried(url):
    http, sent = _counting_http_client()
    c = _by_key(url, "quota", max_retries=2, http_client=http)
    with pytest.raises(openai.RateLimitError) as err:
        c.chat.completions.create(model=BASE, messages=HI)
    assert len(sent) == 1  # x-should-retry: false stops the SDK's retries
    assert err.value.code == "insufficient_quota" and err.value.type == "insufficient_quota"
    assert err.value.response.headers["x-should-retry"] == "false"
    assert err.value.body["message"].startswith("You exceeded your current quota")


@pytest.mark.parametrize(
    "fault, status, cls",
    [
        ("server_error", 500, openai.InternalServerError),
        ("overloaded", 503, openai.InternalServerError),
    ],
)
def test_server_errors(url, fault, status, cls):
    with pytest.raises(cls) as err:
        _by_key(url, fault).files.list()
    assert err.value.status_code == status and err.value.type == "server_error"


def test_slow_then_timeout(url):
    with pytest.raises(openai.APITimeoutError):
        _by_header(url, "slow=2", timeout=0.3).models.list()
    started = time.monotonic()
    assert _by_header(url, "slow=0.2").models.list().data  # slow, but answers
    assert time.monotonic() - started >= 0.2


def test_no_fine_tuning_only_refuses_job_creation(url):
    c = _by_key(url, "no-fine-tuning")
    f = upload(c, COUCOU)  # the rest of the API works
    assert c.chat.completions.create(model=BASE, messages=HI).choices
    with pytest.raises(openai.PermissionDeniedError) as err:
        c.fine_tuning.jobs.create(training_file=f.id, model=BASE)
    assert err.value.status_code == 403
    assert list(client(url).fine_tuning.jobs.list()) == []


def test_no_fault_by_default_and_unknown_names_are_ignored(url):
    assert client(url).models.list().data
    assert _by_header(url, "nonsense").models.list().data
    assert _by_key(url, "whatever").models.list().data


def test_missing_key_is_401(url):
    request = urllib.request.Request(url + "/models")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request)
    assert err.value.code == 401
    body = json.loads(err.value.read())
    assert (
        body["error"]["type"] == "invalid_request_error" and "API key" in body["error"]["message"]
    )


@pytest.mark.parametrize(
    "spec, name, value",
    [
        ("quota", "quota", 0.0),
        ("rate-limit-5", "rate_limit", 5.0),
        ("slow=0.5", "slow", 0.5),
        ("SERVER_ERROR", "server_error", 0.0),
        ("nope", None, None),
    ],
)
def test_fault_parsing(spec, name, value):
    fault = faults.select(None, spec)
    assert (fault.name, fault.value) == (name, value) if name else fault is None
    by_key = faults.select(f"sk-sandbox-{spec}", None)
    assert (by_key.name if by_key else None) == name


@pytest.mark.parametrize("digits", ["1" + "0" * 20, "9" * 400, "2.4"])
def test_retry_after_is_a_sane_whole_number(url, digits):
    """A huge fault value sent `Retry-After: 1e+20` (and `inf` past 308 digits): the header
    is a whole number of seconds, at most faults.MAX_SECONDS; the SDK's exact wait rides in
    `retry-after-ms`."""
    with pytest.raises(openai.RateLimitError) as err:
        _by_key(url, f"rate-limit-{digits}").chat.completions.create(model=BASE, messages=HI)
    headers = err.value.response.headers
    assert headers["retry-after"].isdigit()
    seconds = int(headers["retry-after"])
    assert 1 <= seconds <= faults.MAX_SECONDS
    assert int(headers["retry-after-ms"]) <= seconds * 1000
    assert "e+" not in err.value.body["message"] and "inf" not in err.value.body["message"]
    if digits == "2.4":
        assert seconds == 3 and headers["retry-after-ms"] == "2400"


def test_a_huge_slow_fault_is_clamped():
    assert faults.select(None, "slow=" + "9" * 400).value == faults.MAX_SECONDS
