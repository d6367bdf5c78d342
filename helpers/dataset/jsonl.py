"""Writing chat examples (JSONL, UTF-8 without BOM, atomic), building one, and pandas: one
row per example, columns system / user / assistant (first turn) — or messages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fileio import write_atomic
from ..i18n import _
from ..messages import content_text


def dumps_jsonl(examples: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples)


def write_jsonl(examples: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write UTF-8 without BOM, one object per line, `\\n` line ends. Atomic."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, dumps_jsonl(examples))


# ---------------------------------------------------------------------------------------
# pandas: one row per example, columns system / user / assistant (first turn) — or messages


def to_dataframe(examples: Iterable[dict[str, Any]]):  # -> pandas.DataFrame
    """Simple examples (optional system, one user, one assistant) → columns system/user/assistant;
    anything richer keeps its full `messages` in a column of that name."""
    import pandas as pd

    rows = []
    for e in examples:
        msgs = e.get("messages", []) if isinstance(e, dict) else []
        row: dict[str, Any] = {"system": "", "user": "", "assistant": "", "messages": None}
        roles = [m.get("role") for m in msgs if isinstance(m, dict)]
        simple = (
            roles in (["user", "assistant"], ["system", "user", "assistant"])
            and all(
                isinstance(m.get("content"), str) and set(m) <= {"role", "content"} for m in msgs
            )
            and set(e) == {"messages"}
        )
        if simple:
            for m in msgs:
                row[m["role"]] = m["content"]
        else:
            row["messages"] = msgs
        rows.append(row)
    df = pd.DataFrame(rows, columns=["system", "user", "assistant", "messages"])
    # Rows numbered as a learner counts examples (1, 2, …), not pandas' 0, 1, …
    df.index = pd.RangeIndex(1, len(df) + 1, name=_("exemple"))
    if df["messages"].isna().all():
        df = df.drop(columns="messages")
    return df


def examples_table(examples: Iterable[dict[str, Any]], limit: int | None = None):  # -> Table
    """The first `limit` examples as a light table (no pandas: a kernel stays small): the
    example's number, then its system, user and assistant texts (« … » for richer ones)."""
    from ..tables import Table

    rows = []
    for n, e in enumerate(examples, 1):
        if limit is not None and n > limit:
            break
        msgs = e.get("messages", []) if isinstance(e, dict) else []
        texts = {"system": "", "user": "", "assistant": ""}
        for m in msgs if isinstance(msgs, list) else []:
            if isinstance(m, dict) and m.get("role") in texts and not texts[m["role"]]:
                texts[m["role"]] = content_text(m.get("content"))
        rows.append([n, texts["system"], texts["user"], texts["assistant"]])
    return Table([_("exemple"), "system", "user", "assistant"], rows)


def from_dataframe(df) -> list[dict[str, Any]]:
    """The inverse of `to_dataframe`. Empty system cells add no system message."""
    out: list[dict[str, Any]] = []
    for record in df.to_dict(orient="records"):
        full = record.get("messages")
        if isinstance(full, list) and full:
            out.append({"messages": full})
            continue
        msgs = []
        system = _cell(record.get("system"))
        if system:
            msgs.append({"role": "system", "content": system})
        msgs.append({"role": "user", "content": _cell(record.get("user"))})
        msgs.append({"role": "assistant", "content": _cell(record.get("assistant"))})
        out.append({"messages": msgs})
    return out


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):  # NaN
        return ""
    return str(value)


def example(user: str, assistant: str, system: str | None = None) -> dict[str, Any]:
    """Build one chat example."""
    msgs = [{"role": "system", "content": system}] if system else []
    msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return {"messages": msgs}
