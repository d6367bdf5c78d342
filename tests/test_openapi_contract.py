"""Every response of a whole session with the sandbox, validated against OpenAI's published
OpenAPI description (trimmed copy under tests/openapi/) and against the SDK's own types."""

from __future__ import annotations

import contextlib
import json

import openai
import pytest
from openai.types import FileDeleted, FileObject, Model, ModelDeleted
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


def _check_sdk_types(recorded: list[Exchange]) -> None:
    from openapi_contract import schema_for

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
            strict(SDK_TYPES[name], json.loads(ex.body))
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
    }
    assert expected <= set(seen), expected - set(seen)
