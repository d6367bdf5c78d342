"""The real API's error envelope: `{"error": {"message", "type", "param", "code"}}`.

Messages are the real API's (English), from one table (`helpers.api_messages`): learners meet
the same text against the sandbox as against OpenAI, and `helpers.errors` recognises both by
that same table and explains them in the learner's language.
"""

from __future__ import annotations

from typing import Any

from ..api_messages import (
    INVALID_JSON_BODY,
    INVALID_TYPE,
    MISSING_PARAMETER,
    MODEL_DEPRECATED,
    MODEL_NOT_FOUND,
    NO_SUCH_FILE,
    NO_SUCH_OBJECT,
    SERVER_ERROR,
    WORKSPACE_DAMAGED,
    WORKSPACE_NOT_WRITABLE,
    ApiMessage,
)


class ApiError(Exception):
    """An error answered to the client with the real API's status, envelope and headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def from_table(
    message: ApiMessage, *, headers: dict[str, str] | None = None, **values: Any
) -> ApiError:
    """The error answering `message` of the table (its status, text, type, code and param),
    its fields filled with `values`."""
    return ApiError(
        message.status,
        message.render(**values),
        type=message.type,
        param=message.param_for(**values),
        code=message.code_for(**values),
        headers=headers,
    )


def type_name(value: Any) -> str:
    """The real API's name of a JSON value's type (« a decimal » for a number with a point)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def invalid_type(name: str, expected: str, value: Any) -> ApiError:
    """« Invalid type for 'temperature': expected a decimal, but got a string instead. »"""
    article = "an" if type_name(value)[0] in "aeiou" else "a"
    return from_table(
        INVALID_TYPE, name=name, expected=expected, got=f"{article} {type_name(value)}"
    )


def not_found(kind: str, object_id: str, param: str = "id") -> ApiError:
    """`No such File object: file-…` (the real API's wording for unknown ids)."""
    if kind == "File":
        return from_table(NO_SUCH_FILE, id=object_id, param=param)
    return from_table(NO_SUCH_OBJECT, kind=kind, id=object_id, param=param)


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing(param: str) -> ApiError:
    return from_table(MISSING_PARAMETER, name=param)


def model_not_found(model: str) -> ApiError:
    return from_table(MODEL_NOT_FOUND, model=model)


def model_shut_down(model: str) -> ApiError:
    return from_table(MODEL_DEPRECATED, model=model)


def invalid_json_body() -> ApiError:
    return from_table(INVALID_JSON_BODY)


def server_error() -> ApiError:
    return from_table(SERVER_ERROR)


def workspace_error(reason: str) -> ApiError:
    """The kit server cannot write its workspace (read-only, full): a 500 the kit explains in
    French (`code` starts with `workspace_`; `reason` is already French)."""
    return from_table(WORKSPACE_NOT_WRITABLE, reason=reason)


def workspace_damaged(name: str) -> ApiError:
    """The workspace's database is damaged: a 500 the kit explains in French (naming the file
    and `python -m helpers doctor --repair`); retrying cannot help (`x-should-retry: false`)."""
    return from_table(WORKSPACE_DAMAGED, name=name, headers={"x-should-retry": "false"})
