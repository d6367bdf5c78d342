"""Chat datasets in JSONL: read, check, count, describe, write; to and from pandas.

`check_bytes` reports **every** problem, each with its line number, in French, with the fix.
It never raises on bad input. The sandbox validates uploads with the same code (it turns the
problems into the real API's English messages), so the learner's check and the "server"
always agree.
"""

from __future__ import annotations

import gc
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import models, tokens
from .exceptions import DatasetError

Severity = Literal["error", "warning"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
TOP_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}
MESSAGE_KEYS = {
    "role",
    "content",
    "name",
    "weight",
    "tool_calls",
    "function_call",
    "tool_call_id",
    "refusal",
}


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
    n_lines: int = 0
    # Token counts, one per example. Counting is the costly part of a check, and no check
    # needs it for short examples (tokens ≤ UTF-8 bytes ≤ 4 × characters, so a line shorter
    # than limit/4 cannot be too long): those are counted on first access, exactly.
    _counts: list[int | None] = field(default_factory=list, repr=False)
    _counter: Any = field(default=None, repr=False)

    @property
    def token_counts(self) -> list[int]:
        if any(c is None for c in self._counts):
            count = self._counter or _Counter(self.model)
            self._counts = [
                c if c is not None else count(e.messages)
                for c, e in zip(self._counts, self.examples, strict=True)
            ]
        return self._counts  # type: ignore[return-value]

    @token_counts.setter
    def token_counts(self, values: list[int]) -> None:
        self._counts = list(values)

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
        count = self._counter or _Counter(self.model)
        roles = [{m.get("role") for m in e.messages if isinstance(m, dict)} for e in self.examples]
        assistant_tokens = [  # the Cookbook's num_assistant_tokens_from_messages
            sum(
                count.text_tokens(m.get("content"))
                for m in e.messages
                if isinstance(m, dict) and m.get("role") == "assistant"
            )
            for e in self.examples
        ]
        return {
            "exemples": len(self.examples),
            "exemples_sans_system": sum("system" not in r for r in roles),
            "exemples_sans_user": sum("user" not in r for r in roles),
            "messages_par_exemple": _distribution(n_messages),
            "jetons_par_exemple": _distribution(self.token_counts),
            "jetons_assistant_par_exemple": _distribution(assistant_tokens),
            "jetons_total": sum(self.token_counts),
            "exemples_trop_longs": sum(t > _limit(self.model) for t in self.token_counts),
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
            {
                "ligne": p.line,
                "champ": p.field,
                "gravité": p.severity,
                "problème": p.message,
                "solution": p.fix,
            }
            for p in self.problems
        ]
        return pd.DataFrame(rows, columns=["ligne", "champ", "gravité", "problème", "solution"])


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
    fix = 'Écris un objet JSON complet par ligne, par exemple {"messages": [...]}.'
    if re.search(r",\s*[}\]]", stripped):
        msg, fix = (
            "virgule en trop avant une accolade ou un crochet fermant",
            "Supprime la virgule finale.",
        )
    elif (
        stripped.startswith("{")
        and err.msg.startswith(("Expecting", "Unterminated"))
        and err.pos >= len(stripped) - 1
    ):
        msg = "l'objet JSON s'arrête en fin de ligne : il continue sur plusieurs lignes ou il manque une fermeture"
        fix = "Mets chaque exemple entier sur UNE seule ligne (JSONL), et ferme tous les { et [."
    elif stripped in ("[", "]", "{", "}", "},", "],") or stripped.startswith(
        ('"role"', '{"role"', "[")
    ):
        msg = "ce n'est pas un exemple complet (JSON réparti sur plusieurs lignes ?)"
        fix = "Mets chaque exemple entier sur UNE seule ligne (JSONL), sans crochets autour du fichier."
    elif "'" in stripped and "Expecting property name" in err.msg:
        msg, fix = (
            "guillemets simples ' ' : JSON exige des guillemets doubles",
            "Remplace les ' par des \".",
        )
    else:
        msg = f"JSON invalide ({err.msg}, colonne {err.colno})"
    return Problem("invalid_json", msg, fix, line=line)


