"""Faults on demand: make the sandbox answer like the real API does when things go wrong (the
messages: `helpers.api_messages`, the one table the diagnoses read too).

Never active by default. A request asks for a fault in one of two ways:

- **a special API key** — handy in a notebook, e.g. `helpers.client(api_key="sk-sandbox-quota")`:
  `sk-sandbox-<fault>` or `sk-sandbox-<fault>-<number>`;
- **a header** — `X-Sandbox-Fault: <fault>` or `<fault>=<number>`, e.g. per client with
  `OpenAI(default_headers={"X-Sandbox-Fault": "slow=3"})` or per call with `extra_headers=`.

Fault names accept `-` or `_` (`rate-limit` = `rate_limit`):

| fault | answer |
| --- | --- |
| `invalid_key` | 401 `invalid_api_key` "Incorrect API key provided: sk-sa***…" |
| `rate_limit[=s]` | 429 `rate_limit_exceeded` with `Retry-After: s` (default 1) — the SDK retries it |
| `quota` | 429 `insufficient_quota`, with `x-should-retry: false` (the SDK would retry otherwise) |
| `server_error` | 500 `server_error` — the SDK retries it |
| `overloaded` | 503 "The engine is currently overloaded" — the SDK retries it |
| `slow[=s]` | the normal answer, `s` seconds late (default 5): shows `timeout=` and APITimeoutError |
| `no_fine_tuning` | 403 on job creation only (self-serve fine-tuning closed to the organization) |

A number is clamped to `MAX_SECONDS` (10 minutes, beyond the SDK's own timeout): a
`Retry-After` header is a whole number of seconds, a `slow` answer never waits for ever.

A workspace's kit server answers only with the workspace's key (`door.py`): through the kit's
client (`helpers.client("sandbox", api_key="sk-sandbox-quota")`, the key form) a fault key
travels beside it. A fault that answers an error at once needs no workspace key, so it works
from any client. The key itself is never stored or logged (the 401 message echoes a masked
form, as the real API does).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .. import api_messages
from .errors import ApiError, from_table

KEY_PREFIX = "sk-sandbox-"
HEADER = "x-sandbox-fault"
MAX_SECONDS = 600.0

DEFAULTS = {
    "invalid_key": 0.0,
    "rate_limit": 1.0,
    "quota": 0.0,
    "server_error": 0.0,
    "overloaded": 0.0,
    "slow": 5.0,
    "no_fine_tuning": 0.0,
}
_ALIASES = {
    "invalid_api_key": "invalid_key",
    "bad_key": "invalid_key",
    "ratelimit": "rate_limit",
    "insufficient_quota": "quota",
    "error": "server_error",
    "500": "server_error",
    "timeout": "slow",
    "permission_denied": "no_fine_tuning",
}


@dataclass(frozen=True)
class Fault:
    name: str
    value: float


def _parse(spec: str) -> Fault | None:
    spec = spec.strip().lower().replace("-", "_")
    match = re.fullmatch(r"([a-z0-9_]+?)(?:[=_:]([0-9]+(?:\.[0-9]+)?))?", spec)
    if not match:
        return None
    name = _ALIASES.get(match.group(1), match.group(1))
    if name not in DEFAULTS:
        return None
    value = float(match.group(2)) if match.group(2) else DEFAULTS[name]
    return Fault(name, min(value, MAX_SECONDS))


def select(api_key: str | None, header: str | None) -> Fault | None:
    """The fault a request asks for (the header wins over the key), or None."""
    if header:
        fault = _parse(header)
        if fault is not None:
            return fault
    if api_key and api_key.lower().startswith(KEY_PREFIX):
        return _parse(api_key[len(KEY_PREFIX) :])
    return None


def mask(key: str) -> str:
    """The real API's way of echoing a wrong key: a few first and last characters only."""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:5]}{'*' * min(20, len(key) - 9)}{key[-4:]}"


def error_for(fault: Fault, *, api_key: str, method: str, path: str) -> ApiError | None:
    """The error this fault answers to this request (None: answer normally, maybe late)."""
    name = fault.name
    if name == "invalid_key":
        return from_table(api_messages.INCORRECT_API_KEY, key=mask(api_key))
    if name == "rate_limit":
        exact = min(max(0.0, fault.value), MAX_SECONDS)
        seconds = math.ceil(exact)  # Retry-After: a whole number of seconds (RFC 9110)
        shown = f"{exact:.3g}s"
        return from_table(
            api_messages.RATE_LIMIT,
            model="gpt-4o-mini",
            organization="org-sandbox",
            limit=3,
            used=3,
            wait=shown,
            headers={
                "retry-after": str(seconds),
                # What the SDK reads first (Unconfirmed: whether the real API sends it here).
                "retry-after-ms": str(round(exact * 1000)),
                "x-ratelimit-limit-requests": "3",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": shown,
            },
        )
    if name == "quota":
        return from_table(api_messages.INSUFFICIENT_QUOTA, headers={"x-should-retry": "false"})
    if name == "server_error":
        return from_table(api_messages.SERVER_ERROR)
    if name == "overloaded":
        return from_table(api_messages.OVERLOADED)
    if name == "no_fine_tuning":
        if method == "POST" and path.rstrip("/").endswith("/fine_tuning/jobs"):
            # The real wording is unconfirmed (see openai-facts.md); this is the documented situation.
            return from_table(api_messages.FINE_TUNING_REFUSED)
        return None
    return None
