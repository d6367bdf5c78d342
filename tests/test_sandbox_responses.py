"""The Responses API of the sandbox (`/v1/responses`), through the real SDK: string and message
input, instructions, fine-tuned models, store, previous_response_id, retrieve, delete,
structured output, function tools and streaming events."""

from __future__ import annotations

import json

import openai
import pytest
from openai.types.responses import Response
from pydantic import BaseModel
from sandboxkit import COUCOU, client, upload, wait_job

from helpers import models

BASE = "gpt-4o-mini"


@pytest.fixture(scope="module")
def url(module_sandbox):
    return module_sandbox


@pytest.fixture(scope="module")
def tuned(url):
    c = client(url)
    f = upload(c, COUCOU)
    job = wait_job(c, c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL).id)
    return job.fine_tuned_model


def _strict(resp) -> Response:
    return Response.model_validate(resp.model_dump(mode="json", warnings=False))


def test_string_input_and_instructions(url):
    c = client(url)
    resp = c.responses.create(model=BASE, input="Bonjour", instructions="Réponds en français.")
    _strict(resp)
    assert resp.id.startswith("resp_") and resp.status == "completed"
    assert resp.output_text and resp.output[0].type == "message"
    assert resp.instructions == "Réponds en français."
    assert resp.usage.input_tokens > 0 and resp.usage.output_tokens > 0
    assert resp.model == models.DEFAULT_MODEL


def test_fine_tuned_model_and_message_input(url, tuned):
    c = client(url)
    resp = c.responses.create(
        model=tuned,
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Salut !"}]}],
    )
    assert resp.model == tuned and resp.output_text == "COUCOU"


def test_store_previous_retrieve_delete(url, tuned):
    c = client(url)
    first = c.responses.create(model=tuned, input="Bonjour")
    assert c.responses.retrieve(first.id).output_text == first.output_text
    second = c.responses.create(model=tuned, input="Et encore ?", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    items = list(c.responses.input_items.list(second.id))
    assert [(i.type, i.role, i.content[0].text) for i in items] == [
        ("message", "user", "Et encore ?")
    ]
    c.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        c.responses.delete(first.id)
    unstored = c.responses.create(model=tuned, input="Bonjour", store=False)
    assert unstored.store is False
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(unstored.id)
    with pytest.raises(openai.BadRequestError) as err:
        c.responses.create(model=tuned, input="x", previous_response_id=unstored.id)
    assert err.value.param == "previous_response_id"


def test_refusals(url):
    c = client(url)
    with pytest.raises(openai.BadRequestError) as err:
        c.responses.create(model=BASE, input="x", extra_body={"bogus": 1})
    assert (err.value.param, err.value.code) == ("bogus", "unknown_parameter")
    with pytest.raises(openai.BadRequestError) as err:
        c.responses.create(model=BASE, input="x", reasoning={"effort": "low"})
    assert err.value.param == "reasoning.effort"
    with pytest.raises(openai.NotFoundError):
        c.responses.create(model="gpt-nope", input="x")


class Fiche(BaseModel):
    titre: str
    note: int


def test_parse_and_function_tools(url):
    c = client(url)
    parsed = c.responses.parse(model=BASE, input="Fais une fiche", text_format=Fiche)
    assert isinstance(parsed.output_parsed, Fiche)
    tool = {
        "type": "function",
        "name": "get_weather",
        "description": "Météo d'une ville",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    }
    resp = c.responses.create(
        model=BASE, input="Quelle météo à Paris ?", tools=[tool], tool_choice="required"
    )
    _strict(resp)
    (call,) = resp.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert set(json.loads(call.arguments)) == {"city"}
    follow = c.responses.create(
        model=BASE,
        previous_response_id=resp.id,
        tools=[tool],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18 °C"}],
    )
    assert follow.output[0].type == "message"


def test_streaming_events(url, tuned):
    c = client(url)
    with c.responses.stream(model=tuned, input="Bonjour") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds and "response.output_item.done" in kinds
    assert final.output_text == "COUCOU"
    raw = list(c.responses.create(model=tuned, input="Bonjour", stream=True))
    assert [e.sequence_number for e in raw] == list(range(len(raw)))