# ---------------------------------------------------------------------------------------
# Example-level checks


def _check_message(msg: Any, i: int, where: str, line: int, ex: int) -> Iterator[Problem]:
    def p(code: str, message: str, fix: str, fld: str, severity: Severity = "error") -> Problem:
        return Problem(
            code,
            message,
            fix,
            line=line,
            field=f"{where}.{fld}" if fld else where,
            severity=severity,
            example=ex,
            message_index=i + 1,
        )

    if not isinstance(msg, dict):
        yield p(
            "message_not_object",
            'un message doit être un objet {"role": …, "content": …}',
            'Écris chaque message comme {"role": "user", "content": "…"}.',
            "",
        )
        return
    role = msg.get("role")
    if "role" not in msg:
        yield p(
            "missing_role",
            'le message n\'a pas de champ "role"',
            'Ajoute "role": "system", "user" ou "assistant".',
            "role",
        )
    elif not isinstance(role, str) or role not in ROLES:
        lower = role.strip().lower() if isinstance(role, str) else None
        fix = (
            f'Écris le rôle en minuscules, sans espace : "{lower}".'
            if lower in ROLES
            else 'Utilise "system", "user" ou "assistant" (ou "tool" pour un résultat d\'outil).'
        )
        yield p("bad_role", f"rôle inconnu {role!r}", fix, "role")
    for key in sorted(set(msg) - MESSAGE_KEYS):
        yield p(
            "unknown_message_key",
            f"clé inconnue {key!r} dans le message",
            "Garde seulement role, content (et name, weight, tool_calls si besoin).",
            key,
        )
    has_calls = bool(msg.get("tool_calls") or msg.get("function_call"))
    if "content" not in msg:
        if not (role == "assistant" and has_calls):
            yield p(
                "missing_content",
                'le message n\'a pas de champ "content"',
                'Ajoute "content": "ton texte".',
                "content",
            )
    else:
        content = msg["content"]
        if content is None:
            if not (role == "assistant" and has_calls):
                yield p(
                    "null_content",
                    '"content" vaut null',
                    "Mets un texte entre guillemets.",
                    "content",
                )
        elif isinstance(content, list):
            if not content or not all(
                isinstance(c, dict) and isinstance(c.get("type"), str) for c in content
            ):
                yield p(
                    "bad_content",
                    '"content" est une liste mal formée',
                    'Mets simplement un texte : "content": "…".',
                    "content",
                )
        elif not isinstance(content, str):
            yield p(
                "bad_content",
                f'"content" doit être un texte, pas {type(content).__name__}',
                'Mets le contenu entre guillemets : "content": "…".',
                "content",
            )
        elif not content.strip() and not has_calls:
            yield p(
                "empty_content",
                '"content" est vide',
                "Écris un texte, ou supprime ce message.",
                "content",
                "warning",
            )
    if "weight" in msg:
        if msg["weight"] not in (0, 1) or isinstance(msg["weight"], bool):
            yield p(
                "bad_weight",
                f'"weight" vaut {msg["weight"]!r} : seules les valeurs 0 et 1 sont permises',
                "Mets 0 (ne pas apprendre ce message) ou 1 (l'apprendre).",
                "weight",
            )
        elif role != "assistant":
            yield p(
                "weight_not_assistant",
                '"weight" n\'est permis que sur les messages assistant',
                'Retire "weight" de ce message.',
                "weight",
            )
    if "name" in msg and not isinstance(msg["name"], str):
        yield p("bad_name", '"name" doit être un texte', "Mets le nom entre guillemets.", "name")
    if "tool_calls" in msg:
        calls = msg["tool_calls"]
        if role != "assistant":
            yield p(
                "tool_calls_not_assistant",
                '"tool_calls" n\'est permis que sur un message assistant',
                "Déplace l'appel d'outil dans un message assistant.",
                "tool_calls",
            )
        if not isinstance(calls, list) or not calls:
            yield p(
                "bad_tool_calls",
                '"tool_calls" doit être une liste non vide',
                'Écris "tool_calls": [{"id": …, "type": "function", "function": {…}}].',
                "tool_calls",
            )
        else:
            for j, call in enumerate(calls):
                fn = call.get("function") if isinstance(call, dict) else None
                ok = (
                    isinstance(call, dict)
                    and isinstance(call.get("id"), str)
                    and call.get("type") == "function"
                    and isinstance(fn, dict)
                    and isinstance(fn.get("name"), str)
                    and isinstance(fn.get("arguments"), str)
                )
                if not ok:
                    yield p(
                        "bad_tool_call",
                        'appel d\'outil mal formé (il faut id, type "function", '
                        "function.name et function.arguments en texte JSON)",
                        'Corrige cet appel : {"id": "call_1", "type": "function", '
                        '"function": {"name": "…", "arguments": "{…}"}}.',
                        f"tool_calls[{j}]",
                    )
                elif fn is not None:
                    try:
                        json.loads(fn["arguments"])
                    except ValueError:
                        yield p(
                            "bad_tool_arguments",
                            "function.arguments n'est pas un JSON valide",
                            'Mets dans arguments un objet JSON encodé en texte, ex. "{\\"ville\\": \\"Paris\\"}".',
                            f"tool_calls[{j}].function.arguments",
                        )
    if role == "tool" and not isinstance(msg.get("tool_call_id"), str):
        yield p(
            "missing_tool_call_id",
            'un message "tool" doit indiquer "tool_call_id"',
            "Ajoute l'id de l'appel d'outil auquel il répond.",
            "tool_call_id",
        )


