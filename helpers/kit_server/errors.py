"""The real API's error envelope: `{"error": {"message", "type", "param", "code"}}`.

Messages are the real API's (English): learners meet the same text against the sandbox as
against OpenAI, and `helpers.errors` explains both in French.
"""

from __future__ import annotations

from typing import Any


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
    return bad_request(
        f"Invalid type for '{name}': expected {expected}, but got {article} "
        f"{type_name(value)} instead.",
        param=name,
        code="invalid_type",
    )


def not_found(kind: str, object_id: str, param: str = "id") -> ApiError:
    """`No such File object: file-…` (the real API's wording for unknown ids)."""
    return ApiError(404, f"No such {kind} object: {object_id}", param=param)


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing(param: str) -> ApiError:
    return ApiError(
        400,
        f"Missing required parameter: '{param}'.",
        param=param,
        code="missing_required_parameter",
    )


def model_not_found(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def model_shut_down(model: str) -> ApiError:
    return ApiError(
        404,
        f"The model `{model}` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations",
        code="model_not_found",
    )


def invalid_json_body() -> ApiError:
    return ApiError(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    )


def server_error() -> ApiError:
    return ApiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
    )


def workspace_error(reason: str) -> ApiError:
    """The kit server cannot write its workspace (read-only, full): a 500 the kit explains in
    French (`code` starts with `workspace_`; `reason` is already French)."""
    return ApiError(
        500,
        f"The sandbox cannot write to its workspace folder ({reason}).",
        type="server_error",
        code="workspace_not_writable",
    )


def workspace_damaged(name: str) -> ApiError:
    """The workspace's database is damaged: a 500 the kit explains in French (naming the file
    and `python -m helpers doctor --repair`); retrying cannot help (`x-should-retry: false`)."""
    return ApiError(
        500,
        f"The sandbox's database file {name} is damaged and can no longer be read.",
        type="server_error",
        code="workspace_damaged",
        headers={"x-should-retry": "false"},
    )
