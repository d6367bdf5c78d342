"""The sandbox answers like the real API beyond the happy path (issue 13), through the real SDK:
strict requests, structured outputs, tools, stop, logprobs, n, seed, streamed usage, headers."""

from __future__ import annotations

import json
import math

import openai
import pytest
from pydantic import BaseModel
from sandboxkit import COUCOU, client, upload, wait_job, write_lines

from helpers import models

BASE = "gpt-4o-mini"
HELLO = [{"role": "user", "content": "Bonjour"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Météo actuelle d'une ville",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


@pytest.fixture(scope="module")
def url(module_sandbox):
    return module_sandbox


@pytest.fixture(scope="module")
def tuned(url):
    c = client(url)
    f = upload(c, COUCOU)
    job = wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id)
    assert job.status == "succeeded"
    return job.fine_tuned_model


def _refused(c, **kwargs) -> dict:
    kwargs.setdefault("model", BASE)
    kwargs.setdefault("messages", HELLO)
    with pytest.raises(openai.BadRequestError) as err:
        c.chat.completions.create(**kwargs)
    return err.value.body


# -- requests the real API refuses --------------------------------------------------------------


def test_unknown_and_reasoning_parameters_are_refused(url):
    c = client(url)
    body = _refused(c, extra_body={"bogus": 1})
    assert body == {
        "message": "Unrecognized request argument supplied: bogus",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    body = _refused(c, reasoning_effort="low")
    assert body["message"] == "Unrecognized request argument supplied: reasoning_effort"


@pytest.mark.parametrize(
    "messages, param, code",
    [
        ([{"role": "user"}], "messages[0].content", "missing_required_parameter"),
        ([{"role": "user", "content": 123}], "messages[0].content", "invalid_type"),
        (
            [
                {"role": "user", "content": "x"},
                {"role": "tool", "content": "12 °C"},
            ],
            "messages[1].tool_call_id",
            "missing_required_parameter",
        ),
        (
            [
                {"role": "user", "content": "x"},
                {"role": "tool", "content": "y", "tool_call_id": "a"},
            ],
            "messages.[1].role",
            None,
        ),
    ],
)
def test_bad_messages(url, messages, param, code):
    body = _refused(client(url), messages=messages)
    assert (body["param"], body["code"]) == (param, code)
    if code == "invalid_type":
        assert body["message"] == (
            "Invalid type for 'messages[0].content': expected one of a string or array of "
            "objects, but got an integer instead."
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        # Confirmed wordings (transcripts of the real API in public issues).
        (
            {"temperature": "0.7"},
            "Invalid type for 'temperature': expected a decimal, but got a string instead.",
        ),
        ({"top_p": "1"}, "Invalid type for 'top_p': expected a decimal, but got a string instead."),
        ({"n": "2"}, "Invalid type for 'n': expected an integer, but got a string instead."),
        ({"n": 1.5}, "Invalid type for 'n': expected an integer, but got a decimal instead."),
        (
            {"max_tokens": "50"},
            "Invalid type for 'max_tokens': expected an integer, but got a string instead.",
        ),
        (
            {"max_tokens": 100_000},
            "max_tokens is too large: 100000. This model supports at most 16384 completion "
            "tokens, whereas you provided 100000.",
        ),
        (
            {"max_completion_tokens": 20_000},
            "max_completion_tokens is too large: 20000. This model supports at most 16384 "
            "completion tokens, whereas you provided 20000.",
        ),
        (
            {"frequency_penalty": "0"},
            "Invalid type for 'frequency_penalty': expected a decimal, but got a string instead.",
        ),
        ({"user": 42}, "Invalid type for 'user': expected a string, but got an integer instead."),
        (
            {"metadata": {"classe": 6}},
            "Invalid type for 'metadata.classe': expected a string, but got an integer instead.",
        ),
    ],
)
def test_wrong_types_and_limits_in_the_real_apis_words(url, kwargs, message):
    body = _refused(client(url), **kwargs)
    assert body["message"] == message and body["type"] == "invalid_request_error"


def test_a_temperature_typed_in_a_widget_is_explained_in_french(url):
    from helpers import errors

    with pytest.raises(openai.BadRequestError) as err:
        client(url).chat.completions.create(model=BASE, messages=HELLO, temperature="0.7")
    diagnosis = errors.explain(err.value)
    assert diagnosis.code == "invalid_type" and "temperature" in diagnosis.title
    assert "widget" in diagnosis.cause and "input()" in diagnosis.cause
    assert "float(" in diagnosis.fix


def test_the_completion_limit_is_the_models_own(url):
    """The limit comes from helpers.models (one source of model facts), per model."""
    c = client(url)
    for name in ("gpt-4o-mini", "gpt-4.1-mini-2025-04-14"):
        limit = models.get(name).completion_token_limit
        ok = c.chat.completions.create(model=name, messages=HELLO, max_tokens=limit)
        assert ok.choices[0].message.content
        body = _refused(c, model=name, max_tokens=limit + 1)
        assert f"at most {limit} completion tokens" in body["message"]


def test_stream_options_without_stream(url):
    body = _refused(client(url), stream_options={"include_usage": True})
    assert body["param"] == "stream_options"
    assert body["message"] == (
        "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    )


def test_the_alias_refused_for_fine_tuning_is_explained_in_french(url):
    from helpers import errors

    c = client(url)
    f = upload(c, COUCOU)
    with pytest.raises(openai.BadRequestError) as err:
        c.fine_tuning.jobs.create(training_file=f.id, model="gpt-4o-mini")
    assert err.value.body == {
        "message": "Model gpt-4o-mini is not available for fine-tuning or does not exist.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_available",
    }
    diagnosis = errors.explain(err.value)
    assert diagnosis.code == "model_alias" and "gpt-4o-mini-2024-07-18" in diagnosis.fix
    assert "nom daté" in diagnosis.cause


def test_unknown_job_fields_are_refused(url):
    c = client(url)
    f = upload(c, COUCOU)
    with pytest.raises(openai.BadRequestError) as err:
        c.fine_tuning.jobs.create(
            training_file=f.id, model=models.DEFAULT_MODEL, extra_body={"n_epochs": 3}
        )
    assert err.value.body["message"] == "Unrecognized request argument supplied: n_epochs"


# -- structured outputs ------------------------------------------------------------------------


class Fiche(BaseModel):
    titre: str
    note: int
    tags: list[str]


def test_parse_with_a_pydantic_model(url, tuned):
    c = client(url)
    for model in (BASE, tuned):
        done = c.chat.completions.parse(
            model=model,
            messages=[{"role": "user", "content": "Fais une fiche"}],
            response_format=Fiche,
        )
        fiche = done.choices[0].message.parsed
        assert isinstance(fiche, Fiche) and fiche.titre


def test_json_object_and_json_schema(url):
    c = client(url)
    body = _refused(c, response_format={"type": "json_object"})
    assert body["param"] == "messages" and "'json'" in body["message"]
    done = c.chat.completions.create(
        model=BASE,
        messages=[{"role": "user", "content": "Réponds en JSON"}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(done.choices[0].message.content), dict)
    schema = {
        "type": "object",
        "properties": {"age": {"type": "integer", "minimum": 18}, "ok": {"type": "boolean"}},
        "required": ["age", "ok"],
        "additionalProperties": False,
    }
    done = c.chat.completions.create(
        model=BASE,
        messages=HELLO,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "r", "schema": schema, "strict": True},
        },
    )
    from jsonschema import validate

    validate(json.loads(done.choices[0].message.content), schema)


@pytest.mark.parametrize(
    "messages",
    [
        # keys named in prose, typed by the words after them (French and English)
        [
            {
                "role": "system",
                "content": "Réponds en JSON avec les clés « titre » (texte), « note » (entier) "
                "et « tags » (liste).",
            },
            {"role": "user", "content": "Fais une fiche sur Paris"},
        ],
        [
            {
                "role": "user",
                "content": "Return a JSON object with the keys 'titre', 'note' (an integer) and "
                "'tags' (a list of strings).",
            }
        ],
        # an example object
        [
            {
                "role": "user",
                "content": 'Réponds en JSON, exactement comme ceci : {"titre": "…", "note": 3, '
                '"tags": ["…"]}',
            }
        ],
        # a JSON Schema in the system message (what Instructor's JSON mode sends)
        [
            {
                "role": "system",
                "content": "As a genius expert, your task is to understand the content and "
                "provide the parsed objects in json that match the following json_schema:\n\n"
                + json.dumps(Fiche.model_json_schema(), indent=2)
                + "\n\nMake sure to return an instance of the JSON, not the schema itself",
            },
            {"role": "user", "content": "Une fiche sur Paris"},
        ],
    ],
)
def test_json_mode_follows_the_keys_the_prompt_asks_for(url, tuned, messages):
    """Issue 20: JSON mode answered {"response": …} whatever the prompt asked; a library that
    parses JSON mode into its own schema failed."""
    c = client(url)
    for model in (BASE, tuned):
        done = c.chat.completions.create(
            model=model, messages=messages, response_format={"type": "json_object"}
        )
        fiche = Fiche.model_validate_json(done.choices[0].message.content)  # as a library does
        assert fiche.titre and isinstance(fiche.note, int) and fiche.tags


def test_json_mode_without_a_description_and_a_model_trained_on_json(url, tmp_path):
    c = client(url)
    plain = c.chat.completions.create(
        model=BASE,
        messages=[{"role": "user", "content": "Réponds en JSON"}],
        response_format={"type": "json_object"},
    )
    assert list(json.loads(plain.choices[0].message.content)) == ["response"]
    own = {"ville": "Paris", "ok": True}
    lines = [
        {
            "messages": [
                {"role": "user", "content": f"Donne la ville n° {i} en JSON"},
                {"role": "assistant", "content": json.dumps(own)},
            ]
        }
        for i in range(10)
    ]
    f = upload(c, write_lines(tmp_path / "json.jsonl", lines))
    job = wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id)
    trained = c.chat.completions.create(
        model=job.fine_tuned_model,
        messages=[{"role": "user", "content": "Donne la ville n° 3 en JSON, clés « a » et « b »"}],
        response_format={"type": "json_object"},
        temperature=0,
    )
    assert json.loads(trained.choices[0].message.content) == own  # its trained format wins


