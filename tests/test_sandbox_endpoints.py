"""OpenAI's other endpoints (issue 20), through the official Python SDK: embeddings and
moderations imitated with the real shapes, text completions refused as the real API refuses a
chat model, and the routes the sandbox does not imitate (batches, images, audio, the Evals API
shut down on 2026-11-30) answered with what to do instead — never « Invalid URL »."""

from __future__ import annotations

import warnings

import numpy as np
import openai
import pytest
from openai.types import CreateEmbeddingResponse, Model, ModerationCreateResponse
from sandboxkit import client, strict

from helpers import errors, tokens
from helpers.kit_server import base_models
from helpers.kit_server.resources import embeddings, moderations

HELLO = [{"role": "user", "content": "Bonjour"}]


@pytest.fixture(scope="module")
def url(module_sandbox):
    return module_sandbox


def _vectors(done) -> list[np.ndarray]:
    return [np.array(d.embedding) for d in done.data]


# -- embeddings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model, size", sorted(embeddings.DIMENSIONS.items()))
def test_embeddings_have_the_models_shape(url, model, size):
    c = client(url)
    texts = ["Le chat dort sur le canapé.", "Un chat dort sur un canapé !", "Quantique"]
    done = c.embeddings.create(model=model, input=texts)  # the SDK asks for base64
    strict(CreateEmbeddingResponse, done)
    assert done.model == model and [d.index for d in done.data] == [0, 1, 2]
    first, close, far = _vectors(done)
    assert len(first) == size and abs(np.linalg.norm(first) - 1) < 1e-6
    # the same text, the same vector, in floats too
    again = c.embeddings.create(model=model, input=texts[0], encoding_format="float")
    assert np.allclose(_vectors(again)[0], first, atol=1e-6)
    # shared words and spellings are close, an unrelated text far
    assert float(first @ close) > 0.5 > float(first @ far)
    enc = tokens.encoding_for(model)
    assert done.usage.prompt_tokens == done.usage.total_tokens
    assert done.usage.prompt_tokens == sum(len(enc.encode(t)) for t in texts)


def test_embeddings_dimensions_and_token_inputs(url):
    c = client(url)
    full = _vectors(c.embeddings.create(model="text-embedding-3-large", input="Bonjour"))[0]
    short = _vectors(
        c.embeddings.create(model="text-embedding-3-large", input="Bonjour", dimensions=256)
    )[0]
    assert len(short) == 256 and abs(np.linalg.norm(short) - 1) < 1e-6
    assert np.allclose(short, full[:256] / np.linalg.norm(full[:256]))  # as text-embedding-3
    ids = tokens.encoding_for("text-embedding-3-small").encode("Bonjour")
    by_ids = c.embeddings.create(model="text-embedding-3-small", input=[ids, ids])
    by_text = c.embeddings.create(model="text-embedding-3-small", input="Bonjour")
    assert np.allclose(_vectors(by_ids)[1], _vectors(by_text)[0])
    assert by_ids.usage.prompt_tokens == 2 * len(ids)


@pytest.mark.parametrize(
    "kwargs, status, message",
    [
        (
            {"model": "text-embedding-ada-002", "input": "x", "dimensions": 8},
            400,
            "This model does not support specifying dimensions.",
        ),
        (
            {"model": "text-embedding-3-small", "input": ""},
            400,
            "'$.input' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference.",
        ),
        (
            {"model": "text-embedding-3-small", "input": ["x"] * 2049},
            400,
            "Invalid 'input': array too long. Expected an array with maximum length 2048, but "
            "got an array with length 2049 instead.",
        ),
        (
            {"model": "text-embedding-3-small", "input": "mot " * 9000},
            400,
            "Invalid 'input[0]': maximum input length is 8192 tokens.",
        ),
        (
            {"model": "text-embedding-9", "input": "x"},
            404,
            "The model `text-embedding-9` does not exist or you do not have access to it.",
        ),
    ],
)
def test_embeddings_refusals(url, kwargs, status, message):
    with pytest.raises(openai.APIStatusError) as err:
        client(url).embeddings.create(**kwargs)
    assert (err.value.status_code, err.value.body["message"]) == (status, message)


# -- moderations --------------------------------------------------------------------------------


