"""Dataset files in and out of the dataset table: JSONL, a JSON array or CSV in; CSV out.

`read_import(data, name)` reads what a learner brings (a `.jsonl`, a pretty-printed JSON
array, a spreadsheet's `.csv`) into entries: each one an example (a dict) or, for a line
that is not a JSON object, the line itself (a str) so that the learner fixes it in the
table rather than losing it. A file that cannot be read at all raises `ImportProblem`,
whose French message says why and what to do. `dumps_csv(examples)` writes the CSV export.
(JSONL out is `dataset.dumps_jsonl` / `dataset.write_jsonl`.)
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import dataset, models, preference_data
from .i18n import _, ngettext

Entry = dict[str, Any] | str  # an example, or a line to fix (not a JSON object)


class ImportProblem(ValueError):
    """A file that cannot be imported (message in the learner's language: why, and what to do)."""


@dataclass
class Imported:
    entries: list[Entry]
    note: str = ""  # a remark for the learner (in their language), e.g. "a JSON array, converted"


def row_problem_text(p: dataset.Problem) -> str:
    """A problem as the table shows it: rows, not lines."""
    where = _("Rangée {row}").format(row=p.line) if p.line else _("Fichier")
    if p.field:
        where += f" ({p.field})"
    icon = "❌" if p.severity == "error" else "⚠️"
    return _("{icon} {where} : {problem} → {fix}").format(
        icon=icon, where=where, problem=p.message, fix=p.fix
    )


def read_import(data: bytes, name: str, model: str = models.DEFAULT_MODEL) -> Imported:
    """Entries of a `.csv` (by its name) or of a JSONL / JSON-array file; `ImportProblem` if unreadable."""
    if Path(name).suffix.lower() == ".csv":
        return parse_csv(data)
    return parse_jsonl(data, model)


def parse_jsonl(data: bytes, model: str = models.DEFAULT_MODEL) -> Imported:
    """One example per line (blank lines skipped), or one JSON array of examples.

    Lines that are not JSON objects come back as text to fix, unless they are more than half
    of the file: then it is not JSONL at all (`ImportProblem`, with the check's first errors).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportProblem(
            _(
                "le fichier n'est pas en UTF-8 (enregistre-le en « UTF-8 » depuis ton éditeur), "
                "ou ce n'est pas un fichier texte."
            )
        ) from None
    if not text.strip():
        raise ImportProblem(_("le fichier est vide."))
    if "\x00" in text:
        raise ImportProblem(_("ce n'est pas un fichier texte (JSONL ou CSV attendu)."))
    stripped = text.strip()
    if stripped.startswith("["):  # a JSON array, pretty-printed or not
        value, _err = dataset.parse_json(stripped)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return Imported(
                list(value),
                _(
                    "(C'était un tableau JSON [...], pas du JSONL : converti. Enregistre-le pour "
                    "obtenir un vrai .jsonl, un exemple par ligne.)"
                ),
            )
    lines = [ln for ln in text.splitlines() if ln.strip()]
    entries: list[Entry] = []
    unreadable = 0
    for line in lines:
        value, _err = dataset.parse_json(line)  # too deep, too many digits: a line to fix, kept
        if isinstance(value, dict):
            entries.append(value)
        else:
            unreadable += 1
            entries.append(line)
    if unreadable and unreadable * 2 > len(lines):
        report = dataset.check_bytes(data, model)
        first = "\n".join(row_problem_text(p) for p in report.errors[:5])
        raise ImportProblem(
            ngettext(
                "{n} ligne(s) sur {total} ne sont pas des objets JSON : ce n'est pas un fichier "
                'JSONL (un exemple {{"messages": […]}} par ligne).',
                "{n} ligne(s) sur {total} ne sont pas des objets JSON : ce n'est pas un fichier "
                'JSONL (un exemple {{"messages": […]}} par ligne).',
                unreadable,
            ).format(n=unreadable, total=len(lines))
            + f"\n{first}"
        )
    return Imported(entries)


# Column names a spreadsheet may use, in French or English → the role they hold.
CSV_ALIASES = {
    "system": "system",
    "système": "system",  # i18n: keep (a column name the kit matches)
    "systeme": "system",
    "consigne": "system",
    "user": "user",
    "question": "user",
    "prompt": "user",
    "utilisateur": "user",
    "assistant": "assistant",
    "réponse": "assistant",  # i18n: keep (a column name the kit matches)
    "reponse": "assistant",
    "answer": "assistant",
    "completion": "assistant",
    # preference pairs (DPO)
    "preferred": "preferred",
    "préférée": "preferred",  # i18n: keep (a column name the kit matches)
    "preferee": "preferred",
    "chosen": "preferred",
    "non_preferred": "non_preferred",
    "non préférée": "non_preferred",  # i18n: keep (a column name the kit matches)
    "non_preferee": "non_preferred",
    "rejected": "non_preferred",
    "pair": "pair",
}


def parse_csv(data: bytes) -> Imported:
    """A spreadsheet export: columns user and assistant (and system), or one `messages` column
    holding each example's JSON list. UTF-8 (with or without BOM) or Windows-1252; `,` or `;`."""
    import pandas as pd

    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise ImportProblem(_("encodage du CSV illisible : enregistre-le en « CSV UTF-8 »."))
    if not text.strip():
        raise ImportProblem(_("le fichier est vide."))
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=None, engine="python", dtype=str, keep_default_na=False
        )
    except Exception as exc:
        raise ImportProblem(
            _("CSV illisible ({error}). Vérifie les guillemets et le séparateur (, ou ;).").format(
                error=exc
            )
        ) from None
    columns: dict[str, Any] = {}
    for c in df.columns:
        key = str(c).strip().lower()
        key = "messages" if key == "messages" else CSV_ALIASES.get(key, "")
        if key and key not in columns:
            columns[key] = c
    if {"user", "preferred", "non_preferred"} <= set(columns):
        return Imported(_pairs(df, columns))
    if "messages" not in columns and not {"user", "assistant"} <= set(columns):
        raise ImportProblem(
            _(
                "colonnes trouvées : {columns}. Il faut au moins une colonne « user » (la question) "
                "et une colonne « assistant » (la réponse), et si tu veux « system »."
            ).format(columns=", ".join(map(str, df.columns)))
        )
    entries: list[Entry] = []
    for record in df.to_dict(orient="records"):
        cell = {k: str(record.get(c, "") or "") for k, c in columns.items()}
        if cell.get("messages", "").strip():
            messages, err = dataset.parse_json(cell["messages"])
            entries.append(cell["messages"] if err is not None else {"messages": messages})
            continue
        system = cell.get("system", "")
        messages = [{"role": "system", "content": system}] if system.strip() else []
        messages.append({"role": "user", "content": cell.get("user", "")})
        messages.append({"role": "assistant", "content": cell.get("assistant", "")})
        entries.append({"messages": messages})
    return Imported(entries)