def test_strict_schema_must_be_closed(url):
    body = _refused(
        client(url),
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "r",
                "strict": True,
                "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
            },
        },
    )
    assert body["param"] == "response_format"
    assert "'additionalProperties' is required to be supplied and to be false" in body["message"]


# -- tools ---------------------------------------------------------------------------------------


def _weather_args(choice) -> dict:
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    args = json.loads(call.function.arguments)
    from jsonschema import validate

    validate(args, WEATHER["function"]["parameters"])
    return args


def test_tool_choice_auto_required_named_none(url):
    c = client(url)
    ask = [{"role": "user", "content": "Quelle météo fait-il à Paris ?"}]
    auto = c.chat.completions.create(model=BASE, messages=ask, tools=[WEATHER])
    assert auto.choices[0].finish_reason == "tool_calls" and auto.choices[0].message.content is None
    _weather_args(auto.choices[0])
    unrelated = c.chat.completions.create(model=BASE, messages=HELLO, tools=[WEATHER])
    assert unrelated.choices[0].message.tool_calls is None
    required = c.chat.completions.create(
        model=BASE, messages=HELLO, tools=[WEATHER], tool_choice="required"
    )
    assert required.choices[0].finish_reason == "tool_calls"
    _weather_args(required.choices[0])
    named = c.chat.completions.create(
        model=BASE,
        messages=HELLO,
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert named.choices[0].finish_reason == "stop"  # the real API's finish for a forced call
    _weather_args(named.choices[0])
    none = c.chat.completions.create(model=BASE, messages=ask, tools=[WEATHER], tool_choice="none")
    assert none.choices[0].message.tool_calls is None and none.choices[0].message.content
    # The tool's answer comes back: the model answers in text.
    call = auto.choices[0].message.tool_calls[0]
    follow = c.chat.completions.create(
        model=BASE,
        tools=[WEATHER],
        messages=[
            *ask,
            auto.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "18 °C"},
        ],
    )
    assert follow.choices[0].finish_reason == "stop" and follow.choices[0].message.content
    body = _refused(c, tool_choice="required")
    assert body["param"] == "tool_choice"


