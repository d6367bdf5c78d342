"""Preference pairs (DPO) in JSONL: the format of a file, the check for a job's method,
building pairs, pandas.

The rules of one pair are `PREFERENCE` (`helpers.dataset.preference`, re-exported here):
`dataset.check_bytes(data, model, rules=PREFERENCE)` checks a preference file with every
check chat files get, plus the pair's own rules.

`detect(data)` says which format a file is in; `check_bytes` / `check_file` (with `method`
given, or detected) check a file for the job method it is meant for and say once, clearly,
when a chat file is sent for DPO or a preference file for a supervised job (`wrong_method`).
The sandbox validates a job's files with the same functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from . import dataset, models
from .dataset import Problem
from .dataset.preference import (  # noqa: F401 - the pair's rules, public here too
    INPUT_KEYS,
    OUTPUTS,
    PAIR_HINT,
    PAIR_KEYS,
    PREFERENCE,
    RULES,
    counted_messages,
    output_text,
    rules_for,
)
from .i18n import _

Method = Literal["supervised", "dpo"]
DETECT_BYTES = 256 * 1024  # what `detect` reads of a file
DETECT_LINES = 50


# --------------------------------------------------------------------------- a whole file


def detect(data: bytes) -> Method | None:
    """The format of a file's first lines: "supervised" (chat examples), "dpo" (preference
    pairs), or None (neither recognisable). Lines that do not parse are skipped."""
    text = data[:DETECT_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
    chat = pairs = 0
    for raw in text.splitlines()[:DETECT_LINES]:
        raw = raw.strip().rstrip(",")
        if not raw.startswith("{"):
            continue
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if not isinstance(obj, dict):
            continue
        if dataset.PREFERENCE_KEYS & set(obj) and "messages" not in obj:
            pairs += 1
        elif "messages" in obj:
            chat += 1
    if not chat and not pairs:
        return None
    return "dpo" if pairs > chat else "supervised"


def wrong_method(wanted: str, found: str) -> Problem:
    """The one problem of a file in the other format than its job's method."""
    if wanted == "dpo":
        return Problem(
            "wrong_method",
            _(
                "le fichier contient des exemples de chat (messages), pas des paires de "
                "préférences : un job DPO le refuse"
            ),
            _(
                "Lance plutôt un entraînement supervisé (la méthode par défaut), ou réécris "
                "chaque ligne en paire : {pair} (notebook 13)."
            ).format(pair=PAIR_HINT),
        )
    return Problem(
        "wrong_method",
        _(
            "le fichier contient des paires de préférences (DPO), pas des exemples de chat : un "
            "job supervisé le refuse"
        ),
        _(
            'Lance le job avec method={"type": "dpo"} (helpers.jobs.create(..., method="dpo"), '
            "notebook 13), ou vérifie-le avec --method dpo."
        ),
    )


_FORMAT_CODES = {"chat_format", "preference_format"}


def _settle(report: dataset.Report, wanted: str, found: str | None) -> dataset.Report:
    """A file in the other format gets one clear problem instead of one per line."""
    if found is None or found == wanted:
        return report
    report.problems[:] = [
        p for p in report.problems if p.code not in _FORMAT_CODES | {"too_few_examples"}
    ]
    report.problems.insert(0, wrong_method(wanted, found))
    return report


def check_bytes(
    data: bytes, model: str = models.DEFAULT_MODEL, *, method: str | None = None
) -> dataset.Report:
    """Check a JSONL file's content for a job of `method` (None: the format found in it)."""
    found = detect(data)
    wanted = method or found or "supervised"
    return _settle(dataset.check_bytes(data, model, rules=rules_for(wanted)), wanted, found)


def check_file(
    path: str | Path,
    model: str = models.DEFAULT_MODEL,
    *,
    method: str | None = None,
    keep_examples: bool = True,
) -> dataset.Report:
    """`dataset.check_file` for a job of `method` (None: the format found in the file)."""
    try:
        with open(path, "rb") as file:
            found = detect(file.read(DETECT_BYTES))
    except OSError:
        found = None  # `dataset.check_file` reports it
    wanted = method or found or "supervised"
    report = dataset.check_file(path, model, keep_examples=keep_examples, rules=rules_for(wanted))
    return _settle(report, wanted, found)


def check_pairs(pairs: list[dict[str, Any]], model: str = models.DEFAULT_MODEL) -> dataset.Report:
    """Check preference pairs held in memory (the dataset table): line N = pair N."""
    return dataset.check_examples(pairs, model, rules=PREFERENCE)


