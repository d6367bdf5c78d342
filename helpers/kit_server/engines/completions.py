"""A chat completion's choices from an engine's generations — the same rules in both engines.

An engine generates text its own way (the simulated engine's small model, the local engine's
real model); this module turns each text into the choice the request asks for: tool calls
(`tools` / `tool_choice`), JSON (`response_format`), cut at a `stop` sequence, with the
engine's own token probabilities when `logprobs` is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...messages import content_text
from .. import json_mode, structured
from ..ids import random_id
from ..resources.chat_completions import ChatRequest

#: (content, how many alternatives per token) → the `logprobs.content` entries of a choice,
#: from the engine's own model.
Scorer = Callable[[str, int], list[dict[str, Any]]]


@dataclass(frozen=True)
class Generation:
    """What an engine's model said for one choice."""

    text: str
    finish_reason: str = "stop"  # or "length" (max_tokens reached)
    #: True when the text is a base model's generic answer: with `tool_choice: auto` it calls
    #: the function matching the question, as a general model does.
    generic: bool = False


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for msg in reversed(messages):
        if msg.get("role") == "user":
            return content_text(msg.get("content"))
    return ""


def forced_call(req: ChatRequest) -> bool:
    """Whether the request forces a tool call (`required` or a named function)."""
    return bool(req.tools) and (req.tool_choice == "required" or isinstance(req.tool_choice, dict))


def _calls(req: ChatRequest, gen: Generation) -> list[tuple[dict[str, Any], str]]:
    """(function, JSON arguments) of the tool calls this choice makes (none: a text answer)."""
    if not req.tools or req.tool_choice == "none":
        return []
    by_name = {t["name"]: t for t in req.tools}
    hint = last_user_text(req.messages) or gen.text
    own = structured.tool_calls_in(gen.text, req.tools)
    if isinstance(req.tool_choice, dict):
        tool = by_name[req.tool_choice["name"]]
        proposed = next((c["arguments"] for c in own if c["name"] == tool["name"]), None)
        return [(tool, structured.arguments(tool, proposed, hint))]
    if own:
        return [
            (by_name[c["name"]], structured.arguments(by_name[c["name"]], c["arguments"], hint))
            for c in own
        ]
    if req.tool_choice == "required" or (gen.generic and req.messages[-1].get("role") == "user"):
        tool, overlap = structured.best_tool(req.tools, hint)
        if req.tool_choice == "required" or overlap > 0:
            return [(tool, structured.arguments(tool, None, hint))]
    return []


def _cut(text: str, stop: tuple[str, ...], finish: str) -> tuple[str, str]:
    cuts = [i for i in (text.find(s) for s in stop) if i >= 0]
    return (text[: min(cuts)], "stop") if cuts else (text, finish)


def _plain(text: str) -> str:
    """A fine-tuned reply that stands for tool calls, asked without tools: its calls as text."""
    if text.startswith(structured.TOOL_CALLS_MARK):
        return text[len(structured.TOOL_CALLS_MARK) :]
    return text


def choice(
    req: ChatRequest, index: int, gen: Generation, score: Scorer | None
) -> tuple[dict[str, Any], str]:
    """One `choices[i]` of a completion, and the text its completion tokens count."""
    calls = _calls(req, gen)
    message: dict[str, Any] = {"role": "assistant", "refusal": None, "annotations": []}
    logprobs: dict[str, Any] | None = None
    if calls and req.legacy_functions:
        # The 2023 format: one `function_call`, finish "function_call" — "stop" when forced by
        # name (unconfirmed for functions: what the real API does for a named tool).
        calls = calls[:1]
        (tool, args), *_ = calls
        message["content"] = None
        message["function_call"] = {"name": tool["name"], "arguments": args}
        finish = "stop" if isinstance(req.tool_choice, dict) else "function_call"
        counted = args
        if req.logprobs:
            logprobs = {"content": None, "refusal": None}
    elif calls:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": random_id("call_", 24),
                "type": "function",
                "function": {"name": tool["name"], "arguments": args},
            }
            for tool, args in calls
        ]
        # Confirmed (OpenAI's answers quoted in vllm-project/vllm#25054): a named function ends
        # with "stop", `auto`/`required` calls with "tool_calls", streamed or not.
        finish = "stop" if isinstance(req.tool_choice, dict) else "tool_calls"
        counted = "".join(args for _, args in calls)
        if req.logprobs:
            logprobs = {"content": None, "refusal": None}
    else:
        text = _plain(gen.text)
        if req.response_format is not None and req.response_format["type"] == "json_object":
            text = json_mode.content(req.messages, text)
        elif req.response_format is not None:
            text = structured.json_content(req.response_format, text)
        text, finish = _cut(text, req.stop, gen.finish_reason)
        message["content"] = text
        counted = text
        if req.logprobs:
            entries = score(text, req.top_logprobs) if score is not None and text else []
            logprobs = {"content": entries, "refusal": None}
    return {
        "index": index,
        "message": message,
        "logprobs": logprobs,
        "finish_reason": finish,
    }, counted


def certain_logprobs(tokens: list[bytes], top: int) -> list[dict[str, Any]]:
    """Entries for tokens a model is certain of (probability 1): logprob 0."""
    return [token_entry(t, 0.0, [(t, 0.0)][:top]) for t in tokens]


def token_entry(
    token: bytes, logprob: float, alternatives: list[tuple[bytes, float]]
) -> dict[str, Any]:
    """One `ChatCompletionTokenLogprob` (token text, its UTF-8 bytes, alternatives)."""

    def one(raw: bytes, lp: float) -> dict[str, Any]:
        return {
            "token": raw.decode("utf-8", errors="replace"),
            "bytes": list(raw),
            "logprob": float(lp),
        }

    return {**one(token, logprob), "top_logprobs": [one(t, lp) for t, lp in alternatives]}