def test_fine_tuned_model_answers_with_trained_tool_calls(url, tmp_path):
    c = client(url)
    lines = []
    for i, city in enumerate(["Paris", "Lyon", "Nantes", "Lille", "Brest"] * 2):
        args = json.dumps({"city": city, "unit": "celsius"})
        lines.append(
            {
                "messages": [
                    {"role": "user", "content": f"Quel temps fait-il à {city} ? ({i})"},
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": f"call_{i}",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": args},
                            }
                        ],
                    },
                ],
                "tools": [WEATHER],
            }
        )
    f = upload(c, write_lines(tmp_path / "tools.jsonl", lines))
    job = wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id)
    assert job.status == "succeeded", job.error
    done = c.chat.completions.create(
        model=job.fine_tuned_model,
        messages=[{"role": "user", "content": "Quel temps fait-il à Lyon ?"}],
        tools=[WEATHER],
        temperature=0,
    )
    assert done.choices[0].finish_reason == "tool_calls"
    assert _weather_args(done.choices[0]) == {"city": "Lyon", "unit": "celsius"}


# -- stop, logprobs, n, seed, streamed usage ---------------------------------------------------


def test_stop_cuts_the_answer(url):
    c = client(url)
    full = c.chat.completions.create(model=BASE, messages=HELLO).choices[0].message.content
    cut = c.chat.completions.create(model=BASE, messages=HELLO, stop=["puis"])
    assert full.startswith(cut.choices[0].message.content)
    assert "puis" not in cut.choices[0].message.content and cut.choices[0].finish_reason == "stop"
    body = _refused(c, stop=["a", "b", "c", "d", "e"])
    assert body["param"] == "stop"


