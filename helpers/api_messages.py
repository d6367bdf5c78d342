"""The real API's error messages, in one table: the English text as the API sends it, its
status, type, code and param, and the diagnosis the kit gives it (issue 21 item 4).

Three readers, one table:

- the kit server (`kit_server/faults.py`, `kit_server/errors.py`, the resources' refusals)
  sends these messages: `kit_server.errors.from_table(api_messages.SUFFIX_TOO_LONG, length=70)`;
- the diagnoses (`helpers.errors`) recognise them by the same table (`find`, `ApiMessage.match`),
  so a server string changed here changes what the diagnosis matches with it;
- `helpers.french` reads the glosses of the messages a learner meets as text (a job's error,
  an event): `gloss` is French (the source language, `N_`), translated when shown — in the
  English edition, the API's own English message is shown as sent, with the English plain-language
  gloss and the English translation of the French diagnosis.

tests/test_api_messages.py sends every message of the table (and every literal message of the
kit server's resources) through the SDK's error classes and `helpers.errors.explain`, and
checks the diagnosis is the one written here.

How to add a message: one `ApiMessage` below (the text with `{named}` fields, as the real API
writes it; "Unconfirmed" in `note` when the wording is the kit's guess), an `example` for each
field, the `diagnosis` code it must get; the server sends it with `from_table`; if no diagnosis
gives that code yet, add one in `helpers/errors/` (French, then its English in
helpers/locale/en/LC_MESSAGES/diagnoses.po).

Leaf module: imports nothing of the kit but the translation markers.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .i18n import N_

# At most this many characters in a field between two fixed parts (an id, a name, a number, a
# short reason): a bound keeps a long hostile paste (the fixed parts repeated without ever
# completing the message) from costing seconds — unbounded, two such fields cost the cube of
# the text's length.
FIELD_CHARS = 1000


@dataclass(frozen=True)
class ApiMessage:
    """One message of the real API: `text` and `param` are `str.format` templates."""

    name: str
    status: int
    text: str
    diagnosis: str  # the `Diagnosis.code` helpers.errors gives it
    code: str | None = None
    type: str = "invalid_request_error"
    param: str | None = None
    example: Mapping[str, Any] = field(default_factory=dict)  # values for the round trip
    # More round trips: (values, the diagnosis with them) — a family whose diagnosis depends
    # on its fields (a bound of a job's method, or of another parameter).
    cases: tuple[tuple[Mapping[str, Any], str], ...] = ()
    gloss: str | None = None  # French (N_): what a learner reads beside the API's English
    note: str = ""  # where it comes from, "Unconfirmed" when the wording is a guess

    def render(self, **values: Any) -> str:
        return self.text.format(**values)

    def param_for(self, **values: Any) -> str | None:
        return self.param.format(**values) if self.param is not None else None

    def code_for(self, **values: Any) -> str | None:
        return self.code.format(**values) if self.code is not None else None

    @cached_property
    def literals(self) -> tuple[str, ...]:
        """The text's fixed parts (between its fields): a message holds every one of them."""
        return tuple(lit for lit, *_rest in string.Formatter().parse(self.text) if lit.strip())

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The text as a regex: each `{field}` a named group (the same field twice: the same
        value). A field that starts the text, or sits next to a field with only spaces between
        them (`{method} {path}`), or ends the text is one word (an id, a name, a verb): as
        `.+?` it would swallow what precedes a quoted message and make a long pasted text cost
        seconds to minutes (each such field multiplies the work by the text's length)."""
        parts = list(string.Formatter().parse(self.text))
        out, seen = [], set()
        for i, (literal, name, _spec, _conv) in enumerate(parts):
            out.append(re.escape(literal))
            if name is None:
                continue
            after = parts[i + 1][0] if i + 1 < len(parts) else ""
            one_word = (
                (i == 0 and not literal)
                or i == len(parts) - 1
                or (literal and not literal.strip() and i > 0 and parts[i - 1][1] is not None)
                or (after and not after.strip() and parts[i + 1][1] is not None)
            )
            if name in seen:
                out.append(f"(?P={name})")
            elif one_word:
                seen.add(name)
                out.append(f"(?P<{name}>[^\\s'\"]+)")
            else:
                seen.add(name)
                out.append(f"(?P<{name}>.{{1,{FIELD_CHARS}}}?)")
        return re.compile("".join(out), re.DOTALL)

    def _may_hold(self, text: str) -> bool:
        """A cheap first look (linear): the text holds every fixed part of the message."""
        return all(literal in text for literal in self.literals)

    def match(self, message: str) -> dict[str, str] | None:
        """The fields of `message` when it is this message (exactly, or quoted in a longer
        text), else None."""
        text = (message or "").strip()
        if not self._may_hold(text):
            return None
        found = self.pattern.fullmatch(text) or self.pattern.search(text)
        return found.groupdict() if found else None

    def matches(self, message: str) -> bool:
        """Whether `message` is this message, or quotes it (a pasted « Error code: 400 - {…} »)."""
        text = message or ""
        return self._may_hold(text) and self.pattern.search(text) is not None


# --------------------------------------------------------------------------------------
# Keys, accounts and the servers' state (kit_server/faults.py, kit_server/errors.py)

INCORRECT_API_KEY = ApiMessage(
    "incorrect_api_key",
    401,
    "Incorrect API key provided: {key}. You can find your API key at "
    "https://platform.openai.com/account/api-keys.",
    diagnosis="invalid_api_key",
    code="invalid_api_key",
    example={"key": "sk-sa***************************ult1"},
    gloss=N_("Clé d'API incorrecte"),
)
RATE_LIMIT = ApiMessage(
    "rate_limit",
    429,
    "Rate limit reached for {model} in organization {organization} on requests per min (RPM): "
    "Limit {limit}, Used {used}, Requested 1. Please try again in {wait}. Visit "
    "https://platform.openai.com/account/rate-limits to learn more.",
    diagnosis="rate_limit",
    code="rate_limit_exceeded",
    type="requests",
    example={
        "model": "gpt-4o-mini",
        "organization": "org-sandbox",
        "limit": 3,
        "used": 3,
        "wait": "1s",
    },
    gloss=N_("Trop de requêtes : limite de débit atteinte, réessaie plus tard"),
)
INSUFFICIENT_QUOTA = ApiMessage(
    "insufficient_quota",
    429,
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors.",
    diagnosis="insufficient_quota",
    code="insufficient_quota",
    type="insufficient_quota",
    gloss=N_("Tu as dépassé ton quota : plus de crédit, vérifie ton forfait et ta facturation"),
)
SERVER_ERROR = ApiMessage(
    "server_error",
    500,
    "The server had an error while processing your request. Sorry about that!",
    diagnosis="server_error",
    type="server_error",
)
OVERLOADED = ApiMessage(
    "overloaded",
    503,
    "The engine is currently overloaded, please try again later.",
    diagnosis="server_error",
    type="server_error",
)
FINE_TUNING_REFUSED = ApiMessage(
    "fine_tuning_refused",
    403,
    "Fine-tuning is not available to your organization: self-serve fine-tuning is closed to "
    "organizations that have not used it before.",
    diagnosis="fine_tuning_refused",
    code="permission_denied",
    note="Unconfirmed wording (openai-facts.md): the documented situation, in the API's style.",
)
WORKSPACE_NOT_WRITABLE = ApiMessage(
    "workspace_not_writable",
    500,
    "The sandbox cannot write to its workspace folder ({reason}).",
    diagnosis="workspace",
    code="workspace_not_writable",
    type="server_error",
    example={"reason": "the folder is read-only"},
    note="The kit server's own (no real-API counterpart); `reason` is in the learner's language.",
)
WORKSPACE_DAMAGED = ApiMessage(
    "workspace_damaged",
    500,
    "The sandbox's database file {name} is damaged and can no longer be read.",
    diagnosis="damaged_file",
    code="workspace_damaged",
    type="server_error",
    example={"name": "sandbox.sqlite3"},
    note="The kit server's own (no real-API counterpart).",
)

NO_API_KEY = ApiMessage(
    "no_api_key",
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    diagnosis="missing_key",
    note="Sent by kit_server/door.py and classroom/router.py (their owners' areas).",
)
KIT_SERVER_KEY = ApiMessage(
    "kit_server_key",
    401,
    "Incorrect API key provided for this kit server: it answers only the clients of its own "
    "workspace (the key in the workspace's kit-server.key file).",
    diagnosis="kit_server_key",
    code="invalid_api_key",
    note="The kit server's own (kit_server/door.py); never echoes the key.",
)
CLASS_KEY = ApiMessage(
    "class_key",
    401,
    "Incorrect API key provided for this class server. Ask your teacher for your key.",
    diagnosis="class_invalid_key",
    code="invalid_api_key",
    note="The class server's own (classroom/router.py); never echoes the key.",
)
HUB_UNAVAILABLE = ApiMessage(
    "hub_unavailable",
    503,
    "JupyterHub did not answer the class server, which asks it who your hub token belongs to: "
    "your key was not checked. Try again in a minute; if it lasts, tell your teacher (the hub "
    "or the class server's service token).",
    diagnosis="hub_unavailable",
    code="hub_unavailable",
    type="server_error",
    note="The class server's own (classroom/identity.py).",
)
CLASS_REQUESTS_AT_ONCE = ApiMessage(
    "class_requests_at_once",
    429,
    "Rate limit reached for requests in organization class-{name}: Limit {limit} requests at "
    "once. Please try again in 1s.",
    diagnosis="rate_limit",
    code="rate_limit_exceeded",
    type="requests",
    example={"name": "alice", "limit": 4},
    note="Unconfirmed: the class server limits requests at once (classroom/tenants.py).",
)
CLASS_DAILY_JOBS = ApiMessage(
    "class_daily_jobs",
    429,
    "Rate limit reached for fine-tuning jobs per day in organization class-{name}: Limit "
    "{limit}, Used {used}, Requested 1. Please try again in {seconds}s.",
    diagnosis="class_quota",
    code="rate_limit_exceeded",
    type="requests",
    example={"name": "alice", "limit": 5, "used": 5, "seconds": 3600},
    note="The class server's daily quota (classroom/tenants.py).",
)
CLASS_DAILY_TOKENS = ApiMessage(
    "class_daily_tokens",
    429,
    "Rate limit reached for fine-tuning training tokens per day in organization class-{name}: "
    "Limit {limit}, Used {used}. Please try again in {seconds}s.",
    diagnosis="class_quota",
    code="rate_limit_exceeded",
    type="tokens",
    example={"name": "alice", "limit": 100000, "used": 100200, "seconds": 3600},
    note="The class server's daily quota (classroom/tenants.py).",
)
STORAGE_QUOTA = ApiMessage(
    "storage_quota",
    400,
    "You have exceeded your file storage quota. {limits} Please delete old files or attempt "
    "with a smaller file size.",
    diagnosis="storage_quota",
    example={"limits": "Organizations are limited to 100 GB of files."},
    note="The real API's (a public transcript, 2024); the class server names its own limits.",
)

# --------------------------------------------------------------------------------------
# Refused requests (400) and what does not exist (404): kit_server/errors.py, resources/*

INVALID_TYPE = ApiMessage(
    "invalid_type",
    400,
    "Invalid type for '{name}': expected {expected}, but got {got} instead.",
    diagnosis="invalid_type",
    code="invalid_type",
    param="{name}",
    example={"name": "temperature", "expected": "a decimal", "got": "a string"},
)
INVALID_TYPE_SHORT = ApiMessage(
    "invalid_type_short",
    400,
    "Invalid type for '{name}': expected {expected}.",
    diagnosis="invalid_type",
    code="invalid_type",
    param="{name}",
    example={"name": "model", "expected": "a string"},
)
MISSING_PARAMETER = ApiMessage(
    "missing_parameter",
    400,
    "Missing required parameter: '{name}'.",
    diagnosis="missing_parameter",
    code="missing_required_parameter",
    param="{name}",
    example={"name": "messages"},
)
UNKNOWN_PARAMETER = ApiMessage(
    "unknown_parameter",
    400,
    "Unrecognized request argument supplied: {name}",
    diagnosis="unknown_parameter",
    code="unknown_parameter",
    param="{name}",
    example={"name": "reasoning_effort"},
    note="kit_server/params.py's unknown_argument sends it without code nor param.",
)
UNKNOWN_PARAMETER_QUOTED = ApiMessage(
    "unknown_parameter_quoted",
    400,
    "Unknown parameter: '{name}'.",
    diagnosis="unknown_parameter",
    code="unknown_parameter",
    param="{name}",
    example={"name": "reasoning.effort_level"},
    note="The Responses API's wording (a public transcript).",
)
NO_SUCH_FILE = ApiMessage(
    "no_such_file",
    404,
    "No such File object: {id}",
    diagnosis="file_not_found",
    param="{param}",
    example={"id": "file-abc123", "param": "id"},
    gloss=N_("Aucun fichier {id}"),
)
NO_SUCH_OBJECT = ApiMessage(
    "no_such_object",
    404,
    "No such {kind} object: {id}",
    diagnosis="not_found",
    param="{param}",
    example={"kind": "Checkpoint", "id": "ftckpt-abc123", "param": "id"},
)
MODEL_NOT_FOUND = ApiMessage(
    "model_not_found",
    404,
    "The model `{model}` does not exist or you do not have access to it.",
    diagnosis="model_not_found",
    code="model_not_found",
    example={"model": "gpt-5-nano-2099-01-01"},
    gloss=N_("Le modèle {model} n'existe pas, ou tu n'y as pas accès"),
)
MODEL_DEPRECATED = ApiMessage(
    "model_deprecated",
    404,
    "The model `{model}` has been deprecated, learn more here: "
    "https://platform.openai.com/docs/deprecations",
    diagnosis="model_shut_down",
    code="model_not_found",
    example={"model": "gpt-3.5-turbo-0125"},
)
MODEL_NOT_AVAILABLE = ApiMessage(
    "model_not_available",
    400,
    "Model {model} is not available for fine-tuning or does not exist.",
    diagnosis="model_not_fine_tunable",
    code="model_not_available",
    example={"model": "gpt-3.5-turbo-0125"},
    gloss=N_("Le modèle {model} ne peut pas être entraîné, ou n'existe pas"),
)
MODEL_NOT_OWNED = ApiMessage(
    "model_not_owned",
    403,
    "You do not have permission to delete the model `{model}`: only fine-tuned models owned "
    "by your organization can be deleted.",
    diagnosis="model_not_owned",
    code="model_not_owned",
    example={"model": "gpt-4o-mini-2024-07-18"},
)
INVALID_JSON_BODY = ApiMessage(
    "invalid_json_body",
    400,
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON.)",
    diagnosis="invalid_request",
)
INVALID_TRAINING_FILE_FORMAT = ApiMessage(
    "invalid_training_file_format",
    400,
    "Invalid file format for Fine-Tuning API. Must be .jsonl",
    diagnosis="invalid_file_format",
    param="file",
)
MAX_TOKENS_TOO_LARGE = ApiMessage(
    "max_tokens_too_large",
    400,
    "{name} is too large: {value}. This model supports at most {limit} completion tokens, "
    "whereas you provided {value}.",
    diagnosis="max_tokens_too_large",
    code="invalid_value",
    param="{name}",
    example={"name": "max_tokens", "value": 100000, "limit": 16384},
)
CHAT_MODEL_ON_COMPLETIONS = ApiMessage(
    "chat_model_on_completions",
    404,
    "This is a chat model and not supported in the v1/completions endpoint. Did you mean to "
    "use v1/chat/completions?",
    diagnosis="chat_model_on_completions",
    param="model",
)

