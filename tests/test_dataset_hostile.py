"""dataset: hostile lines (issue 12, point 5). Each one is named with its line, its field when
there is one, and a French fix; the parser's English text never stands alone."""

from __future__ import annotations

import json
import re

import pytest

from helpers import dataset

GOOD = [
    {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "COUCOU"}]}
    for i in range(12)
]
ENGLISH = re.compile(
    r"Invalid control|Extra data|Expecting|Unterminated|Invalid \\\\u|is not of type|"
    r"is not valid under|required property|does not match|Additional properties"
)


def _lines(bad: str) -> bytes:
    lines = [json.dumps(e, ensure_ascii=False) for e in GOOD]
    lines[2] = bad
    return ("\n".join(lines) + "\n").encode("utf-8")


def _both(tmp_path, data: bytes) -> list[dataset.Report]:
    """The full check (examples kept) and the CLI's (figures only), which must agree."""
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    full = dataset.check_file(path)
    lean = dataset.check_file(path, keep_examples=False)
    assert lean.problems == full.problems
    for report in (full, lean):
        text = report.summary()  # never raises, encodable
        text.encode("utf-8")
        report.stats()
        assert "internal" not in {p.code for p in report.problems}
    return [full, lean]


def _assert_named(report, code, line, fld, *fix_words):
    errors = [p for p in report.errors if p.line == line]
    assert errors, report.summary()
    assert {p.code for p in errors} == {code}, report.summary()
    assert fld in {p.field for p in errors}, report.summary()
    for p in errors:
        assert not ENGLISH.search(p.message) and not ENGLISH.search(p.fix), p
        for word in fix_words:
            assert word in p.fix or word in p.message, p
    assert not [p for p in report.errors if p.line not in (line, None)], report.summary()


def _with(example_extra=None, **message_extra):
    ex = {
        "messages": [
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": "COUCOU", **message_extra},
        ],
        **(example_extra or {}),
    }
    return json.dumps(ex, ensure_ascii=False)


SHAPES = {
    "tools_not_objects": (
        _with({"tools": [1, 2, 3]}),
        "bad_tools",
        "tools[0]",
        '"type": "function"',
    ),
    "tools_banana": (
        _with({"tools": [{"type": "banana"}]}),
        "bad_tools",
        "tools[0].type",
        "function",
    ),
    "tools_not_list": (_with({"tools": {"type": "function"}}), "bad_tools", "tools", "Écris"),
    "functions_nope": (_with({"functions": "nope"}), "bad_functions", "functions", "Écris"),
    "functions_no_name": (
        _with({"functions": [{"description": "d"}]}),
        "bad_functions",
        "functions[0]",
        "name",
    ),
    "ptc_yes": (
        _with({"parallel_tool_calls": "yes"}),
        "bad_parallel_tool_calls",
        "parallel_tool_calls",
        "true ou false",
    ),
}
CALLS = {
    "function_call_42": (
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "function_call": 42},
                ]
            }
        ),
        "bad_function_call",
        "messages[1].function_call",
        "Écris",
    ),
    "function_call_args": (
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "function_call": {"name": "f", "arguments": "{not json"}},
                ]
            }
        ),
        "bad_tool_arguments",
        "messages[1].function_call.arguments",
        "JSON",
    ),
    "tool_calls_empty": (
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "content": "C", "tool_calls": []},
                ]
            }
        ),
        "bad_tool_calls",
        "messages[1].tool_calls",
        "Écris",
    ),
}


@pytest.mark.parametrize("name", sorted({**SHAPES, **CALLS}))
def test_tool_and_function_shapes(tmp_path, name):
    line, code, fld, word = {**SHAPES, **CALLS}[name]
    for report in _both(tmp_path, _lines(line)):
        _assert_named(report, code, 3, fld, word)


def test_valid_tools_and_calls_pass(tmp_path):
    tools = [{"type": "function", "function": {"name": "meteo", "parameters": {"type": "object"}}}]
    call = {"id": "c1", "type": "function", "function": {"name": "meteo", "arguments": '{"v": 1}'}}
    line = json.dumps(
        {
            "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": "12"},
                {"role": "assistant", "content": "COUCOU"},
            ],
            "tools": tools,
            "parallel_tool_calls": False,
        }
    )
    for report in _both(tmp_path, _lines(line)):
        assert report.ok, report.summary()


@pytest.mark.parametrize(
    ("bad", "fld", "word"),
    [
        (_with(weight=float("nan")), "messages[1].weight", "NaN"),
        (
            '{"messages": [{"role": "user", "content": Infinity}, {"role": "assistant", "content": "C"}]}',
            "messages[0].content",
            "Infinity",
        ),
        (
            '{"messages": [{"role": "user", "content": "x", "weight": -Infinity}]}',
            "messages[0].weight",
            "-Infinity",
        ),
        ("NaN", None, "NaN"),
    ],
)
def test_nan_and_infinity_are_named(tmp_path, bad, fld, word):
    for report in _both(tmp_path, _lines(bad)):
        _assert_named(report, "invalid_json", 3, fld, word, "Remplace")


def test_nan_as_text_is_fine(tmp_path):
    line = _with(name="NaN").replace('"name": "NaN"', '"weight": 1')
    for report in _both(tmp_path, _lines(line.replace("COUCOU", "NaN Infinity \\ud83d\\ude00"))):
        assert report.ok, report.summary()


