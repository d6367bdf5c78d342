"""Checking a whole file: one streaming pass over its lines (`check_bytes`, `check_file`,
`check_examples`), every check, the duplicates (by fingerprint), the token counts.

Speed (bench/check_speed.py): plain chat lines take a fast path (orjson, roles read once);
the garbage collector is off during a scan (parsing allocates many containers, none cyclic);
`check_file(…, keep_examples=False)` keeps figures, not examples, and sends every example's
texts to the token counter at once (encoded on the other cores while the next lines parse).
"""

from __future__ import annotations

import gc
import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .. import models, tokens
from ..exceptions import DatasetError
from ..i18n import _
from .decode import Lines, decode, file_lines, text_lines, wide_codec
from .jsonl import dumps_jsonl
from .parse import (
    MAYBE_NOT_PLAIN,
    fast_simple,
    multiline,
    not_plain_json,
    parse_json,
    parse_problem,
    simple_roles,
)
from .problem import Problem
from .report import Example, Figures, Report, token_limit
from .rules import CHAT, Rules


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
    text, decode_problems = decode(data)
    return _run(text_lines(text), decode_problems, model, keep=True, rules=rules)


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
        _Scan(report, model, keep=keep, rules=rules or CHAT).run(Lines(lines, decode_problems))
    except (
        ImportError
    ):  # a package missing from this Python: not the file's problem (the caller says)
        raise
    except Exception as err:  # pragma: no cover - a bug must not hide the file's problems
        report.problems.append(
            Problem(
                "internal",
                _("vérification interrompue ({error})").format(error=type(err).__name__),
                _("Signale ce fichier à ton formateur."),
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
                _("le modèle visé, « {model} », est un alias (un nom sans date)").format(
                    model=model
                ),
                advice,
                severity="warning",
            )
        )
    return report


