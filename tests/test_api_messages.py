"""The real API's messages, one table (helpers/api_messages.py): the kit server sends them from it,
the diagnoses recognise them by it — the round trip, message by message (issue 21 item 4).

A server string changed in the table changes what the diagnoses match with it; a message
written by hand in the kit server's faults, errors or resources that a diagnosis reads
specifically fails here until it is in the table."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openai
import pytest
from fakeapi import api_error
from sandboxkit import COUCOU, client, upload

from helpers import api_messages, errors, french, models
from helpers.kit_server import errors as server_errors
from helpers.kit_server import faults, params

TODAY = date(2026, 11, 23)
ROOT = Path(__file__).resolve().parents[1]
KIT_SERVER = ROOT / "helpers" / "kit_server"
# Where the kit server writes the API's messages (the table's readers on the server side).
SENDERS = [KIT_SERVER / "faults.py", KIT_SERVER / "errors.py"] + sorted(
    (KIT_SERVER / "resources").glob("*.py")
)
# What a message no diagnosis reads specifically gets, by status (the message itself, shown as
# the original, names what is wrong).
GENERIC = {
    400: {"invalid_request"},
    403: {"permission_denied"},
    404: {"not_found"},
    405: {"api_error"},
    409: {"conflict"},
    413: {"api_error"},
}


def sent(entry: api_messages.ApiMessage, **values: Any) -> BaseException:
    """The SDK error the kit server's answer with this message is (through the SDK's own
    response handling)."""
    values = {**entry.example, **values}
    error = server_errors.from_table(entry, **values)
    return api_error(
        error.status,
        error.message,
        type_=error.type,
        code=error.code,
        param=error.param,
        headers=error.headers,
    )


HTTP = [m for m in api_messages.MESSAGES if m.status]


@pytest.mark.parametrize("entry", HTTP, ids=lambda m: m.name)
def test_every_message_of_the_table_gets_its_diagnosis(entry):
    d = errors.explain(sent(entry), today=TODAY)
    assert d.code == entry.diagnosis, (entry.name, d)
    for values, diagnosis in entry.cases:
        assert errors.explain(sent(entry, **values), today=TODAY).code == diagnosis, values


@pytest.mark.parametrize("entry", api_messages.MESSAGES, ids=lambda m: m.name)
def test_every_message_pasted_as_text_gets_its_diagnosis(entry):
    text = entry.render(**entry.example)
    assert errors.explain(text, today=TODAY).code == entry.diagnosis
    quoted = f"Error code: {entry.status} - {{'error': {{'message': '{text}'}}}}"
    assert errors.explain(quoted, today=TODAY).code == entry.diagnosis


@pytest.mark.parametrize("entry", api_messages.MESSAGES, ids=lambda m: m.name)
def test_the_table_recognises_each_of_its_messages_first(entry):
    text = entry.render(**entry.example)
    assert entry.match(text) == {
        k: str(v) for k, v in entry.example.items() if f"{{{k}}}" in entry.text
    }
    assert api_messages.find(text) is entry  # no message before it in the table takes it


def test_the_servers_5xx_in_openai_mode(monkeypatch):
    monkeypatch.setenv("ATELIER_MODE", "openai")
    for entry in (api_messages.SERVER_ERROR, api_messages.OVERLOADED):
        d = errors.explain(sent(entry), today=TODAY)
        assert d.code == "server_error" and "status.openai.com" in d.fix


def test_a_failed_jobs_message_gets_its_diagnosis_and_its_gloss():
    entry = api_messages.TOO_FEW_EXAMPLES
    text = entry.render(n=3, minimum=models.MIN_EXAMPLES)
    job = SimpleNamespace(
        id="ftjob-1", status="failed", error={"code": entry.code, "message": text}
    )
    assert errors.explain(job, today=TODAY).code == entry.diagnosis
    assert (
        french.event_fr(text) == "Le fichier d'entraînement a 3 exemple(s), il en faut au moins 10"
    )


def test_a_changed_server_string_cannot_silently_stop_a_diagnosis():
    """The diagnoses read the table: the same message with another wording is no longer the
    table's, and the specific diagnosis goes with the table's text (not a copy of it)."""
    entry = api_messages.CHAT_MODEL_ON_COMPLETIONS
    changed = api_error(404, "This chat model cannot be used on v1/completions.", param="model")
    assert errors.explain(changed, today=TODAY).code == "not_found"
    assert errors.explain(sent(entry), today=TODAY).code == "chat_model_on_completions"


def _literal(node: ast.AST) -> str | None:
    """A message written in the code: a string, or an f-string with its fields as « x »."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(p.value if isinstance(p, ast.Constant) else "x" for p in node.values)
    return None


