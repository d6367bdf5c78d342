"""A `Diagnosis` (what happened, why, what to do: French), and what every diagnosis needs:
keys scrubbed from messages, the active mode when it can be read."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from .. import settings
from ..i18n import N_, _
from ..modes import Mode
from ..settings import mask_key

# Translate when shown: `_(SANDBOX_HINT)`.
SANDBOX_HINT = N_('Pour suivre le cours sans compte ni frais : `helpers.use_mode("sandbox")`.')


@dataclass(frozen=True)
class Diagnosis:
    """An explanation of an error, in the learner's language (French source). `code` is a
    stable machine name (tests, widgets)."""

    title: str  # what happened
    cause: str  # why
    fix: str  # what to do
    code: str = "unknown"
    detail: str | None = None  # the original message, key masked

    def __str__(self) -> str:
        text = _("❌ {title}\nPourquoi : {cause}\nQue faire : {fix}").format(
            title=self.title, cause=self.cause, fix=self.fix
        )
        if self.detail:
            text += "\n" + _("(message d'origine : {detail})").format(detail=self.detail)
        return text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text form
        printer.text(str(self))

    def _repr_html_(self) -> str:
        esc = html.escape
        detail = (
            "<div style='opacity:.7;font-size:90%'>"
            + _("message d'origine : <code>{detail}</code>").format(detail=esc(self.detail))
            + "</div>"
            if self.detail
            else ""
        )
        return (
            "<div style='border-left:4px solid #d33;padding:.4em .8em;background:#fff5f5'>"
            + _(
                "<b>❌ {title}</b><br><b>Pourquoi :</b> {cause}<br><b>Que faire :</b> {fix}"
            ).format(title=esc(self.title), cause=esc(self.cause), fix=esc(self.fix))
            + detail
            + "</div>"
        )


_KEY_RE = re.compile(r"\b(sk-[A-Za-z0-9_\-*.…]{4,})")


def scrub(text: str) -> str:
    """Replace anything that looks like an OpenAI key (masked or not) by its re-masked form."""
    return _KEY_RE.sub(lambda m: mask_key(m.group(1).rstrip(".")), text)


def current_mode() -> Mode | None:
    try:
        return settings.get_mode()
    except Exception:  # an unusable setting: wording for no mode in particular
        return None


def kit_server_mode() -> bool:
    """True in the modes served by the kit's own server (sandbox, local)."""
    try:
        return settings.get_mode().traits.kit_server
    except Exception:
        return False
