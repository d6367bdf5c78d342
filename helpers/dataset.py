"""Chat datasets in JSONL: read, check, count, describe, write; to and from pandas.

`check_bytes` reports **every** problem, each with its line number, in French, with the fix.
It never raises on bad input. The sandbox validates uploads with the same code (it turns the
problems into the real API's English messages), so the learner's check and the "server"
always agree.

What one line must be is a `Rules` object: chat examples (`CHAT`, the default) here;
preference pairs (DPO) in `helpers.preference_data`, which passes its own rules to the same
checks (encoding, JSON, duplicates, lengths, counts and cost are shared).
"""

from __future__ import annotations

import gc
import itertools
import json
import re
import statistics
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from . import models, tokens
from .exceptions import DatasetError
from .fileio import write_atomic
from .messages import content_text

Severity = Literal["error", "warning"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
TOP_KEYS = {"messages", "tools", "parallel_tool_calls", "functions"}
#: The keys of a preference pair (DPO), recognised so that a chat check can name the format.
PREFERENCE_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
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
            where += ", " + field_fr(self.field)
        icon = "❌" if self.severity == "error" else "⚠️"
        return f"{icon} {where} : {self.message} → {self.fix}"


def field_fr(path: str) -> str:
    """Where a problem is, in words a learner reads: `messages[1].content` → « message 2, champ
    content » (messages counted from 1, as in the notebooks), anything else « champ … »."""
    match = re.fullmatch(r"messages\[(\d+)\](?:\.(.+))?", path)
    if match is None:
        return f"champ {path}"
    where = f"message {int(match.group(1)) + 1}"
    return where + (f", champ {match.group(2)}" if match.group(2) else "")


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


@dataclass(frozen=True)
class Rules:
    """What each line of a dataset must be: a chat example (`CHAT`, the default) or a
    preference pair (`helpers.preference_data.PREFERENCE`). Everything else about a file
    (encoding, JSON, blank lines, duplicates, lengths, the minimum count, the cost) is checked
    the same way for both."""

    method: str  # the `method.type` of the job this file is for: "supervised" or "dpo"
    check: Callable[[Any, int, int], list[Problem]]  # (object, line, example number) → problems
    counted: Callable[[dict[str, Any]], list[Any]]  # the messages whose tokens are billed
    unusable: frozenset[str]  # problems after which the line is not an example at all
    plain_fast_path: bool = True  # plain chat lines skip the full checks (chat only)
    noun_fr: str = "exemple(s)"
    ready_fr: str = "exemples prêts à envoyer"


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
    _counter: tokens.TokenCounter | None = field(default=None, repr=False)
    _figures: _Figures | None = field(default=None, repr=False)

    @property
    def n_examples(self) -> int:
        return self._figures.n if self._figures is not None else len(self.examples)

    @property
    def method(self) -> str:
        """The job method this file was checked for: "supervised" (chat) or "dpo" (pairs)."""
        return self.rules.method if self.rules is not None else "supervised"

    @property
    def token_counts(self) -> list[int]:
        if any(c is None for c in self._counts):
            count = self._counter or tokens.TokenCounter(self.model)
            todo = [
                e.messages for c, e in zip(self._counts, self.examples, strict=True) if c is None
            ]
            done = iter(count.many(todo))
            self._counts = [c if c is not None else next(done) for c in self._counts]
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
        return models.estimate_cost(self.token_counts, self.model, n_epochs, method=self.method)

    def stats(self) -> dict[str, Any]:
        """The figures the OpenAI Cookbook prints, as a dict."""
        limit = _limit(self.model)
        figures = self._figures or _Figures.of(
            self.examples, self._counter or tokens.TokenCounter(self.model)
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
            head = f"✅ {n} {rules.ready_fr}"
        else:
            head = (
                f"❌ {len(self.errors)} erreur(s) à corriger avant l'envoi "
                f"({n} {rules.noun_fr} lisible(s))"
            )
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


@dataclass
class _Figures:
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
    def of(cls, examples: list[Example], counter: tokens.TokenCounter) -> _Figures:
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
    special = _cr_problem(text, line) or _control_problem(err, line)
    if special is not None:
        return special
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
    elif stripped.strip("\x00") == "":
        msg = "ligne faite d'octets NUL (caractère 0) : le fichier est abîmé ou mal copié"
        fix = "Supprime cette ligne (ou ré-exporte le fichier en UTF-8 depuis son logiciel d'origine)."
    else:
        msg = f"JSON invalide : {_json_reason_fr(err.msg)}, colonne {err.colno}"
    return Problem("invalid_json", msg, fix, line=line)


#: The JSON parser's messages (English), in French for the learner.
_JSON_REASONS_FR = {
    "Expecting value": "une valeur est attendue ici (texte entre guillemets, nombre, {…} ou […])",
    "Expecting property name enclosed in double quotes": (
        "un nom de champ entre guillemets doubles est attendu ici"
    ),
    "Expecting ',' delimiter": "il manque une virgule entre deux éléments",
    "Expecting ':' delimiter": "il manque les deux-points entre un champ et sa valeur",
    "Unterminated string starting at": (
        "un texte n'est pas fermé : il manque son guillemet de fin (ligne coupée ?)"
    ),
    "Extra data": "du texte en trop après la fin de l'objet",
    "Invalid \\escape": "une barre oblique inverse \\ qui n'est pas une séquence permise",
    "Invalid control character at": "un caractère de contrôle dans un texte",
}


def _json_reason_fr(reason: str) -> str:
    return _JSON_REASONS_FR.get(reason, "syntaxe JSON incorrecte")


_CONTROL_NAMES = {
    "\t": ("une tabulation", "Écris \\t à la place de la tabulation (ou supprime-la)."),
    "\x00": (
        "un octet nul (NUL, U+0000)",
        "Supprime ce caractère invisible (souvent un reste de copier-coller ou d'un fichier "
        "UTF-16), ou écris \\u0000 s'il fait partie du texte.",
    ),
    "\r": (
        "un retour chariot (CR)",
        "Supprime-le, ou écris \\r s'il fait partie du texte.",
    ),
}


def _control_problem(err: json.JSONDecodeError, line: int) -> Problem | None:
    """A raw control character inside a JSON string: which one, where, and how to write it."""
    if not err.msg.startswith("Invalid control character") or err.pos >= len(err.doc):
        return None
    char = err.doc[err.pos]
    name, fix = _CONTROL_NAMES.get(
        char,
        (
            f"un caractère de contrôle invisible (U+{ord(char):04X})",
            f"Supprime ce caractère, ou écris \\u{ord(char):04x} s'il fait partie du texte.",
        ),
    )
    return Problem(
        "control_character",
        f"caractère interdit tel quel dans un texte JSON, colonne {err.colno} : {name}",
        fix,
        line=line,
    )


_CR_BETWEEN = re.compile(r"[}\]][ \t]*\r[ \t\r]*[{\[]")  # }⏎{ : one example per CR-ended line


def _cr_problem(text: str, line: int) -> Problem | None:
    """Lines ended by CR alone (old Mac format): the whole file reads as one line."""
    inner = text.strip()
    if "\r" not in inner or not _CR_BETWEEN.search(inner):  # a CR inside a text is not a line end
        return None
    n = inner.count("\r") + 1
    return Problem(
        "cr_line_endings",
        f"fins de ligne CR seules (ancien format Mac) : {n} exemples collés sur une seule ligne",
        "Convertis les fins de ligne en LF (Unix) : Notepad++ → Édition → Convertir les sauts de "
        "ligne → Unix (LF) ; ou dans un terminal : tr '\\r' '\\n' < ancien.jsonl > nouveau.jsonl.",
        line=line,
    )


# ---------------------------------------------------------------------------------------
# Example-level checks


def check_message(msg: Any, i: int, where: str, line: int, ex: int) -> Iterator[Problem]:
    """The problems of one message (`where`: its field, e.g. `messages[1]`)."""

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
    if "tool_calls" in msg and role != "assistant":
        yield p(
            "tool_calls_not_assistant",
            '"tool_calls" n\'est permis que sur un message assistant',
            "Déplace l'appel d'outil dans un message assistant.",
            "tool_calls",
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
        if PREFERENCE_KEYS & set(obj):
            p(
                "preference_format",
                "cette ligne est une paire de préférences (format DPO : input, preferred_output, "
                "non_preferred_output), pas un exemple de chat",
                "Pour un entraînement par préférences, vérifie le fichier avec --method dpo et "
                'lance le job avec method={"type": "dpo"} (notebook 13) ; pour un entraînement '
                'supervisé, écris chaque exemple en {"messages": [...]}.',
            )
        elif "prompt" in obj or "completion" in obj:
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
        out.extend(check_message(msg, i, f"messages[{i}]", line, ex))
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
    if _has_tool_fields(obj):
        out.extend(tool_problems(obj, line, ex))
    return out


# ---------------------------------------------------------------------------------------
# Values JSON allows but the API refuses: NaN / Infinity, lone UTF-16 surrogates

# Only a line that holds one of these is walked (the fast path never sees them: orjson refuses them).
_MAYBE_NOT_PLAIN = re.compile(r"NaN|Infinity|\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _not_plain_json(obj: Any, line: int) -> Problem | None:
    """The first NaN / Infinity number or lone surrogate in a parsed line, as a problem."""
    found = _find_not_plain(obj, "")
    if found is None:
        return None
    path, value = found
    fld = path or None
    if isinstance(value, float):
        literal = "NaN" if value != value else ("-Infinity" if value < 0 else "Infinity")
        return Problem(
            "invalid_json",
            f"{literal} n'est pas une valeur JSON valide (l'API refuse NaN et Infinity)",
            "Remplace-le par un nombre (pour weight : 0 ou 1), ou mets-le entre guillemets "
            f'si c\'est du texte : "{literal}".',
            line=line,
            field=fld,
        )
    where = "une clé" if path.endswith("(clé)") else "un texte"
    return Problem(
        "lone_surrogate",
        f"{where} contient une moitié de caractère Unicode isolée ({value}, « surrogate » UTF-16 "
        "seul) : impossible à encoder en UTF-8",
        f"Supprime la séquence {value}, ou écris le caractère voulu tel quel (un emoji "
        "copié-collé, par exemple) ou avec ses deux moitiés \\ud83d\\ude00.",
        line=line,
        field=fld,
    )


def _find_not_plain(value: Any, path: str) -> tuple[str, Any] | None:
    if type(value) is float:
        return (path, value) if value - value != 0 else None  # NaN and ±inf only
    if type(value) is str:
        m = _SURROGATE.search(value)
        return (path, f"\\u{ord(m.group()):04x}") if m else None
    if type(value) is list:
        for i, item in enumerate(value):
            found = _find_not_plain(item, f"{path}[{i}]")
            if found is not None:
                return found
    elif type(value) is dict:
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            m = _SURROGATE.search(key)
            if m:
                return f"{_SURROGATE.sub('?', sub)} (clé)", f"\\u{ord(m.group()):04x}"
            found = _find_not_plain(item, sub)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------------------------------
# Tools and function calls: their shape is checked against a JSON Schema

_JSON_TEXT = "json-text"  # format: a string that holds JSON (function arguments)
_FUNCTION = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
        "description": {"type": "string"},
        "parameters": {"type": "object"},
        "strict": {"type": ["boolean", "null"]},
    },
    "additionalProperties": False,
}
_CALL = {
    "type": "object",
    "required": ["name", "arguments"],
    "properties": {
        "name": {"type": "string"},
        "arguments": {"type": "string", "format": _JSON_TEXT},
    },
    "additionalProperties": False,
}
TOOLS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "tools": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "function"],
                "properties": {"type": {"const": "function"}, "function": _FUNCTION},
                "additionalProperties": False,
            },
        },
        "functions": {"type": "array", "items": _FUNCTION},
        "parallel_tool_calls": {"type": "boolean"},
        "messages": {
            "type": "array",
            "items": {  # only messages that are objects (the other checks report the rest)
                "properties": {
                    "function_call": _CALL,
                    "tool_calls": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["id", "type", "function"],
                            "properties": {
                                "id": {"type": "string"},
                                "type": {"const": "function"},
                                "function": _CALL,
                            },
                            "additionalProperties": False,
                        },
                    },
                },
            },
        },
    },
}
_TOOL_FIXES = {
    "tools": 'Écris "tools": [{"type": "function", "function": {"name": "meteo", '
    '"description": "…", "parameters": {"type": "object", "properties": {…}}}}].',
    "functions": 'Écris "functions": [{"name": "meteo", "description": "…", '
    '"parameters": {"type": "object", "properties": {…}}}] (ou mieux : "tools").',
    "parallel_tool_calls": 'Écris "parallel_tool_calls": true ou false, sans guillemets.',
    "function_call": 'Écris "function_call": {"name": "meteo", "arguments": "{\\"ville\\": \\"Paris\\"}"} '
    "(arguments : un objet JSON encodé en texte).",
    "tool_calls": 'Écris "tool_calls": [{"id": "call_1", "type": "function", "function": '
    '{"name": "meteo", "arguments": "{\\"ville\\": \\"Paris\\"}"}}].',
}
_JSON_TYPES = {
    "array": "une liste [...]",
    "object": "un objet {…}",
    "string": "un texte entre guillemets",
    "boolean": "true ou false (sans guillemets)",
    "null": "null",
}