_NOT_PLAIN: tuple[Any, int] = (None, 0)  # (no example, no roles): not the fast path


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
        self.limit = token_limit(model)
        self.counter = report.counter = tokens.TokenCounter(model)
        self.figures = None if keep else Figures()
        report.figures = self.figures
        self.seen: dict[int, int] = {}
        self.n = 0  # examples so far

    def run(self, lines: Lines) -> None:
        report, problems = self.report, self.report.problems
        content = False  # a line that is not blank
        for raw in lines:
            number = lines.number
            obj, roles = fast_simple(raw) if self.rules.plain_fast_path else _NOT_PLAIN
            if roles:
                content = True
                self.simple(obj, roles, raw, number)
                continue
            raw = lines.text(raw)
            obj, err = parse_json(raw)
            if err is None and MAYBE_NOT_PLAIN.search(raw):
                bad = not_plain_json(obj, number)
                if bad is not None:
                    content = True
                    problems.append(bad)
                    continue
            if err is None:
                content = True
                roles = simple_roles(obj) if self.rules.plain_fast_path else 0
                if roles:
                    self.simple(obj, roles, raw, number)
                else:
                    self.full(obj, raw, number)
                continue
            if not raw.strip():
                problems.append(
                    Problem(
                        "blank_line", _("ligne vide"), _("Supprime cette ligne vide."), line=number
                    )
                )
                continue
            content = True
            if raw.rstrip().endswith(","):
                obj, err2 = parse_json(raw.rstrip()[:-1])
                bad = not_plain_json(obj, number) if err2 is None else None
                if bad is not None:
                    problems.append(bad)
                    continue
                if err2 is None:
                    problems.append(
                        Problem(
                            "trailing_comma",
                            _("virgule en trop à la fin de la ligne"),
                            _(
                                "Supprime la virgule finale : en JSONL, les exemples ne sont pas "
                                "séparés par des virgules."
                            ),
                            line=number,
                        )
                    )
                    self.full(obj, raw.rstrip()[:-1], number)
                    continue
            more = multiline(raw, lines)
            if more is not None:
                problems.append(
                    Problem(
                        "multiline_json",
                        _(
                            "un exemple est écrit sur plusieurs lignes (lignes {first} à {last})"
                        ).format(first=number, last=number + more),
                        _(
                            "Mets chaque exemple entier sur UNE seule ligne (JSONL) : supprime les retours à la ligne "
                            "à l'intérieur de l'objet."
                        ),
                        line=number,
                    )
                )
                lines.skip(more)
                continue
            problems.append(parse_problem(raw, err, number))
        if not content:
            report.problems[:] = [
                Problem(
                    "empty_file",
                    _("le fichier est vide"),
                    _("Écris au moins 10 exemples, un par ligne."),
                    line=None,
                )
            ]
            return
        report.n_lines = lines.number
        if self.n < models.MIN_EXAMPLES:
            problems.append(
                Problem(
                    "too_few_examples",
                    _("{count} : l'API d'OpenAI en exige au moins {minimum}").format(
                        count=self.rules.words("count", self.n), minimum=models.MIN_EXAMPLES
                    ),
                    _("Ajoute au moins {count} (50 à 100 donnent de meilleurs résultats).").format(
                        count=self.rules.words("count", models.MIN_EXAMPLES - self.n)
                    ),
                )
            )
        if self.figures is not None:
            report.token_counts, self.figures.assistant_tokens = self.counter.all_example_tokens()

    def simple(self, obj: dict[str, Any], roles: int, raw: str | bytes, number: int) -> None:
        """A well-formed plain chat example (fast path): only its length and duplicates to check."""
        self.n += 1
        messages = obj["messages"]
        if self.figures is None:
            self.report.examples.append(Example(number, obj))
            if len(raw) * 4 + tokens.TOKENS_REPLY_PRIMER > self.limit:  # may be too long
                self.count_now(self.counter.messages(messages), number)
            else:
                self.report.add_count(None)
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
            self.report.add_count(n_tokens)
        if n_tokens > self.limit:
            self.report.problems.append(_too_long(n_tokens, self.limit, self.model, number, self.n))


def _check_stream(file: BinaryIO, model: str, rules: Rules | None = None) -> Report:
    """`check_bytes` on a file read line by line, keeping figures instead of examples."""
    start = file.read(4)
    if wide_codec(start) is not None:  # rare: decode the whole file as `check_bytes` does
        text, decode_problems = decode(start + file.read())
        return _run(text_lines(text), decode_problems, model, keep=False, rules=rules)
    file.seek(0)
    found: list[Problem] = []
    return _run(file_lines(file, found), found, model, keep=False, rules=rules)


def _too_long(n_tokens: int, limit: int, model: str, line: int, ex: int) -> Problem:
    return Problem(
        "too_long",
        _(
            "exemple de {n} jetons, plus que la limite de {limit} pour {model} : il sera tronqué"
        ).format(n=n_tokens, limit=limit, model=model),
        _("Raccourcis cet exemple ou coupe-le en plusieurs."),
        line=line,
        severity="warning",
        example=ex,
    )


def _duplicate(first: int, line: int, ex: int) -> Problem:
    return Problem(
        "duplicate",
        _("doublon exact de la ligne {line}").format(line=first),
        _("Supprime le doublon ou varie la question."),
        line=line,
        severity="warning",
        example=ex,
    )


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
                _("impossible de lire {path} ({error})").format(path=path, error=err.strerror),
                _("Vérifie le chemin du fichier (il doit finir par .jsonl)."),
            )
        )
        return report
    if path.suffix.lower() != ".jsonl":
        report.problems.insert(
            0,
            Problem(
                "bad_extension",
                _("le nom du fichier finit par {suffix}").format(
                    suffix=repr(path.suffix) if path.suffix else repr(_("(rien)"))
                ),
                _("Renomme-le en .jsonl : l'API refuse les autres extensions."),
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