def test_moderations_have_the_real_categories_and_flag_nothing(url):
    c = client(url)
    done = c.moderations.create(input=["Bonjour", "Une phrase banale"])
    strict(ModerationCreateResponse, done)
    assert done.model == "omni-moderation-latest" and done.id.startswith("modr-")
    assert len(done.results) == 2
    raw = c.moderations.with_raw_response.create(input="Bonjour").http_response.json()
    (result,) = raw["results"]
    assert tuple(result["categories"]) == moderations.CATEGORIES
    assert set(result["category_scores"]) == set(moderations.CATEGORIES)
    assert result["flagged"] is False and not any(result["categories"].values())
    assert all(kinds == ["text"] for kinds in result["category_applied_input_types"].values())
    mixed = c.moderations.create(
        model="omni-moderation-2024-09-26",
        input=[
            {"type": "text", "text": "Bonjour"},
            {"type": "image_url", "image_url": {"url": "https://example.com/chat.png"}},
        ],
    )
    (one,) = mixed.results
    applied = one.model_dump(by_alias=True)["category_applied_input_types"]
    assert applied["violence"] == ["text", "image"] and applied["hate"] == ["text"]
    with pytest.raises(openai.NotFoundError):
        c.moderations.create(model="gpt-4o-mini", input="x")


# -- the model list: every listed model can be retrieved and used ------------------------------


def test_other_models_are_listed_retrieved_and_refused_for_chat(url):
    c = client(url)
    listed = {m.id for m in c.models.list()}
    assert set(base_models.OTHER_MODELS) <= listed
    assert set(base_models.OTHER_MODELS) == set(embeddings.DIMENSIONS) | set(moderations.MODELS)
    for name in base_models.OTHER_MODELS:
        strict(Model, c.models.retrieve(name))
    with pytest.raises(openai.NotFoundError) as err:
        c.chat.completions.create(model="text-embedding-3-small", messages=HELLO)
    assert err.value.body["message"].startswith("This is not a chat model")
    with pytest.raises(openai.PermissionDeniedError):
        c.models.delete("text-embedding-3-small")


# -- text completions ---------------------------------------------------------------------------


def test_text_completions_refuse_chat_models_as_the_real_api(url):
    c = client(url)
    with pytest.raises(openai.NotFoundError) as err:
        c.completions.create(model="gpt-4o-mini", prompt="Bonjour")
    assert err.value.body == {
        "message": "This is a chat model and not supported in the v1/completions endpoint. "
        "Did you mean to use v1/chat/completions?",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }
    assert errors.explain(err.value).code == "chat_model_on_completions"
    with pytest.raises(openai.NotFoundError) as err:
        c.completions.create(model="gpt-3.5-turbo-instruct", prompt="Bonjour")
    assert err.value.code == "not_imitated_by_sandbox"
    assert "/v1/chat/completions" in err.value.body["message"]
    with pytest.raises(openai.NotFoundError) as err:
        c.completions.create(model="gpt-nope", prompt="Bonjour")
    assert err.value.code == "model_not_found"


# -- not imitated: a clear answer, never « Invalid URL » ---------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.batches.create(
            input_file_id="file-x", endpoint="/v1/chat/completions", completion_window="24h"
        ),
        lambda c: c.batches.list(),
        lambda c: c.images.generate(prompt="un chat"),
        lambda c: c.audio.speech.create(model="tts-1", voice="alloy", input="Bonjour"),
        lambda c: c.vector_stores.list(),
        lambda c: c.get("/fine_tuning/alpha/graders/run", cast_to=object),
    ],
)
def test_endpoints_the_sandbox_does_not_imitate_say_so(url, call):
    with pytest.raises(openai.NotFoundError) as err:
        call(client(url))
    body = err.value.body
    assert body["code"] == "not_imitated_by_sandbox" and "Invalid URL" not in body["message"]
    assert "does not imitate" in body["message"] and "Instead:" in body["message"]
    diagnosis = errors.explain(err.value)
    assert diagnosis.code == "not_imitated_by_sandbox" and "mode openai" in diagnosis.fix


def test_the_evals_api_is_shut_down_and_points_to_the_kits_evaluation(url):
    c = client(url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK's own deprecation
        for call in (
            lambda: c.evals.list(),
            lambda: c.evals.retrieve("eval_123"),
            lambda: c.evals.runs.list("eval_123"),
        ):
            with pytest.raises(openai.NotFoundError) as err:
                call()
            assert err.value.code == "evals_api_shut_down"
            message = err.value.body["message"]
            assert "2026-11-30" in message and "python -m helpers eval" in message
            assert "helpers.evaluate(" in message and "Promptfoo" in message
    diagnosis = errors.explain(err.value)
    assert diagnosis.code == "evals_api_shut_down"
    assert "python -m helpers eval" in diagnosis.fix and "Promptfoo" in diagnosis.fix


def test_a_wrong_url_still_says_invalid_url(url):
    with pytest.raises(openai.NotFoundError) as err:
        client(url).get("/chats/completions", cast_to=object)
    assert err.value.body["message"] == "Invalid URL (GET /v1/chats/completions)"