def _has_tool_fields(obj: dict[str, Any]) -> bool:
    if "tools" in obj or "functions" in obj or "parallel_tool_calls" in obj:
        return True
    messages = obj.get("messages")
    return isinstance(messages, list) and any(
        isinstance(m, dict) and ("function_call" in m or "tool_calls" in m) for m in messages
    )


_tools_validator: Any = None


def _validator() -> Any:
    global _tools_validator
    if _tools_validator is None:
        import jsonschema  # only lines with tools or function calls need it

        formats = jsonschema.FormatChecker(formats=())

        @formats.checks(_JSON_TEXT, raises=(ValueError, RecursionError))
        def _json_text(value: object) -> bool:
            if isinstance(value, str):  # strict JSON: NaN and Infinity are not JSON (the API
                json.loads(value, parse_constant=_refuse_constant)  # refuses them)
            return True

        cls = jsonschema.validators.validator_for(TOOLS_SCHEMA)
        _tools_validator = cls(TOOLS_SCHEMA, format_checker=formats)
    return _tools_validator


def _refuse_constant(literal: str) -> Any:
    raise ValueError(f"{literal} is not JSON")


def _field_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def tool_problems(obj: dict[str, Any], line: int, ex: int) -> list[Problem]:
    """The tools / functions / parallel_tool_calls / function_call / tool_calls of one example
    against `TOOLS_SCHEMA`: one French problem per mistake, with its field."""
    out: list[Problem] = []
    for err in sorted(_validator().iter_errors(obj), key=lambda e: list(map(str, e.path))):
        path = list(err.path)
        index = None
        if path[:1] == ["messages"] and len(path) >= 3:
            index, path = path[1], path[2:]
        top = str(path[0]) if path else ""
        fld = _field_path(path)
        if index is not None:
            fld = f"messages[{index}].{fld}"
        name = f'"{fld.rsplit(".", 1)[-1]}"'
        value = json.dumps(err.instance, ensure_ascii=False)
        value = value if len(value) <= 40 else value[:37] + "…"
        kind = err.validator
        if kind == "type":
            types = err.validator_value
            types = [types] if isinstance(types, str) else types
            want = " ou ".join(_JSON_TYPES.get(t, t) for t in types)
            message = f"{name} doit être {want}, pas {value}"
        elif kind == "const":
            message = f"{name} doit valoir {json.dumps(err.validator_value)}, pas {value}"
        elif kind == "required":
            missing = next((k for k in err.validator_value if k not in err.instance), "?")
            message = f'il manque "{missing}" dans {name}'
        elif kind == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            message = f"clé inconnue {', '.join(map(repr, extra))} dans {name}"
        elif kind == "format":
            message = f"{name} n'est pas un JSON valide : {value}"
        elif kind == "minItems":
            message = f"{name} est une liste vide"
        elif kind == "pattern":
            message = f"{name} {value} : seulement lettres, chiffres, _ et - (64 au plus)"
        else:  # pragma: no cover - every keyword of TOOLS_SCHEMA is named above
            message = f"{name} mal formé ({kind})"
        code = "bad_tool_arguments" if kind == "format" else f"bad_{top or 'tools'}"
        if code == "bad_tool_calls" and len(path) > 1:
            code = "bad_tool_call"  # one call of the list
        out.append(
            Problem(
                code,
                message,
                _TOOL_FIXES.get(top, _TOOL_FIXES["tools"]),
                line=line,
                field=fld or None,
                example=ex,
                message_index=None if index is None else index + 1,
            )
        )
    return out


