"""What one line of a preference file (DPO) must be: `PREFERENCE`, the `Rules` of a pair.

One line, as OpenAI's DPO guide shows it (one turn: the two answers follow the input):

    {"input": {"messages": [{"role": "user", "content": "…"}], "tools": [], "parallel_tool_calls": true},
     "preferred_output": [{"role": "assistant", "content": "…"}],
     "non_preferred_output": [{"role": "assistant", "content": "…"}]}

`check_bytes(data, model, rules=PREFERENCE)` checks a preference file with every check chat
files get (encoding, JSON, blank lines, duplicates, lengths, the minimum of 10, tokens and
cost), plus the rules below, each problem in French with its line, field and fix. The
input's messages are checked as a chat example's (`rules.check_message`). Which format a
file is in, and the check for a job's method: `helpers.preference_data`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..i18n import N_, _, ngettext
from .problem import Problem, Severity
from .rules import CHAT, ROLES, Rules, check_message
from .tools_schema import tool_problems

OUTPUTS = ("preferred_output", "non_preferred_output")
PAIR_KEYS = frozenset({"input", *OUTPUTS})
INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
_OUTPUT_FR = {"preferred_output": N_("préférée"), "non_preferred_output": N_("non préférée")}
#: One pair, as a learner may copy it (in the fixes).
PAIR_HINT = (
    '{"input": {"messages": [{"role": "user", "content": "…"}]}, '
    '"preferred_output": [{"role": "assistant", "content": "…"}], '
    '"non_preferred_output": [{"role": "assistant", "content": "…"}]}'
)


def _check_pair(obj: Any, line: int, ex: int) -> list[Problem]:
    """Every problem of one preference line (`Rules.check`)."""
    out: list[Problem] = []

    def p(
        code: str, message: str, fix: str, fld: str | None = None, severity: Severity = "error"
    ) -> None:
        out.append(Problem(code, message, fix, line=line, field=fld, severity=severity, example=ex))

    if not isinstance(obj, dict):
        p(
            "not_object",
            _("la ligne contient {kind}, pas un objet {{…}}").format(kind=type(obj).__name__),
            _("Chaque ligne doit être une paire : {pair}.").format(pair=PAIR_HINT),
        )
        return out
    if "input" not in obj:
        if "messages" in obj:
            p(
                "chat_format",
                _("cette ligne est un exemple de chat (messages), pas une paire de préférences"),
                _(
                    "Pour un entraînement supervisé, vérifie le fichier sans --method dpo ; pour un "
                    "entraînement par préférences, écris chaque ligne en paire : {pair}."
                ).format(pair=PAIR_HINT),
            )
        else:
            p(
                "missing_input",
                _('pas de clé "input" (la conversation à laquelle les deux réponses répondent)'),
                _("Chaque ligne doit être une paire : {pair}.").format(pair=PAIR_HINT),
                "input",
            )
        return out
    for key in sorted(set(obj) - PAIR_KEYS):
        p(
            "unknown_key",
            _("clé inconnue {key} dans la paire").format(key=repr(key)),
            _(
                "Supprime cette clé (seules input, preferred_output et non_preferred_output sont "
                "permises)."
            ),
            key,
        )
    inp = obj["input"]
    if not isinstance(inp, dict):
        p(
            "input_not_object",
            _('"input" doit être un objet {"messages": [...]}'),
            _('Écris "input": {"messages": [{"role": "user", "content": "…"}]}.'),
            "input",
        )
        return out
    out.extend(_check_input(inp, line, ex))
    for key in OUTPUTS:
        out.extend(_check_output(obj, key, line, ex))
    texts = [output_text(obj.get(key)) for key in OUTPUTS]
    if texts[0] is not None and texts[0] == texts[1]:
        p(
            "identical_outputs",
            _("les deux réponses sont identiques : cette paire n'apprend rien au modèle"),
            _("Change la réponse non préférée (ou supprime cette paire)."),
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
            _('clé inconnue {key} dans "input"').format(key=repr(key)),
            _("Supprime cette clé (seules messages, tools et parallel_tool_calls sont permises)."),
            f"input.{key}",
        )
    if "messages" not in inp:
        p(
            "missing_messages",
            _('pas de clé "messages" dans "input"'),
            _('Écris "input": {"messages": [{"role": "user", "content": "…"}]}.'),
            "input.messages",
        )
        return out
    messages = inp["messages"]
    if not isinstance(messages, list):
        p(
            "messages_not_list",
            _('"input.messages" doit être une liste [...]'),
            _('Écris "messages": [ {…}, {…} ].'),
            "input.messages",
        )
        return out
    if not messages:
        p(
            "empty_messages",
            _('la liste "input.messages" est vide'),
            _('Ajoute au moins la question : {"role": "user", "content": "…"}.'),
            "input.messages",
        )
        return out
    for i, msg in enumerate(messages):
        out.extend(check_message(msg, i, f"input.messages[{i}]", line, ex))
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if len(roles) == len(messages) and all(r in ROLES for r in roles):
        # (a wrong role is reported above: no guess about what it meant)
        # Unconfirmed: the real API's answer to an input without a user message. OpenAI's
        # guide: « one-turn conversations », the two answers being the last assistant message.
        if "user" not in roles:
            p(
                "no_user",
                _('aucun message "user" dans "input" : les deux réponses ne répondent à rien'),
                _(
                    'Ajoute la question : {"role": "user", "content": "…"} à la fin de input.messages.'
                ),
                "input.messages",
            )
        elif roles[-1] == "assistant":
            p(
                "input_ends_with_assistant",
                _(
                    '"input" se termine par un message assistant : les deux réponses doivent suivre '
                    "la dernière question"
                ),
                _("Termine input.messages par le message user auquel les deux réponses répondent."),
                "input.messages",
                "warning",
            )
    if {"tools", "parallel_tool_calls"} & set(inp) or any(
        isinstance(m, dict) and ("tool_calls" in m or "function_call" in m) for m in messages
    ):
        for problem in tool_problems(inp, line, ex):
            out.append(replace(problem, field=f"input.{problem.field or 'tools'}"))
    return out


def _check_output(obj: dict[str, Any], key: str, line: int, ex: int) -> list[Problem]:
    out: list[Problem] = []
    which = _(_OUTPUT_FR[key])

    def p(code: str, message: str, fix: str, fld: str = key) -> None:
        out.append(Problem(code, message, fix, line=line, field=fld, example=ex))

    example = _('"{key}": [{{"role": "assistant", "content": "ta réponse {which}"}}]').format(
        key=key, which=which
    )
    if key not in obj:
        p(
            "missing_output",
            _('il manque "{key}" (la réponse {which})').format(key=key, which=which),
            _("Ajoute {example}.").format(example=example),
        )
        return out
    value = obj[key]
    if isinstance(value, dict):
        p(
            "output_not_list",
            _('"{key}" est un objet : il faut une liste qui contient le message').format(key=key),
            _("Mets le message entre crochets : {example}.").format(example=example),
        )
        return out
    if not isinstance(value, list):
        p(
            "output_not_list",
            _('"{key}" doit être une liste contenant un message assistant').format(key=key),
            _("Écris {example}.").format(example=example),
        )
        return out
    if not value:
        p(
            "output_empty",
            _('la liste "{key}" est vide (la réponse {which} manque)').format(key=key, which=which),
            _("Écris {example}.").format(example=example),
        )
        return out
    if len(value) > 1:
        # Unconfirmed: the real API's answer to several messages in an output (OpenAI's guide:
        # one assistant message; Azure's: assistant or tool messages).
        p(
            "output_too_many",
            _('"{key}" contient {n} messages : une seule réponse assistant est permise').format(
                key=key, n=len(value)
            ),
            _("Garde un seul message : {example}.").format(example=example),
        )
    for i, msg in enumerate(value):
        where = f"{key}[{i}]"
        out.extend(check_message(msg, i, where, line, ex))
        if not isinstance(msg, dict):
            continue
        if "role" in msg and msg.get("role") != "assistant":
            p(
                "output_not_assistant",
                _("la réponse {which} doit avoir le rôle « assistant », pas {role}").format(
                    which=which, role=repr(msg.get("role"))
                ),
                _('Écris "role": "assistant" dans ce message.'),
                f"{where}.role",
            )
        if msg.get("tool_calls") or msg.get("function_call"):
            p(
                "output_not_text",
                _(
                    "la réponse {which} appelle un outil : DPO n'apprend que des réponses en texte"
                ).format(which=which),
                _('Écris une réponse en texte : "content": "…", sans tool_calls.'),
                f"{where}.tool_calls" if msg.get("tool_calls") else f"{where}.function_call",
            )
        if "weight" in msg:
            # Unconfirmed: the real API's answer; `weight` is a supervised field only.
            p(
                "weight_in_pair",
                _('"weight" n\'a pas de sens dans une paire : les deux réponses sont comparées'),
                _('Retire "weight" de ce message.'),
                f"{where}.weight",
            )
    return out


def output_text(value: Any) -> str | None:
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


def pair_words(kind: str, n: int) -> str:
    """How a report counts preference pairs (`Rules.words`)."""
    if kind == "ready":
        text = ngettext(
            "{n} paires de préférences prêtes à envoyer",
            "{n} paires de préférences prêtes à envoyer",
            n,
        )
    elif kind == "readable":
        text = ngettext("{n} paire(s) lisible(s)", "{n} paire(s) lisible(s)", n)
    else:
        text = ngettext("{n} paire(s)", "{n} paire(s)", n)
    return text.format(n=n)


#: Preference pairs: what a DPO job trains on.
PREFERENCE = Rules(
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
    words=pair_words,
)
RULES: dict[str, Rules] = {"supervised": CHAT, "dpo": PREFERENCE}


def rules_for(method: str) -> Rules:
    return RULES.get(method, CHAT)
