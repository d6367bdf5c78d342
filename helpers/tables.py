"""Small tables for notebooks whose kernels must stay light (a hub's memory budget).

A `Table` shows as HTML in Jupyter (no 0, 1, 2… index column: the first column names the
rows) and as aligned text elsewhere; `to_dataframe()` gives pandas when it is wanted. pandas
costs ≈ 30–35 MiB per kernel (bench/class_memory.py), and one student keeps a kernel per
notebook: the course's tables (notebooks 03, 05, 07, 09, 12, 13) are these. Imports nothing
of the kit but its translation layer: the numbers of the learner's modules are written here,
in the learner's convention (`decimal`, `grouped`, `percent`: decimal comma in French, point
in English).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .i18n import language, number

# The narrow no-break space French puts between thousands and before « % ».
NARROW_SPACE = "\u202f"


def decimal(value: float, digits: int | None = None) -> str:
    """A number as the learner reads it: « 1,5 » in French, "1.5" in English; with `digits`,
    that many digits after the decimal sign, else as few as needed."""
    return number(value, digits)


def grouped(value: int) -> str:
    """An integer with its thousands grouped: « 12 345 » in French, "12,345" in English."""
    return number(value, 0, group=True)


def percent(value: float, digits: int = 0) -> str:
    """A share (0–1) as a percentage: « 83 % », « 83,3 % » in French, "83%", "83.3%" in English."""
    number = decimal(value * 100, digits)
    return number + NARROW_SPACE + "%" if language() == "fr" else number + "%"


def cell_text(value: Any) -> str:
    """A cell as the course writes it: the learner's decimal sign, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, float):
        return decimal(value)
    return str(value)


@dataclass(frozen=True)
class Table:
    """Rows under headers; the first column names each row."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    title: str | None = None

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.headers):
                raise ValueError(f"row {row!r} does not match the headers {self.headers!r}")

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        i = list(self.headers).index(name)
        return [row[i] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.headers, row, strict=True)) for row in self.rows]

    def to_dataframe(self):  # -> pandas.DataFrame
        """The same table in pandas, its first column as the index."""
        import pandas as pd

        frame = pd.DataFrame([list(r) for r in self.rows], columns=list(self.headers))
        return frame.set_index(self.headers[0])

    def __repr__(self) -> str:
        texts = [[cell_text(c) for c in row] for row in self.rows]
        widths = [max([len(h), *(len(r[i]) for r in texts)]) for i, h in enumerate(self.headers)]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        out = [self.title] if self.title else []
        out += [line(self.headers), line(["-" * w for w in widths])]
        out += [line(r) for r in texts]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        def cell(tag: str, value: Any, first: bool) -> str:
            align = "left" if first or not isinstance(value, (int, float)) else "right"
            return f"<{tag} style='text-align:{align}'>{html.escape(cell_text(value))}</{tag}>"

        head = "".join(cell("th", h, i == 0) for i, h in enumerate(self.headers))
        body = "".join(
            "<tr>"
            + "".join(cell("th" if i == 0 else "td", v, i == 0) for i, v in enumerate(row))
            + "</tr>"
            for row in self.rows
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def from_records(records: Sequence[dict[str, Any]], title: str | None = None) -> Table:
    """A table of dicts that share their keys (the first one's order): one row each, the
    first key naming the rows."""
    if not records:
        raise ValueError("no rows: nothing to show")
    headers = list(records[0])
    return Table(headers, [[r.get(h) for h in headers] for r in records], title)
