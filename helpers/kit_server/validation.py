"""A file's check turned into the real API's job failure (`error` of a failed job).

Validation is the learner's own check (`check`: `helpers.preference_data.check_bytes` for the
job's method — chat examples for a supervised job, preference pairs for a DPO job); its
problems become the real API's English failure messages (`invalid_n_examples`,
`invalid_training_file`). Both engines fail a job with the same text.
"""

from __future__ import annotations

from typing import Any

from .. import dataset, models, preference_data

#: A file in the other format than the job's method (the supervised text is the real API's;
#: the DPO one is Unconfirmed: no public transcript of a DPO job given a chat file).
UNEXPECTED = {
    "supervised": "Unexpected file format, expected either prompt/completion pairs or chat messages.",
    "dpo": "Unexpected file format, expected preference pairs with input, preferred_output and "
    "non_preferred_output.",
}
#: The English texts of the problems of a preference pair. Unconfirmed: no public transcript
#: of a failed DPO job; they follow the real API's (pydantic) messages for chat files.
PAIR_TEXTS = {
    "missing_input": "Field required: input",
    "input_not_object": "Input should be a valid dictionary: input",
    "no_user": "The input must contain at least one message with role 'user'",
    "missing_output": "Field required: {field}",
    "output_not_list": "Input should be a valid list: {field}",
    "output_empty": "List should have at least 1 item after validation: {field}",
    "output_too_many": "List should have at most 1 item after validation: {field}",
    "output_not_assistant": "Input should be 'assistant': role",
    "output_not_text": "Preference outputs must be text messages: {leaf}",
    "weight_in_pair": "Extra inputs are not permitted: weight",
}


def check(data: bytes, model: str, method: str = "supervised") -> dataset.Report:
    """The check a job's file gets: for the job's method, whatever format the file is in."""
    return preference_data.check_bytes(data, model, method=method)


def _example_ref(p: dataset.Problem) -> str:
    ref = f"Example {p.example or p.line}"
    if p.message_index:
        ref += f", message {p.message_index}"
    return ref


def _detail(p: dataset.Problem, report: dataset.Report) -> str:
    """The English text after "Invalid file format." for one problem."""
    ref = _example_ref(p)
    fld = (p.field or "").rsplit(".", 1)[-1]
    code = p.code
    if code == "wrong_method":
        return UNEXPECTED[report.method]
    if code in ("chat_format", "preference_format"):
        return UNEXPECTED[report.method]
    if code in PAIR_TEXTS:
        text = PAIR_TEXTS[code].format(field=(p.field or "").split("[")[0], leaf=fld)
        return f"Invalid file format. {ref} {text}"
    if code in ("missing_messages", "legacy_format", "not_object") and report.method == "dpo":
        return (
            UNEXPECTED["dpo"]
            if code != "missing_messages"
            else f"Invalid file format. {ref} Field required: messages"
        )
    if code in ("missing_messages", "legacy_format", "not_object"):
        return "Unexpected file format, expected either prompt/completion pairs or chat messages."
    if code in ("invalid_json", "control_character", "cr_line_endings", "lone_surrogate"):
        return f"Invalid file format. Line {p.line}, the line is not valid JSON."
    if code == "blank_line":
        return f"Invalid file format. Line {p.line} is empty."
    if code == "bom":
        return "Invalid file format. Line 1, unexpected UTF-8 BOM (byte order mark) at the start of the file."
    if code in ("not_utf8", "utf16", "utf32"):
        return "Invalid file format. The file is not valid UTF-8 text."
    texts = {
        "missing_role": "Discriminator 'role' is missing in value",
        "bad_role": "Input tag found using 'role' does not match any of the expected tags: "
        "'system', 'developer', 'user', 'assistant', 'function', 'tool'",
        "missing_content": "Field required: content",
        "null_content": "Input should be a valid string: content",
        "bad_content": "Input should be a valid string: content",
        "message_not_object": "Input should be a valid dictionary",
        "unknown_message_key": f"Extra inputs are not permitted: {fld}",
        "unknown_key": f"Extra inputs are not permitted: {fld}",
        "messages_not_list": "Input should be a valid list: messages",
        "empty_messages": "List should have at least 1 item: messages",
        "no_assistant": "Training examples must contain at least one message with role 'assistant'",
        "all_weights_zero": "At least one assistant message must have weight 1",
        "bad_weight": "Input should be 0 or 1: weight",
        "weight_not_assistant": "Extra inputs are not permitted: weight",
        "missing_tool_call_id": "Field required: tool_call_id",
    }
    text = texts.get(code, f"Invalid value: {p.field or 'example'}")
    return f"Invalid file format. {ref} {text}"


def failure_for(report: dataset.Report, kind: str = "training") -> dict[str, Any] | None:
    """The job `error` object a file would cause, or None if it trains."""
    errors = [p for p in report.errors if p.code != "too_few_examples"]
    param = f"{kind}_file"
    if errors:
        first = min(errors, key=lambda p: p.line or 0)
        return {
            "code": f"invalid_{kind}_file",
            "message": f"The job failed due to an invalid {kind} file. {_detail(first, report)}",
            "param": param,
        }
    n = len(report.examples)
    if kind == "training" and n < models.MIN_EXAMPLES:
        return {
            "code": "invalid_n_examples",
            "message": f"Training file has {n} example(s), but must have at least {models.MIN_EXAMPLES} examples",
            "param": param,
        }
    if kind == "validation" and n == 0:
        return {
            "code": "invalid_validation_file",
            "message": "The job failed due to an invalid validation file. The file has no examples.",
            "param": param,
        }
    return None


def deleted_file(kind: str = "training") -> dict[str, Any]:
    """The failure of a job whose file was deleted before it could be validated."""
    return {
        "code": f"invalid_{kind}_file",
        "message": f"The job failed due to an invalid {kind} file. The file was deleted before "
        "it could be validated.",
        "param": f"{kind}_file",
    }


def internal_failure() -> dict[str, Any]:
    """The failure of a job the server could not validate (its log file says why)."""
    return {
        "code": "server_error",
        "message": "The job failed due to an internal error while validating the files.",
        "param": None,
    }