def read_pairs(path: str | Path, model: str = models.DEFAULT_MODEL) -> list[dict[str, Any]]:
    """The pairs of a file ready to upload for DPO; `DatasetError` (with the report) otherwise."""
    from .exceptions import DatasetError

    report = check_file(path, model, method="dpo")
    if not report.ok:
        raise DatasetError(report)
    return [e.data for e in report.examples]


# --------------------------------------------------------------------------- building, pandas


def pair(
    user: str, preferred: str, non_preferred: str, system: str | None = None
) -> dict[str, Any]:
    """One preference pair: a question, the answer to prefer, the answer to avoid."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user})
    return {
        "input": {"messages": messages},
        "preferred_output": [{"role": "assistant", "content": preferred}],
        "non_preferred_output": [{"role": "assistant", "content": non_preferred}],
    }


def is_pair(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(dataset.PREFERENCE_KEYS & set(obj))


def question(pair_: dict[str, Any]) -> str:
    """The last user message of a pair's input (what a table shows)."""
    from .messages import content_text

    inp = pair_.get("input")
    messages = inp.get("messages") if isinstance(inp, dict) else None
    for m in reversed(messages if isinstance(messages, list) else []):
        if isinstance(m, dict) and m.get("role") == "user":
            return content_text(m.get("content"))
    return ""


def answers(pair_: dict[str, Any]) -> tuple[str, str]:
    """(preferred, non-preferred) texts of a pair ("" where a part is missing)."""
    return tuple(output_text(pair_.get(k)) or "" for k in OUTPUTS)  # type: ignore[return-value]


def simple_row(pair_: Any) -> dict[str, str] | None:
    """system / user / preferred / non_preferred of a plain pair (None for anything richer)."""
    if not isinstance(pair_, dict) or set(pair_) != PAIR_KEYS:
        return None
    inp = pair_["input"]
    if not isinstance(inp, dict) or set(inp) - {"messages"}:
        return None
    messages = inp.get("messages")
    if not isinstance(messages, list):
        return None
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    if roles not in (["user"], ["system", "user"]):
        return None
    if not all(
        isinstance(m.get("content"), str) and set(m) == {"role", "content"} for m in messages
    ):
        return None
    texts = []
    for key in OUTPUTS:
        value = pair_[key]
        if (
            not isinstance(value, list)
            or len(value) != 1
            or not isinstance(value[0], dict)
            or set(value[0]) != {"role", "content"}
            or value[0].get("role") != "assistant"
            or not isinstance(value[0].get("content"), str)
        ):
            return None
        texts.append(value[0]["content"])
    row = {"system": "", "user": "", "preferred": texts[0], "non_preferred": texts[1]}
    for m in messages:
        row[m["role"]] = m["content"]
    return row


COLUMNS = ["system", "user", "preferred", "non_preferred"]


def to_dataframe(pairs: list[dict[str, Any]]):  # -> pandas.DataFrame
    """Plain pairs → columns system / user / preferred / non_preferred; anything richer keeps
    the whole pair in a `pair` column."""
    import pandas as pd

    rows = []
    for p_ in pairs:
        row: dict[str, Any] = simple_row(p_) or {c: "" for c in COLUMNS}
        row["pair"] = None if simple_row(p_) is not None else p_
        rows.append(row)
    df = pd.DataFrame(rows, columns=[*COLUMNS, "pair"])
    if df["pair"].isna().all():
        df = df.drop(columns="pair")
    return df


def from_dataframe(df) -> list[dict[str, Any]]:
    """The inverse of `to_dataframe`. Empty system cells add no system message."""
    out: list[dict[str, Any]] = []
    for record in df.to_dict(orient="records"):
        whole = record.get("pair")
        if isinstance(whole, dict) and whole:
            out.append(whole)
            continue
        out.append(
            pair(
                _cell(record.get("user")),
                _cell(record.get("preferred")),
                _cell(record.get("non_preferred")),
                _cell(record.get("system")) or None,
            )
        )
    return out


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):  # NaN
        return ""
    return str(value)


def table(pairs: list[dict[str, Any]], n: int | None = None) -> Any:
    """The first `n` pairs as a light table (no pandas): question, preferred, non-preferred."""
    from .tables import Table

    rows = [[question(p), *answers(p)] for p in pairs[:n]]
    return Table([_("question"), _("✅ réponse préférée"), _("❌ réponse non préférée")], rows)