def _check_example(obj: Any, line: int, ex: int) -> list[Problem]:
    out: list[Problem] = []

    def p(
        code: str, message: str, fix: str, fld: str | None = None, severity: Severity = "error"
    ) -> None:
        out.append(Problem(code, message, fix, line=line, field=fld, severity=severity, example=ex))

    if not isinstance(obj, dict):
        p(
            "not_object",
            f"la ligne contient {type(obj).__name__}, pas un objet {{…}}",
            'Chaque ligne doit être un objet : {"messages": [...]}.',
        )
        return out
    if "messages" not in obj:
        if "prompt" in obj or "completion" in obj:
            p(
                "legacy_format",
                'format ancien prompt/completion : les modèles de chat attendent "messages"',
                'Réécris l\'exemple en {"messages": [{"role": "user", …}, {"role": "assistant", …}]}.',
            )
        else:
            p(
                "missing_messages",
                'pas de clé "messages"',
                'Chaque ligne doit être de la forme {"messages": [...]}.',
                "messages",
            )
        return out
    for key in sorted(set(obj) - TOP_KEYS):
        p(
            "unknown_key",
            f'clé inconnue {key!r} à côté de "messages"',
            "Supprime cette clé (seules messages, tools, parallel_tool_calls, functions sont permises).",
            key,
        )
    messages = obj["messages"]
    if not isinstance(messages, list):
        p(
            "messages_not_list",
            '"messages" doit être une liste [...]',
            'Écris "messages": [ {…}, {…} ].',
            "messages",
        )
        return out
    if not messages:
        p(
            "empty_messages",
            'la liste "messages" est vide',
            "Ajoute au moins un message user et un assistant.",
            "messages",
        )
        return out
    for i, msg in enumerate(messages):
        out.extend(_check_message(msg, i, f"messages[{i}]", line, ex))
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if len(roles) < len(messages):
        pass  # messages that are not objects are reported above; no guess about roles
    elif "assistant" not in roles:
        p(
            "no_assistant",
            'aucun message "assistant" : le modèle n\'a rien à apprendre',
            'Ajoute la réponse attendue : {"role": "assistant", "content": "…"}.',
            "messages",
        )
    elif all(
        m.get("weight") == 0
        for m in messages
        if isinstance(m, dict) and m.get("role") == "assistant"
    ):
        p(
            "all_weights_zero",
            'tous les messages assistant ont "weight": 0 : rien à apprendre',
            'Mets "weight": 1 (ou retire weight) sur au moins une réponse.',
            "messages",
        )
    if "tools" in obj and not isinstance(obj["tools"], list):
        p(
            "bad_tools",
            '"tools" doit être une liste',
            'Écris "tools": [{"type": "function", …}].',
            "tools",
        )
    return out