# ---------------------------------------------------------------------------------------
# Whole-file check

_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _bom_problem() -> Problem:
    return Problem(
        "bom",
        "le fichier commence par un BOM (UTF-8 « avec signature »)",
        "Enregistre-le en « UTF-8 » sans BOM (VS Code : en bas à droite, "
        "« Save with Encoding » → UTF-8).",
        line=1,
    )


def _not_utf8_problem(line: int, err: UnicodeDecodeError) -> Problem:
    return Problem(
        "not_utf8",
        f"ligne pas en UTF-8 (octet illisible en colonne {err.start + 1} : "
        "accent enregistré en Latin-1 / Windows-1252 ?)",
        "Enregistre le fichier en UTF-8 (VS Code : « Save with Encoding » → UTF-8).",
        line=line,
    )


def _wide_codec(head: bytes) -> str | None:
    """ "utf-16-le", "utf-32-be"… if a file's first 4 bytes are UTF-16 / UTF-32 (BOM or not)."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith(_UTF16_BOMS):
        return "utf-16"
    if len(head) < 4 or b"\x00" not in head:
        return None
    zero = [b == 0 for b in head[:4]]
    return {
        (False, True, True, True): "utf-32-le",
        (True, True, True, False): "utf-32-be",
        (False, True, False, True): "utf-16-le",
        (True, False, True, False): "utf-16-be",
    }.get(tuple(zero))  # type: ignore[arg-type]


def _decode_wide(data: bytes, codec: str) -> tuple[str, list[Problem]]:
    bits = "32" if "32" in codec else "16"
    problem = Problem(
        f"utf{bits}",
        f"le fichier est en UTF-{bits} (Unicode « {bits} bits »), pas en UTF-8",
        "Enregistre-le en « UTF-8 » (Bloc-notes : Enregistrer sous → Codage : UTF-8 ; "
        "VS Code : « Save with Encoding » → UTF-8).",
        line=1,
    )
    text = data.decode(codec, errors="replace")
    return text.removeprefix("\ufeff"), [problem]


def _decode(data: bytes) -> tuple[str, list[Problem]]:
    problems: list[Problem] = []
    codec = _wide_codec(data[:4])
    if codec is not None:
        return _decode_wide(data, codec)
    if data.startswith(_BOM):
        problems.append(_bom_problem())
        data = data[3:]
    try:
        return data.decode("utf-8"), problems
    except UnicodeDecodeError:
        pass
    # Report every line that is not UTF-8 (not only the first one).
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(_not_utf8_problem(number, err))
    return data.decode("utf-8", errors="replace"), problems


def _text_lines(text: str) -> Iterator[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line, it is not a blank line
    return iter(lines)


def _file_lines(file: BinaryIO, decode_problems: list[Problem]) -> Iterator[bytes]:
    """A file's lines, read one at a time, as bytes with their line end (see `_Lines.text`)."""
    first = file.readline()
    if first.startswith(_BOM):
        decode_problems.append(_bom_problem())
        first = first[3:]
    return itertools.chain([first] if first else [], file)


