"""Fine-tunable OpenAI models: encoding, limits, prices, dates — and the cost estimate.

The one source of model facts for the kit: the notebooks, the dataset table's model list,
the README's table (written by `tools/notebooks.py`) and the sandbox's model list and job
creation all read this module; `tests/test_models.py` cross-checks them.

Facts checked on `CHECKED_ON` (OpenAI's pricing and deprecations pages). Functions that
depend on the date take `today` as a parameter: tests pass a fixed date, never the clock.
French phrases about a date (`shutdown_phrase`, `training_phrase`) pick their tense from
`today`, so a past date is never announced as coming.

For the sandbox (a world frozen in time, DESIGN.md): `SANDBOX_TODAY` is its date and
`availability(name, SANDBOX_TODAY)` says what it does with a model name — list it and train
it ("open"), list it and answer with it but refuse new jobs ("inference_only"), refuse it as
shut down ("shut_down"), or "unknown". `listed(SANDBOX_TODAY)` is its `/v1/models` list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from . import i18n
from .i18n import N_, _, ngettext, number
from .modes import Mode

CHECKED_ON = date(2026, 11, 23)

# OpenAI's wind-down of self-serve fine-tuning.
NEW_ORGS_REFUSED_FROM = date(2026, 5, 7)
INACTIVE_ORGS_REFUSED_FROM = date(2026, 7, 2)
FINE_TUNING_CLOSED_FROM = date(2027, 1, 6)
# OpenAI's Evals API (`client.evals`, `/v1/evals`): shut down; the SDK points to Promptfoo.
EVALS_API_SHUT_DOWN = date(2026, 11, 30)

MIN_EXAMPLES = 10
MAX_EPOCHS = 50
MAX_BATCH_SIZE = 256

# The fine-tuning methods the kit knows (`method.type` of a job): supervised (chat examples)
# and preference fine-tuning (DPO: pairs of a preferred and a non-preferred answer).
Method = Literal["supervised", "dpo"]
METHODS: tuple[Method, ...] = ("supervised", "dpo")


METHOD_FR = i18n.Translated({"supervised": N_("supervisé"), "dpo": N_("par préférences (DPO)")})


def day_text(day: date) -> str:
    """A date as the course writes it: « 23/10/2026 » in French, « 23 October 2026 » in
    English (the format is the catalog's)."""
    return day.strftime(_("%d/%m/%Y"))


@dataclass(frozen=True)
class ModelInfo:
    name: str
    encoding: str
    example_token_limit: int
    limit_confirmed: bool
    training_price_per_million: float  # USD per 1M trained tokens
    shutdown_date: date | None
    #: The most tokens one answer may have (`max_tokens` / `max_completion_tokens` above it
    #: are refused), as OpenAI's model pages publish it.
    completion_token_limit: int

    def is_shut_down(self, today: date) -> bool:
        return self.shutdown_date is not None and today >= self.shutdown_date

    def accepts_new_jobs(self, today: date) -> bool:
        return not self.is_shut_down(today) and today < FINE_TUNING_CLOSED_FROM

    @property
    def last_training_day(self) -> date:
        """The last day a new job can be created on this model (for allowed organizations)."""
        end = FINE_TUNING_CLOSED_FROM
        if self.shutdown_date is not None:
            end = min(end, self.shutdown_date)
        return end - timedelta(days=1)

    def shutdown_phrase(self, today: date) -> str:
        """« éteint depuis le 23/10/2026 » or « s'éteint le 14/01/2027 », as seen on `today`."""
        if self.shutdown_date is None:
            return _("pas de date d'extinction annoncée")
        if self.is_shut_down(today):
            return _("éteint depuis le {day}").format(day=day_text(self.shutdown_date))
        return _("s'éteint le {day}").format(day=day_text(self.shutdown_date))

    def training_phrase(self, today: date) -> str:
        """Whether a new job can be created on `today`, in French, with the right tense."""
        if not self.accepts_new_jobs(today):
            return _("plus entraînable depuis le {day}").format(
                day=day_text(self.last_training_day + timedelta(days=1))
            )
        return _("entraînable jusqu'au {day} inclus").format(day=day_text(self.last_training_day))

    @property
    def price_fr(self) -> str:
        """« 1,5 $ / million de jetons » (French decimal comma)."""
        return _("{price} $ / million de jetons").format(
            price=number(self.training_price_per_million, None)
        )


FINE_TUNABLE: dict[str, ModelInfo] = {
    m.name: m
    for m in [
        ModelInfo(
            "gpt-4o-mini-2024-07-18", "o200k_base", 65_536, True, 3.0, date(2027, 1, 14), 16_384
        ),
        ModelInfo("gpt-4o-2024-08-06", "o200k_base", 65_536, True, 25.0, date(2027, 1, 14), 16_384),
        ModelInfo(
            "gpt-4.1-mini-2025-04-14", "o200k_base", 65_536, False, 5.0, date(2027, 1, 14), 32_768
        ),
        ModelInfo(
            "gpt-4.1-2025-04-14", "o200k_base", 65_536, False, 25.0, date(2027, 1, 14), 32_768
        ),
        ModelInfo(
            "gpt-4.1-nano-2025-04-14", "o200k_base", 65_536, False, 1.5, date(2026, 10, 23), 32_768
        ),
        ModelInfo(
            "gpt-3.5-turbo-0125", "cl100k_base", 16_385, True, 8.0, date(2026, 10, 23), 4_096
        ),
    ]
}

# Preference fine-tuning (DPO), checked on `DPO_CHECKED_ON` (OpenAI's DPO guide, pricing page,
# the RFT billing guide and the published OpenAPI description).
DPO_CHECKED_ON = date(2026, 12, 7)
#: The models a DPO job may start from, and whether a public source confirms it (the value).
#: Confirmed: the gpt-4.1 family, which OpenAI's DPO guide lists (« Use with »).
#: Unconfirmed: gpt-4o-2024-08-06 and gpt-4o-mini-2024-07-18. DPO was launched on gpt-4o
#: (December 2024, Azure's announcement); today's guide lists only the gpt-4.1 family, as its
#: supervised guide does, although gpt-4o-mini still trains there. The kit accepts them.
DPO_MODELS: dict[str, bool] = {
    "gpt-4.1-2025-04-14": True,
    "gpt-4.1-mini-2025-04-14": True,
    "gpt-4.1-nano-2025-04-14": True,
    "gpt-4o-2024-08-06": False,
    "gpt-4o-mini-2024-07-18": False,
}
#: DPO's price per 1M trained tokens is the model's training price. Unconfirmed: OpenAI's
#: pricing page gives one training price per model, and its RFT billing guide says that
#: « supervised or preference fine-tuning » are « billed by the number of tokens in the
#: training dataset »; no public page gives DPO a price of its own.
DPO_PRICE_CONFIRMED = False
#: `beta`'s bounds (OpenAI's OpenAPI description, FineTuneDPOHyperparameters: 0 < beta ≤ 2).
DPO_BETA_MAX = 2.0
#: What `beta: "auto"` resolves to. Unconfirmed: no public transcript shows a resolved beta;
#: 0.1 is the DPO paper's value and TRL's default.
DPO_AUTO_BETA = 0.1

# The course's default base model: the cheapest one still open for fine-tuning on
# `CHECKED_ON` (tests/test_models.py checks it).
DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
# The guide's model (shut down 2026-10-23): kept so that notebooks can explain the error.
GUIDE_MODEL = "gpt-3.5-turbo-0125"
# The sandbox's frozen date: its model list and job creation never depend on the clock.
SANDBOX_TODAY = CHECKED_ON

# What an API does with a model name on a given day (see `availability`).
Availability = Literal["open", "inference_only", "shut_down", "unknown"]

_ALIASES = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}


