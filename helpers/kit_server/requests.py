"""The requests the kit server accepts, checked as the real API checks them.

One place for every engine: query parameters, JSON bodies, chat parameters and job-creation
requests, with the real API's English messages, `param` and `code` (helpers.errors explains
them in French on the learner's side).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import models, tokens
from . import errors, methods, structured
from .file_store import PURPOSES, FileService
from .ids import derived_seed

CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")


MAX_JSON_DEPTH = 64  # deeper bodies are refused (the real API's own limit is unpublished)


def json_body(raw: bytes) -> dict[str, Any]:
    """A request's JSON object (an empty body is an empty object), or the real API's 400.

    Refused as unparsable, like JSON that is not: NaN/Infinity literals (not JSON), strings
    with a lone UTF-16 surrogate (`"\\ud800"`: not Unicode text) and nesting deeper than
    `MAX_JSON_DEPTH`. (Unconfirmed: the exact answer of the real API to each of these.)
    """
    try:
        body = json.loads(raw or b"{}", parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise errors.invalid_json_body() from None
    if not isinstance(body, dict) or not _sound(body):
        raise errors.invalid_json_body()
    return body


def _not_json(literal: str) -> Any:
    raise ValueError(f"{literal} is not JSON")


def _sound(value: Any) -> bool:
    """No lone surrogate in any string or key, and no nesting deeper than MAX_JSON_DEPTH."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        if isinstance(item, str):
            if not _is_text(item):
                return False
        elif isinstance(item, dict):
            for key, child in item.items():
                if not _is_text(key):
                    return False
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: The kit's own header: the sandbox speed of the kernel that creates a job (a class setting,
#: or a fast replay), since one kit server serves every kernel of a workspace.
SPEED_HEADER = "x-atelier-sandbox-speed"


def speed_header(raw: str | None) -> float | None:
    """The speed a client asks for (None: absent or unusable, the server's setting applies)."""
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and 0 < value < float("inf") else None