class _Lines:
    """Lines one at a time (numbered from 1), with a look-ahead for JSON spread over lines.

    Lines read from a file stay bytes, with their `\n`, until `text` decodes them: a plain
    example is parsed from its bytes directly (its parser checks UTF-8, skips the `\n`). `text` and `skip` report a line that is
    not UTF-8 (into `decode_problems`, in line order), exactly as `_decode` does for a whole file.
    """

    def __init__(self, lines: Iterator[str] | Iterator[bytes], decode_problems: list[Problem]):
        self._lines = lines
        self._ahead: deque[str | bytes] = deque()
        self.decode_problems = decode_problems
        self.number = 0

    def __iter__(self) -> Iterator[str | bytes]:
        ahead, source = self._ahead, self._lines
        while True:
            while ahead:  # lines looked at ahead come first
                self.number += 1
                yield ahead.popleft()
            for raw in source:
                self.number += 1
                yield raw
                if ahead:  # the caller looked ahead: those lines come before the next one
                    break
            else:
                if not ahead:
                    return

    def text(self, raw: str | bytes, *, report: bool = True) -> str:
        if type(raw) is str:
            return raw
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            if report:
                self.decode_problems.append(_not_utf8_problem(self.number, err))
            return raw.decode("utf-8", errors="replace")

    def ahead(self, n: int) -> list[str]:
        while len(self._ahead) < n:
            try:
                self._ahead.append(next(self._lines))
            except StopIteration:
                break
        return [self.text(raw, report=False) for raw in itertools.islice(self._ahead, n)]

    def skip(self, n: int) -> None:
        """Pass over the next `n` lines (looked at ahead already)."""
        for _ in range(n):
            self.number += 1
            self.text(self._ahead.popleft())