@pytest.mark.parametrize(
    ("bad", "fld"),
    [
        (
            '{"messages": [{"role": "user", "content": "a\\ud800b"}, {"role": "assistant", "content": "C"}]}',
            "messages[0].content",
        ),
        (
            '{"messages": [{"role": "user", "content": "a", "\\udc00k": 1}, {"role": "assistant", "content": "C"}]}',
            "messages[0].?k (clé)",
        ),
        ('{"\\ud800": 1, "messages": []}', "? (clé)"),
    ],
)
def test_lone_surrogate_is_an_error_with_its_line(tmp_path, bad, fld):
    for report in _both(tmp_path, _lines(bad)):
        _assert_named(report, "lone_surrogate", 3, fld, "Supprime")


def test_lone_surrogate_in_examples_held_in_memory():
    examples = [dict(e) for e in GOOD]
    examples[4] = {
        "messages": [{"role": "user", "content": "a\ud800"}, {"role": "assistant", "content": "C"}]
    }
    report = dataset.check_examples(examples)
    _assert_named(report, "lone_surrogate", 5, "messages[0].content", "Supprime")


@pytest.mark.parametrize(
    ("char", "words"),
    [
        ("\t", ["tabulation", "\\t"]),
        ("\x00", ["NUL", "Supprime"]),
        ("\x07", ["U+0007", "Supprime"]),
    ],
)
def test_raw_control_characters_are_named(tmp_path, char, words):
    bad = (
        '{"messages": [{"role": "user", "content": "q'
        + char
        + '2"}, {"role": "assistant", "content": "C"}]}'
    )
    for report in _both(tmp_path, _lines(bad)):
        _assert_named(report, "control_character", 3, None, "colonne 45", *words)


def test_cr_only_line_endings(tmp_path):
    data = _lines(json.dumps(GOOD[2])).replace(b"\n", b"\r")
    for report in _both(tmp_path, data):
        _assert_named(report, "cr_line_endings", 1, None, "CR", "LF")


@pytest.mark.parametrize(
    ("codec", "code", "name"),
    [
        ("utf-16-le", "utf16", "UTF-16"),
        ("utf-16-be", "utf16", "UTF-16"),
        ("utf-16", "utf16", "UTF-16"),
        ("utf-32", "utf32", "UTF-32"),
        ("utf-32-le", "utf32", "UTF-32"),
        ("utf-32-be", "utf32", "UTF-32"),
    ],
)
def test_wide_encodings_are_named(tmp_path, codec, code, name):
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in GOOD)
    for report in _both(tmp_path, text.encode(codec)):
        assert [(p.code, p.line) for p in report.errors] == [(code, 1)], report.summary()
        assert name in report.errors[0].message and "UTF-8" in report.errors[0].fix
        assert report.n_examples == 12


def test_a_lone_cr_inside_a_text_is_a_control_character(tmp_path):
    bad = (
        '{"messages": [{"role": "user", "content": "a\rb"}, {"role": "assistant", "content": "C"}]}'
    )
    for report in _both(tmp_path, _lines(bad)):
        _assert_named(report, "control_character", 3, None, "CR", "\\r")


def test_trailing_comma_and_nan(tmp_path):
    bad = '{"messages": [{"role": "user", "content": NaN}, {"role": "assistant", "content": "C"}]},'
    for report in _both(tmp_path, _lines(bad)):
        _assert_named(report, "invalid_json", 3, "messages[0].content", "NaN")


@pytest.mark.parametrize(
    ("data", "english"),
    [
        (_lines('{"messages": [{"role": "user", "content": "q\t"}]}'), "not valid JSON"),
        (_lines(json.dumps(GOOD[2])).replace(b"\n", b"\r"), "not valid JSON"),
        (_lines('{"messages": [{"role": "user", "content": "\\ud800"}]}'), "not valid JSON"),
        ("".join(json.dumps(e) + "\n" for e in GOOD).encode("utf-32"), "not valid UTF-8"),
    ],
)
def test_the_sandbox_fails_the_job_like_the_api(data, english):
    from helpers.kit_server import validation

    failure = validation.failure_for(dataset.check_bytes(data))
    assert failure is not None and english in failure["message"], failure
    failure["message"].encode("utf-8")


# -- issue 19: what check still let through or said in English -----------------------------


def _tool_call_line(arguments: str) -> str:
    return json.dumps(
        {
            "messages": [
                {"role": "user", "content": "Météo ?"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "meteo", "arguments": arguments},
                        }
                    ],
                },
            ],
            "tools": [{"type": "function", "function": {"name": "meteo", "parameters": {}}}],
        }
    )


@pytest.mark.parametrize("arguments", ["NaN", '{"ville": NaN}', "Infinity", "[-Infinity]"])
def test_tool_call_arguments_that_are_not_json_are_refused(tmp_path, arguments):
    """`"arguments": "NaN"` passed the check (Python's json reads NaN); the API refuses it."""
    fld = "messages[1].tool_calls[0].function.arguments"
    for report in _both(tmp_path, _lines(_tool_call_line(arguments))):
        _assert_named(report, "bad_tool_arguments", 3, fld, "JSON")


def test_tool_call_arguments_that_are_json_pass(tmp_path):
    for report in _both(tmp_path, _lines(_tool_call_line('{"ville": "NaN", "t": 1.5}'))):
        assert report.ok, report.summary()


def test_a_number_of_thousands_of_digits_is_explained_in_french(tmp_path):
    """Python's « Exceeds the limit (4300 digits) for integer string conversion » was shown."""
    line = '{"messages": [{"role": "user", "content": "x"}], "n": ' + "9" * 5000 + "}"
    for report in _both(tmp_path, _lines(line)):
        errors = [p for p in report.errors if p.line == 3]
        assert [p.code for p in errors] == ["invalid_json"], report.summary()
        text = errors[0].message + errors[0].fix
        assert "nombre" in text and "chiffres" in text and "guillemets" in text
        assert "Exceeds" not in text and "digits" not in text and "limit" not in text
