"""Every response of a whole session with the sandbox, validated against OpenAI's published
OpenAPI description (trimmed copy under tests/openapi/) and against the SDK's own types."""

from __future__ import annotations

import contextlib
import json

import openai
import pytest
from openai.types import (
    CreateEmbeddingResponse,
    FileDeleted,
    FileObject,
    Model,
    ModelDeleted,
    ModerationCreateResponse,
)
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
from openai.types.responses import Response, ResponseStreamEvent
from openapi_contract import Exchange, check_all, recording_server, sse_payloads
from pydantic import TypeAdapter
from sandboxkit import COUCOU, client, strict, upload, wait_job

from helpers import models

SDK_TYPES = {
    "OpenAIFile": FileObject,
    "DeleteFileResponse": FileDeleted,
    "FineTuningJob": FineTuningJob,
    "Model": Model,
    "DeleteModelResponse": ModelDeleted,
    "CreateChatCompletionResponse": ChatCompletion,
    "Response": Response,
    "CreateEmbeddingResponse": CreateEmbeddingResponse,
    "CreateModerationResponse": ModerationCreateResponse,
}
LISTS = {
    "ListFilesResponse": FileObject,
    "ListPaginatedFineTuningJobsResponse": FineTuningJob,
    "ListFineTuningJobEventsResponse": FineTuningJobEvent,
    "ListFineTuningJobCheckpointsResponse": FineTuningJobCheckpoint,
    "ListModelsResponse": Model,
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Météo d'une ville",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def _session(c: openai.OpenAI) -> None:
    """Every route, happy paths and errors, as a learner's code would call them."""
    f = upload(c, COUCOU)
    c.files.list()
    c.files.retrieve(f.id)
    c.files.content(f.id).read()
    job = c.fine_tuning.jobs.create(
        training_file=f.id, model=models.DEFAULT_MODEL, suffix="contrat", metadata={"tp": "1"}
    )
    done = wait_job(c, job.id)
    list(c.fine_tuning.jobs.list(limit=2))
    list(c.fine_tuning.jobs.list(metadata={"tp": "1"}))
    list(c.fine_tuning.jobs.list_events(job.id, limit=1000))
    list(c.fine_tuning.jobs.checkpoints.list(job.id))
    c.files.retrieve(done.result_files[0])
    other = c.fine_tuning.jobs.create(training_file=f.id, model=models.DEFAULT_MODEL)
    with contextlib.suppress(openai.BadRequestError):  # already over: its error is checked too
        c.fine_tuning.jobs.cancel(other.id)
    c.models.list()
    c.models.retrieve(models.DEFAULT_MODEL)
    c.models.retrieve(done.fine_tuned_model)
    hello = [{"role": "user", "content": "Bonjour"}]
    model = done.fine_tuned_model
    c.chat.completions.create(model=model, messages=hello, n=2, logprobs=True, top_logprobs=2)
    c.chat.completions.create(model="gpt-4o-mini", messages=hello, tools=[WEATHER])
    c.chat.completions.create(
        model="gpt-4o-mini", messages=hello, tools=[WEATHER], tool_choice="required"
    )
    c.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "En JSON"}],
        response_format={"type": "json_object"},
    )
    list(
        c.chat.completions.create(
            model=model,
            messages=hello,
            stream=True,
            stream_options={"include_usage": True},
            logprobs=True,
        )
    )
    list(
        c.chat.completions.create(
            model="gpt-4o-mini",
            messages=hello,
            tools=[WEATHER],
            tool_choice="required",
            stream=True,
        )
    )
    resp = c.responses.create(model=model, input="Bonjour", instructions="Sois bref.")
    c.responses.retrieve(resp.id)
    list(c.responses.input_items.list(resp.id))
    c.responses.create(model=model, input="Encore", previous_response_id=resp.id)
    list(c.responses.create(model=model, input="Bonjour", stream=True))
    c.responses.create(
        model="gpt-4o-mini",
        input="Météo ?",
        tools=[{"type": "function", **WEATHER["function"]}],
        tool_choice="required",
    )
    c.responses.delete(resp.id)
    _issue_20_shapes(c, model)
    c.models.delete(model)
    c.files.delete(f.id)
    for call in (
        lambda: c.files.retrieve("file-nope"),
        lambda: c.fine_tuning.jobs.retrieve("ftjob-nope"),
        lambda: c.models.retrieve("gpt-nope"),
        lambda: c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user"}]),
        lambda: c.responses.retrieve("resp_nope"),
        lambda: c.fine_tuning.jobs.create(training_file="file-nope", model=models.DEFAULT_MODEL),
    ):
        with pytest.raises(openai.APIStatusError):
            call()