def dated_name(alias: str) -> str | None:
    """The dated snapshot an alias stands for (`gpt-4o-mini` → `gpt-4o-mini-2024-07-18`), or
    None when `alias` is not one of the aliases of a fine-tunable model. The real API answers
    chat under an alias but refuses it for fine-tuning: a job needs the dated name."""
    return _ALIASES.get(alias)


def dated_names_phrase() -> str:
    """« use the dated name » once, for the model tables (README, notebook 05)."""
    alias = next(a for a, d in _ALIASES.items() if d == DEFAULT_MODEL)
    return _(
        "Pour le fine-tuning, écris le nom daté de la première colonne : l'alias sans date "
        "(`{alias}`) sert à discuter, mais l'API le refuse pour un job."
    ).format(alias=alias)


def alias_advice(model: str, today: date | None = None) -> str | None:
    """« utilise le nom daté … » when `model` is an alias (None otherwise): the one French
    sentence the dataset check and the error diagnoses show about it. With `today`, None also
    when the dated snapshot itself no longer takes new jobs (the alias is not the problem)."""
    dated = dated_name(model)
    if dated is None:
        return None
    if today is not None and not FINE_TUNABLE[dated].accepts_new_jobs(today):
        return None
    return _("l'API refuse un alias pour le fine-tuning : utilise le nom daté « {dated} »").format(
        dated=dated
    )