_ROLE_BITS = {"system": 1, "user": 2, "assistant": 4}
_MAX_JOIN = 200  # lines tried when looking for one JSON object spread over several lines


def _simple_roles(obj: Any) -> int:
    """Fast path: {"messages": [{"role": system|user|assistant, "content": non-blank str}, …]}
    with an assistant message → the roles present (bits of `_ROLE_BITS`); anything else → 0
    (it goes through the full checks)."""
    if type(obj) is not dict or len(obj) != 1:
        return 0
    msgs = obj.get("messages")
    if type(msgs) is not list:
        return 0
    roles = 0
    bits = _ROLE_BITS
    for m in msgs:
        # exactly two keys, a known role and a string content: the keys are role and content
        if type(m) is not dict or len(m) != 2:
            return 0
        role = m.get("role")
        content = m.get("content")
        if type(role) is not str or type(content) is not str or not content or content.isspace():
            return 0
        bit = bits.get(role)
        if bit is None:
            return 0
        roles |= bit
    return roles if roles & 4 else 0


try:  # a faster parser, used only where its result is exactly `json.loads`'s (see below)
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - optional
    _fast_loads = None


def _fast_simple(raw: str | bytes) -> tuple[Any, int]:
    """(example, roles) if the line is a plain chat example (fast path), else (None, 0).

    orjson parses ≈ 2× faster than `json`, and gives the very same strings; it differs on
    numbers (integers past 64 bits become floats) and refuses what `json` accepts (NaN, lone
    surrogates, bytes that are not UTF-8). A plain example holds strings only, so orjson's
    result is kept only then; any other line is parsed again by `json`, whose result and
    error messages the checks use.
    """
    try:
        obj = _fast_loads(raw)  # type: ignore[misc]
    except (ValueError, TypeError):  # TypeError: orjson not installed
        return None, 0
    roles = _simple_roles(obj)
    return (obj, roles) if roles else (None, 0)