def test_logprobs_are_the_small_models_probabilities(url, tuned):
    c = client(url)
    done = c.chat.completions.create(
        model=tuned, messages=HELLO, logprobs=True, top_logprobs=3, temperature=0
    )
    entries = done.choices[0].logprobs.content
    assert "".join(e.token for e in entries) == done.choices[0].message.content
    first = entries[0]
    assert first.logprob <= 0 and len(first.top_logprobs) >= 1
    total = sum(math.exp(t.logprob) for t in first.top_logprobs)
    assert total <= 1.0 + 1e-6
    assert first.top_logprobs[0].logprob >= first.top_logprobs[-1].logprob
    assert not c.chat.completions.create(model=tuned, messages=HELLO).choices[0].logprobs
    body = _refused(c, top_logprobs=2)
    assert body["param"] == "top_logprobs"


def test_n_and_seed(url, tuned):
    c = client(url)
    kwargs = dict(
        model=tuned,
        messages=[{"role": "user", "content": "Raconte une histoire"}],
        n=5,
        temperature=2,
        seed=7,
    )
    first = c.chat.completions.create(**kwargs)
    again = c.chat.completions.create(**kwargs)
    assert [ch.index for ch in first.choices] == list(range(5))
    assert [ch.message.content for ch in first.choices] == [
        ch.message.content for ch in again.choices
    ]