def base_model_of(model: str) -> str:
    """`ft:gpt-4o-mini-2024-07-18:org:suffix:id[:ckpt-step-N]` → `gpt-4o-mini-2024-07-18`."""
    if model.startswith("ft:"):
        parts = model.split(":")
        model = parts[1] if len(parts) > 1 else model
    return _ALIASES.get(model, model)


def supports(model: str, method: str) -> bool:
    """Whether a job of `method` may start from `model` (snapshot, alias or fine-tune name)."""
    info = get(model)
    if info is None:
        return False
    return method == "supervised" or (method == "dpo" and info.name in DPO_MODELS)


def price_per_million(model: str, method: str = "supervised") -> float:
    """Training price (USD per 1M trained tokens) of a job of `method` on `model`; ValueError
    for a model without a known price. DPO: the same price (`DPO_PRICE_CONFIRMED`)."""
    info = get(model)
    if info is None:
        raise ValueError(_("Modèle inconnu pour le fine-tuning : {model!r}").format(model=model))
    return info.training_price_per_million


def get(model: str) -> ModelInfo | None:
    """The fine-tuning facts of a model (snapshot, alias or fine-tune name); None if unknown."""
    return FINE_TUNABLE.get(base_model_of(model))


def open_models(today: date) -> list[ModelInfo]:
    """The models on which a new job can be created on `today` (for organizations allowed to)."""
    return [m for m in FINE_TUNABLE.values() if m.accepts_new_jobs(today)]


def listed(today: date) -> list[ModelInfo]:
    """The base models an API lists on `today`: every one not shut down yet."""
    return [m for m in FINE_TUNABLE.values() if not m.is_shut_down(today)]


def availability(model: str, today: date) -> Availability:
    """What the API does with `model` (snapshot, alias or fine-tune name) on `today`.

    "open": listed, answers, trains; "inference_only": listed and answers, no new job (after
    `FINE_TUNING_CLOSED_FROM`; a fine-tune name is always this at best); "shut_down": refused
    everywhere; "unknown": not a fine-tunable model.
    """
    info = get(model)
    if info is None:
        return "unknown"
    if info.is_shut_down(today):
        return "shut_down"
    if model.startswith("ft:") or not info.accepts_new_jobs(today):
        return "inference_only"
    return "open"


def world_today(mode: str | Mode) -> date:
    """The date a mode's server lives at: the sandbox's (and the local server's) frozen date,
    the real date for `openai`. The only place this module reads the clock."""
    return SANDBOX_TODAY if Mode(mode).traits.kit_server else date.today()


def offered(today: date) -> list[str]:
    """The base models a learner may pick on `today`: the open ones (else, after the end of
    fine-tuning, the ones still listed, for cost estimates; else all)."""
    for group in (open_models(today), listed(today), list(FINE_TUNABLE.values())):
        if group:
            return [m.name for m in group]
    return []