# ---------------------------------------------------------------------------------------
# Whole-file check


def _decode(data: bytes) -> tuple[str, list[Problem]]:
    problems: list[Problem] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(
            Problem(
                "utf16",
                "le fichier est en UTF-16 (Unicode « 16 bits »), pas en UTF-8",
                "Enregistre-le en « UTF-8 » (Bloc-notes : Enregistrer sous → Codage : UTF-8).",
                line=1,
            )
        )
        for codec in ("utf-16", "latin-1"):
            try:
                return data.decode(codec), problems
            except UnicodeDecodeError:
                continue
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append(
            Problem(
                "bom",
                "le fichier commence par un BOM (UTF-8 « avec signature »)",
                "Enregistre-le en « UTF-8 » sans BOM (VS Code : en bas à droite, "
                "« Save with Encoding » → UTF-8).",
                line=1,
            )
        )
        data = data[3:]
    try:
        return data.decode("utf-8"), problems
    except UnicodeDecodeError:
        pass
    # Report every line that is not UTF-8 (not only the first one).
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(
                Problem(
                    "not_utf8",
                    f"ligne pas en UTF-8 (octet illisible en colonne {err.start + 1} : "
                    "accent enregistré en Latin-1 / Windows-1252 ?)",
                    "Enregistre le fichier en UTF-8 (VS Code : « Save with Encoding » → UTF-8).",
                    line=number,
                )
            )
    return data.decode("utf-8", errors="replace"), problems


_SIMPLE_KEYS = frozenset(("role", "content"))
_SIMPLE_ROLES = frozenset(("system", "user", "assistant"))
_MAX_JOIN = 200  # lines tried when looking for one JSON object spread over several lines


def _simple_ok(obj: Any) -> bool:
    """Fast path: {"messages": [{"role": system|user|assistant, "content": non-blank str}, …]}
    with an assistant message. Anything else goes through the full checks."""
    if type(obj) is not dict or len(obj) != 1:
        return False
    msgs = obj.get("messages")
    if type(msgs) is not list or not msgs:
        return False
    assistant = False
    for m in msgs:
        if type(m) is not dict or not m.keys() <= _SIMPLE_KEYS:
            return False
        role = m.get("role")
        content = m.get("content")
        if type(role) is not str or role not in _SIMPLE_ROLES or type(content) is not str:
            return False
        if not content or content.isspace():
            return False
        if role == "assistant":
            assistant = True
    return assistant


def _parse(raw: str) -> tuple[Any, Exception | None]:
    try:
        return json.loads(raw), None
    except (ValueError, RecursionError) as err:  # JSONDecodeError, too many digits, too deep
        return None, err


def _parse_problem(raw: str, err: Exception, line: int) -> Problem:
    if isinstance(err, json.JSONDecodeError):
        return _json_problem(raw, err, line)
    if isinstance(err, RecursionError):
        msg = "JSON imbriqué trop profondément (des milliers de [ ou { ouverts)"
    else:
        msg = f"valeur JSON illisible ({str(err)[:80]})"
    return Problem("invalid_json", msg, 'Écris un exemple simple : {"messages": [...]}.', line=line)


def _multiline(lines: list[str], start: int) -> int | None:
    """If lines[start:] hold one JSON object spread over several lines, the index of its last line."""
    first = lines[start].lstrip()
    if not first.startswith(("{", "[")):
        return None
    parts = [lines[start]]
    for j in range(start + 1, min(len(lines), start + _MAX_JOIN)):
        parts.append(lines[j])
        joined = "\n".join(parts).rstrip().rstrip(",")
        if joined.endswith(("}", "]")):
            obj, err = _parse(joined)
            if err is None and isinstance(obj, (dict, list)):
                return j
    return None


