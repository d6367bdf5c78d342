"""Chat datasets in JSONL: read, check, count, describe, write; to and from pandas.

`check_bytes` reports **every** problem, each with its line number, in French, with the fix.
It never raises on bad input. The sandbox validates uploads with the same code (it turns the
problems into the real API's English messages), so the learner's check and the "server"
always agree.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import models, tokens

Severity = Literal["error", "warning"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
TOP_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}
MESSAGE_KEYS = {"role", "content", "name", "weight", "tool_calls", "function_call", "tool_call_id", "refusal"}


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
            where += f", champ {self.field}"
        icon = "❌" if self.severity == "error" else "⚠️"
        return f"{icon} {where} : {self.message} → {self.fix}"


@dataclass
class Example:
    line: int
    data: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.data.get("messages", [])


@dataclass
class Report:
    """The result of a check. `ok` means: ready to upload (no error; warnings allowed)."""

    model: str
    examples: list[Example] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    token_counts: list[int] = field(default_factory=list)  # one per example
    n_lines: int = 0

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
        return models.estimate_cost(self.token_counts, self.model, n_epochs)

    def stats(self) -> dict[str, Any]:
        """The figures the OpenAI Cookbook prints, as a dict."""
        n_messages = [len(e.messages) for e in self.examples]
        return {
            "exemples": len(self.examples),
            "messages_par_exemple": _distribution(n_messages),
            "jetons_par_exemple": _distribution(self.token_counts),
            "jetons_total": sum(self.token_counts),
            "exemples_trop_longs": sum(
                t > _limit(self.model) for t in self.token_counts
            ),
        }

    def summary(self) -> str:
        """A short French verdict, then every problem (one per line)."""
        n = len(self.examples)
        if self.ok:
            head = f"✅ {n} exemples prêts à envoyer"
        else:
            head = f"❌ {len(self.errors)} erreur(s) à corriger avant l'envoi ({n} exemple(s) lisible(s))"
        if self.warnings:
            head += f", {len(self.warnings)} avertissement(s)"
        return "\n".join([head + ".", *(str(p) for p in self.problems)])

    def to_dataframe(self):  # -> pandas.DataFrame
        return to_dataframe([e.data for e in self.examples])

    def problems_dataframe(self):  # -> pandas.DataFrame
        import pandas as pd

        rows = [
            {"ligne": p.line, "champ": p.field, "gravité": p.severity, "problème": p.message, "solution": p.fix}
            for p in self.problems
        ]
        return pd.DataFrame(rows, columns=["ligne", "champ", "gravité", "problème", "solution"])


class DatasetError(ValueError):
    """Raised by `read_jsonl` when a file is not ready; carries the full report."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(report.summary())


def _limit(model: str) -> int:
    info = models.get(model)
    return info.example_token_limit if info else 65_536


def _distribution(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "max": 0, "moyenne": 0, "médiane": 0}
    return {
        "min": min(values),
        "max": max(values),
        "moyenne": round(statistics.fmean(values), 1),
        "médiane": statistics.median(values),
    }


# ---------------------------------------------------------------------------------------
# Line-level JSON diagnosis


def _json_problem(text: str, err: json.JSONDecodeError, line: int) -> Problem:
    stripped = text.strip()
    fix = "Écris un objet JSON complet par ligne, par exemple {\"messages\": [...]}."
    if re.search(r",\s*[}\]]", stripped):
        msg, fix = "virgule en trop avant une accolade ou un crochet fermant", "Supprime la virgule finale."
    elif stripped.startswith("{") and err.msg.startswith(("Expecting", "Unterminated")) and err.pos >= len(stripped) - 1:
        msg = "l'objet JSON s'arrête en fin de ligne : il continue sur plusieurs lignes ou il manque une fermeture"
        fix = "Mets chaque exemple entier sur UNE seule ligne (JSONL), et ferme tous les { et [."
    elif stripped in ("[", "]", "{", "}", "},", "],") or stripped.startswith(("\"role\"", "{\"role\"", "[")):
        msg = "ce n'est pas un exemple complet (JSON réparti sur plusieurs lignes ?)"
        fix = "Mets chaque exemple entier sur UNE seule ligne (JSONL), sans crochets autour du fichier."
    elif "'" in stripped and "Expecting property name" in err.msg:
        msg, fix = "guillemets simples ' ' : JSON exige des guillemets doubles", "Remplace les ' par des \"."
    else:
        msg = f"JSON invalide ({err.msg}, colonne {err.colno})"
    return Problem("invalid_json", msg, fix, line=line)