def parse_json(raw: str | bytes) -> tuple[Any, Exception | None]:
    """(value, None), or (None, the error) for text that is not JSON, holds a number too long
    for Python, or nests too deep: every reader of a learner's JSON lines goes through it."""
    try:
        return json.loads(raw), None
    except (ValueError, RecursionError) as err:  # JSONDecodeError, too many digits, too deep
        return None, err


def _parse_problem(raw: str, err: Exception, line: int) -> Problem:
    if isinstance(err, json.JSONDecodeError):
        return _json_problem(raw, err, line)
    fix = 'Écris un exemple simple : {"messages": [...]}.'
    if isinstance(err, RecursionError):
        msg = "JSON imbriqué trop profondément (des milliers de [ ou { ouverts)"
    elif "digits" in str(err):  # Python's limit on integer digits (sys.get_int_max_str_digits)
        msg = (
            "un nombre de cette ligne est trop long (des milliers de chiffres) : ni le kit ni "
            "l'API ne le lisent"
        )
        fix = 'Raccourcis ce nombre, ou mets-le entre guillemets si c\'est du texte : "123…".'
    else:
        msg = "valeur JSON illisible"
    return Problem("invalid_json", msg, fix, line=line)


def _multiline(first: str, lines: _Lines) -> int | None:
    """If `first` and the next lines hold one JSON object spread over several lines, how many
    of the next lines it takes."""
    if not first.lstrip().startswith(("{", "[")):
        return None
    parts = [first]
    for n, line in enumerate(lines.ahead(_MAX_JOIN - 1), start=1):
        parts.append(line)
        joined = "\n".join(parts).rstrip().rstrip(",")
        if joined.endswith(("}", "]")):
            obj, err = parse_json(joined)
            if err is None and isinstance(obj, (dict, list)):
                return n
    return None


def _fingerprint(text: str | bytes) -> int:
    """96 bits of an example's text (SipHash-1-3 and CRC-32): what the duplicate check keeps
    of each line, instead of the line (a false match is about as likely as 1 in 10^19)."""
    data = text if type(text) is bytes else text.encode("utf-8", "surrogatepass")  # type: ignore[union-attr]
    return hash(data) ^ (zlib.crc32(data) << 64)


def check_bytes(
    data: bytes, model: str = models.DEFAULT_MODEL, *, rules: Rules | None = None
) -> Report:
    """Check a JSONL file's content (chat examples, or what `rules` says). Never raises;
    every problem carries its line."""
    text, decode_problems = _decode(data)
    return _run(_text_lines(text), decode_problems, model, keep=True, rules=rules)


def _run(
    lines: Iterator[str] | Iterator[bytes],
    decode_problems: list[Problem],
    model: str,
    *,
    keep: bool,
    rules: Rules | None = None,
) -> Report:
    report = Report(model=model, rules=rules)
    gc_was_on = gc.isenabled()
    gc.disable()  # parsing allocates many containers, none cyclic: collections only cost time
    try:
        _Scan(report, model, keep=keep, rules=rules or CHAT).run(_Lines(lines, decode_problems))
    except Exception as err:  # pragma: no cover - a bug must not hide the file's problems
        report.problems.append(
            Problem(
                "internal",
                f"vérification interrompue ({type(err).__name__})",
                "Signale ce fichier à ton formateur.",
                line=None,
            )
        )
    finally:
        if gc_was_on:
            gc.enable()
    report.problems[:0] = decode_problems
    advice = models.alias_advice(model)
    if advice is not None:  # counted and priced as its snapshot, but a job would be refused
        report.problems.append(
            Problem(
                "model_alias",
                f"le modèle visé, « {model} », est un alias (un nom sans date)",
                advice,
                severity="warning",
            )
        )
    return report