def check_bytes(data: bytes, model: str = models.DEFAULT_MODEL) -> Report:
    """Check a JSONL file's content. Never raises; every problem carries its line."""
    report = Report(model=model)
    gc_was_on = gc.isenabled()
    gc.disable()  # parsing allocates many containers, none cyclic: collections only cost time
    try:
        return _check(data, model, report)
    except Exception as err:  # pragma: no cover - a bug must not hide the file's problems
        report.problems.append(
            Problem(
                "internal",
                f"vérification interrompue ({type(err).__name__})",
                "Signale ce fichier à ton formateur.",
                line=None,
            )
        )
        return report
    finally:
        if gc_was_on:
            gc.enable()


def _check(data: bytes, model: str, report: Report) -> Report:
    text, report.problems = _decode(data)
    problems = report.problems
    if not text.strip():
        problems.append(
            Problem(
                "empty_file",
                "le fichier est vide",
                "Écris au moins 10 exemples, un par ligne.",
                line=None,
            )
        )
        return report
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line, it is not a blank line
    report.n_lines = len(lines)
    limit = _limit(model)
    counter = report._counter = _Counter(model)
    bound_slack = tokens.TOKENS_REPLY_PRIMER
    seen: dict[str, int] = {}
    examples = report.examples
    counts = report._counts
    skip_until = -1
    for index, raw in enumerate(lines):
        if index <= skip_until:
            continue
        number = index + 1
        obj, err = _parse(raw)
        if err is not None:
            if not raw.strip():
                problems.append(
                    Problem("blank_line", "ligne vide", "Supprime cette ligne vide.", line=number)
                )
                continue
            if raw.rstrip().endswith(","):
                obj, err2 = _parse(raw.rstrip()[:-1])
                if err2 is None:
                    problems.append(
                        Problem(
                            "trailing_comma",
                            "virgule en trop à la fin de la ligne",
                            "Supprime la virgule finale : en JSONL, les exemples ne sont pas "
                            "séparés par des virgules.",
                            line=number,
                        )
                    )
                    _check_parsed(
                        obj, number, report, seen, raw.rstrip()[:-1], limit, model, counter
                    )
                    continue
            last = _multiline(lines, index)
            if last is not None:
                problems.append(
                    Problem(
                        "multiline_json",
                        f"un exemple est écrit sur plusieurs lignes (lignes {number} à {last + 1})",
                        "Mets chaque exemple entier sur UNE seule ligne (JSONL) : supprime les retours à la ligne "
                        "à l'intérieur de l'objet.",
                        line=number,
                    )
                )
                skip_until = last
                continue
            problems.append(_parse_problem(raw, err, number))
            continue
        if _simple_ok(obj):
            # Fast path: a well-formed plain chat example; tokens counted only if it may be too long.
            ex = len(examples) + 1
            examples.append(Example(number, obj))
            if len(raw) * 4 + bound_slack > limit:
                total = counter(obj["messages"])
                counts.append(total)
                if total > limit:
                    problems.append(_too_long(total, limit, model, number, ex))
            else:
                counts.append(None)
            key = raw.strip()
            first = seen.get(key)
            if first is None:
                seen[key] = number
            else:
                problems.append(_duplicate(first, number, ex))
            continue
        _check_parsed(obj, number, report, seen, raw, limit, model, counter)
    n = len(examples)
    if n < models.MIN_EXAMPLES:
        problems.append(
            Problem(
                "too_few_examples",
                f"{n} exemple(s) : l'API d'OpenAI en exige au moins {models.MIN_EXAMPLES}",
                f"Ajoute au moins {models.MIN_EXAMPLES - n} exemple(s) (50 à 100 donnent de meilleurs résultats).",
            )
        )
    return report


