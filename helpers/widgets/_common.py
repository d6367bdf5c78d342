"""Small pieces shared by the kit's widgets (HTML snippets, styles)."""

from __future__ import annotations

import html

COLORS = {
    "ok": ("#1a7f37", "#eefbf1"),
    "error": ("#cf222e", "#fff5f5"),
    "warning": ("#9a6700", "#fff8e1"),
    "info": ("#0969da", "#f0f6ff"),
    "muted": ("#57606a", "#f6f8fa"),
}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def box(text: str, kind: str = "info", *, raw: bool = False) -> str:
    """A coloured message block. `text` is escaped unless `raw`; newlines become <br>."""
    fg, bg = COLORS.get(kind, COLORS["info"])
    body = text if raw else esc(text).replace("\n", "<br>")
    return (
        f"<div class='atelier-msg atelier-{kind}' style='border-left:4px solid {fg};background:{bg};"
        f"padding:.35em .7em;margin:.2em 0;line-height:1.4'>{body}</div>"
    )


def diagnosis_html(diagnosis: object) -> str:
    """`helpers.errors.Diagnosis` → HTML (its own `_repr_html_` when it has one)."""
    render = getattr(diagnosis, "_repr_html_", None)
    if callable(render):
        try:
            return str(render())
        except Exception:  # pragma: no cover - fall back to text
            pass
    return box(str(diagnosis), "error")