def hand_written(
    paths: list[Path] = SENDERS,
) -> list[tuple[str, int, int, str, str | None, str | None]]:
    """Every message the kit server's faults, errors and resources (or `paths`) write by hand:
    (file, line, status, message, code, param)."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name == "ApiError" and len(node.args) >= 2:
                status = node.args[0].value if isinstance(node.args[0], ast.Constant) else 400
                message = _literal(node.args[1])
            elif name == "bad_request" and node.args:
                status, message = 400, _literal(node.args[0])
            else:
                continue
            if message is None:  # a message made elsewhere (the table's, a variable)
                continue
            kw = {k.arg: _literal(k.value) for k in node.keywords if k.arg in ("code", "param")}
            rel = path.relative_to(ROOT).as_posix()
            found.append((rel, node.lineno, status, message, kw.get("code"), kw.get("param")))
    return found


def test_the_scanner_finds_the_hand_written_messages():
    found = hand_written()
    assert len(found) > 20
    assert any("stream_options" in message for _, _, _, message, _, _ in found)


@pytest.mark.parametrize("where", hand_written(), ids=lambda w: f"{w[0]}:{w[1]}")
def test_a_hand_written_message_is_not_one_the_diagnoses_read(where):
    """A message outside the table gets the generic diagnosis of its status (its own words say
    what is wrong); a message a diagnosis reads specifically belongs in the table."""
    rel, line, status, message, code, param = where
    assert api_messages.find(message) is None, f"{rel}:{line}: send it with from_table"
    d = errors.explain(api_error(status, message, code=code, param=param), today=TODAY)
    assert d.code in GENERIC[status], (
        f"{rel}:{line}: « {message} » gets the specific diagnosis {d.code}: put it in "
        "helpers/api_messages.py and send it with errors.from_table"
    )


def test_the_other_kit_server_modules_write_the_tables_words():
    """Messages sent from modules that do not read the table yet (their owners' areas): the
    table recognises each as the message it is, and the diagnosis is the table's."""
    from helpers.kit_server import door
    from helpers.kit_server.classroom import identity, tenants

    quotas = {"storage_bytes": 10 << 20, "storage_files": 20}
    answers = [
        (params.unknown_argument("seed2"), api_messages.UNKNOWN_PARAMETER),
        (door.missing_key(), api_messages.NO_API_KEY),
        (door.wrong_key(), api_messages.KIT_SERVER_KEY),
        (identity.hub_unavailable(), api_messages.HUB_UNAVAILABLE),
        (tenants.too_many_requests("alice"), api_messages.CLASS_REQUESTS_AT_ONCE),
        (tenants.storage_full(quotas, {"bytes": 11 << 20, "files": 3}), api_messages.STORAGE_QUOTA),
    ]
    for error, entry in answers:
        assert api_messages.find(error.message) is entry, error.message
        exc = api_error(error.status, error.message, type_=error.type, code=error.code)
        assert errors.explain(exc, today=TODAY).code == entry.diagnosis, entry.name


# Hand-written messages of the kit server's other modules that are the table's (their owners
# switch them to errors.from_table; the count may only go down).
PENDING = {
    "helpers/kit_server/engines/local.py": 1,
    "helpers/kit_server/file_store.py": 1,
    "helpers/kit_server/params.py": 3,
    "helpers/kit_server/structured.py": 6,
    "helpers/kit_server/door.py": 2,
    "helpers/kit_server/classroom/router.py": 2,
    "helpers/kit_server/classroom/identity.py": 1,
    "helpers/kit_server/classroom/tenants.py": 4,
}
GENERIC_ELSEWHERE = {**GENERIC, 401: {"invalid_api_key"}, 500: {"server_error"}}


def test_the_rest_of_the_kit_server_sends_no_message_the_diagnoses_read_outside_the_table():
    others = sorted(p for p in KIT_SERVER.rglob("*.py") if p not in SENDERS)
    found = hand_written(others)
    assert len(found) > 20
    by_file: dict[str, int] = {}
    for rel, line, status, message, code, param in found:
        if api_messages.find(message) is not None:
            by_file[rel] = by_file.get(rel, 0) + 1
            continue
        d = errors.explain(api_error(status, message, code=code, param=param), today=TODAY)
        assert d.code in GENERIC_ELSEWHERE[status], (
            f"{rel}:{line}: « {message} » gets the specific diagnosis {d.code}: put it in "
            "helpers/api_messages.py and send it with errors.from_table"
        )
    assert by_file == PENDING


@pytest.fixture(scope="module")
def url(module_sandbox):
    return module_sandbox


@pytest.mark.parametrize(
    ("fault", "entry"),
    [
        ("invalid_key", api_messages.INCORRECT_API_KEY),
        ("quota", api_messages.INSUFFICIENT_QUOTA),
        ("rate_limit", api_messages.RATE_LIMIT),
    ],
)
def test_the_faults_round_trip_through_the_kit_server(url, fault, entry):
    api = client(url, api_key=f"sk-sandbox-{fault}", max_retries=0)
    with pytest.raises(openai.APIStatusError) as err:
        api.models.list()
    assert api_messages.find(err.value.body["message"]) is entry
    assert errors.explain(err.value, today=TODAY).code == entry.diagnosis


def test_the_faults_table_says_each_faults_message():
    for name in faults.DEFAULTS:
        error = faults.error_for(
            faults.Fault(name, 1.0),
            api_key="sk-x-123456789",
            method="POST",
            path="/v1/fine_tuning/jobs",
        )
        if error is not None:
            assert api_messages.find(error.message) is not None, name


def test_refusals_round_trip_through_the_kit_server(url):
    api = client(url, max_retries=0)
    file_id = upload(api, COUCOU)
    cases = [
        (
            dict(model=models.DEFAULT_MODEL, training_file=file_id, suffix="x" * 70),
            api_messages.SUFFIX_TOO_LONG,
        ),
        (dict(model="gpt-3.5-turbo-0125", training_file=file_id), api_messages.MODEL_NOT_AVAILABLE),
        (
            dict(model=models.DEFAULT_MODEL, training_file=file_id, method={"type": "rlhf"}),
            api_messages.METHOD_TYPE_INVALID,
        ),
    ]
    for kwargs, entry in cases:
        with pytest.raises(openai.APIStatusError) as err:
            api.fine_tuning.jobs.create(**kwargs)
        assert api_messages.find(err.value.body["message"]) is entry, err.value.body
        assert errors.explain(err.value, today=TODAY).code == entry.diagnosis
    with pytest.raises(openai.BadRequestError) as err:
        api.chat.completions.create(
            model=models.DEFAULT_MODEL,
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=10**6,
        )
    assert api_messages.find(err.value.body["message"]) is api_messages.MAX_TOKENS_TOO_LARGE
    assert errors.explain(err.value, today=TODAY).code == "max_tokens_too_large"
    with pytest.raises(openai.NotFoundError) as err:
        api.files.retrieve("file-nope")
    assert api_messages.find(err.value.body["message"]) is api_messages.NO_SUCH_FILE
    assert errors.explain(err.value, today=TODAY).code == "file_not_found"