def int_param(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(
            f"Invalid '{name}': expected an integer, but got '{raw}' instead.",
            param=name,
            code="invalid_type",
        ) from None
    if not low <= value <= high:
        raise errors.bad_request(
            f"Invalid '{name}': expected a value between {low} and {high}, "
            f"but got {value} instead.",
            param=name,
            code="invalid_value",
        )
    return value


def purpose(value: Any) -> str:
    """The `purpose` field of an upload."""
    if not value:
        raise errors.missing("purpose")
    if not isinstance(value, str) or value not in PURPOSES:
        allowed = ", ".join(f"'{p}'" for p in PURPOSES)
        raise errors.bad_request(
            f"'{value}' is not one of [{allowed}] - 'purpose'",
            param="purpose",
            code="invalid_value",
        )
    return value


def list_order(value: str) -> str:
    if value not in ("asc", "desc"):
        raise errors.bad_request(
            f"Invalid 'order': expected 'asc' or 'desc', but got '{value}'.",
            param="order",
            code="invalid_value",
        )
    return value


# -- chat --------------------------------------------------------------------------------------


#: Every parameter of `POST /v1/chat/completions` in OpenAI's published description
#: (CreateChatCompletionRequest); anything else is refused as the real API refuses it.
CHAT_PARAMETERS = frozenset(
    [
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "messages",
        "metadata",
        "modalities",
        "model",
        "moderation",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    ]
)
#: Parameters only reasoning models accept (none of the fine-tunable models is one).
REASONING_ONLY = ("reasoning_effort",)
MAX_STOP = 4
MAX_TOP_LOGPROBS = 20


@dataclass(frozen=True)
class ChatRequest:
    """The checked parameters of a chat completion request."""

    model: str
    messages: list[dict[str, Any]]
    temperature: float
    top_p: float
    n: int
    max_tokens: int | None  # max_completion_tokens, else max_tokens
    seed: int | None
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    response_format: dict[str, Any] | None = None  # json_object / json_schema (None: text)
    tools: tuple[dict[str, Any], ...] = ()  # function definitions ({"name", "parameters"…})
    tool_choice: str | dict[str, Any] = "none"  # none | auto | required | {"name": …}
    #: The tools came as the 2023 `functions` (and `function_call`): answer in that format.
    legacy_functions: bool = False
    stream: bool = False
    include_usage: bool = False


def unknown_argument(name: str) -> errors.ApiError:
    # Confirmed (public transcripts of the real API, 2025): param and code are null.
    return errors.bad_request(f"Unrecognized request argument supplied: {name}")


def chat_request(body: dict[str, Any], *, max_n: int) -> ChatRequest:
    """Check a chat request with the real API's error for each parameter."""
    for name in body:
        if name not in CHAT_PARAMETERS:
            raise unknown_argument(name)
    model = body.get("model")
    if not model or not isinstance(model, str):
        raise errors.bad_request("you must provide a model parameter")
    for name in REASONING_ONLY:
        if body.get(name) is not None:  # an explicit null is accepted, as by the real API
            raise unknown_argument(name)
    messages = _messages(body.get("messages"))
    temperature = _number(body.get("temperature"), "temperature", 1.0, 0.0, 2.0)
    top_p = _number(body.get("top_p"), "top_p", 1.0, 0.0, 1.0)
    for name in ("frequency_penalty", "presence_penalty"):
        _number(body.get(name), name, 0.0, -2.0, 2.0)
    n = int(_number(body.get("n"), "n", 1, 1, max_n, integer=True))
    max_tokens = _max_tokens(body, model)
    for name in ("user", "safety_identifier", "prompt_cache_key"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise invalid_type(name, "a string", body[name])
    metadata(body.get("metadata"))
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise invalid_type("seed", "an integer", seed)
    stream = _boolean(body.get("stream"), "stream")
    options = body.get("stream_options")
    if options is not None and not stream:
        # Confirmed (public transcripts): param "stream_options", code null.
        raise errors.bad_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    if options is not None and not isinstance(options, dict):
        raise invalid_type("stream_options", "an object", options)
    include_usage = _boolean((options or {}).get("include_usage"), "stream_options.include_usage")
    _boolean((options or {}).get("include_obfuscation"), "stream_options.include_obfuscation")
    logprobs = _boolean(body.get("logprobs"), "logprobs")
    top = body.get("top_logprobs")
    top_logprobs = 0
    if top is not None:
        top_logprobs = int(_number(top, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS, integer=True))
        if not logprobs:
            # Unconfirmed wording: the real API refuses top_logprobs without logprobs.
            raise errors.bad_request(
                "Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
                "'top_logprobs' is used.",
                param="top_logprobs",
                code="invalid_value",
            )
    tools = structured.tools(body.get("tools"))
    tool_choice = structured.tool_choice(body.get("tool_choice"), tools)
    functions = structured.functions(body.get("functions"))
    function_call = structured.function_call(body.get("function_call"), functions)
    legacy = bool(functions) and not tools
    if legacy:
        # Unconfirmed: what the real API does with both `tools` and `functions`; the sandbox
        # answers in the current format then (tools), in the 2023 one with functions only.
        tools, tool_choice = functions, function_call
    response_format = structured.response_format(body.get("response_format"), messages)
    return ChatRequest(
        model,
        messages,
        temperature,
        top_p,
        n,
        max_tokens,
        seed,
        stop=_stop(body.get("stop")),
        logprobs=logprobs,
        top_logprobs=top_logprobs,
        response_format=response_format,
        tools=tools,
        tool_choice=tool_choice,
        legacy_functions=legacy,
        stream=stream,
        include_usage=include_usage,
    )


def _max_tokens(body: dict[str, Any], model: str) -> int | None:
    """`max_completion_tokens` (else the older `max_tokens`): an integer ≥ 1, at most what the
    model can write in one answer (`helpers.models`: 16,384 for gpt-4o-mini)."""
    name = (
        "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    )
    value = body.get(name)
    if value is None:
        return None
    value = int(_number(value, name, 1, 1, 2**31 - 1, integer=True))
    info = models.get(model)
    if info is not None and value > info.completion_token_limit:
        # Confirmed wording (public transcripts of the real API, 2025, for max_tokens; the
        # max_completion_tokens form is quoted by clients). Unconfirmed: param and code.
        raise errors.bad_request(
            f"{name} is too large: {value}. This model supports at most "
            f"{info.completion_token_limit} completion tokens, whereas you provided {value}.",
            param=name,
            code="invalid_value",
        )
    return value


MAX_METADATA_PAIRS = 16


def metadata(value: Any) -> dict[str, str] | None:
    """A `metadata` object (chat and jobs): at most 16 pairs of strings, keys ≤ 64 characters,
    values ≤ 512 (OpenAI's Metadata schema). Unconfirmed: the real API's exact wordings; these
    follow its usual type and length messages."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_type("metadata", "an object", value)
    if len(value) > MAX_METADATA_PAIRS:
        raise errors.bad_request(
            f"Invalid 'metadata': too many properties. Expected an object with at most "
            f"{MAX_METADATA_PAIRS} properties, but got an object with {len(value)} properties "
            "instead.",
            param="metadata",
            code="object_above_max_properties",
        )
    for key, item in value.items():
        if len(key) > 64:
            raise errors.bad_request(
                f"Invalid 'metadata': string too long. Expected a string with maximum length 64, "
                f"but got a string with length {len(key)} instead.",
                param="metadata",
                code="string_above_max_length",
            )
        if not isinstance(item, str):
            raise invalid_type(f"metadata.{key}", "a string", item)
        if len(item) > 512:
            raise errors.bad_request(
                f"Invalid 'metadata.{key}': string too long. Expected a string with maximum "
                f"length 512, but got a string with length {len(item)} instead.",
                param=f"metadata.{key}",
                code="string_above_max_length",
            )
    return value


invalid_type = errors.invalid_type  # (it lives with the error envelope, for `methods` too)


def _boolean(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid_type(name, "a boolean", value)
    return value


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise invalid_type("stop", "one of a string or array of strings", value)
    if len(value) > MAX_STOP:
        raise errors.bad_request(
            f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
            f"but got an array with length {len(value)} instead.",
            param="stop",
            code="array_above_max_length",
        )
    return tuple(s for s in value if s)


_CHUNK = 200_000  # characters encoded at a time when a prompt may exceed the context


def check_context(messages: list[dict[str, Any]], encoding_model: str, limit: int) -> None:
    """The real API's `context_length_exceeded` 400 when the messages exceed `limit` tokens.

    Cheap for every normal request: a prompt cannot have more tokens than UTF-8 bytes, so only
    prompts longer than `limit` bytes are counted — in chunks, stopping at twice the limit (a
    50 MB message is refused in well under a second instead of being encoded whole).
    """
    texts = [
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for message in messages
        for value in message.values()
        if value is not None
    ]
    if sum(len(t) for t in texts) * 4 + 4 * len(messages) + 3 <= limit:  # ≤ 4 bytes a char
        return
    encoder = tokens.encoding_for(encoding_model)
    total, exact = 3 + 4 * len(messages), True
    for text in texts:
        for start in range(0, len(text), _CHUNK):
            total += len(encoder.encode(text[start : start + _CHUNK], disallowed_special=()))
            if total > 2 * limit:
                exact = False
                break
        if not exact:
            break
    if total <= limit:
        return
    resulted = f"resulted in {total}" if exact else f"resulted in more than {2 * limit}"
    raise errors.bad_request(
        f"This model's maximum context length is {limit} tokens. However, your messages "
        f"{resulted} tokens. Please reduce the length of the messages.",
        param="messages",
        code="context_length_exceeded",
    )


def _number(
    value: Any, name: str, default: float, low: float, high: float, *, integer: bool = False
) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        # Confirmed wording (public transcripts): "Invalid type for 'temperature': expected a
        # decimal, but got a string instead." — "an integer" for integers.
        raise invalid_type(name, "an integer" if integer else "a decimal", value)
    word = "integer" if integer else "decimal"
    if value > high:
        raise errors.bad_request(
            f"Invalid '{name}': {word} above maximum value. Expected a value <= {high:g}, "
            f"but got {value} instead.",
            param=name,
            code=f"{word}_above_max_value",
        )
    if value < low:
        raise errors.bad_request(
            f"Invalid '{name}': {word} below minimum value. Expected a value >= {low:g}, "
            f"but got {value} instead.",
            param=name,
            code=f"{word}_below_min_value",
        )
    return value


def _messages(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        raise errors.missing("messages")
    if not isinstance(raw, list):
        raise errors.bad_request(
            "Invalid type for 'messages': expected an array of objects.",
            param="messages",
            code="invalid_type",
        )
    if not raw:
        raise errors.bad_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but "
            "got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    answered: set[Any] = set()  # ids of the tool calls made so far (one pass: no re-scan)
    for i, msg in enumerate(raw):
        if not isinstance(msg, dict):
            raise errors.bad_request(
                f"Invalid type for 'messages[{i}]': expected an object, but got "
                f"{'an' if errors.type_name(msg)[0] in 'aeiou' else 'a'} {errors.type_name(msg)} instead.",
                param=f"messages[{i}]",
                code="invalid_type",
            )
        if "role" not in msg:
            raise errors.bad_request(
                f"Missing required parameter: 'messages[{i}].role'.",
                param=f"messages[{i}].role",
                code="missing_required_parameter",
            )
        if msg["role"] not in CHAT_ROLES:
            raise errors.bad_request(
                f"Invalid value: '{msg['role']}'. Supported values are: 'system', 'assistant', 'user', "
                "'function', 'tool', and 'developer'.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        _message(i, msg, answered)
        if msg["role"] == "assistant" and isinstance(msg.get("tool_calls"), list):
            answered.update(
                c["id"]
                for c in msg["tool_calls"]
                if isinstance(c, dict) and isinstance(c.get("id"), str)
            )
    return raw


def _message(i: int, msg: dict[str, Any], answered: set[Any]) -> None:
    """One message's content and tool fields, as the real API checks them; `answered`: the
    ids of the tool calls of the messages before it."""
    role, where = msg["role"], f"messages[{i}]"
    content = msg.get("content")
    calls = msg.get("tool_calls") if role == "assistant" else None
    if "content" not in msg or content is None:
        # An assistant message may carry tool calls (or a function call) instead of text.
        if not (role == "assistant" and (calls or msg.get("function_call"))):
            raise errors.missing(f"{where}.content")
    elif not isinstance(content, (str, list)):
        # Confirmed wording and code (public transcripts of the real API).
        raise invalid_type(f"{where}.content", "one of a string or array of objects", content)
    elif isinstance(content, list):
        for j, part in enumerate(content):
            if not isinstance(part, dict) or "type" not in part:
                raise errors.missing(f"{where}.content[{j}].type")
    if calls is not None:
        if not isinstance(calls, list):
            raise invalid_type(f"{where}.tool_calls", "an array of objects", calls)
        for j, call in enumerate(calls):
            if not isinstance(call, dict):
                raise invalid_type(f"{where}.tool_calls[{j}]", "an object", call)
            for key in ("id", "type", "function"):
                if key not in call:
                    raise errors.missing(f"{where}.tool_calls[{j}].{key}")
    if role == "function" and not isinstance(msg.get("name"), str):
        # Unconfirmed wording: a 2023 `function` message names the function it answers.
        raise errors.missing(f"{where}.name")
    if role == "tool":
        if "tool_call_id" not in msg:
            # Unconfirmed: the wording follows the real API's other missing parameters.
            raise errors.missing(f"{where}.tool_call_id")
        call_id = msg["tool_call_id"]
        if not isinstance(call_id, str) or call_id not in answered:
            # Confirmed (a gpt-4-turbo transcript, smarter-sh/smarter#264): wording with the
            # real API's spelling, param messages.[i].role, code null.
            raise errors.bad_request(
                "Invalid parameter: messages with role 'tool' must be a response to a "
                "preceeding message with 'tool_calls'.",
                param=f"messages.[{i}].role",
            )


# -- fine-tuning jobs ----

#: A `metadata` filter on jobs.list: {key: value}, or {} for "jobs without metadata"
#: (`metadata=null`), or None (no filter).
MetadataFilter = dict[str, str] | None


def metadata_filter(pairs: list[tuple[str, str]]) -> dict[str, str] | None:
    """`metadata[k]=v` query parameters (deepObject style) → a filter; `metadata=null` → {}."""
    out: dict[str, str] = {}
    found = False
    for key, value in pairs:
        if key == "metadata":
            if value != "null":
                raise errors.bad_request(
                    "Invalid 'metadata': use metadata[key]=value, or metadata=null.",
                    param="metadata",
                    code="invalid_value",
                )
            found = True
        elif key.startswith("metadata[") and key.endswith("]"):
            out[key[len("metadata[") : -1]] = value
            found = True
    return out if found else None


def metadata_matches(spec: dict[str, Any], wanted: dict[str, str] | None) -> bool:
    """Whether a job (its stored request) passes a metadata filter."""
    if wanted is None:
        return True
    own = spec.get("metadata")
    if not wanted:
        return not own
    return bool(own) and all(own.get(k) == v for k, v in wanted.items())


def invalid_job_state(job_id: str, status: str, verb: str) -> errors.ApiError:
    """A pause/resume/cancel the job's status forbids (the cancel wording is the real API's;
    the pause and resume ones follow it, unconfirmed)."""
    return errors.bad_request(
        f"Job {job_id} is {status} and cannot be {verb}.",
        param="fine_tuning_job_id",
        code="invalid_job_state",
    )


def cannot_delete(model: str) -> errors.ApiError:
    # Unconfirmed wording: deleting a model one does not own is refused with a 403.
    return errors.ApiError(
        403,
        f"You do not have permission to delete the model `{model}`: only fine-tuned models "
        "owned by your organization can be deleted.",
        code="model_not_owned",
    )


# -- job creation -------------------------------------------------------------------------------


def model_not_available(model: str) -> errors.ApiError:
    # Confirmed (a transcript of a real call with the alias gpt-4o-mini, Aug 2025, in a public
    # issue): this wording, code model_not_available, param null.
    return errors.bad_request(
        f"Model {model} is not available for fine-tuning or does not exist.",
        code="model_not_available",
    )


#: Every parameter of `POST /v1/fine_tuning/jobs` (CreateFineTuningJobRequest).
JOB_PARAMETERS = frozenset(
    [
        "hyperparameters",
        "integrations",
        "metadata",
        "method",
        "model",
        "seed",
        "suffix",
        "training_file",
        "validation_file",
    ]
)


@dataclass(frozen=True)
class JobRequest:
    """A checked job-creation request (see `job_request`)."""

    model: str  # as the learner wrote it
    resolved: Any  # what the engine made of it
    suffix: str | None
    hyperparameters: dict[str, Any]
    seed: int | None
    metadata: dict[str, str] | None
    training_file: str
    validation_file: str | None
    method: str = "supervised"  # `method.type`: "supervised" or "dpo"

    def spec(self, job_id: str) -> dict[str, Any]:
        """What the job stores of the request; an unset seed is derived from the job id."""
        return {
            "training_file": self.training_file,
            "validation_file": self.validation_file,
            "suffix": self.suffix,
            "seed": self.seed if self.seed is not None else derived_seed(job_id),
            "metadata": self.metadata,
            "hyperparameters": self.hyperparameters,
            "method": self.method,
            # a job continued from a fine-tune shows it as its model (Unconfirmed: the real
            # API's `model` for such a job; its documentation says a fine-tune may be continued)
            **({"parent_model": self.model} if self.model.startswith("ft:") else {}),
        }


def job_request(
    body: dict[str, Any], resolve_model: Callable[[str], Any], files: FileService
) -> JobRequest:
    """Check a job-creation body as the real API does, in its order; `resolve_model` turns the
    requested model into the engine's own (or raises the API's error). A fine-tuned model
    (`ft:…`) may be continued, as with the real API (OpenAI recommends a DPO job on top of a
    supervised fine-tune): `resolve_model` accepts the engine's own fine-tunes only."""
    for name in body:
        if name not in JOB_PARAMETERS:
            # Unconfirmed for this route: the chat route's wording (confirmed) is assumed.
            raise unknown_argument(name)
    model = body.get("model")
    if not model:
        raise errors.missing("model")
    if not isinstance(model, str):
        raise errors.bad_request(
            "Invalid type for 'model': expected a string.", param="model", code="invalid_type"
        )
    if "training_file" not in body or body["training_file"] in (None, ""):
        raise errors.missing("training_file")
    known = models.availability(models.base_model_of(model), models.SANDBOX_TODAY)
    if (
        known in ("shut_down", "inference_only")
        or models.dated_name(model) is not None  # an alias: a job needs the dated snapshot
    ):
        raise model_not_available(model)
    method = methods.requested(body)
    if models.get(model) is not None and not models.supports(model, method.type):
        raise model_not_available(model)  # Unconfirmed: the real API's answer, same wording
    resolved = resolve_model(model)
    suffix = job_suffix(body.get("suffix"))
    seed = body.get("seed")
    if seed is not None and (
        not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2**31 - 1
    ):
        raise errors.bad_request(
            "Invalid 'seed': expected an integer between 0 and 2147483647.",
            param="seed",
            code="invalid_value",
        )
    pairs = metadata(body.get("metadata"))
    files.check_training_file(body["training_file"], "training_file")
    validation_file = body.get("validation_file") or None
    if validation_file:
        files.check_training_file(validation_file, "validation_file")
    return JobRequest(
        model,
        resolved,
        suffix or None,
        method.hyperparameters,
        seed,
        pairs,
        body["training_file"],
        validation_file,
        method.type,
    )


SUFFIX = re.compile(r"^[A-Za-z0-9_-]+$")


def job_suffix(suffix: Any) -> str | None:
    """A job's `suffix`: 1 to 64 characters (OpenAI's description), letters, digits, `-` and `_`.

    Unconfirmed: the real API's rule on characters (no public transcript). What the sandbox
    chose: the pattern the real API applies to its other names (functions, schemas), so that
    a space, « ! » or « : » (the separator of `ft:` names) never ends up in a model id.
    """
    if suffix is None:
        return None
    if not isinstance(suffix, str):
        raise invalid_type("suffix", "a string", suffix)
    if not suffix:
        raise errors.bad_request(
            "Invalid 'suffix': empty string. Expected a string with minimum length 1, but got an "
            "empty string instead.",
            param="suffix",
            code="empty_string",
        )
    if len(suffix) > 64:
        raise errors.bad_request(
            f"Invalid 'suffix': string too long. Expected a string with maximum length 64, but got a "
            f"string with length {len(suffix)} instead.",
            param="suffix",
            code="string_above_max_length",
        )
    if not SUFFIX.match(suffix):
        raise errors.bad_request(
            "Invalid 'suffix': string does not match pattern. Expected a string that matches the "
            "pattern '^[a-zA-Z0-9_-]+$'.",
            param="suffix",
            code="invalid_value",
        )
    return suffix


def hyperparameters(body: dict[str, Any]) -> dict[str, Any]:
    """Requested hyperparameters from `method` (current form) or `hyperparameters` (deprecated)."""
    return methods.requested(body).hyperparameters
