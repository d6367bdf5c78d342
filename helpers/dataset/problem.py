"""What every check of a dataset produces: a `Problem`, with its line, field and French fix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset. `line` is 1-based (None: the whole file)."""

    code: str
    message: str  # French: what is wrong
    fix: str  # French: what to do
    line: int | None = None
    field: str | None = None  # e.g. "messages[1].role"
    severity: Severity = "error"
    example: int | None = None  # 1-based example number (the API counts examples, not lines)
    message_index: int | None = None  # 1-based message number in the example

    def __str__(self) -> str:
        where = f"Ligne {self.line}" if self.line else "Fichier"
        if self.field:
            where += ", " + field_fr(self.field)
        icon = "❌" if self.severity == "error" else "⚠️"
        return f"{icon} {where} : {self.message} → {self.fix}"


def field_fr(path: str) -> str:
    """Where a problem is, in words a learner reads: `messages[1].content` → « message 2, champ
    content » (messages counted from 1, as in the notebooks), anything else « champ … »."""
    match = re.fullmatch(r"messages\[(\d+)\](?:\.(.+))?", path)
    if match is None:
        return f"champ {path}"
    where = f"message {int(match.group(1)) + 1}"
    return where + (f", champ {match.group(2)}" if match.group(2) else "")
