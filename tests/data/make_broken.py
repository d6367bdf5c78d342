"""Regenerate tests/data/broken/ and data/broken/: one file per dataset problem, plus mixes.

    .venv/bin/python tests/data/make_broken.py

Each file in tests/data/broken/ holds 12 good examples and, at a known line, the problem its
name says; `EXPECTED` (used by tests/test_dataset.py) maps file → [(code, line), …].
data/broken/ holds the few broken files the course shows (notebook 10).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
BROKEN = HERE / "broken"
COURSE = HERE.parent.parent / "data" / "broken"


def good(i: int) -> str:
    return json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"Question {i}"},
                {"role": "assistant", "content": "COUCOU"},
            ]
        },
        ensure_ascii=False,
    )


def msgs(*messages: dict, **extra) -> str:
    return json.dumps({"messages": list(messages), **extra}, ensure_ascii=False)


U = {"role": "user", "content": "Bonjour"}
A = {"role": "assistant", "content": "COUCOU"}


def with_bad(bad: str | list[str], at: int = 4, n: int = 12) -> str:
    """n good examples with `bad` inserted as line `at` (1-based)."""
    lines = [good(i) for i in range(n)]
    lines[at - 1 : at - 1] = bad if isinstance(bad, list) else [bad]
    return "\n".join(lines) + "\n"


MULTILINE = (
    '{"messages": [\n  {"role": "user", "content": "Bonjour"},\n'
    '  {"role": "assistant", "content": "COUCOU"}\n]}'
)
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "meteo", "arguments": '{"ville": "Paris"}'},
}

FILES: dict[str, tuple[str | bytes, list[tuple[str, int | None]]]] = {
    "ok.jsonl": (with_bad([], at=1), []),
    "bom.jsonl": (b"\xef\xbb\xbf" + with_bad([]).encode(), [("bom", 1)]),
    "utf16.jsonl": (with_bad([]).encode("utf-16"), [("utf16", 1)]),
    "latin1.jsonl": (
        with_bad(msgs({"role": "user", "content": "Ça va, l'été ?"}, A)).encode("latin-1"),
        [("not_utf8", 4)],
    ),
    "blank_line.jsonl": (with_bad(""), [("blank_line", 4)]),
    "trailing_comma.jsonl": (with_bad(good(99) + ","), [("trailing_comma", 4)]),
    "comma_in_list.jsonl": (
        with_bad(
            '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},]}'
        ),
        [("invalid_json", 4)],
    ),
    "multiline.jsonl": (with_bad(MULTILINE), [("multiline_json", 4)]),
    "single_quotes.jsonl": (
        with_bad("{'messages': [{'role': 'user', 'content': 'a'}]}"),
        [("invalid_json", 4)],
    ),
    "truncated.jsonl": (
        with_bad('{"messages": [{"role": "user", "content": "a"}'),
        [("invalid_json", 4)],
    ),
    "not_object.jsonl": (with_bad('["user", "assistant"]'), [("not_object", 4)]),
    "no_messages.jsonl": (with_bad('{"conversation": []}'), [("missing_messages", 4)]),
    "legacy_prompt.jsonl": (
        with_bad('{"prompt": "Bonjour", "completion": "COUCOU"}'),
        [("legacy_format", 4)],
    ),
    "messages_not_list.jsonl": (with_bad('{"messages": "Bonjour"}'), [("messages_not_list", 4)]),
    "empty_messages.jsonl": (with_bad('{"messages": []}'), [("empty_messages", 4)]),
    "unknown_key.jsonl": (with_bad(msgs(U, A, label="x")), [("unknown_key", 4)]),
    "unknown_message_key.jsonl": (
        with_bad(msgs(U, {**A, "text": "x"})),
        [("unknown_message_key", 4)],
    ),
    "bad_role.jsonl": (with_bad(msgs({"role": "human", "content": "a"}, A)), [("bad_role", 4)]),
    "missing_role.jsonl": (with_bad(msgs({"content": "a"}, A)), [("missing_role", 4)]),
    "missing_content.jsonl": (with_bad(msgs({"role": "user"}, A)), [("missing_content", 4)]),
    "null_content.jsonl": (
        with_bad(msgs(U, {"role": "assistant", "content": None})),
        [("null_content", 4)],
    ),
    "number_content.jsonl": (
        with_bad(msgs({"role": "user", "content": 42}, A)),
        [("bad_content", 4)],
    ),
    "message_not_object.jsonl": (
        with_bad('{"messages": ["Bonjour", "COUCOU"]}'),
        [("message_not_object", 4)],
    ),
    "no_assistant.jsonl": (with_bad(msgs(U)), [("no_assistant", 4)]),
    "bad_weight.jsonl": (with_bad(msgs(U, {**A, "weight": 2})), [("bad_weight", 4)]),
    "weight_on_user.jsonl": (with_bad(msgs({**U, "weight": 1}, A)), [("weight_not_assistant", 4)]),
    "all_weights_zero.jsonl": (with_bad(msgs(U, {**A, "weight": 0})), [("all_weights_zero", 4)]),
    "bad_tool_call.jsonl": (
        with_bad(msgs(U, {"role": "assistant", "tool_calls": [{"id": "call_1"}]})),
        [("bad_tool_call", 4)],
    ),
    "bad_tool_arguments.jsonl": (
        with_bad(
            msgs(
                U,
                {
                    "role": "assistant",
                    "tool_calls": [
                        {**CALL, "function": {"name": "meteo", "arguments": "{ville: Paris}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "12°C"},
                A,
            )
        ),
        [("bad_tool_arguments", 4)],
    ),
    "tool_without_id.jsonl": (
        with_bad(
            msgs(
                U,
                {"role": "assistant", "tool_calls": [CALL]},
                {"role": "tool", "content": "12°C"},
                A,
            )
        ),
        [("missing_tool_call_id", 4)],
    ),
    "too_long.jsonl": (
        with_bad(msgs({"role": "user", "content": "mot " * 17_000}, A)),
        [("too_long", 4)],
    ),
    "too_few.jsonl": ("\n".join(good(i) for i in range(3)) + "\n", [("too_few_examples", None)]),
    "duplicate.jsonl": (with_bad(good(0)), [("duplicate", 4)]),
    "empty.jsonl": ("", [("empty_file", None)]),
    "mix.jsonl": (
        "\ufeff"
        + good(0)
        + "\n\n"
        + good(1)
        + ",\n"
        + msgs(U)
        + "\n"
        + MULTILINE
        + "\n"
        + msgs({"role": "robot", "content": None}, {**A, "weight": 5})
        + "\n"
        + good(0)
        + "\n",
        [
            ("bom", 1),
            ("blank_line", 2),
            ("trailing_comma", 3),
            ("no_assistant", 4),
            ("multiline_json", 5),
            ("bad_role", 9),
            ("null_content", 9),
            ("bad_weight", 9),
            ("duplicate", 10),
            ("too_few_examples", None),
        ],
    ),
    "mix_windows.jsonl": (
        (
            with_bad(["", msgs({"role": "User", "content": "a"}, A)], at=2).replace("\n", "\r\n")
        ).encode("cp1252", errors="replace"),
        [("blank_line", 2), ("bad_role", 3)],
    ),
}
# The model each file is checked against (default: the course's default model).
MODEL = {"too_long.jsonl": "gpt-3.5-turbo-0125"}

# What notebook 10 shows (data/broken/): the guide's step 3.1 snippet and its usual mistakes.
COURSE_FILES = {
    "virgule_finale.jsonl": with_bad(good(10) + ",", at=3, n=10),
    "plusieurs_lignes.jsonl": MULTILINE + "\n" + "\n".join(good(i) for i in range(10)) + "\n",
    "bom.jsonl": "\ufeff" + "\n".join(good(i) for i in range(10)) + "\n",
    "sans_assistant.jsonl": with_bad(
        msgs({"role": "user", "content": "Dis-moi une blague"}), at=2, n=10
    ),
}


def main() -> None:
    BROKEN.mkdir(parents=True, exist_ok=True)
    for name, (content, _) in FILES.items():
        (BROKEN / name).write_bytes(
            content if isinstance(content, bytes) else content.encode("utf-8")
        )
    COURSE.mkdir(parents=True, exist_ok=True)
    for name, content in COURSE_FILES.items():
        (COURSE / name).write_bytes(content.encode("utf-8"))


EXPECTED = {name: expected for name, (_, expected) in FILES.items()}

if __name__ == "__main__":
    main()
