"""The texts a web page shows through its translation function (the step-8 page, the teacher
page): both pages mark them the same way, and their tests compare them with the msgids the
server lists."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path


class _Marked(HTMLParser):
    """The texts of `data-t` elements and the attributes named by `data-t-attr`."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in (a.get("data-t-attr") or "").split():
            self.found.append(a[name])
        if "data-t" in a:
            self._open.append((tag, []))

    def handle_data(self, data):
        for _tag, parts in self._open:
            parts.append(data)

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self.found.append("".join(self._open.pop()[1]))


def marked_texts(html: Path, *scripts: Path) -> set[str]:
    """Every text a page shows through its translation: `data-t` elements and the attributes
    `data-t-attr` names in `html`, the string literals of `t("…" + "…")` calls in `scripts`."""
    parser = _Marked()
    parser.feed(html.read_text(encoding="utf-8"))
    found = {" ".join(text.split()) for text in parser.found}
    for script in scripts:
        source = script.read_text(encoding="utf-8")
        for call in re.finditer(r'\bt\(\s*((?:"(?:[^"\\]|\\.)*"\s*\+?\s*)+)', source):
            found.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', call.group(1))))
    return found