# ---------------------------------------------------------------------------------------
# Example-level checks


def _check_message(msg: Any, i: int, where: str, line: int, ex: int) -> Iterator[Problem]:
    def p(code: str, message: str, fix: str, fld: str, severity: Severity = "error") -> Problem:
        return Problem(code, message, fix, line=line, field=f"{where}.{fld}" if fld else where,
                       severity=severity, example=ex, message_index=i + 1)

    if not isinstance(msg, dict):
        yield p("message_not_object", "un message doit être un objet {\"role\": …, \"content\": …}",
                "Écris chaque message comme {\"role\": \"user\", \"content\": \"…\"}.", "")
        return
    role = msg.get("role")
    if "role" not in msg:
        yield p("missing_role", "le message n'a pas de champ \"role\"",
                "Ajoute \"role\": \"system\", \"user\" ou \"assistant\".", "role")
    elif role not in ROLES:
        yield p("bad_role", f"rôle inconnu {role!r}",
                "Utilise \"system\", \"user\" ou \"assistant\" (ou \"tool\" pour un résultat d'outil).", "role")
    for key in sorted(set(msg) - MESSAGE_KEYS):
        yield p("unknown_message_key", f"clé inconnue {key!r} dans le message",
                "Garde seulement role, content (et name, weight, tool_calls si besoin).", key)
    has_calls = bool(msg.get("tool_calls") or msg.get("function_call"))
    if "content" not in msg:
        if not (role == "assistant" and has_calls):
            yield p("missing_content", "le message n'a pas de champ \"content\"",
                    "Ajoute \"content\": \"ton texte\".", "content")
    else:
        content = msg["content"]
        if content is None:
            if not (role == "assistant" and has_calls):
                yield p("null_content", "\"content\" vaut null", "Mets un texte entre guillemets.", "content")
        elif isinstance(content, list):
            if not content or not all(isinstance(c, dict) and isinstance(c.get("type"), str) for c in content):
                yield p("bad_content", "\"content\" est une liste mal formée",
                        "Mets simplement un texte : \"content\": \"…\".", "content")
        elif not isinstance(content, str):
            yield p("bad_content", f"\"content\" doit être un texte, pas {type(content).__name__}",
                    "Mets le contenu entre guillemets : \"content\": \"…\".", "content")
        elif not content.strip() and not has_calls:
            yield p("empty_content", "\"content\" est vide", "Écris un texte, ou supprime ce message.",
                    "content", "warning")
    if "weight" in msg:
        if msg["weight"] not in (0, 1) or isinstance(msg["weight"], bool):
            yield p("bad_weight", f"\"weight\" vaut {msg['weight']!r} : seules les valeurs 0 et 1 sont permises",
                    "Mets 0 (ne pas apprendre ce message) ou 1 (l'apprendre).", "weight")
        elif role != "assistant":
            yield p("weight_not_assistant", "\"weight\" n'est permis que sur les messages assistant",
                    "Retire \"weight\" de ce message.", "weight")
    if "name" in msg and not isinstance(msg["name"], str):
        yield p("bad_name", "\"name\" doit être un texte", "Mets le nom entre guillemets.", "name")
    if "tool_calls" in msg:
        calls = msg["tool_calls"]
        if role != "assistant":
            yield p("tool_calls_not_assistant", "\"tool_calls\" n'est permis que sur un message assistant",
                    "Déplace l'appel d'outil dans un message assistant.", "tool_calls")
        if not isinstance(calls, list) or not calls:
            yield p("bad_tool_calls", "\"tool_calls\" doit être une liste non vide",
                    "Écris \"tool_calls\": [{\"id\": …, \"type\": \"function\", \"function\": {…}}].", "tool_calls")
        else:
            for j, call in enumerate(calls):
                fn = call.get("function") if isinstance(call, dict) else None
                ok = (
                    isinstance(call, dict) and isinstance(call.get("id"), str) and call.get("type") == "function"
                    and isinstance(fn, dict) and isinstance(fn.get("name"), str)
                    and isinstance(fn.get("arguments"), str)
                )
                if not ok:
                    yield p("bad_tool_call", "appel d'outil mal formé (il faut id, type \"function\", "
                            "function.name et function.arguments en texte JSON)",
                            "Corrige cet appel : {\"id\": \"call_1\", \"type\": \"function\", "
                            "\"function\": {\"name\": \"…\", \"arguments\": \"{…}\"}}.", f"tool_calls[{j}]")
                elif fn is not None:
                    try:
                        json.loads(fn["arguments"])
                    except ValueError:
                        yield p("bad_tool_arguments", "function.arguments n'est pas un JSON valide",
                                "Mets dans arguments un objet JSON encodé en texte, ex. \"{\\\"ville\\\": \\\"Paris\\\"}\".",
                                f"tool_calls[{j}].function.arguments")
    if role == "tool" and not isinstance(msg.get("tool_call_id"), str):
        yield p("missing_tool_call_id", "un message \"tool\" doit indiquer \"tool_call_id\"",
                "Ajoute l'id de l'appel d'outil auquel il répond.", "tool_call_id")


