"""Did the preferences take? How often a model's answers have the preferred style.

Notebook 13's measure, with notebook 12's tools: `style_rate(model, prompts)` asks the model
each held-out question at temperature 0 (`evaluation.ask_all`: several at once, the same
calls as `evaluation.evaluate`) and judges each answer with `judge` — by default
`preferred_style`: short (at most `MAX_WORDS` words) and without « vous » (the style of the
course's pairs, data/preferences_tu.jsonl). A `StyleRate` holds the answers, the verdicts, the
share in the preferred style and the mean length; `compare` and `chart` put several side by
side (the supervised model before DPO, the DPO model after).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .charts import Chart, bars
from .evaluation import WORKERS, ask_all
from .i18n import _
from .messages import content_text
from .tables import Table, decimal, percent

MAX_WORDS = 15
MAX_TOKENS = 80  # enough to tell a short answer from a long one
_VOUS = re.compile(r"\b(vous|votre|vos|vôtre|vôtres)\b", re.IGNORECASE)  # i18n: keep (a regex)
_TU = re.compile(r"\b(tu|te|toi|ton|ta|tes|t')\b|\bt'", re.IGNORECASE)  # i18n: keep (a regex)


def words(text: str) -> int:
    return len(text.split())


def says_vous(text: str) -> bool:
    return bool(_VOUS.search(text))


def says_tu(text: str) -> bool:
    return bool(_TU.search(text))


def preferred_style(text: str) -> bool:
    """Notebook 13's preferred style: a short answer (≤ `MAX_WORDS` words) without « vous »."""
    return bool(text.strip()) and words(text) <= MAX_WORDS and not says_vous(text)


@dataclass
class StyleRate:
    """One model's answers to the held-out questions, and which are in the preferred style."""

    model: str
    label: str
    questions: list[str]
    answers: list[str]
    styled: list[bool]
    simulated: bool

    @property
    def total(self) -> int:
        return len(self.answers)

    @property
    def hits(self) -> int:
        return sum(self.styled)

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0

    @property
    def mean_words(self) -> float:
        return sum(map(words, self.answers)) / self.total if self.total else 0.0

    @property
    def vous(self) -> int:
        return sum(map(says_vous, self.answers))

    def headline(self) -> str:
        return _(
            "{label} : {hits}/{total} réponses dans le style préféré ({percent}), {words} mots "
            "en moyenne"
        ).format(
            label=self.label,
            hits=self.hits,
            total=self.total,
            percent=percent(self.rate),
            words=decimal(self.mean_words, 0),
        )

    def table(self, width: int = 90) -> Table:
        """One row per question: the answer (cut), its words, « vous » or not, the verdict."""
        rows = [
            [
                q,
                a if len(a) <= width else a[: width - 1] + "…",
                words(a),
                _("oui") if says_vous(a) else _("non"),
                "✅" if ok else "—",
            ]
            for q, a, ok in zip(self.questions, self.answers, self.styled, strict=True)
        ]
        return Table(
            [_("question"), _("réponse"), _("mots"), _("« vous »"), _("style préféré")],
            rows,
            title=self.label,
        )

    def __repr__(self) -> str:
        return self.headline()


def question_of(prompt: list[dict[str, Any]]) -> str:
    for message in reversed(prompt):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def style_rate(
    model: str,
    prompts: Sequence[list[dict[str, Any]]],
    *,
    label: str | None = None,
    judge: Callable[[str], bool] = preferred_style,
    max_tokens: int | None = MAX_TOKENS,
    workers: int = WORKERS,
    progress: bool = True,
    client: Any = None,
) -> StyleRate:
    """Ask `model` every prompt (a list of messages) at temperature 0 and judge each answer."""
    if client is None:
        from .client import client as make

        client = make()
    answers, fingerprints = ask_all(
        client, model, prompts, max_tokens=max_tokens, workers=workers, progress=progress
    )
    return StyleRate(
        model=model,
        label=label or model,
        questions=[question_of(p) for p in prompts],
        answers=[a.strip() for a in answers],
        styled=[judge(a) for a in answers],
        simulated="fp_sandbox" in fingerprints,
    )


def compare(rates: Sequence[StyleRate]) -> Table:
    """One row per model: answers in the preferred style, their share, the mean length."""
    rows = [
        [r.label, r.model, f"{r.hits}/{r.total}", round(100 * r.rate), round(r.mean_words), r.vous]
        for r in rates
    ]
    return Table(
        [
            _("modèle"),
            _("nom"),
            _("style préféré"),
            _("taux (%)"),
            _("mots (moyenne)"),
            _("réponses au « vous »"),
        ],
        rows,
    )


def chart(rates: Sequence[StyleRate]) -> Chart:
    return bars(
        [r.label for r in rates],
        [round(100 * r.rate) for r in rates],
        title=_("Réponses dans le style préféré (questions mises de côté)"),
        ylabel=_("style préféré (%)"),
        top=100,
        colors=("#90a4ae", "#43a047", "#ffb74d"),
    )