def _pairs(df: Any, columns: dict[str, Any]) -> list[Entry]:
    """Preference pairs from columns user / preferred / non_preferred (and system, or a whole
    pair's JSON in `pair`)."""
    entries: list[Entry] = []
    for record in df.to_dict(orient="records"):
        cell = {k: str(record.get(c, "") or "") for k, c in columns.items()}
        if cell.get("pair", "").strip():
            try:
                entries.append(json.loads(cell["pair"]))
            except ValueError:
                entries.append(cell["pair"])
            continue
        entries.append(
            preference_data.pair(
                cell["user"], cell["preferred"], cell["non_preferred"], cell.get("system") or None
            )
        )
    return entries


def dumps_csv(examples: Iterable[dict[str, Any]]) -> str:
    """The CSV export: columns system / user / assistant, plus `messages` (JSON) for the
    examples those columns cannot hold (see `dataset.to_dataframe`); preference pairs: columns
    system / user / preferred / non_preferred, plus `pair` (JSON)."""
    examples = list(examples)
    if examples and all(preference_data.is_pair(e) for e in examples):
        df = preference_data.to_dataframe(examples)
        if "pair" in df.columns:
            df = df.assign(
                pair=[
                    json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else ""
                    for v in df["pair"]
                ]
            )
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        return buf.getvalue()
    df = dataset.to_dataframe(examples)
    if "messages" in df.columns:
        df = df.assign(
            messages=[
                json.dumps(m, ensure_ascii=False) if isinstance(m, list) else ""
                for m in df["messages"]
            ]
        )
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue()
