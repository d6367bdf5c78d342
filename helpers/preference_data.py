"""Preference pairs (DPO) in JSONL: the rules of one line, the format of a file, the check.

One line, as OpenAI's DPO guide shows it (one turn: the two answers follow the input):

    {"input": {"messages": [{"role": "user", "content": "…"}], "tools": [], "parallel_tool_calls": true},
     "preferred_output": [{"role": "assistant", "content": "…"}],
     "non_preferred_output": [{"role": "assistant", "content": "…"}]}

`PREFERENCE` is the `dataset.Rules` of such a line: `dataset.check_bytes(data, model,
rules=PREFERENCE)` checks a preference file with every check chat files get (encoding, JSON,
blank lines, duplicates, lengths, the minimum of 10, tokens and cost), plus the rules below,
each problem in French with its line, field and fix.

`detect(data)` says which format a file is in; `check_bytes` / `check_file` (with `method`
given, or detected) check a file for the job method it is meant for and say once, clearly,
when a chat file is sent for DPO or a preference file for a supervised job (`wrong_method`).
The sandbox validates a job's files with the same functions.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from . import dataset, models
from .dataset import Problem, Severity

Method = Literal["supervised", "dpo"]
OUTPUTS = ("preferred_output", "non_preferred_output")
PAIR_KEYS = frozenset({"input", *OUTPUTS})
INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
_OUTPUT_FR = {"preferred_output": "préférée", "non_preferred_output": "non préférée"}
_PAIR_HINT = (
    '{"input": {"messages": [{"role": "user", "content": "…"}]}, '
    '"preferred_output": [{"role": "assistant", "content": "…"}], '
    '"non_preferred_output": [{"role": "assistant", "content": "…"}]}'
)
DETECT_BYTES = 256 * 1024  # what `detect` reads of a file
DETECT_LINES = 50


# --------------------------------------------------------------------------- one line


def _check_pair(obj: Any, line: int, ex: int) -> list[Problem]:
    """Every problem of one preference line (`dataset.Rules.check`)."""
    out: list[Problem] = []

    def p(
        code: str, message: str, fix: str, fld: str | None = None, severity: Severity = "error"
    ) -> None:
        out.append(Problem(code, message, fix, line=line, field=fld, severity=severity, example=ex))

    if not isinstance(obj, dict):
        p(
            "not_object",
            f"la ligne contient {type(obj).__name__}, pas un objet {{…}}",
            f"Chaque ligne doit être une paire : {_PAIR_HINT}.",
        )
        return out
    if "input" not in obj:
        if "messages" in obj:
            p(
                "chat_format",
                "cette ligne est un exemple de chat (messages), pas une paire de préférences",
                "Pour un entraînement supervisé, vérifie le fichier sans --method dpo ; pour un "
                f"entraînement par préférences, écris chaque ligne en paire : {_PAIR_HINT}.",
            )
        else:
            p(
                "missing_input",
                'pas de clé "input" (la conversation à laquelle les deux réponses répondent)',
                f"Chaque ligne doit être une paire : {_PAIR_HINT}.",
                "input",
            )
        return out
    for key in sorted(set(obj) - PAIR_KEYS):
        p(
            "unknown_key",
            f"clé inconnue {key!r} dans la paire",
            "Supprime cette clé (seules input, preferred_output et non_preferred_output sont "
            "permises).",
            key,
        )
    inp = obj["input"]
    if not isinstance(inp, dict):
        p(
            "input_not_object",
            '"input" doit être un objet {"messages": [...]}',
            'Écris "input": {"messages": [{"role": "user", "content": "…"}]}.',
            "input",
        )
        return out
    out.extend(_check_input(inp, line, ex))
    for key in OUTPUTS:
        out.extend(_check_output(obj, key, line, ex))
    texts = [_output_text(obj.get(key)) for key in OUTPUTS]
    if texts[0] is not None and texts[0] == texts[1]:
        p(
            "identical_outputs",
            "les deux réponses sont identiques : cette paire n'apprend rien au modèle",
            "Change la réponse non préférée (ou supprime cette paire).",
            "non_preferred_output",
            "warning",
        )
    return out


def _check_input(inp: dict[str, Any], line: int, ex: int) -> list[Problem]:
    out: list[Problem] = []

    def p(
        code: str, message: str, fix: str, fld: str | None = None, severity: Severity = "error"
    ) -> None:
        out.append(Problem(code, message, fix, line=line, field=fld, severity=severity, example=ex))

    for key in sorted(set(inp) - INPUT_KEYS):
        p(
            "unknown_key",
            f'clé inconnue {key!r} dans "input"',
            "Supprime cette clé (seules messages, tools et parallel_tool_calls sont permises).",
            f"input.{key}",
        )
    if "messages" not in inp:
        p(
            "missing_messages",
            'pas de clé "messages" dans "input"',
            'Écris "input": {"messages": [{"role": "user", "content": "…"}]}.',
            "input.messages",
        )
        return out
    messages = inp["messages"]
    if not isinstance(messages, list):
        p(
            "messages_not_list",
            '"input.messages" doit être une liste [...]',
            'Écris "messages": [ {…}, {…} ].',
            "input.messages",
        )
        return out
    if not messages:
        p(
            "empty_messages",
            'la liste "input.messages" est vide',
            'Ajoute au moins la question : {"role": "user", "content": "…"}.',
            "input.messages",
        )
        return out
    for i, msg in enumerate(messages):
        out.extend(dataset.check_message(msg, i, f"input.messages[{i}]", line, ex))
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if len(roles) == len(messages) and all(r in dataset.ROLES for r in roles):
        # (a wrong role is reported above: no guess about what it meant)
        # Unconfirmed: the real API's answer to an input without a user message. OpenAI's
        # guide: « one-turn conversations », the two answers being the last assistant message.
        if "user" not in roles:
            p(
                "no_user",
                'aucun message "user" dans "input" : les deux réponses ne répondent à rien',
                'Ajoute la question : {"role": "user", "content": "…"} à la fin de input.messages.',
                "input.messages",
            )
        elif roles[-1] == "assistant":
            p(
                "input_ends_with_assistant",
                '"input" se termine par un message assistant : les deux réponses doivent suivre '
                "la dernière question",
                "Termine input.messages par le message user auquel les deux réponses répondent.",
                "input.messages",
                "warning",
            )
    if {"tools", "parallel_tool_calls"} & set(inp) or any(
        isinstance(m, dict) and ("tool_calls" in m or "function_call" in m) for m in messages
    ):
        for problem in dataset.tool_problems(inp, line, ex):
            out.append(replace(problem, field=f"input.{problem.field or 'tools'}"))
    return out


def _check_output(obj: dict[str, Any], key: str, line: int, ex: int) -> list[Problem]:
    out: list[Problem] = []
    which = _OUTPUT_FR[key]

    def p(code: str, message: str, fix: str, fld: str = key) -> None:
        out.append(Problem(code, message, fix, line=line, field=fld, example=ex))

    example = f'"{key}": [{{"role": "assistant", "content": "ta réponse {which}"}}]'
    if key not in obj:
        p("missing_output", f'il manque "{key}" (la réponse {which})', f"Ajoute {example}.")
        return out
    value = obj[key]
    if isinstance(value, dict):
        p(
            "output_not_list",
            f'"{key}" est un objet : il faut une liste qui contient le message',
            f"Mets le message entre crochets : {example}.",
        )
        return out
    if not isinstance(value, list):
        p(
            "output_not_list",
            f'"{key}" doit être une liste contenant un message assistant',
            f"Écris {example}.",
        )
        return out
    if not value:
        p(
            "output_empty",
            f'la liste "{key}" est vide (la réponse {which} manque)',
            f"Écris {example}.",
        )
        return out
    if len(value) > 1:
        # Unconfirmed: the real API's answer to several messages in an output (OpenAI's guide:
        # one assistant message; Azure's: assistant or tool messages).
        p(
            "output_too_many",
            f'"{key}" contient {len(value)} messages : une seule réponse assistant est permise',
            f"Garde un seul message : {example}.",
        )
    for i, msg in enumerate(value):
        where = f"{key}[{i}]"
        out.extend(dataset.check_message(msg, i, where, line, ex))
        if not isinstance(msg, dict):
            continue
        if "role" in msg and msg.get("role") != "assistant":
            p(
                "output_not_assistant",
                f"la réponse {which} doit avoir le rôle « assistant », pas {msg.get('role')!r}",
                'Écris "role": "assistant" dans ce message.',
                f"{where}.role",
            )
        if msg.get("tool_calls") or msg.get("function_call"):
            p(
                "output_not_text",
                f"la réponse {which} appelle un outil : DPO n'apprend que des réponses en texte",
                'Écris une réponse en texte : "content": "…", sans tool_calls.',
                f"{where}.tool_calls" if msg.get("tool_calls") else f"{where}.function_call",
            )
        if "weight" in msg:
            # Unconfirmed: the real API's answer; `weight` is a supervised field only.
            p(
                "weight_in_pair",
                '"weight" n\'a pas de sens dans une paire : les deux réponses sont comparées',
                'Retire "weight" de ce message.',
                f"{where}.weight",
            )
    return out


def _output_text(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        content = value[0].get("content")
        return content if isinstance(content, str) else None
    return None


def counted_messages(pair: dict[str, Any]) -> list[Any]:
    """The messages whose tokens a pair bills: its input once with each answer.

    Unconfirmed: how OpenAI counts a DPO pair's tokens (no public page says). Both answers
    are trained on, each after the input: the kit counts the input twice (the Cookbook's
    formula over input + preferred, then input + non-preferred, one reply primer)."""
    inp = pair.get("input")
    messages = inp.get("messages") if isinstance(inp, dict) else None
    prompt = [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    out: list[Any] = []
    for key in OUTPUTS:
        answer = pair.get(key)
        answers = [m for m in answer if isinstance(m, dict)] if isinstance(answer, list) else []
        out += prompt + answers
    return out


#: Preference pairs: what a DPO job trains on.
PREFERENCE = dataset.Rules(
    "dpo",
    _check_pair,
    counted_messages,
    frozenset(
        {
            "not_object",
            "chat_format",
            "missing_input",
            "input_not_object",
            "missing_messages",
            "messages_not_list",
            "empty_messages",
        }
    ),
    plain_fast_path=False,
    noun_fr="paire(s)",
    ready_fr="paires de préférences prêtes à envoyer",
)
RULES: dict[str, dataset.Rules] = {"supervised": dataset.CHAT, "dpo": PREFERENCE}


def rules_for(method: str) -> dataset.Rules:
    return RULES.get(method, dataset.CHAT)


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
            "le fichier contient des exemples de chat (messages), pas des paires de préférences : "
            "un job DPO le refuse",
            "Lance plutôt un entraînement supervisé (la méthode par défaut), ou réécris chaque "
            f"ligne en paire : {_PAIR_HINT} (notebook 13).",
        )
    return Problem(
        "wrong_method",
        "le fichier contient des paires de préférences (DPO), pas des exemples de chat : un job "
        "supervisé le refuse",
        'Lance le job avec method={"type": "dpo"} (helpers.jobs.create(..., method="dpo"), '
        "notebook 13), ou vérifie-le avec --method dpo.",
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
    return tuple(_output_text(pair_.get(k)) or "" for k in OUTPUTS)  # type: ignore[return-value]


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
    return Table(["question", "✅ réponse préférée", "❌ réponse non préférée"], rows)