def _check_example(obj: Any, line: int, ex: int) -> list[Problem]:
    out: list[Problem] = []

    def p(code: str, message: str, fix: str, fld: str | None = None, severity: Severity = "error") -> None:
        out.append(Problem(code, message, fix, line=line, field=fld, severity=severity, example=ex))

    if not isinstance(obj, dict):
        p("not_object", f"la ligne contient {type(obj).__name__}, pas un objet {{…}}",
          "Chaque ligne doit être un objet : {\"messages\": [...]}.")
        return out
    if "messages" not in obj:
        if "prompt" in obj or "completion" in obj:
            p("legacy_format", "format ancien prompt/completion : les modèles de chat attendent \"messages\"",
              "Réécris l'exemple en {\"messages\": [{\"role\": \"user\", …}, {\"role\": \"assistant\", …}]}.")
        else:
            p("missing_messages", "pas de clé \"messages\"",
              "Chaque ligne doit être de la forme {\"messages\": [...]}.", "messages")
        return out
    for key in sorted(set(obj) - TOP_KEYS):
        p("unknown_key", f"clé inconnue {key!r} à côté de \"messages\"",
          "Supprime cette clé (seules messages, tools, parallel_tool_calls, functions sont permises).", key)
    messages = obj["messages"]
    if not isinstance(messages, list):
        p("messages_not_list", "\"messages\" doit être une liste [...]",
          "Écris \"messages\": [ {…}, {…} ].", "messages")
        return out
    if not messages:
        p("empty_messages", "la liste \"messages\" est vide", "Ajoute au moins un message user et un assistant.",
          "messages")
        return out
    for i, msg in enumerate(messages):
        out.extend(_check_message(msg, i, f"messages[{i}]", line, ex))
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if "assistant" not in roles:
        p("no_assistant", "aucun message \"assistant\" : le modèle n'a rien à apprendre",
          "Ajoute la réponse attendue : {\"role\": \"assistant\", \"content\": \"…\"}.", "messages")
    elif all(m.get("weight") == 0 for m in messages if isinstance(m, dict) and m.get("role") == "assistant"):
        p("all_weights_zero", "tous les messages assistant ont \"weight\": 0 : rien à apprendre",
          "Mets \"weight\": 1 (ou retire weight) sur au moins une réponse.", "messages")
    if "tools" in obj and not isinstance(obj["tools"], list):
        p("bad_tools", "\"tools\" doit être une liste", "Écris \"tools\": [{\"type\": \"function\", …}].", "tools")
    return out


# ---------------------------------------------------------------------------------------
# Whole-file check


def _decode(data: bytes) -> tuple[str, list[Problem]]:
    problems: list[Problem] = []
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem("bom", "le fichier commence par un BOM (UTF-8 « avec signature »)",
                                "Enregistre-le en « UTF-8 » sans BOM (VS Code : en bas à droite, "
                                "« Save with Encoding » → UTF-8).", line=1))
        data = data[3:]
    try:
        return data.decode("utf-8"), problems
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        problems.append(Problem("not_utf8", f"le fichier n'est pas en UTF-8 (octet illisible en position {err.start})",
                                "Enregistre le fichier en UTF-8 (pas en Latin-1 / Windows-1252).", line=line))
        return data.decode("utf-8", errors="replace"), problems


