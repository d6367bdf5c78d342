"""Chat datasets in JSONL: read, check, count, describe, write; to and from pandas.

`check_bytes` reports **every** problem, each with its line number, in French, with the fix.
It never raises on bad input. The sandbox validates uploads with the same code (it turns the
problems into the real API's English messages), so the learner's check and the "server"
always agree.

What one line must be is a `Rules` object: chat examples (`CHAT`, the default) here;
preference pairs (DPO, `PREFERENCE`) in `preference`, which passes its own rules to the same
checks (encoding, JSON, duplicates, lengths, counts and cost are shared).

One module per concern, from bytes to the report (this package's names are all public here):

    problem       Problem, field_fr: what every check produces
    decode        bytes → text lines: BOM, UTF-16/32, lines that are not UTF-8; Lines
    parse         a line → JSON (fast path for plain chat lines), French JSON diagnoses
    tools_schema  tools and function calls checked against a JSON Schema
    rules         Rules; CHAT: what a chat example and its messages must be
    preference    PREFERENCE: what a preference pair (DPO) must be
    report        Example, Report: problems, token counts, cost, statistics, summary
    scan          check_bytes, check_file, check_examples, read_jsonl: one streaming pass
    jsonl         dumps_jsonl, write_jsonl, example; pandas and a light table
"""

from __future__ import annotations

from ..exceptions import DatasetError
from .jsonl import (
    dumps_jsonl,
    example,
    examples_table,
    from_dataframe,
    to_dataframe,
    write_jsonl,
)
from .parse import parse_json
from .problem import Problem, Severity, field_fr
from .report import Example, Report
from .rules import CHAT, MESSAGE_KEYS, PREFERENCE_KEYS, ROLES, TOP_KEYS, Rules, check_message
from .scan import check_bytes, check_examples, check_file, read_jsonl
from .tools_schema import TOOLS_SCHEMA, tool_problems

__all__ = [
    "CHAT",
    "MESSAGE_KEYS",
    "PREFERENCE_KEYS",
    "ROLES",
    "TOOLS_SCHEMA",
    "TOP_KEYS",
    "DatasetError",
    "Example",
    "Problem",
    "Report",
    "Rules",
    "Severity",
    "check_bytes",
    "check_examples",
    "check_file",
    "check_message",
    "dumps_jsonl",
    "example",
    "examples_table",
    "field_fr",
    "from_dataframe",
    "parse_json",
    "read_jsonl",
    "to_dataframe",
    "tool_problems",
    "write_jsonl",
]