def _issue_20_shapes(c: openai.OpenAI, model: str) -> None:
    """The shapes issue 20 added: embeddings, moderations, a tool loop's final answer, the
    2023 function_call format (streamed too), JSON mode, and the new refusals."""
    hello = [{"role": "user", "content": "Bonjour"}]
    c.embeddings.create(model="text-embedding-3-small", input=["Bonjour", "Salut"])
    c.embeddings.create(
        model="text-embedding-3-large", input="Bonjour", dimensions=64, encoding_format="float"
    )
    c.moderations.create(input=["Bonjour", "Salut"])
    c.moderations.create(
        input=[
            {"type": "text", "text": "Bonjour"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ]
    )
    ask = [{"role": "user", "content": "Quelle météo à Paris ?"}]
    call = c.chat.completions.create(model=model, messages=ask, tools=[WEATHER])
    called = call.choices[0].message
    if called.tool_calls:
        c.chat.completions.create(
            model=model,
            tools=[WEATHER],
            messages=[
                *ask,
                called.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": called.tool_calls[0].id, "content": "18 °C"},
            ],
        )
    legacy = {"functions": [WEATHER["function"]], "function_call": {"name": "get_weather"}}
    c.chat.completions.create(model="gpt-4o-mini", messages=hello, **legacy)
    list(c.chat.completions.create(model="gpt-4o-mini", messages=hello, stream=True, **legacy))
    c.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "En JSON, avec les clés « a » et « b » (entier)"}],
        response_format={"type": "json_object"},
    )
    for refused in (
        lambda: c.chat.completions.create(model="gpt-4o-mini", messages=hello, max_tokens=10**5),
        lambda: c.chat.completions.create(model="gpt-4o-mini", messages=hello, temperature="1"),
        lambda: c.completions.create(model="gpt-4o-mini", prompt="Bonjour"),
        lambda: c.embeddings.create(model="text-embedding-3-small", input=""),
        lambda: c.batches.list(),
        lambda: c.get("/evals", cast_to=object),
    ):
        with pytest.raises(openai.APIStatusError):
            refused()


def _check_sdk_types(recorded: list[Exchange]) -> None:
    from openapi_contract import decode_embeddings, schema_for

    events = TypeAdapter(ResponseStreamEvent)
    for ex in recorded:
        if ex.status >= 400 or not ex.path.startswith("/v1/"):
            continue
        if ex.content_type.startswith("text/event-stream"):
            for payload in sse_payloads(ex.body):
                if ex.path == "/v1/chat/completions":
                    ChatCompletionChunk.model_validate(payload)
                else:
                    events.validate_python(payload)
            continue
        name = schema_for(ex.method, ex.path)
        if name in SDK_TYPES:
            body = json.loads(ex.body)
            if name == "CreateEmbeddingResponse":  # base64 floats: the SDK decodes them first
                body = decode_embeddings(body)
            strict(SDK_TYPES[name], body)
        elif name in LISTS:
            for item in json.loads(ex.body)["data"]:
                strict(LISTS[name], item)


def test_every_response_matches_the_published_description(workspace):
    with recording_server(workspace) as (url, recorder):
        _session(client(url))
    seen = check_all(recorder.exchanges)
    _check_sdk_types(recorder.exchanges)
    expected = {
        "OpenAIFile",
        "ListFilesResponse",
        "DeleteFileResponse",
        "FineTuningJob",
        "ListPaginatedFineTuningJobsResponse",
        "ListFineTuningJobEventsResponse",
        "ListFineTuningJobCheckpointsResponse",
        "Model",
        "ListModelsResponse",
        "DeleteModelResponse",
        "CreateChatCompletionResponse",
        "CreateChatCompletionStreamResponse",
        "Response",
        "ResponseItemList",
        "ResponseStreamEvent",
        "ErrorResponse",
        "CreateEmbeddingResponse",
        "CreateModerationResponse",
    }
    assert expected <= set(seen), expected - set(seen)
