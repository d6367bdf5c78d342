"""A job's `method`, checked as the real API checks it, and its `auto` values resolved.

    method: {"type": "supervised", "supervised": {"hyperparameters": {…}}}
    method: {"type": "dpo", "dpo": {"hyperparameters": {"beta", "n_epochs", "batch_size",
                                                         "learning_rate_multiplier"}}}

(or the deprecated top-level `hyperparameters`, supervised only). Bounds are the published
OpenAPI description's (FineTuneSupervisedHyperparameters, FineTuneDPOHyperparameters): n_epochs
1–50, batch_size 1–256, learning_rate_multiplier > 0, beta in ]0, 2]; each may be "auto".
The same for both engines; `reinforcement` is not imitated. The job stores the method's type
(`spec["method"]`) and its requested hyperparameters; `resolve` turns `auto` into numbers when
the job starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import models
from . import errors

TYPES = ("supervised", "dpo", "reinforcement")
IMITATED = ("supervised", "dpo")
#: name → (lowest, highest, integer). A decimal's lowest bound is exclusive.
BOUNDS: dict[str, dict[str, tuple[float, float | None, bool]]] = {
    "supervised": {
        "n_epochs": (1, models.MAX_EPOCHS, True),
        "batch_size": (1, models.MAX_BATCH_SIZE, True),
        "learning_rate_multiplier": (0, None, False),
    },
}
BOUNDS["dpo"] = {"beta": (0, models.DPO_BETA_MAX, False), **BOUNDS["supervised"]}


@dataclass(frozen=True)
class Method:
    """A checked `method`: its type and the hyperparameters asked for ("auto" or a number)."""

    type: str
    hyperparameters: dict[str, Any]


def requested(body: dict[str, Any]) -> Method:
    """The method a job-creation body asks for, checked in the real API's words."""
    method = body.get("method")
    raw: Any = body.get("hyperparameters")
    where = "hyperparameters"
    kind = "supervised"
    if method is not None:
        if not isinstance(method, dict) or "type" not in method:
            raise errors.bad_request(
                "Missing required parameter: 'method.type'.",
                param="method.type",
                code="missing_required_parameter",
            )
        kind = method["type"]
        if kind not in TYPES:
            # Unconfirmed wording: the real API's message for a value outside an enum.
            raise errors.bad_request(
                f"Invalid value: '{kind}'. Supported values are: 'supervised', 'dpo', and "
                "'reinforcement'.",
                param="method.type",
                code="invalid_value",
            )
        if kind not in IMITATED:
            raise errors.bad_request(
                f"The sandbox simulates supervised and DPO fine-tuning only (method.type "
                f"'supervised' or 'dpo', not '{kind}').",
                param="method.type",
                code="invalid_value",
            )
        for other in TYPES:
            if other != kind and method.get(other) is not None:
                # Unconfirmed: what the real API does with another method's settings.
                raise errors.bad_request(
                    f"Invalid 'method.{other}': the job's method.type is '{kind}'; put its "
                    f"settings in 'method.{kind}'.",
                    param=f"method.{other}",
                    code="invalid_value",
                )
        unknown = sorted(set(method) - {"type", *TYPES})
        if unknown:
            raise errors.bad_request(
                f"Unrecognized request argument supplied: method.{unknown[0]}",
                param=f"method.{unknown[0]}",
                code="unknown_parameter",
            )
        own = method.get(kind)
        if own is None:
            own = {}
        if not isinstance(own, dict):
            raise errors.invalid_type(f"method.{kind}", "an object", own)
        unknown = sorted(set(own) - {"hyperparameters"})
        if unknown:
            raise errors.bad_request(
                f"Unrecognized request argument supplied: method.{kind}.{unknown[0]}",
                param=f"method.{kind}.{unknown[0]}",
                code="unknown_parameter",
            )
        if own.get("hyperparameters") is not None:
            raw, where = own["hyperparameters"], f"method.{kind}.hyperparameters"
        elif kind != "supervised":
            raw = None  # the deprecated field is the supervised method's
    return Method(kind, _hyperparameters(raw, where, BOUNDS[kind]))


def _hyperparameters(
    raw: Any, where: str, bounds: dict[str, tuple[float, float | None, bool]]
) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):  # `[]` too: an array is not an object
        raise errors.invalid_type(where, "an object", raw)
    unknown = sorted(set(raw) - set(bounds))
    if unknown:
        raise errors.bad_request(
            f"Unrecognized request argument supplied: {where}.{unknown[0]}",
            param=f"{where}.{unknown[0]}",
            code="unknown_parameter",
        )
    out: dict[str, Any] = {}
    for key, (low, high, integer) in bounds.items():
        value = raw.get(key, "auto")
        name = f"{where}.{key}"
        if value in (None, "auto"):
            out[key] = "auto"
            continue
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            # Unconfirmed wording: the real API's type message with its "auto" alternative.
            raise errors.invalid_type(
                name, f"{'an integer' if integer else 'a decimal'} or 'auto'", value
            )
        word = "integer" if integer else "decimal"
        if high is not None and value > high:
            raise errors.bad_request(
                f"Invalid '{name}': {word} above maximum value. Expected a value <= {high:g}, "
                f"but got {value} instead.",
                param=name,
                code=f"{word}_above_max_value",
            )
        if value < low or (not integer and value <= 0):
            bound = f">= {low}" if integer else "> 0"
            raise errors.bad_request(
                f"Invalid '{name}': {word} below minimum value. Expected a value {bound}, "
                f"but got {value} instead.",
                param=name,
                code=f"{word}_below_min_value",
            )
        out[key] = value
    return out


def resolve_beta(requested_beta: Any) -> float:
    """`beta`: the number asked for, or what "auto" becomes (`models.DPO_AUTO_BETA`,
    Unconfirmed)."""
    return models.DPO_AUTO_BETA if requested_beta in (None, "auto") else float(requested_beta)
