"""`POST /v1/embeddings`, imitated cheaply and honestly: its checks and its response shape.

The shape is the real one (`CreateEmbeddingResponse`): one `embedding` object per input, the
model's own number of dimensions (or fewer with `dimensions`, for the `text-embedding-3`
models), floats or base64 (the SDK asks for base64 by default and decodes it), and the usage
counted with the model's encoding (cl100k_base).

The vectors are not a language model's: they hash the words and character trigrams of each
input into the model's dimensions (signed feature hashing, L2-normalised), so the same text
always gets the same vector, texts sharing words or spellings are close (cosine), and unrelated
texts are nearly orthogonal — enough to try a search or a clustering; the meaning of a
paraphrase is not seen. Shortened vectors are the first `dimensions` values normalised again,
as the real `text-embedding-3` models do.
"""

from __future__ import annotations

import base64
import re
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import api_messages, tokens
from .. import base_models, errors, params
from ..contract import Clock, Engine
from ..endpoints import JSONResponse, json_of, route, run
from ..file_store import FileService

#: Dimensions of each embedding model (OpenAI's embeddings guide); `dimensions` can shorten
#: the `text-embedding-3` ones only.
DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
SHORTENABLE = ("text-embedding-3-small", "text-embedding-3-large")
MAX_INPUTS = 2048
MAX_INPUT_TOKENS = 8192
PARAMETERS = frozenset(["model", "input", "dimensions", "encoding_format", "user"])
_WORDS = re.compile(r"\w+")


def routes(engine: Engine, files: FileService, clock: Clock) -> list[Route]:
    async def create_embeddings(request: Request) -> Response:
        return JSONResponse(await run(create, await json_of(request)))

    return [route("/v1/embeddings", "POST", create_embeddings)]


def create(body: dict[str, Any]) -> dict[str, Any]:
    """Check an embeddings request as the real API does, and answer it."""
    for name in body:
        if name not in PARAMETERS:
            raise params.unknown_argument(name)
    model = body.get("model")
    if not model:
        raise errors.missing("model")
    if not isinstance(model, str):
        raise errors.from_table(api_messages.INVALID_TYPE_SHORT, name="model", expected="a string")
    if model not in DIMENSIONS:
        base_models.retrieve(model)  # unknown: the real 404
        # Unconfirmed: what the real API answers for a chat model on this route.
        raise errors.ApiError(
            400,
            f"The model `{model}` does not support embeddings: use text-embedding-3-small, "
            "text-embedding-3-large or text-embedding-ada-002.",
            param="model",
            code="model_not_supported",
        )
    texts, counts = _inputs(body.get("input"), model)
    size = _dimensions(body.get("dimensions"), model)
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise errors.bad_request(
            f"Invalid value: '{fmt}'. Supported values are: 'float' and 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    if body.get("user") is not None and not isinstance(body["user"], str):
        raise errors.invalid_type("user", "a string", body["user"])
    data = []
    for index, text in enumerate(texts):
        vector = vector_of(text, DIMENSIONS[model], size)
        value: Any = (
            base64.b64encode(vector.astype("<f4").tobytes()).decode()
            if fmt == "base64"
            else [float(x) for x in vector]
        )
        data.append({"object": "embedding", "index": index, "embedding": value})
    used = sum(counts)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": used, "total_tokens": used},
    }


def _invalid_input() -> errors.ApiError:
    # Confirmed wording (transcripts of the real API in public repositories): empty inputs.
    return errors.bad_request(
        "'$.input' is invalid. Please check the API reference: "
        "https://platform.openai.com/docs/api-reference."
    )


def _inputs(raw: Any, model: str) -> tuple[list[str], list[int]]:
    """The texts to embed (token arrays decoded) and the tokens of each."""
    if raw is None:
        raise errors.missing("input")
    items: list[Any] = [raw] if isinstance(raw, str) else raw
    if isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        items = [raw]  # one input given as token ids
    if not isinstance(items, list) or not items:
        raise _invalid_input()
    if len(items) > MAX_INPUTS:
        raise errors.bad_request(
            f"Invalid 'input': array too long. Expected an array with maximum length "
            f"{MAX_INPUTS}, but got an array with length {len(items)} instead.",
            param="input",
            code="array_above_max_length",
        )
    encoder: Any = tokens.encoding_for(model)  # tiktoken's Encoding
    texts, counts = [], []
    for i, item in enumerate(items):
        if isinstance(item, str):
            if not item:
                raise _invalid_input()
            count = len(encoder.encode(item, disallowed_special=()))
        elif (
            isinstance(item, list)
            and item
            and all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in item)
        ):
            count = len(item)
            try:
                item = encoder.decode(item)
            except Exception:  # an id beyond the vocabulary
                raise _invalid_input() from None
        else:
            raise _invalid_input()
        if count > MAX_INPUT_TOKENS:
            # Wording as quoted by a public client's tests of the real API (unconfirmed code).
            raise errors.bad_request(
                f"Invalid 'input[{i}]': maximum input length is {MAX_INPUT_TOKENS} tokens.",
                param=f"input[{i}]",
                code="invalid_value",
            )
        texts.append(item)
        counts.append(count)
    return texts, counts


def _dimensions(raw: Any, model: str) -> int | None:
    if raw is None:
        return None
    if model not in SHORTENABLE:
        # Confirmed wording (public transcripts): ada-002 refuses `dimensions`, whatever it is.
        raise errors.bad_request(
            "This model does not support specifying dimensions.", param="dimensions"
        )
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise errors.invalid_type("dimensions", "an integer", raw)
    if not 1 <= raw <= DIMENSIONS[model]:
        word = "below minimum" if raw < 1 else "above maximum"
        bound = ">= 1" if raw < 1 else f"<= {DIMENSIONS[model]}"
        raise errors.bad_request(
            f"Invalid 'dimensions': integer {word} value. Expected a value {bound}, but got "
            f"{raw} instead.",
            param="dimensions",
            code=f"integer_{word.replace(' ', '_')}_value",
        )
    return raw


def vector_of(text: str, size: int, shortened: int | None = None) -> Any:
    """The sandbox's embedding of a text: its words and character trigrams hashed into `size`
    signed dimensions, L2-normalised; the first `shortened` values, normalised again."""
    import numpy as np

    low = text.lower()
    features = _WORDS.findall(low)
    padded = f" {' '.join(features)} "
    features += [padded[i : i + 3] for i in range(len(padded) - 2)]
    vector = np.zeros(size, dtype=np.float64)
    if features:
        raw = [f.encode("utf-8", "replace") for f in features]
        index = np.fromiter((zlib.crc32(b) % size for b in raw), dtype=np.int64, count=len(raw))
        sign = np.fromiter(
            (1.0 if zlib.crc32(b, 0x9E3779B9) & 1 else -1.0 for b in raw),
            dtype=np.float64,
            count=len(raw),
        )
        np.add.at(vector, index, sign)
    if shortened is not None:
        vector = vector[:shortened]
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:  # nothing hashed (e.g. only spaces): a fixed unit vector
        vector = np.zeros(len(vector))
        vector[0] = 1.0
        return vector
    return vector / norm
