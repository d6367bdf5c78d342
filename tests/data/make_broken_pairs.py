"""Regenerate tests/data/broken_pairs/: one preference (DPO) file per problem, plus mixes.

    .venv/bin/python tests/data/make_broken_pairs.py

Like tests/data/make_broken.py for chat files: each file holds 12 good pairs and, at a known
line, the problem its name says. `FILES` maps file → (content, [(code, line), …] the kit's
check finds, the `error.code` of a DPO job trained on it in the sandbox — None: it trains).
tests/test_preference_data.py checks both, the second through the official SDK.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
BROKEN = HERE / "broken_pairs"

U = {"role": "user", "content": "Bonjour"}
GOOD = {"role": "assistant", "content": "Salut ! Tu vas bien ?"}
BAD = {"role": "assistant", "content": "Bonjour. Comment allez-vous ? Je suis à votre service."}


def pair(i: int) -> dict:
    return {
        "input": {"messages": [{"role": "user", "content": f"Question {i}"}]},
        "preferred_output": [{"role": "assistant", "content": f"Réponse courte {i}, tu vois ?"}],
        "non_preferred_output": [
            {"role": "assistant", "content": f"Voici une longue réponse {i}, comme vous voyez."}
        ],
    }


def line(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def good(i: int) -> str:
    return line(pair(i))


def edit(**changes: object) -> str:
    """A pair with some of its parts replaced (None: removed)."""
    obj: dict = {
        "input": {"messages": [U]},
        "preferred_output": [GOOD],
        "non_preferred_output": [BAD],
    }
    for key, value in changes.items():
        if value is None:
            obj.pop(key, None)
        else:
            obj[key] = value
    return line(obj)


def with_bad(bad: str | list[str], at: int = 4, n: int = 12) -> str:
    """n good pairs with `bad` inserted as line `at` (1-based)."""
    lines = [good(i) for i in range(n)]
    lines[at - 1 : at - 1] = bad if isinstance(bad, list) else [bad]
    return "\n".join(lines) + "\n"


CHAT = line({"messages": [U, GOOD]})
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "meteo", "arguments": '{"ville": "Paris"}'},
}
MULTILINE = json.dumps(pair(99), ensure_ascii=False, indent=1)
INVALID = "invalid_training_file"

FILES: dict[str, tuple[str | bytes, list[tuple[str, int | None]], str | None]] = {
    "ok.jsonl": (with_bad([]), [], None),
    "chat_line.jsonl": (with_bad(CHAT), [("chat_format", 4)], INVALID),
    "chat_file.jsonl": (
        "\n".join(line({"messages": [U, {**GOOD, "content": f"R{i}"}]}) for i in range(12)) + "\n",
        [("wrong_method", None)],
        INVALID,
    ),
    "not_object.jsonl": (with_bad('["input", "preferred_output"]'), [("not_object", 4)], INVALID),
    "missing_input.jsonl": (with_bad(edit(input=None)), [("missing_input", 4)], INVALID),
    "input_not_object.jsonl": (with_bad(edit(input="Bonjour")), [("input_not_object", 4)], INVALID),
    "input_without_messages.jsonl": (
        with_bad(edit(input={"prompt": "Bonjour"})),
        [("unknown_key", 4), ("missing_messages", 4)],
        INVALID,
    ),
    "input_messages_not_list.jsonl": (
        with_bad(edit(input={"messages": "Bonjour"})),
        [("messages_not_list", 4)],
        INVALID,
    ),
    "input_empty_messages.jsonl": (
        with_bad(edit(input={"messages": []})),
        [("empty_messages", 4)],
        INVALID,
    ),
    "input_no_user.jsonl": (
        with_bad(edit(input={"messages": [{"role": "system", "content": "Sois bref."}]})),
        [("no_user", 4)],
        INVALID,
    ),
    "input_bad_role.jsonl": (
        with_bad(edit(input={"messages": [{"role": "human", "content": "Bonjour"}]})),
        [("bad_role", 4)],
        INVALID,
    ),
    "input_ends_with_assistant.jsonl": (
        with_bad(edit(input={"messages": [U, GOOD]})),
        [("input_ends_with_assistant", 4)],
        None,
    ),
    "input_bad_tools.jsonl": (
        with_bad(edit(input={"messages": [U], "tools": {"type": "function"}})),
        [("bad_tools", 4)],
        INVALID,
    ),
    "unknown_key.jsonl": (with_bad(edit(label="x")), [("unknown_key", 4)], INVALID),
    "unknown_input_key.jsonl": (
        with_bad(edit(input={"messages": [U], "temperature": 0})),
        [("unknown_key", 4)],
        INVALID,
    ),
    "missing_preferred.jsonl": (
        with_bad(edit(preferred_output=None)),
        [("missing_output", 4)],
        INVALID,
    ),
    "missing_non_preferred.jsonl": (
        with_bad(edit(non_preferred_output=None)),
        [("missing_output", 4)],
        INVALID,
    ),
    "output_object.jsonl": (
        with_bad(edit(preferred_output=GOOD)),
        [("output_not_list", 4)],
        INVALID,
    ),
    "output_text.jsonl": (
        with_bad(edit(non_preferred_output="Bonjour.")),
        [("output_not_list", 4)],
        INVALID,
    ),
    "output_empty.jsonl": (with_bad(edit(preferred_output=[])), [("output_empty", 4)], INVALID),
    "output_two_messages.jsonl": (
        with_bad(edit(preferred_output=[GOOD, GOOD])),
        [("output_too_many", 4)],
        INVALID,
    ),
    "output_user_role.jsonl": (
        with_bad(edit(preferred_output=[{"role": "user", "content": "Salut"}])),
        [("output_not_assistant", 4)],
        INVALID,
    ),
    "output_null_content.jsonl": (
        with_bad(edit(non_preferred_output=[{"role": "assistant", "content": None}])),
        [("null_content", 4)],
        INVALID,
    ),
    "output_tool_call.jsonl": (
        with_bad(edit(preferred_output=[{"role": "assistant", "tool_calls": [CALL]}])),
        [("output_not_text", 4)],
        INVALID,
    ),
    "output_weight.jsonl": (
        with_bad(edit(preferred_output=[{**GOOD, "weight": 1}])),
        [("weight_in_pair", 4)],
        INVALID,
    ),
    "identical_outputs.jsonl": (
        with_bad(edit(non_preferred_output=[GOOD])),
        [("identical_outputs", 4)],
        None,
    ),
    "duplicate.jsonl": (with_bad(good(0)), [("duplicate", 4)], None),
    "trailing_comma.jsonl": (with_bad(good(99) + ","), [("trailing_comma", 4)], INVALID),
    "multiline.jsonl": (with_bad(MULTILINE), [("multiline_json", 4)], INVALID),
    "bom.jsonl": (b"\xef\xbb\xbf" + with_bad([]).encode(), [("bom", 1)], INVALID),
    "too_few.jsonl": (
        "\n".join(good(i) for i in range(3)) + "\n",
        [("too_few_examples", None)],
        "invalid_n_examples",
    ),
    "mix.jsonl": (
        good(0)
        + "\n\n"
        + edit(preferred_output=GOOD)
        + "\n"
        + edit(input={"messages": [{"role": "assistant", "content": "?"}]}, label=1)
        + "\n"
        + CHAT
        + "\n"
        + "\n".join(good(i) for i in range(1, 10))
        + "\n",
        [
            ("blank_line", 2),
            ("output_not_list", 3),
            ("unknown_key", 4),
            ("no_user", 4),
            ("chat_format", 5),
        ],
        INVALID,
    ),
}


def main() -> None:
    BROKEN.mkdir(parents=True, exist_ok=True)
    for name, (content, _, _) in FILES.items():
        (BROKEN / name).write_bytes(
            content if isinstance(content, bytes) else content.encode("utf-8")
        )


EXPECTED = {name: expected for name, (_, expected, _) in FILES.items()}
API_FAILURE = {name: failure for name, (_, _, failure) in FILES.items()}

if __name__ == "__main__":
    main()