class _Scan:
    """One pass over the lines of a file: every check, the duplicates, the token counts.

    `keep=True`: the examples are kept in the report and short ones counted on demand.
    `keep=False`: only figures are kept, and every example's texts go to the counter at
    once, to be encoded on the other cores while the next lines are parsed.
    """

    def __init__(self, report: Report, model: str, *, keep: bool, rules: Rules):
        self.report = report
        self.model = model
        self.keep = keep
        self.rules = rules
        self.limit = _limit(model)
        self.counter = report._counter = tokens.TokenCounter(model)
        self.figures = None if keep else _Figures()
        report._figures = self.figures
        self.seen: dict[int, int] = {}
        self.n = 0  # examples so far

    def run(self, lines: _Lines) -> None:
        report, problems = self.report, self.report.problems
        content = False  # a line that is not blank
        for raw in lines:
            number = lines.number
            obj, roles = _fast_simple(raw) if self.rules.plain_fast_path else (None, 0)
            if roles:
                content = True
                self.simple(obj, roles, raw, number)
                continue
            raw = lines.text(raw)
            obj, err = parse_json(raw)
            if err is None and _MAYBE_NOT_PLAIN.search(raw):
                bad = _not_plain_json(obj, number)
                if bad is not None:
                    content = True
                    problems.append(bad)
                    continue
            if err is None:
                content = True
                roles = _simple_roles(obj) if self.rules.plain_fast_path else 0
                if roles:
                    self.simple(obj, roles, raw, number)
                else:
                    self.full(obj, raw, number)
                continue
            if not raw.strip():
                problems.append(
                    Problem("blank_line", "ligne vide", "Supprime cette ligne vide.", line=number)
                )
                continue
            content = True
            if raw.rstrip().endswith(","):
                obj, err2 = parse_json(raw.rstrip()[:-1])
                bad = _not_plain_json(obj, number) if err2 is None else None
                if bad is not None:
                    problems.append(bad)
                    continue
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
                    self.full(obj, raw.rstrip()[:-1], number)
                    continue
            more = _multiline(raw, lines)
            if more is not None:
                problems.append(
                    Problem(
                        "multiline_json",
                        f"un exemple est écrit sur plusieurs lignes (lignes {number} à {number + more})",
                        "Mets chaque exemple entier sur UNE seule ligne (JSONL) : supprime les retours à la ligne "
                        "à l'intérieur de l'objet.",
                        line=number,
                    )
                )
                lines.skip(more)
                continue
            problems.append(_parse_problem(raw, err, number))
        if not content:
            report.problems[:] = [
                Problem(
                    "empty_file",
                    "le fichier est vide",
                    "Écris au moins 10 exemples, un par ligne.",
                    line=None,
                )
            ]
            return
        report.n_lines = lines.number
        if self.n < models.MIN_EXAMPLES:
            problems.append(
                Problem(
                    "too_few_examples",
                    f"{self.n} {self.rules.noun_fr} : l'API d'OpenAI en exige au moins "
                    f"{models.MIN_EXAMPLES}",
                    f"Ajoute au moins {models.MIN_EXAMPLES - self.n} {self.rules.noun_fr} "
                    "(50 à 100 donnent de meilleurs résultats).",
                )
            )
        if self.figures is not None:
            report._counts, self.figures.assistant_tokens = self.counter.all_example_tokens()

    def simple(self, obj: dict[str, Any], roles: int, raw: str | bytes, number: int) -> None:
        """A well-formed plain chat example (fast path): only its length and duplicates to check."""
        self.n += 1
        messages = obj["messages"]
        if self.figures is None:
            self.report.examples.append(Example(number, obj))
            if len(raw) * 4 + tokens.TOKENS_REPLY_PRIMER > self.limit:  # may be too long
                self.count_now(self.counter.messages(messages), number)
            else:
                self.report._counts.append(None)
        else:
            figures = self.figures
            figures.n += 1
            figures.n_messages.append(len(messages))
            figures.without_system += not roles & 1
            figures.without_user += not roles & 2
            if self.counter.add_chat(messages) > self.limit:
                self.count_now(self.counter.example_tokens(self.n - 1), number, keep=False)
        key = _fingerprint(raw.strip())
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = number
        else:
            self.report.problems.append(_duplicate(first, number, self.n))

    def full(self, obj: Any, raw: str, number: int) -> None:
        """The full checks, for anything the fast path did not accept."""
        found = self.rules.check(obj, number, self.n + 1)
        self.report.problems.extend(found)
        if any(p.code in self.rules.unusable for p in found):
            return
        self.n += 1
        counted = self.rules.counted(obj)
        if self.figures is None:
            own = None if self.rules is CHAT else counted
            self.report.examples.append(Example(number, obj, own))
            self.count_now(self.counter.messages(counted), number)
        else:
            self.figures.add(counted)
            self.check_length(self.counter.add_example(counted), number)
        try:
            key = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        except (ValueError, RecursionError, TypeError):
            key = raw.strip()
        fingerprint, raw_fingerprint = _fingerprint(key), _fingerprint(raw.strip())
        first = self.seen.get(fingerprint) or self.seen.get(raw_fingerprint)
        if first is None:
            self.seen[fingerprint] = number
        else:
            self.report.problems.append(_duplicate(first, number, self.n))

    def check_length(self, bound: int, number: int) -> None:
        """Figures only: the example's texts are queued; count it now if it may be too long."""
        if bound > self.limit:
            self.count_now(self.counter.example_tokens(self.n - 1), number, keep=False)

    def count_now(self, n_tokens: int, number: int, *, keep: bool = True) -> None:
        if keep:
            self.report._counts.append(n_tokens)
        if n_tokens > self.limit:
            self.report.problems.append(_too_long(n_tokens, self.limit, self.model, number, self.n))


