"""Fine-tunable OpenAI models: encoding, limits, prices, dates — and the cost estimate.

Facts checked on `CHECKED_ON` (OpenAI's pricing and deprecations pages). Functions that
depend on the date take `today` as a parameter: tests pass a fixed date, never the clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

CHECKED_ON = date(2026, 11, 23)

# OpenAI's wind-down of self-serve fine-tuning.
NEW_ORGS_REFUSED_FROM = date(2026, 5, 7)
INACTIVE_ORGS_REFUSED_FROM = date(2026, 7, 2)
FINE_TUNING_CLOSED_FROM = date(2027, 1, 6)

MIN_EXAMPLES = 10
MAX_EPOCHS = 50
MAX_BATCH_SIZE = 256


@dataclass(frozen=True)
class ModelInfo:
    name: str
    encoding: str
    example_token_limit: int
    limit_confirmed: bool
    training_price_per_million: float  # USD per 1M trained tokens
    shutdown_date: date | None

    def is_shut_down(self, today: date) -> bool:
        return self.shutdown_date is not None and today >= self.shutdown_date

    def accepts_new_jobs(self, today: date) -> bool:
        return not self.is_shut_down(today) and today < FINE_TUNING_CLOSED_FROM


FINE_TUNABLE: dict[str, ModelInfo] = {
    m.name: m
    for m in [
        ModelInfo("gpt-4o-mini-2024-07-18", "o200k_base", 65_536, True, 3.0, date(2027, 1, 14)),
        ModelInfo("gpt-4o-2024-08-06", "o200k_base", 65_536, True, 25.0, date(2027, 1, 14)),
        ModelInfo("gpt-4.1-mini-2025-04-14", "o200k_base", 65_536, False, 5.0, date(2027, 1, 14)),
        ModelInfo("gpt-4.1-2025-04-14", "o200k_base", 65_536, False, 25.0, date(2027, 1, 14)),
        ModelInfo("gpt-4.1-nano-2025-04-14", "o200k_base", 65_536, False, 1.5, date(2026, 10, 23)),
        ModelInfo("gpt-3.5-turbo-0125", "cl100k_base", 16_385, True, 8.0, date(2026, 10, 23)),
    ]
}

# The course's default base model: the cheapest one still open for fine-tuning.
DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
# The guide's model (shut down 2026-10-23): kept so that notebooks can explain the error.
GUIDE_MODEL = "gpt-3.5-turbo-0125"

_ALIASES = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}


def base_model_of(model: str) -> str:
    """`ft:gpt-4o-mini-2024-07-18:org:suffix:id[:ckpt-step-N]` → `gpt-4o-mini-2024-07-18`."""
    if model.startswith("ft:"):
        parts = model.split(":")
        model = parts[1] if len(parts) > 1 else model
    return _ALIASES.get(model, model)


def get(model: str) -> ModelInfo | None:
    """The fine-tuning facts of a model (snapshot, alias or fine-tune name); None if unknown."""
    return FINE_TUNABLE.get(base_model_of(model))


def open_models(today: date) -> list[ModelInfo]:
    """The models on which a new job can be created on `today` (for organizations allowed to)."""
    return [m for m in FINE_TUNABLE.values() if m.accepts_new_jobs(today)]


def auto_epochs(n_examples: int) -> int:
    """OpenAI's `n_epochs: "auto"` heuristic."""
    if n_examples <= 0:
        return 3
    if n_examples * 3 < 100:
        return min(25, 100 // n_examples)
    if n_examples * 3 > 25_000:
        return max(1, 25_000 // n_examples)
    return 3


def resolve_epochs(n_epochs: int | Literal["auto"] | None, n_examples: int) -> int:
    if n_epochs in (None, "auto"):
        return auto_epochs(n_examples)
    return int(n_epochs)


def auto_batch_size(n_examples: int) -> int:
    """What the real API reports for `batch_size: "auto"` on small files (≈ 0.2 % of n, ≥ 1)."""
    return max(1, min(MAX_BATCH_SIZE, math.ceil(n_examples * 0.002)))


def total_steps(n_examples: int, epochs: int, batch_size: int) -> int:
    return math.ceil(n_examples / batch_size) * epochs if n_examples else 0


@dataclass(frozen=True)
class CostEstimate:
    model: str
    n_examples: int
    tokens_per_epoch: int  # Σ min(limit, tokens of each example)
    epochs: int
    billed_tokens: int
    price_per_million: float
    usd: float
    truncated_examples: int  # examples longer than the limit (they are cut, not refused)

    def describe(self) -> str:
        """French one-liner for notebooks and widgets."""
        return (
            f"{self.n_examples} exemples × {self.epochs} époques → "
            f"{self.billed_tokens:,} jetons facturés × {self.price_per_million:g} $/M "
            f"≈ {self.usd:.4f} $ ({self.model})"
        ).replace(",", "\u202f")


def estimate_cost(
    token_counts: list[int],
    model: str = DEFAULT_MODEL,
    n_epochs: int | Literal["auto"] | None = "auto",
) -> CostEstimate:
    """Training cost: Σ min(limit, tokens) × epochs × price. Validation tokens are free."""
    info = get(model)
    if info is None:
        raise ValueError(f"Modèle inconnu pour le fine-tuning : {model!r}")
    per_epoch = sum(min(info.example_token_limit, t) for t in token_counts)
    epochs = resolve_epochs(n_epochs, len(token_counts))
    billed = per_epoch * epochs
    return CostEstimate(
        model=info.name,
        n_examples=len(token_counts),
        tokens_per_epoch=per_epoch,
        epochs=epochs,
        billed_tokens=billed,
        price_per_million=info.training_price_per_million,
        usd=billed * info.training_price_per_million / 1_000_000,
        truncated_examples=sum(t > info.example_token_limit for t in token_counts),
    )