def _too_long(n_tokens: int, limit: int, model: str, line: int, ex: int) -> Problem:
    return Problem(
        "too_long",
        f"exemple de {n_tokens} jetons, plus que la limite de {limit} pour {model} : "
        "il sera tronqué",
        "Raccourcis cet exemple ou coupe-le en plusieurs.",
        line=line,
        severity="warning",
        example=ex,
    )


def _duplicate(first: int, line: int, ex: int) -> Problem:
    return Problem(
        "duplicate",
        f"doublon exact de la ligne {first}",
        "Supprime le doublon ou varie la question.",
        line=line,
        severity="warning",
        example=ex,
    )


def _check_parsed(
    obj: Any,
    number: int,
    report: Report,
    seen: dict[str, int],
    raw: str,
    limit: int,
    model: str,
    counter: _Counter,
) -> None:
    """The full checks, for anything the fast path did not accept."""
    ex = len(report.examples) + 1
    found = _check_example(obj, number, ex)
    report.problems.extend(found)
    if any(p.code in _UNUSABLE for p in found):
        return
    report.examples.append(Example(number, obj))
    n_tokens = counter(obj["messages"])
    report._counts.append(n_tokens)
    if n_tokens > limit:
        report.problems.append(_too_long(n_tokens, limit, model, number, ex))
    try:
        key = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError, TypeError):
        key = raw.strip()
    first = seen.get(key) or seen.get(raw.strip())
    if first is None:
        seen[key] = number
    else:
        report.problems.append(_duplicate(first, number, ex))


# Problems after which an example cannot be counted or trained on.
_UNUSABLE = {
    "not_object",
    "legacy_format",
    "missing_messages",
    "messages_not_list",
    "empty_messages",
    "message_not_object",
}


def _encoder_function(model: str) -> Any:
    """The fastest exact `str -> token ids` function available (no special-token checks)."""
    enc = tokens.encoding_for(model)
    core = getattr(enc, "_core_bpe", None)
    if core is not None and hasattr(core, "encode_ordinary"):
        return core.encode_ordinary
    fn = getattr(enc, "encode_ordinary", None)
    return fn or (lambda text: enc.encode(text, disallowed_special=()))


class _Counter:
    """Cookbook token count of an example, exact; repeated strings are encoded once."""

    def __init__(self, model: str):
        self.encode = _encoder_function(model)
        self.cache: dict[str, int] = {}

    def text_tokens(self, text: Any) -> int:
        if not isinstance(text, str):
            return 0
        n = self.cache.get(text)
        if n is None:
            n = self.cache[text] = len(self.encode(text))
        return n

    def __call__(self, messages: list[Any]) -> int:
        cache, encode = self.cache, self.encode
        total = tokens.TOKENS_REPLY_PRIMER
        for message in messages:
            total += tokens.TOKENS_PER_MESSAGE
            if not isinstance(message, dict):
                continue
            for key, value in message.items():
                if value is None or key == "weight":
                    continue
                try:
                    text = tokens._value_text(value)
                except (ValueError, RecursionError, TypeError):
                    text = str(value)[:100_000]
                n = cache.get(text)
                if n is None:
                    n = cache[text] = len(encode(text))
                total += n + (tokens.TOKENS_PER_NAME if key == "name" else 0)
        return total


def check_file(path: str | Path, model: str = models.DEFAULT_MODEL) -> Report:
    """Check a file on disk. A missing file is reported (not raised)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        report = Report(model=model)
        report.problems.append(
            Problem(
                "unreadable",
                f"impossible de lire {path} ({err.strerror})",
                "Vérifie le chemin du fichier (il doit finir par .jsonl).",
            )
        )
        return report
    report = check_bytes(data, model)
    if path.suffix.lower() != ".jsonl":
        report.problems.insert(
            0,
            Problem(
                "bad_extension",
                f"le nom du fichier finit par {path.suffix or '(rien)'!r}",
                "Renomme-le en .jsonl : l'API refuse les autres extensions.",
            ),
        )
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