def check_bytes(data: bytes, model: str = models.DEFAULT_MODEL) -> Report:
    """Check a JSONL file's content. Never raises; every problem carries its line."""
    report = Report(model=model)
    text, report.problems = _decode(data)
    if not text.strip():
        report.problems.append(Problem("empty_file", "le fichier est vide",
                                       "Écris au moins 10 exemples, un par ligne.", line=None))
        return report
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line, it is not a blank line
    report.n_lines = len(lines)
    limit = _limit(model)
    encoder = tokens.encoding_for(model)
    seen: dict[str, int] = {}
    cache: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped:
            report.problems.append(Problem("blank_line", "ligne vide", "Supprime cette ligne vide.", line=number))
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as err:
            report.problems.append(_json_problem(raw, err, number))
            continue
        ex = len(report.examples) + 1
        found = _check_example(obj, number, ex)
        report.problems.extend(found)
        if any(p.code in _UNUSABLE for p in found):
            continue
        report.examples.append(Example(number, obj))
        n_tokens = _count(obj["messages"], model, encoder, cache)
        report.token_counts.append(n_tokens)
        if n_tokens > limit:
            report.problems.append(Problem("too_long", f"exemple de {n_tokens} jetons, plus que la limite de "
                                           f"{limit} pour {model} : il sera tronqué",
                                           "Raccourcis cet exemple ou coupe-le en plusieurs.",
                                           line=number, severity="warning", example=ex))
        key = json.dumps(obj, sort_keys=True, ensure_ascii=False)
        if key in seen:
            report.problems.append(Problem("duplicate", f"doublon exact de la ligne {seen[key]}",
                                           "Supprime le doublon ou varie la question.", line=number,
                                           severity="warning", example=ex))
        else:
            seen[key] = number
    n = len(report.examples)
    if n < models.MIN_EXAMPLES:
        report.problems.append(Problem(
            "too_few_examples",
            f"{n} exemple(s) : l'API d'OpenAI en exige au moins {models.MIN_EXAMPLES}",
            f"Ajoute au moins {models.MIN_EXAMPLES - n} exemple(s) (50 à 100 donnent de meilleurs résultats).",
        ))
    return report


# Problems after which an example cannot be counted or trained on.
_UNUSABLE = {"not_object", "legacy_format", "missing_messages", "messages_not_list", "empty_messages",
             "message_not_object"}


def _count(messages: list[Any], model: str, encoder: tokens.Encoder, cache: dict[str, int]) -> int:
    # Repeated strings (system prompts, short replies) are encoded once per file.
    total = tokens.TOKENS_REPLY_PRIMER
    for message in messages:
        total += tokens.TOKENS_PER_MESSAGE
        if not isinstance(message, dict):
            continue
        for key, value in message.items():
            if value is None or key == "weight":
                continue
            text = tokens._value_text(value)
            n = cache.get(text)
            if n is None:
                n = cache[text] = len(encoder.encode(text, disallowed_special=()))
            total += n + (tokens.TOKENS_PER_NAME if key == "name" else 0)
    return total


def check_file(path: str | Path, model: str = models.DEFAULT_MODEL) -> Report:
    """Check a file on disk. A missing file is reported (not raised)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        report = Report(model=model)
        report.problems.append(Problem("unreadable", f"impossible de lire {path} ({err.strerror})",
                                       "Vérifie le chemin du fichier (il doit finir par .jsonl)."))
        return report
    report = check_bytes(data, model)
    if path.suffix.lower() != ".jsonl":
        report.problems.insert(0, Problem("bad_extension", f"le nom du fichier finit par {path.suffix or '(rien)'!r}",
                                          "Renomme-le en .jsonl : l'API refuse les autres extensions."))
    return report


def check_examples(examples: Iterable[dict[str, Any]], model: str = models.DEFAULT_MODEL) -> Report:
    """Check examples held in memory (e.g. the dataset table): line N = example N."""
    return check_bytes(dumps_jsonl(examples).encode("utf-8"), model)


def read_jsonl(path: str | Path, model: str = models.DEFAULT_MODEL) -> list[dict[str, Any]]:
    """The examples of a file that is ready to upload; `DatasetError` (with the report) otherwise."""
    report = check_file(path, model)
    if not report.ok:
        raise DatasetError(report)
    return [e.data for e in report.examples]


def dumps_jsonl(examples: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples)


def write_jsonl(examples: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write UTF-8 without BOM, one object per line, `\\n` line ends. Atomic."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(dumps_jsonl(examples).encode("utf-8"))
    tmp.replace(path)
    return path


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
        simple = roles in (["user", "assistant"], ["system", "user", "assistant"]) and all(
            isinstance(m.get("content"), str) and set(m) <= {"role", "content"} for m in msgs
        ) and set(e) == {"messages"}
        if simple:
            for m in msgs:
                row[m["role"]] = m["content"]
        else:
            row["messages"] = msgs
        rows.append(row)
    df = pd.DataFrame(rows, columns=["system", "user", "assistant", "messages"])
    if df["messages"].isna().all():
        df = df.drop(columns="messages")
    return df


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


def token_distribution(report: Report) -> Counter:
    return Counter(report.token_counts)