# --------------------------------------------------------------------------------------
# A fine-tuning job refused: its suffix, its method (resources/fine_tuning_jobs.py)

SUFFIX_EMPTY = ApiMessage(
    "suffix_empty",
    400,
    "Invalid 'suffix': empty string. Expected a string with minimum length 1, but got an empty "
    "string instead.",
    diagnosis="bad_suffix",
    code="empty_string",
    param="suffix",
)
SUFFIX_TOO_LONG = ApiMessage(
    "suffix_too_long",
    400,
    "Invalid 'suffix': string too long. Expected a string with maximum length 64, but got a "
    "string with length {length} instead.",
    diagnosis="bad_suffix",
    code="string_above_max_length",
    param="suffix",
    example={"length": 70},
)
SUFFIX_PATTERN = ApiMessage(
    "suffix_pattern",
    400,
    "Invalid 'suffix': string does not match pattern. Expected a string that matches the "
    "pattern '^[a-zA-Z0-9_-]+$'.",
    diagnosis="bad_suffix",
    code="invalid_value",
    param="suffix",
)
METHOD_TYPE_INVALID = ApiMessage(
    "method_type_invalid",
    400,
    "Invalid value: '{kind}'. Supported values are: 'supervised', 'dpo', and 'reinforcement'.",
    diagnosis="bad_method",
    code="invalid_value",
    param="method.type",
    example={"kind": "rlhf"},
)
METHOD_NOT_SIMULATED = ApiMessage(
    "method_not_simulated",
    400,
    "The sandbox simulates supervised and DPO fine-tuning only (method.type 'supervised' or "
    "'dpo', not '{kind}').",
    diagnosis="bad_method",
    code="invalid_value",
    param="method.type",
    example={"kind": "reinforcement"},
    note="The kit server's own: the sandbox does not simulate reinforcement fine-tuning.",
)
METHOD_MISPLACED = ApiMessage(
    "method_misplaced",
    400,
    "Invalid 'method.{other}': the job's method.type is '{kind}'; put its settings in "
    "'method.{kind}'.",
    diagnosis="bad_method",
    code="invalid_value",
    param="method.{other}",
    example={"other": "dpo", "kind": "supervised"},
    note="Unconfirmed wording.",
)
VALUE_ABOVE_MAXIMUM = ApiMessage(
    "value_above_maximum",
    400,
    "Invalid '{name}': {word} above maximum value. Expected a value <= {high}, but got {value} "
    "instead.",
    diagnosis="bad_method",
    code="{word}_above_max_value",
    param="{name}",
    example={
        "name": "method.supervised.hyperparameters.n_epochs",
        "word": "integer",
        "high": "50",
        "value": 60,
    },
    cases=(({"name": "n", "word": "integer", "high": "128", "value": 200}, "invalid_request"),),
)
VALUE_BELOW_MINIMUM = ApiMessage(
    "value_below_minimum",
    400,
    "Invalid '{name}': {word} below minimum value. Expected a value {bound}, but got {value} "
    "instead.",
    diagnosis="bad_method",
    code="{word}_below_min_value",
    param="{name}",
    example={
        "name": "method.dpo.hyperparameters.beta",
        "word": "decimal",
        "bound": "> 0",
        "value": 0,
    },
    cases=(
        (
            {"name": "max_output_tokens", "word": "integer", "bound": ">= 16", "value": 3},
            "invalid_request",
        ),
    ),
)
JOB_STATE = ApiMessage(
    "job_state",
    400,
    "Job {job_id} is {status} and cannot be {verb}.",
    diagnosis="invalid_request",
    code="invalid_job_state",
    param="fine_tuning_job_id",
    example={"job_id": "ftjob-abc", "status": "succeeded", "verb": "cancelled"},
    note="Unconfirmed wording.",
)

