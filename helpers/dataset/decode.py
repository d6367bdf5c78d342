"""Bytes → text lines: UTF-8 (a BOM reported), UTF-16 and UTF-32 recognised and reported,
every line that is not UTF-8 named; a file's lines one at a time, with a look-ahead (`Lines`).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from typing import BinaryIO

from ..i18n import _
from .problem import Problem

_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _bom_problem() -> Problem:
    return Problem(
        "bom",
        _("le fichier commence par un BOM (UTF-8 « avec signature »)"),
        _(
            "Enregistre-le en « UTF-8 » sans BOM (VS Code : en bas à droite, "
            "« Save with Encoding » → UTF-8)."
        ),
        line=1,
    )


def _not_utf8_problem(line: int, err: UnicodeDecodeError) -> Problem:
    return Problem(
        "not_utf8",
        _(
            "ligne pas en UTF-8 (octet illisible en colonne {column} : "
            "accent enregistré en Latin-1 / Windows-1252 ?)"
        ).format(column=err.start + 1),
        _("Enregistre le fichier en UTF-8 (VS Code : « Save with Encoding » → UTF-8)."),
        line=line,
    )


def wide_codec(head: bytes) -> str | None:
    """ "utf-16-le", "utf-32-be"… if a file's first 4 bytes are UTF-16 / UTF-32 (BOM or not)."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith(_UTF16_BOMS):
        return "utf-16"
    if len(head) < 4 or b"\x00" not in head:
        return None
    zero = [b == 0 for b in head[:4]]
    return {
        (False, True, True, True): "utf-32-le",  # i18n: keep (a codec name)
        (True, True, True, False): "utf-32-be",
        (False, True, False, True): "utf-16-le",  # i18n: keep (a codec name)
        (True, False, True, False): "utf-16-be",
    }.get(tuple(zero))  # type: ignore[arg-type]


def _decode_wide(data: bytes, codec: str) -> tuple[str, list[Problem]]:
    bits = "32" if "32" in codec else "16"
    problem = Problem(
        f"utf{bits}",
        _("le fichier est en UTF-{bits} (Unicode « {bits} bits »), pas en UTF-8").format(bits=bits),
        _(
            "Enregistre-le en « UTF-8 » (Bloc-notes : Enregistrer sous → Codage : UTF-8 ; "
            "VS Code : « Save with Encoding » → UTF-8)."
        ),
        line=1,
    )
    text = data.decode(codec, errors="replace")
    return text.removeprefix("\ufeff"), [problem]


def decode(data: bytes) -> tuple[str, list[Problem]]:
    problems: list[Problem] = []
    codec = wide_codec(data[:4])
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


def text_lines(text: str) -> Iterator[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line, it is not a blank line
    return iter(lines)


def file_lines(file: BinaryIO, decode_problems: list[Problem]) -> Iterator[bytes]:
    """A file's lines, read one at a time, as bytes with their line end (see `Lines.text`)."""
    first = file.readline()
    if first.startswith(_BOM):
        decode_problems.append(_bom_problem())
        first = first[3:]
    return itertools.chain([first] if first else [], file)


class Lines:
    """Lines one at a time (numbered from 1), with a look-ahead for JSON spread over lines.

    Lines read from a file stay bytes, with their `\n`, until `text` decodes them: a plain
    example is parsed from its bytes directly (its parser checks UTF-8, skips the `\n`). `text`
    and `skip` report a line that is not UTF-8 (into `decode_problems`, in line order), exactly
    as `decode` does for a whole file.
    """

    def __init__(self, lines: Iterator[str] | Iterator[bytes], decode_problems: list[Problem]):
        self._lines: Iterator[str | bytes] = lines
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
        if isinstance(raw, str):
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
        for _line in range(n):
            self.number += 1
            self.text(self._ahead.popleft())
