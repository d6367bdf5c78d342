"""What every check of a dataset produces: a `Problem`, with its line, field and French fix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .. import settings  # noqa: F401 - registers the learner's language (helpers.i18n)
from ..i18n import _

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset. `line` is 1-based (None: the whole file)."""

    code: str
    message: str  # what is wrong, in the learner's language (French source)
    fix: str  # what to do, in the learner's language
    line: int | None = None
    field: str | None = None  # e.g. "messages[1].role"
    severity: Severity = "error"
    example: int | None = None  # 1-based example number (the API counts examples, not lines)
    message_index: int | None = None  # 1-based message number in the example

    def __str__(self) -> str:
        where = _("Ligne {line}").format(line=self.line) if self.line else _("Fichier")
        if self.field:
            where += ", " + field_fr(self.field)
        icon = "❌" if self.severity == "error" else "⚠️"
        return _("{icon} {where} : {problem} → {fix}").format(
            icon=icon, where=where, problem=self.message, fix=self.fix
        )


def field_fr(path: str) -> str:
    """Where a problem is, in words a learner reads: `messages[1].content` → « message 2, champ
    content » (messages counted from 1, as in the notebooks), anything else « champ … »."""
    match = re.fullmatch(r"messages\[(\d+)\](?:\.(.+))?", path)
    if match is None:
        return _("champ {field}").format(field=path)
    where = _("message {n}").format(n=int(match.group(1)) + 1)
    if match.group(2):
        where += ", " + _("champ {field}").format(field=match.group(2))
    return where