# --------------------------------------------------------------------------------------
# What the kit server does not imitate (resources/not_imitated.py, text_completions.py)

NOT_IMITATED = ApiMessage(
    "not_imitated",
    404,
    "The Atelier sandbox does not imitate {method} {path} ({what}): it serves {served}. "
    "Instead: {instead}.",
    diagnosis="not_imitated_by_sandbox",
    code="not_imitated_by_sandbox",
    example={
        "method": "POST",
        "path": "/v1/images/generations",
        "what": "images",
        "served": "files, fine-tuning, models, chat",
        "instead": "use the real API (mode openai)",
    },
    note="The kit server's own (no real-API counterpart).",
)
LEGACY_COMPLETION_MODEL = ApiMessage(
    "legacy_completion_model",
    404,
    "The Atelier sandbox does not imitate the legacy completion model `{model}` (POST "
    "/v1/completions): it has chat models only. Send the same text as a user message to "
    "/v1/chat/completions (client.chat.completions.create), or use the real API (mode openai).",
    diagnosis="not_imitated_by_sandbox",
    code="not_imitated_by_sandbox",
    param="model",
    example={"model": "gpt-3.5-turbo-instruct"},
    note="The kit server's own (no real-API counterpart).",
)
EVALS_SHUT_DOWN = ApiMessage(
    "evals_shut_down",
    404,
    "{method} {path}: OpenAI's Evals API shut down on 2026-11-30 (the SDK marks client.evals "
    "deprecated), and the sandbox does not imitate it. Evaluate a model with the kit: "
    "`python -m helpers eval MODEL FILE.jsonl` or `helpers.evaluate(...)` (notebook 12), or "
    "with Promptfoo (npm promptfoo), which calls any OpenAI-compatible endpoint.",
    diagnosis="evals_api_shut_down",
    code="evals_api_shut_down",
    example={"method": "GET", "path": "/v1/evals"},
    note="Unconfirmed: what the real API answers there now.",
)