def _check_stream(file: BinaryIO, model: str, rules: Rules | None = None) -> Report:
    """`check_bytes` on a file read line by line, keeping figures instead of examples."""
    start = file.read(4)
    if _wide_codec(start) is not None:  # rare: decode the whole file as `check_bytes` does
        text, decode_problems = _decode(start + file.read())
        return _run(_text_lines(text), decode_problems, model, keep=False, rules=rules)
    file.seek(0)
    decode_problems: list[Problem] = []
    return _run(_file_lines(file, decode_problems), decode_problems, model, keep=False, rules=rules)


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


# Problems after which an example cannot be counted or trained on.
_UNUSABLE = {
    "not_object",
    "legacy_format",
    "preference_format",
    "missing_messages",
    "messages_not_list",
    "empty_messages",
    "message_not_object",
}

#: Chat examples (`{"messages": [...]}`): what a supervised job trains on.
CHAT = Rules("supervised", _check_example, lambda obj: obj["messages"], frozenset(_UNUSABLE))


def check_file(
    path: str | Path,
    model: str = models.DEFAULT_MODEL,
    *,
    keep_examples: bool = True,
    rules: Rules | None = None,
) -> Report:
    """Check a file on disk. A missing file is reported (not raised).

    `keep_examples=False` reads the file line by line and keeps only the figures (problems,
    token counts, stats, cost), in little memory: what `python -m helpers check` does.
    """
    path = Path(path)
    try:
        if keep_examples:
            report = check_bytes(path.read_bytes(), model, rules=rules)
        else:
            with open(path, "rb", buffering=1 << 20) as file:
                report = _check_stream(file, model, rules)
    except OSError as err:
        report = Report(model=model, rules=rules)
        report.problems.append(
            Problem(
                "unreadable",
                f"impossible de lire {path} ({err.strerror})",
                "Vérifie le chemin du fichier (il doit finir par .jsonl).",
            )
        )
        return report
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


def check_examples(
    examples: Iterable[dict[str, Any]],
    model: str = models.DEFAULT_MODEL,
    *,
    rules: Rules | None = None,
) -> Report:
    """Check examples held in memory (e.g. the dataset table): line N = example N."""
    # a lone surrogate stays an escape (\ud800), which the check reports with its line
    data = dumps_jsonl(examples).encode("utf-8", "backslashreplace")
    return check_bytes(data, model, rules=rules)


def read_jsonl(
    path: str | Path, model: str = models.DEFAULT_MODEL, *, rules: Rules | None = None
) -> list[dict[str, Any]]:
    """The examples of a file that is ready to upload; `DatasetError` (with the report) otherwise."""
    report = check_file(path, model, rules=rules)
    if not report.ok:
        raise DatasetError(report)
    return [e.data for e in report.examples]


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
    df.index = pd.RangeIndex(1, len(df) + 1, name="exemple")
    if df["messages"].isna().all():
        df = df.drop(columns="messages")
    return df


def examples_table(examples: Iterable[dict[str, Any]], limit: int | None = None):  # -> Table
    """The first `limit` examples as a light table (no pandas: a kernel stays small): the
    example's number, then its system, user and assistant texts (« … » for richer ones)."""
    from .tables import Table

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
    return Table(["exemple", "system", "user", "assistant"], rows)


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
