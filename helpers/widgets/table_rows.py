"""The data behind the dataset table's rows (no widget): one `Row` per conversation or
preference pair, from an example and back, and what the rows of an import become."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .. import dataset, dataset_io, preference_data


@dataclass
class Row:
    """One conversation. `raw` (JSON text) is used instead of the fields for rich examples."""

    system: str = ""
    turns: list[list[str]] = field(default_factory=lambda: [["", ""]])
    raw: str | None = None
    #: A preference pair (DPO): `turns` is [[question, preferred answer]], `rejected` the other.
    pair: bool = False
    rejected: str = ""

    @classmethod
    def from_example(cls, example: Any) -> Row:
        """A simple conversation becomes fields; anything else is kept whole as JSON."""
        if preference_data.is_pair(example):
            simple_pair = preference_data.simple_row(example)
            if simple_pair is None:
                return cls(
                    raw=json.dumps(example, ensure_ascii=False, indent=1), turns=[], pair=True
                )
            return cls(
                system=simple_pair["system"],
                turns=[[simple_pair["user"], simple_pair["preferred"]]],
                pair=True,
                rejected=simple_pair["non_preferred"],
            )
        msgs = example.get("messages") if isinstance(example, dict) else None
        simple = (
            isinstance(example, dict)
            and set(example) == {"messages"}
            and isinstance(msgs, list)
            and bool(msgs)
            and all(
                isinstance(m, dict)
                and set(m) == {"role", "content"}
                and isinstance(m["content"], str)
                for m in msgs
            )
        )
        if simple:
            assert isinstance(msgs, list)
            system, body = "", msgs
            if msgs[0]["role"] == "system" and msgs[0]["content"].strip():
                system, body = msgs[0]["content"], msgs[1:]
            roles = [m["role"] for m in body]
            if body and len(body) % 2 == 0 and roles == ["user", "assistant"] * (len(body) // 2):
                return cls(
                    system=system,
                    turns=[
                        [body[i]["content"], body[i + 1]["content"]] for i in range(0, len(body), 2)
                    ],
                )
        try:
            return cls(raw=json.dumps(example, ensure_ascii=False, indent=1), turns=[])
        except (ValueError, RecursionError):  # nested too deep to lay out: on one line
            return cls(raw=json.dumps(example, ensure_ascii=False), turns=[])

    @classmethod
    def empty(cls, pair: bool = False) -> Row:
        return cls(pair=pair)

    def copy(self) -> Row:
        return Row(self.system, [list(t) for t in self.turns], self.raw, self.pair, self.rejected)

    def is_empty(self) -> bool:
        if self.raw is not None:
            return not self.raw.strip()
        return (
            not self.system.strip()
            and not self.rejected.strip()
            and all(not u.strip() and not a.strip() for u, a in self.turns)
        )

    def example(self) -> dict[str, Any] | None:
        """The example as a dict (None: a raw row whose JSON does not parse)."""
        if self.raw is not None:
            value, _ = dataset.parse_json(self.raw)
            return value if isinstance(value, dict) else None
        if self.pair:
            user, preferred = self.turns[0] if self.turns else ("", "")
            return preference_data.pair(user, preferred, self.rejected, self.system or None)
        msgs: list[dict[str, Any]] = []
        if self.system.strip():
            msgs.append({"role": "system", "content": self.system})
        for user, assistant in self.turns:
            msgs.append({"role": "user", "content": user})
            msgs.append({"role": "assistant", "content": assistant})
        return {"messages": msgs}

    def jsonl_line(self) -> str:
        """What this row writes in the JSONL file (one line, no newline)."""
        if self.raw is not None:
            try:
                return json.dumps(json.loads(self.raw), ensure_ascii=False)
            except (ValueError, RecursionError):  # keep the learner's text, on one line, for
                return " ".join(self.raw.split("\n")).strip()  # the check to point at
        return json.dumps(self.example(), ensure_ascii=False)


def method_of(rows: list[Row], current: str) -> str:
    """The table's method for rows brought in: pairs if most are pairs, else chat."""
    readable = [r for r in rows if r.raw is None or r.example() is not None]
    if not readable:
        return current
    return "dpo" if sum(r.pair for r in readable) * 2 > len(readable) else "supervised"


def rows_from(entries: list[dataset_io.Entry]) -> list[Row]:
    """Imported entries as rows: examples become fields (or whole JSON), lines to fix stay text."""
    return [Row.from_example(e) if isinstance(e, dict) else Row(raw=e, turns=[]) for e in entries]
