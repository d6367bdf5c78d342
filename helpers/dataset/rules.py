"""What one line of a dataset must be: `Rules`; a chat example's (`CHAT`): its keys, its
messages (roles, content, weight, names, tool calls), an assistant answer to learn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..i18n import _, ngettext
from .problem import Problem, Severity
from .tools_schema import has_tool_fields, tool_problems

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


def chat_words(kind: str, n: int) -> str:
    """How a report counts chat examples, in the learner's language: `kind` is "ready" (a file
    ready to upload), "readable" (the examples read) or "count" (a number of examples)."""
    if kind == "ready":
        text = ngettext("{n} exemples prêts à envoyer", "{n} exemples prêts à envoyer", n)
    elif kind == "readable":
        text = ngettext("{n} exemple(s) lisible(s)", "{n} exemple(s) lisible(s)", n)
    else:
        text = ngettext("{n} exemple(s)", "{n} exemple(s)", n)
    return text.format(n=n)


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
    #: (kind, n) → how a report counts these lines: "ready", "readable", "count" (chat_words)
    words: Callable[[str, int], str] = chat_words


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
            _('un message doit être un objet {"role": …, "content": …}'),
            _('Écris chaque message comme {"role": "user", "content": "…"}.'),
            "",
        )
        return
    role = msg.get("role")
    if "role" not in msg:
        yield p(
            "missing_role",
            _('le message n\'a pas de champ "role"'),
            _('Ajoute "role": "system", "user" ou "assistant".'),
            "role",
        )
    elif not isinstance(role, str) or role not in ROLES:
        lower = role.strip().lower() if isinstance(role, str) else None
        fix = (
            _('Écris le rôle en minuscules, sans espace : "{role}".').format(role=lower)
            if lower in ROLES
            else _('Utilise "system", "user" ou "assistant" (ou "tool" pour un résultat d\'outil).')
        )
        yield p("bad_role", _("rôle inconnu {role}").format(role=repr(role)), fix, "role")
    for key in sorted(set(msg) - MESSAGE_KEYS):
        yield p(
            "unknown_message_key",
            _("clé inconnue {key} dans le message").format(key=repr(key)),
            _("Garde seulement role, content (et name, weight, tool_calls si besoin)."),
            key,
        )
    has_calls = bool(msg.get("tool_calls") or msg.get("function_call"))
    if "content" not in msg:
        if not (role == "assistant" and has_calls):
            yield p(
                "missing_content",
                _('le message n\'a pas de champ "content"'),
                _('Ajoute "content": "ton texte".'),
                "content",
            )
    else:
        content = msg["content"]
        if content is None:
            if not (role == "assistant" and has_calls):
                yield p(
                    "null_content",
                    _('"content" vaut null'),
                    _("Mets un texte entre guillemets."),
                    "content",
                )
        elif isinstance(content, list):
            if not content or not all(
                isinstance(c, dict) and isinstance(c.get("type"), str) for c in content
            ):
                yield p(
                    "bad_content",
                    _('"content" est une liste mal formée'),
                    _('Mets simplement un texte : "content": "…".'),
                    "content",
                )
        elif not isinstance(content, str):
            yield p(
                "bad_content",
                _('"content" doit être un texte, pas {kind}').format(kind=type(content).__name__),
                _('Mets le contenu entre guillemets : "content": "…".'),
                "content",
            )
        elif not content.strip() and not has_calls:
            yield p(
                "empty_content",
                _('"content" est vide'),
                _("Écris un texte, ou supprime ce message."),
                "content",
                "warning",
            )
    if "weight" in msg:
        if msg["weight"] not in (0, 1) or isinstance(msg["weight"], bool):
            yield p(
                "bad_weight",
                _('"weight" vaut {value} : seules les valeurs 0 et 1 sont permises').format(
                    value=repr(msg["weight"])
                ),
                _("Mets 0 (ne pas apprendre ce message) ou 1 (l'apprendre)."),
                "weight",
            )
        elif role != "assistant":
            yield p(
                "weight_not_assistant",
                _('"weight" n\'est permis que sur les messages assistant'),
                _('Retire "weight" de ce message.'),
                "weight",
            )
    if "name" in msg and not isinstance(msg["name"], str):
        yield p(
            "bad_name", _('"name" doit être un texte'), _("Mets le nom entre guillemets."), "name"
        )
    if "tool_calls" in msg and role != "assistant":
        yield p(
            "tool_calls_not_assistant",
            _('"tool_calls" n\'est permis que sur un message assistant'),
            _("Déplace l'appel d'outil dans un message assistant."),
            "tool_calls",
        )
    if role == "tool" and not isinstance(msg.get("tool_call_id"), str):
        yield p(
            "missing_tool_call_id",
            _('un message "tool" doit indiquer "tool_call_id"'),
            _("Ajoute l'id de l'appel d'outil auquel il répond."),
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
            _("la ligne contient {kind}, pas un objet {{…}}").format(kind=type(obj).__name__),
            _('Chaque ligne doit être un objet : {"messages": [...]}.'),
        )
        return out
    if "messages" not in obj:
        if PREFERENCE_KEYS & set(obj):
            p(
                "preference_format",
                _(
                    "cette ligne est une paire de préférences (format DPO : input, preferred_output, "
                    "non_preferred_output), pas un exemple de chat"
                ),
                _(
                    "Pour un entraînement par préférences, vérifie le fichier avec --method dpo et "
                    'lance le job avec method={"type": "dpo"} (notebook 13) ; pour un entraînement '
                    'supervisé, écris chaque exemple en {"messages": [...]}.'
                ),
            )
        elif "prompt" in obj or "completion" in obj:
            p(
                "legacy_format",
                _('format ancien prompt/completion : les modèles de chat attendent "messages"'),
                _(
                    'Réécris l\'exemple en {"messages": [{"role": "user", …}, {"role": "assistant", …}]}.'
                ),
            )
        else:
            p(
                "missing_messages",
                _('pas de clé "messages"'),
                _('Chaque ligne doit être de la forme {"messages": [...]}.'),
                "messages",
            )
        return out
    for key in sorted(set(obj) - TOP_KEYS):
        p(
            "unknown_key",
            _('clé inconnue {key} à côté de "messages"').format(key=repr(key)),
            _(
                "Supprime cette clé (seules messages, tools, parallel_tool_calls, functions sont permises)."
            ),
            key,
        )
    messages = obj["messages"]
    if not isinstance(messages, list):
        p(
            "messages_not_list",
            _('"messages" doit être une liste [...]'),
            _('Écris "messages": [ {…}, {…} ].'),
            "messages",
        )
        return out
    if not messages:
        p(
            "empty_messages",
            _('la liste "messages" est vide'),
            _("Ajoute au moins un message user et un assistant."),
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
            _('aucun message "assistant" : le modèle n\'a rien à apprendre'),
            _('Ajoute la réponse attendue : {"role": "assistant", "content": "…"}.'),
            "messages",
        )
    elif all(
        m.get("weight") == 0
        for m in messages
        if isinstance(m, dict) and m.get("role") == "assistant"
    ):
        p(
            "all_weights_zero",
            _('tous les messages assistant ont "weight": 0 : rien à apprendre'),
            _('Mets "weight": 1 (ou retire weight) sur au moins une réponse.'),
            "messages",
        )
    if has_tool_fields(obj):
        out.extend(tool_problems(obj, line, ex))
    return out


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
