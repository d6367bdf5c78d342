"""The result of a check: `Report` (every problem, the examples or only their figures, the
token counts, the cost, the Cookbook's statistics, a French summary)."""

from __future__ import annotations

import itertools
import statistics
from array import array
from dataclasses import dataclass, field
from typing import Any, Literal

from .. import models, tokens
from ..i18n import _, ngettext
from .jsonl import to_dataframe
from .problem import Problem
from .rules import CHAT, Rules


@dataclass
class Example:
    line: int
    data: dict[str, Any]
    #: The messages whose tokens are billed, when they are not `data["messages"]` (a
    #: preference pair's conversations, `helpers.preference_data`).
    counted: list[Any] | None = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.counted if self.counted is not None else self.data.get("messages", [])


@dataclass
class Report:
    """The result of a check. `ok` means: ready to upload (no error; warnings allowed).

    `examples` holds every readable example, except for a check made with
    `keep_examples=False` (`check_file`): then only the figures are kept (counts, stats,
    cost), so that checking a large file takes little memory; `n_examples` counts them
    either way.
    """

    model: str
    examples: list[Example] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    n_lines: int = 0
    rules: Rules | None = field(default=None, repr=False)  # None: chat examples
    # Token counts, one per example. Counting is the costly part of a check, and no check
    # needs it for short examples (a token is at least one UTF-8 byte, a character at most
    # four, so a line shorter than limit/4 cannot be too long): those are counted on first
    # access, exactly.
    _counts: list[int | None] = field(default_factory=list, repr=False)
    #: the check's token counter (its cache of texts already counted)
    counter: tokens.TokenCounter | None = field(default=None, repr=False)
    #: a check that keeps no examples (`keep_examples=False`) keeps their figures here
    figures: Figures | None = field(default=None, repr=False)

    @property
    def n_examples(self) -> int:
        return self.figures.n if self.figures is not None else len(self.examples)

    @property
    def method(self) -> str:
        """The job method this file was checked for: "supervised" (chat) or "dpo" (pairs)."""
        return self.rules.method if self.rules is not None else "supervised"

    @property
    def token_counts(self) -> list[int]:
        if any(c is None for c in self._counts):
            count = self.counter or tokens.TokenCounter(self.model)
            todo = [
                e.messages for c, e in zip(self._counts, self.examples, strict=True) if c is None
            ]
            done = iter(count.many(todo))
            self._counts = [c if c is not None else next(done) for c in self._counts]
        return self._counts  # type: ignore[return-value]

    @token_counts.setter
    def token_counts(self, values: list[int]) -> None:
        self._counts = list(values)

    def add_count(self, n_tokens: int | None) -> None:
        """The next example's token count (None: counted exactly on first access)."""
        self._counts.append(n_tokens)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def problems_at(self, line: int) -> list[Problem]:
        return [p for p in self.problems if p.line == line]

    def cost(self, n_epochs: int | Literal["auto"] | None = "auto") -> models.CostEstimate:
        return models.estimate_cost(self.token_counts, self.model, n_epochs, method=self.method)

    def stats(self) -> dict[str, Any]:
        """The figures the OpenAI Cookbook prints, as a dict."""
        limit = token_limit(self.model)
        figures = self.figures or Figures.of(
            self.examples, self.counter or tokens.TokenCounter(self.model)
        )
        return {
            "exemples": figures.n,
            "exemples_sans_system": figures.without_system,
            "exemples_sans_user": figures.without_user,
            "messages_par_exemple": _distribution(list(figures.n_messages)),
            "jetons_par_exemple": _distribution(self.token_counts),
            "jetons_assistant_par_exemple": _distribution(figures.assistant_tokens),
            "jetons_total": sum(self.token_counts),
            "exemples_trop_longs": sum(t > limit for t in self.token_counts),
        }

    def summary(self) -> str:
        """A short French verdict, then every problem (one per line)."""
        n = self.n_examples
        rules = self.rules or CHAT
        if self.ok:
            head = "✅ " + rules.words("ready", n)
        else:
            errors = len(self.errors)
            head = ngettext(
                "❌ {n} erreur(s) à corriger avant l'envoi ({readable})",
                "❌ {n} erreur(s) à corriger avant l'envoi ({readable})",
                errors,
            ).format(n=errors, readable=rules.words("readable", n))
        if self.warnings:
            warnings = len(self.warnings)
            head += ngettext(", {n} avertissement(s)", ", {n} avertissement(s)", warnings).format(
                n=warnings
            )
        return "\n".join([head + ".", *(str(p) for p in self.problems)])

    def to_dataframe(self):  # -> pandas.DataFrame
        return to_dataframe([e.data for e in self.examples])

    def problems_dataframe(self):  # -> pandas.DataFrame
        import pandas as pd

        rows = [[p.line, p.field, p.severity, p.message, p.fix] for p in self.problems]
        columns = [_("ligne"), _("champ"), _("gravité"), _("problème"), _("solution")]
        return pd.DataFrame(rows, columns=columns)


@dataclass
class Figures:
    """What `Report.stats` needs of each example, for a check that does not keep them."""

    n: int = 0
    without_system: int = 0
    without_user: int = 0
    n_messages: array = field(default_factory=lambda: array("q"))
    assistant_tokens: list[int] = field(default_factory=list)

    def add(self, messages: list[Any]) -> None:
        # (a plain chat example is added by `_Scan.simple`, inline: it knows the roles)
        self.n += 1
        self.n_messages.append(len(messages))
        roles = {m.get("role") for m in messages if isinstance(m, dict)}
        self.without_system += "system" not in roles
        self.without_user += "user" not in roles

    @classmethod
    def of(cls, examples: list[Example], counter: tokens.TokenCounter) -> Figures:
        figures = cls()
        contents: list[list[str]] = []  # the Cookbook's num_assistant_tokens_from_messages
        for e in examples:
            figures.add(e.messages)
            contents.append(
                [
                    m["content"]
                    for m in e.messages
                    if isinstance(m, dict)
                    and m.get("role") == "assistant"
                    and isinstance(m.get("content"), str)
                ]
            )
        counts = iter(counter.texts(itertools.chain.from_iterable(contents)))
        figures.assistant_tokens = [sum(itertools.islice(counts, len(c))) for c in contents]
        return figures


def token_limit(model: str) -> int:
    info = models.get(model)
    return info.example_token_limit if info else 65_536


def _distribution(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "max": 0, "moyenne": 0, "médiane": 0}  # i18n: keep (keys code reads)
    return {
        "min": min(values),
        "max": max(values),
        "moyenne": round(statistics.fmean(values), 1),
        "médiane": statistics.median(values),  # i18n: keep (a key code reads)
    }