def test_stream_usage_and_tool_calls(url):
    c = client(url)
    chunks = list(
        c.chat.completions.create(
            model=BASE, messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert all(ch.usage is None for ch in chunks[:-1])
    without = list(c.chat.completions.create(model=BASE, messages=HELLO, stream=True))
    assert all(ch.usage is None for ch in without) and without[-1].choices
    with c.chat.completions.stream(
        model=BASE, messages=HELLO, tools=[WEATHER], tool_choice="required"
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].finish_reason == "tool_calls"
    _weather_args(final.choices[0])


def test_stream_chunks_carry_obfuscation(url):
    """The real API pads every chunk with an `obfuscation` string (ChatCompletionChunk's
    field), unless `stream_options.include_obfuscation` is false."""
    c = client(url)
    chunks = list(
        c.chat.completions.create(
            model=BASE, messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    # read through to_dict(): openai's lowest supported version has no `obfuscation` field yet
    assert all(isinstance(ch.to_dict().get("obfuscation"), str) for ch in chunks)
    assert all(ch.to_dict()["obfuscation"] for ch in chunks)
    plain = list(
        c.chat.completions.create(
            model=BASE,
            messages=HELLO,
            stream=True,
            stream_options={"include_obfuscation": False},
        )
    )
    assert all(ch.to_dict().get("obfuscation") is None for ch in plain)
    assert "".join(ch.choices[0].delta.content or "" for ch in plain) == "".join(
        ch.choices[0].delta.content or "" for ch in chunks if ch.choices
    )


def test_the_model_list_is_the_described_one(url):
    """The model list has no `has_more`: OpenAI's description (ListModelsResponse: object,
    data) and the SDK's SyncPage for models have none, and transcripts of the real list show
    none (checked for issue 20)."""
    raw = client(url).models.with_raw_response.list()
    page = json.loads(raw.content)
    assert set(page) == {"object", "data"} and page["object"] == "list"


def test_rate_limit_headers(url):
    raw = client(url).models.with_raw_response.list()
    for name in ("limit-requests", "remaining-requests", "reset-requests", "limit-tokens"):
        assert raw.headers[f"x-ratelimit-{name}"]
    assert int(raw.headers["x-ratelimit-remaining-requests"]) < int(
        raw.headers["x-ratelimit-limit-requests"]
    )


# -- fine-tuning: pause/resume, delete a model, metadata filter --------------------------------


def test_pause_and_resume(url, monkeypatch):
    import time

    c = client(url)
    f = upload(c, COUCOU)
    monkeypatch.setenv("ATELIER_SANDBOX_SPEED", "10")  # read when the job is created
    job = c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL)
    with pytest.raises(openai.BadRequestError) as err:
        c.fine_tuning.jobs.resume(job.id)
    assert err.value.code == "invalid_job_state"
    deadline = time.monotonic() + 20
    while c.fine_tuning.jobs.retrieve(job.id).status != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    paused = c.fine_tuning.jobs.pause(job.id)
    assert paused.status == "paused" and paused.estimated_finish is None
    steps_then = len([e for e in c.fine_tuning.jobs.list_events(job.id, limit=1000)])
    time.sleep(0.5)
    assert c.fine_tuning.jobs.retrieve(job.id).status == "paused"
    events = list(c.fine_tuning.jobs.list_events(job.id, limit=1000))
    assert len(events) == steps_then and events[0].message == "Fine-tuning job paused"
    with pytest.raises(openai.BadRequestError):
        c.fine_tuning.jobs.pause(job.id)
    assert c.fine_tuning.jobs.resume(job.id).status == "running"
    done = wait_job(c, job.id, timeout=60)
    assert done.status == "succeeded"
    messages = [e.message for e in c.fine_tuning.jobs.list_events(job.id, limit=1000)]
    assert messages[0] == "The job has successfully completed"
    assert messages.index("Fine-tuning job resumed") < messages.index("Fine-tuning job paused")
    times = [e.created_at for e in c.fine_tuning.jobs.list_events(job.id, limit=1000)]
    assert times == sorted(times, reverse=True)


def test_delete_a_fine_tuned_model(url):
    c = client(url)
    f = upload(c, COUCOU)
    job = wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id)
    name = job.fine_tuned_model
    deleted = c.models.delete(name)
    assert (deleted.id, deleted.deleted, deleted.object) == (name, True, "model")
    assert name not in {m.id for m in c.models.list()}
    for call in (
        lambda: c.models.retrieve(name),
        lambda: c.models.delete(name),
        lambda: c.chat.completions.create(model=name, messages=HELLO),
    ):
        with pytest.raises(openai.NotFoundError):
            call()
    assert c.fine_tuning.jobs.retrieve(job.id).fine_tuned_model == name
    with pytest.raises(openai.PermissionDeniedError):
        c.models.delete(models.DEFAULT_MODEL)


def test_jobs_list_metadata_filter(url):
    c = client(url)
    f = upload(c, COUCOU)
    mine = c.fine_tuning.jobs.create(
        training_file=f.id, model=models.DEFAULT_MODEL, metadata={"classe": "6B", "tp": "1"}
    )
    other = c.fine_tuning.jobs.create(
        training_file=f.id, model=models.DEFAULT_MODEL, metadata={"classe": "5A"}
    )
    assert [j.id for j in c.fine_tuning.jobs.list(metadata={"classe": "6B"})] == [mine.id]
    both = [j.id for j in c.fine_tuning.jobs.list(metadata={"classe": "5A", "tp": "1"})]
    assert both == []
    ids = {j.id for j in c.fine_tuning.jobs.list(limit=100)}
    assert {mine.id, other.id} <= ids
    raw = c.fine_tuning.jobs.with_raw_response.list(extra_query={"metadata": "null"}).parse()
    assert not {mine.id, other.id} & {j.id for j in raw.data}


def test_unknown_parameters_are_explained_in_french(url):
    from helpers import errors

    c = client(url)
    with pytest.raises(openai.BadRequestError) as err:
        c.chat.completions.create(model=BASE, messages=HELLO, reasoning_effort="low")
    diagnosis = errors.explain(err.value)
    assert diagnosis.code == "unknown_parameter" and "reasoning_effort" in diagnosis.title
    with pytest.raises(openai.BadRequestError) as err:
        c.responses.create(model=BASE, input="x", extra_body={"bogus": 1})
    assert errors.explain(err.value).code == "unknown_parameter"


def test_every_event_of_a_job_has_its_french_gloss(url, tmp_path):
    """The real API's event texts the sandbox now emits (checkpoints with their snapshot, the
    validation cadence, the last step's full validation, pause/resume) are all glossed."""
    from sandboxkit import UNSEEN, example

    from helpers import french

    c = client(url)
    train = upload(c, COUCOU)
    valid = upload(c, write_lines(tmp_path / "valid.jsonl", [example(p) for p in UNSEEN]))
    job = wait_job(
        c,
        c.fine_tuning.jobs.create(
            training_file=train.id, validation_file=valid.id, model=models.DEFAULT_MODEL
        ).id,
    )
    messages = [e.message for e in c.fine_tuning.jobs.list_events(job.id, limit=1000)]
    assert [m for m in messages if french.event_fr(m) is None] == []
    for text in ("Fine-tuning job paused", "Fine-tuning job resumed"):
        assert french.event_fr(text)
