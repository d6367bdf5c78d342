"""One line → a JSON value, fast for plain chat examples (orjson, where its result is exactly
`json.loads`'s), with the French diagnosis of a line that is not JSON: a trailing comma, an
object spread over lines, single quotes, control characters, CR line ends, NaN, lone
surrogates, numbers too long, nesting too deep.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..i18n import N_, _
from .decode import Lines
from .problem import Problem


def _json_problem(text: str, err: json.JSONDecodeError, line: int) -> Problem:
    special = _cr_problem(text, line) or _control_problem(err, line)
    if special is not None:
        return special
    stripped = text.strip()
    fix = _('Écris un objet JSON complet par ligne, par exemple {"messages": [...]}.')
    if re.search(r",\s*[}\]]", stripped):
        msg, fix = (
            _("virgule en trop avant une accolade ou un crochet fermant"),
            _("Supprime la virgule finale."),
        )
    elif (
        stripped.startswith("{")
        and err.msg.startswith(("Expecting", "Unterminated"))
        and err.pos >= len(stripped) - 1
    ):
        msg = _(
            "l'objet JSON s'arrête en fin de ligne : il continue sur plusieurs lignes ou il manque une fermeture"
        )
        fix = _("Mets chaque exemple entier sur UNE seule ligne (JSONL), et ferme tous les { et [.")
    elif stripped in ("[", "]", "{", "}", "},", "],") or stripped.startswith(
        ('"role"', '{"role"', "[")
    ):
        msg = _("ce n'est pas un exemple complet (JSON réparti sur plusieurs lignes ?)")
        fix = _(
            "Mets chaque exemple entier sur UNE seule ligne (JSONL), sans crochets autour du fichier."
        )
    elif "'" in stripped and "Expecting property name" in err.msg:
        msg, fix = (
            _("guillemets simples ' ' : JSON exige des guillemets doubles"),
            _("Remplace les ' par des \"."),
        )
    elif stripped.strip("\x00") == "":
        msg = _("ligne faite d'octets NUL (caractère 0) : le fichier est abîmé ou mal copié")
        fix = _(
            "Supprime cette ligne (ou ré-exporte le fichier en UTF-8 depuis son logiciel d'origine)."
        )
    else:
        msg = _("JSON invalide : {reason}, colonne {column}").format(
            reason=_json_reason_fr(err.msg), column=err.colno
        )
    return Problem("invalid_json", msg, fix, line=line)


#: The JSON parser's messages (English), in French for the learner.
_JSON_REASONS_FR = {
    "Expecting value": N_(
        "une valeur est attendue ici (texte entre guillemets, nombre, {…} ou […])"
    ),
    "Expecting property name enclosed in double quotes": (
        N_("un nom de champ entre guillemets doubles est attendu ici")
    ),
    "Expecting ',' delimiter": N_("il manque une virgule entre deux éléments"),
    "Expecting ':' delimiter": N_("il manque les deux-points entre un champ et sa valeur"),
    "Unterminated string starting at": (
        N_("un texte n'est pas fermé : il manque son guillemet de fin (ligne coupée ?)")
    ),
    "Extra data": N_("du texte en trop après la fin de l'objet"),
    "Invalid \\escape": N_("une barre oblique inverse \\ qui n'est pas une séquence permise"),
    "Invalid control character at": N_("un caractère de contrôle dans un texte"),
}


def _json_reason_fr(reason: str) -> str:
    return _(_JSON_REASONS_FR.get(reason, N_("syntaxe JSON incorrecte")))


_CONTROL_NAMES = {
    "\t": (N_("une tabulation"), N_("Écris \\t à la place de la tabulation (ou supprime-la).")),
    "\x00": (
        N_("un octet nul (NUL, U+0000)"),
        N_(
            "Supprime ce caractère invisible (souvent un reste de copier-coller ou d'un fichier "
            "UTF-16), ou écris \\u0000 s'il fait partie du texte."
        ),
    ),
    "\r": (
        N_("un retour chariot (CR)"),
        N_("Supprime-le, ou écris \\r s'il fait partie du texte."),
    ),
}


def _control_problem(err: json.JSONDecodeError, line: int) -> Problem | None:
    """A raw control character inside a JSON string: which one, where, and how to write it."""
    if not err.msg.startswith("Invalid control character") or err.pos >= len(err.doc):
        return None
    char = err.doc[err.pos]
    if char in _CONTROL_NAMES:
        name, fix = (_(text) for text in _CONTROL_NAMES[char])
    else:
        name = _("un caractère de contrôle invisible (U+{code})").format(code=f"{ord(char):04X}")
        fix = _("Supprime ce caractère, ou écris {escape} s'il fait partie du texte.").format(
            escape=f"\\u{ord(char):04x}"
        )
    return Problem(
        "control_character",
        _("caractère interdit tel quel dans un texte JSON, colonne {column} : {name}").format(
            column=err.colno, name=name
        ),
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
        _(
            "fins de ligne CR seules (ancien format Mac) : {n} exemples collés sur une seule ligne"
        ).format(n=n),
        _(
            "Convertis les fins de ligne en LF (Unix) : Notepad++ → Édition → Convertir les sauts de "
            "ligne → Unix (LF) ; ou dans un terminal : tr '\\r' '\\n' < ancien.jsonl > nouveau.jsonl."
        ),
        line=line,
    )


# ---------------------------------------------------------------------------------------
# Values JSON allows but the API refuses: NaN / Infinity, lone UTF-16 surrogates

# Only a line that holds one of these is walked (the fast path never sees them: orjson refuses them).
MAYBE_NOT_PLAIN = re.compile(r"NaN|Infinity|\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
KEY_MARK = " (clé)"  # i18n: keep (the end of a field path: the surrogate is in a key)


def not_plain_json(obj: Any, line: int) -> Problem | None:
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
            _("{literal} n'est pas une valeur JSON valide (l'API refuse NaN et Infinity)").format(
                literal=literal
            ),
            _(
                "Remplace-le par un nombre (pour weight : 0 ou 1), ou mets-le entre guillemets "
                'si c\'est du texte : "{literal}".'
            ).format(literal=literal),
            line=line,
            field=fld,
        )
    if path.endswith(KEY_MARK):
        text = _(
            "une clé contient une moitié de caractère Unicode isolée ({value}, « surrogate » "
            "UTF-16 seul) : impossible à encoder en UTF-8"
        )
    else:
        text = _(
            "un texte contient une moitié de caractère Unicode isolée ({value}, « surrogate » "
            "UTF-16 seul) : impossible à encoder en UTF-8"
        )
    return Problem(
        "lone_surrogate",
        text.format(value=value),
        _(
            "Supprime la séquence {value}, ou écris le caractère voulu tel quel (un emoji "
            "copié-collé, par exemple) ou avec ses deux moitiés {example}."
        ).format(value=value, example="\\ud83d\\ude00"),
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
                return f"{_SURROGATE.sub('?', sub)}{KEY_MARK}", f"\\u{ord(m.group()):04x}"
            found = _find_not_plain(item, sub)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------------------------------
# The fast path: plain chat examples, parsed once

ROLE_BITS = {"system": 1, "user": 2, "assistant": 4}
_MAX_JOIN = 200  # lines tried when looking for one JSON object spread over several lines


def simple_roles(obj: Any) -> int:
    """Fast path: {"messages": [{"role": system|user|assistant, "content": non-blank str}, …]}
    with an assistant message → the roles present (bits of `ROLE_BITS`); anything else → 0
    (it goes through the full checks)."""
    if type(obj) is not dict or len(obj) != 1:
        return 0
    msgs = obj.get("messages")
    if type(msgs) is not list:
        return 0
    roles = 0
    bits = ROLE_BITS
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


_fast_loads: Callable[[str | bytes], Any] | None
try:  # a faster parser, used only where its result is exactly `json.loads`'s (see below)
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - optional
    _fast_loads = None


def fast_simple(raw: str | bytes) -> tuple[Any, int]:
    """(example, roles) if the line is a plain chat example (fast path), else (None, 0).

    orjson parses ≈ 2× faster than `json`, and gives the very same strings; it differs on
    numbers (integers past 64 bits become floats) and refuses what `json` accepts (NaN, lone
    surrogates, bytes that are not UTF-8). A plain example holds strings only, so orjson's
    result is kept only then; any other line is parsed again by `json`, whose result and
    error messages the checks use.
    """
    try:
        obj = _fast_loads(raw)  # type: ignore[misc]  # None without orjson: the TypeError
    except (ValueError, TypeError):  # TypeError: orjson not installed
        return None, 0
    roles = simple_roles(obj)
    return (obj, roles) if roles else (None, 0)


def parse_json(raw: str | bytes) -> tuple[Any, Exception | None]:
    """(value, None), or (None, the error) for text that is not JSON, holds a number too long
    for Python, or nests too deep: every reader of a learner's JSON lines goes through it."""
    try:
        return json.loads(raw), None
    except (ValueError, RecursionError) as err:  # JSONDecodeError, too many digits, too deep
        return None, err


def parse_problem(raw: str, err: Exception, line: int) -> Problem:
    if isinstance(err, json.JSONDecodeError):
        return _json_problem(raw, err, line)
    fix = _('Écris un exemple simple : {"messages": [...]}.')
    if isinstance(err, RecursionError):
        msg = _("JSON imbriqué trop profondément (des milliers de [ ou { ouverts)")
    elif "digits" in str(err):  # Python's limit on integer digits (sys.get_int_max_str_digits)
        msg = _(
            "un nombre de cette ligne est trop long (des milliers de chiffres) : ni le kit ni "
            "l'API ne le lisent"
        )
        fix = _('Raccourcis ce nombre, ou mets-le entre guillemets si c\'est du texte : "123…".')
    else:
        msg = _("valeur JSON illisible")
    return Problem("invalid_json", msg, fix, line=line)


def multiline(first: str, lines: Lines) -> int | None:
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