def wind_down(today: date) -> list[str]:
    """OpenAI's wind-down of self-serve fine-tuning, one French line per date, in date order;
    each line's tense is chosen from `today` (past dates in the past, future ones in the future)."""
    events: list[tuple[date, str, str]] = [
        (
            NEW_ORGS_REFUSED_FROM,
            _(
                "les organisations (comptes) qui n'avaient jamais fait de fine-tuning ne peuvent plus "
                "lancer de job : l'API répond « permission refusée » (erreur 403)"
            ),
            _(
                "les organisations (comptes) qui n'ont jamais fait de fine-tuning ne pourront plus "
                "lancer de job : l'API répondra « permission refusée » (erreur 403)"
            ),
        ),
        (
            INACTIVE_ORGS_REFUSED_FROM,
            _("même refus pour les organisations inactives"),
            _("même refus pour les organisations inactives"),
        ),
        (
            FINE_TUNING_CLOSED_FROM,
            _("plus personne ne peut lancer de job"),
            _("plus personne ne pourra lancer de job"),
        ),
        (
            EVALS_API_SHUT_DOWN,
            _(
                "l'API d'évaluation d'OpenAI (Evals) est fermée : le SDK renvoie vers Promptfoo, un "
                "outil d'évaluation libre ; le kit a sa propre évaluation (notebook 12)"
            ),
            _(
                "l'API d'évaluation d'OpenAI (Evals) sera fermée : le SDK renvoie vers Promptfoo, un "
                "outil d'évaluation libre ; le kit a sa propre évaluation (notebook 12)"
            ),
        ),
    ]
    shutdowns: dict[date, list[str]] = {}
    for m in FINE_TUNABLE.values():
        if m.shutdown_date is not None:
            shutdowns.setdefault(m.shutdown_date, []).append(f"`{m.name}`")
    for day, names in shutdowns.items():
        guide = _(" (le modèle du guide)") if f"`{GUIDE_MODEL}`" in names else ""
        subject = ", ".join(names) + guide
        events.append(
            (
                day,
                _(
                    "{subject} et les modèles fine-tunés à partir d'eux sont éteints : on ne peut "
                    "plus ni les entraîner ni les utiliser"
                ).format(subject=subject),
                _(
                    "{subject} et les modèles fine-tunés à partir d'eux seront éteints : on ne "
                    "pourra plus ni les entraîner ni les utiliser"
                ).format(subject=subject),
            )
        )
    return [
        _("{day} : {event}").format(day=day_text(day), event=past if today >= day else future)
        for day, past, future in sorted(events, key=lambda e: e[0])
    ]


def facts_table(today: date) -> list[dict[str, str]]:
    """One row per model, French columns, tenses from `today` (notebook 05, README)."""
    return [
        {
            _("modèle"): m.name,
            _("prix d'entraînement"): m.price_fr,
            _("entraînement"): m.training_phrase(today),
            _("utilisation"): m.shutdown_phrase(today),
        }
        for m in FINE_TUNABLE.values()
    ]


def facts_markdown(today: date) -> str:
    """The README's model table (written by tools/notebooks.py): the same facts as the kit."""
    rows = facts_table(today)
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for row in rows:
        cells = [f"`{row[_('modèle')]}`"] + [row[k] for k in head[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
    method: str = "supervised"

    def describe(self) -> str:
        """French one-liner for notebooks and widgets."""
        n = self.n_examples
        if self.method == "dpo":
            what = ngettext("{n} paire", "{n} paires", n).format(n=n)
        else:
            what = ngettext("{n} exemple", "{n} exemples", n).format(n=n)
        how = ", DPO" if self.method == "dpo" else ""
        tokens = number(self.billed_tokens, group=True)
        return _(
            "{what} × {epochs} → {tokens} jetons facturés × {price} $/M ≈ {usd} $ ({model}{how})"
        ).format(
            what=what,
            epochs=ngettext("{n} époque", "{n} époques", self.epochs).format(n=self.epochs),
            tokens=tokens,
            price=number(self.price_per_million, None),
            usd=number(round(self.usd, 4), 4),
            model=self.model,
            how=how,
        )


def estimate_cost(
    token_counts: list[int],
    model: str = DEFAULT_MODEL,
    n_epochs: int | Literal["auto"] | None = "auto",
    *,
    method: str = "supervised",
) -> CostEstimate:
    """Training cost: Σ min(limit, tokens) × epochs × price. Validation tokens are free.

    `method="dpo"`: `token_counts` are the pairs' (see `helpers.preference_data`), the price
    is DPO's, the `auto` epochs the same heuristic (Unconfirmed for DPO)."""
    info = get(model)
    if info is None:
        raise ValueError(_("Modèle inconnu pour le fine-tuning : {model!r}").format(model=model))
    price = price_per_million(model, method)
    per_epoch = sum(min(info.example_token_limit, t) for t in token_counts)
    epochs = resolve_epochs(n_epochs, len(token_counts))
    billed = per_epoch * epochs
    return CostEstimate(
        model=info.name,
        n_examples=len(token_counts),
        tokens_per_epoch=per_epoch,
        epochs=epochs,
        billed_tokens=billed,
        price_per_million=price,
        usd=billed * price / 1_000_000,
        truncated_examples=sum(t > info.example_token_limit for t in token_counts),
        method=method,
    )
