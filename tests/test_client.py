"""client: key handling in openai mode, check_key verdicts, the callable module."""

from __future__ import annotations

from datetime import date

import pytest
from fakeapi import FakeAPI

from helpers import client as client_mod
from helpers.client import MissingKeyError, check_key

KEY = "sk-proj-VERYSECRETKEYVALUE0000abcd"


def test_openai_mode_without_key_is_french(monkeypatch):
    monkeypatch.setattr("helpers.settings.find_api_key", lambda: None)
    with pytest.raises(MissingKeyError) as info:
        client_mod.client("openai")
    assert "aucune clé" in str(info.value)


def test_openai_mode_uses_key_and_real_url(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    api = client_mod.client("openai", max_retries=0)
    assert api.api_key == KEY and "api.openai.com" in str(api.base_url)


def test_helpers_client_is_the_callable_module_before_and_after_its_import(monkeypatch):
    """One rule (helpers/__init__.py): `helpers.client` is the module, and calling it builds
    the SDK client — in a fresh interpreter, before and after `import helpers.client`."""
    import os
    import subprocess
    import sys

    code = (
        "import types, helpers\n"
        "first = helpers.client\n"
        "import helpers.client\n"
        "assert first is helpers.client and isinstance(first, types.ModuleType)\n"
        "api = helpers.client('openai', max_retries=0)\n"
        "assert type(api).__name__ == 'OpenAI' and api.api_key == 'sk-test'\n"
    )
    env = {**os.environ, "OPENAI_API_KEY": "sk-test"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


def test_a_public_name_is_a_function_or_a_module_never_both():
    import types

    import helpers

    assert not set(helpers._API) & helpers._MODULES
    for name in helpers._API:
        assert not isinstance(getattr(helpers, name), types.ModuleType), name
    for name in helpers._MODULES:
        assert isinstance(getattr(helpers, name), types.ModuleType), name
    assert set(helpers.__all__) == set(helpers._API) | {"client"}


def _verdict(
    status,
    message,
    *,
    type_="invalid_request_error",
    code=None,
    today=date(2026, 11, 23),
    mode="openai",
):
    fake = FakeAPI()
    if status:
        fake.faults["fine_tuning"] = (
            status,
            {"message": message, "type": type_, "param": None, "code": code},
            {},
        )
    return check_key(KEY, mode, today=today, client_=fake.client())


@pytest.mark.parametrize(
    ("status", "message", "kw", "expected"),
    [
        (
            401,
            "Incorrect API key provided: sk-proj-***abcd.",
            {"code": "invalid_api_key"},
            "invalid",
        ),
        (403, "You are not allowed to use fine-tuning", {}, "no_fine_tuning"),
        (
            429,
            "You exceeded your current quota",
            {"type_": "insufficient_quota", "code": "insufficient_quota"},
            "quota",
        ),
        (429, "Rate limit reached", {"code": "rate_limit_exceeded"}, "valid"),
        (None, "", {}, "valid"),
    ],
)
def test_check_key_statuses(status, message, kw, expected):
    result = _verdict(status, message, **kw)
    assert result.status == expected
    assert "VERYSECRET" not in result.message and result.message


def test_check_key_after_wind_down():
    assert _verdict(None, "", today=date(2027, 1, 10)).status == "no_fine_tuning"
    assert "7 mai 2026" in _verdict(None, "").message
    assert _verdict(None, "", mode="sandbox").message == "✅ Clé valide."


def test_check_key_no_network_and_empty():
    import fakeapi
    import openai

    def down(request):
        raise fakeapi.hx.ConnectError("no route", request=request)

    api = openai.OpenAI(
        api_key=KEY,
        base_url="http://fake.test/v1",
        max_retries=0,
        http_client=fakeapi.hx.Client(transport=fakeapi.hx.MockTransport(down)),
    )
    assert check_key(KEY, "openai", client_=api).status == "no_network"
    assert check_key("  ", "openai").status == "invalid"


def test_a_refused_key_s_punctuation_follows_the_language(monkeypatch):
    """Rehearsal F6: "API key refused (error 401) : Create a new key…" (a French space before
    the colon, in English): the punctuation is part of the translated message."""
    refused = ("Incorrect API key provided: sk-proj-***abcd.", {"code": "invalid_api_key"})
    monkeypatch.setenv("ATELIER_LANG", "en")
    english = _verdict(401, refused[0], **refused[1]).message
    assert "(error 401): " in english and " : " not in english, english
    monkeypatch.setenv("ATELIER_LANG", "fr")
    assert "(erreur 401) : " in _verdict(401, refused[0], **refused[1]).message