# --------------------------------------------------------------------------------------
# A job's failure (`job.error`, kit_server/validation.py): read as text, not an HTTP error

TOO_FEW_EXAMPLES = ApiMessage(
    "too_few_examples",
    0,  # not an HTTP answer: the failed job's error
    "Training file has {n} example(s), but must have at least {minimum} examples",
    diagnosis="invalid_n_examples",
    code="invalid_n_examples",
    param="training_file",
    example={"n": 3, "minimum": 10},
    gloss=N_("Le fichier d'entraînement a {n} exemple(s), il en faut au moins {minimum}"),
)

#: Every message, the most specific first (`find` returns the first that matches).
MESSAGES: tuple[ApiMessage, ...] = (
    INCORRECT_API_KEY,
    RATE_LIMIT,
    INSUFFICIENT_QUOTA,
    SERVER_ERROR,
    OVERLOADED,
    FINE_TUNING_REFUSED,
    WORKSPACE_NOT_WRITABLE,
    WORKSPACE_DAMAGED,
    NO_API_KEY,
    KIT_SERVER_KEY,
    CLASS_KEY,
    HUB_UNAVAILABLE,
    CLASS_DAILY_JOBS,
    CLASS_DAILY_TOKENS,
    CLASS_REQUESTS_AT_ONCE,
    STORAGE_QUOTA,
    INVALID_TYPE,
    INVALID_TYPE_SHORT,
    MISSING_PARAMETER,
    UNKNOWN_PARAMETER,
    UNKNOWN_PARAMETER_QUOTED,
    NO_SUCH_FILE,
    NO_SUCH_OBJECT,
    MODEL_NOT_FOUND,
    MODEL_DEPRECATED,
    MODEL_NOT_AVAILABLE,
    MODEL_NOT_OWNED,
    INVALID_JSON_BODY,
    INVALID_TRAINING_FILE_FORMAT,
    MAX_TOKENS_TOO_LARGE,
    CHAT_MODEL_ON_COMPLETIONS,
    SUFFIX_EMPTY,
    SUFFIX_TOO_LONG,
    SUFFIX_PATTERN,
    METHOD_TYPE_INVALID,
    METHOD_NOT_SIMULATED,
    METHOD_MISPLACED,
    VALUE_ABOVE_MAXIMUM,
    VALUE_BELOW_MINIMUM,
    JOB_STATE,
    NOT_IMITATED,
    LEGACY_COMPLETION_MODEL,
    EVALS_SHUT_DOWN,
    TOO_FEW_EXAMPLES,
)
BY_NAME: dict[str, ApiMessage] = {m.name: m for m in MESSAGES}


def find(message: str) -> ApiMessage | None:
    """The table's message that `message` is (or quotes), or None."""
    for entry in MESSAGES:
        if entry.matches(message):
            return entry
    return None
