"""Driving the kit's widgets headless: what the front end would receive, and plain text views.

Works with ipywidgets 7.7 (Colab) and 8. Every message the kernel would send to the browser
goes through `Widget._send`; `SentMessages` records them (as JSON text) so tests can assert
what never leaves the kernel.
"""

from __future__ import annotations

import json
import re
from typing import Any

import ipywidgets

from helpers.widgets import compat


def text(html_value: str) -> str:
    """An HTML widget value as plain text (tags dropped, entities decoded, spaces squeezed)."""
    import html

    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", html_value))).strip()


class SentMessages:
    def __init__(self, monkeypatch: Any) -> None:
        self.messages: list[str] = []
        original = ipywidgets.Widget._send

        def _send(widget: Any, msg: Any, buffers: Any = None) -> Any:
            self.messages.append(json.dumps(msg, default=repr, ensure_ascii=False))
            for b in buffers or ():
                self.messages.append(bytes(b).decode("utf-8", "replace"))
            return original(widget, msg, buffers)

        monkeypatch.setattr(ipywidgets.Widget, "_send", _send)

    def joined(self) -> str:
        return "\n".join(self.messages)


def widget_state_text() -> str:
    """The synced state of every live widget, as the front end (and a saved notebook) would have it."""
    parts = []
    for w in compat.live_widgets():
        try:
            state = w.get_state()
        except Exception:  # a widget being closed
            continue
        parts.append(
            json.dumps(
                state,
                default=lambda v: (
                    bytes(v).decode("utf-8", "replace")
                    if isinstance(v, (bytes, memoryview))
                    else repr(v)
                ),
                ensure_ascii=False,
            )
        )
    return "\n".join(parts)


def browser_sets(widget: Any, **state: Any) -> None:
    """What happens when the browser changes a value (echo included, in ipywidgets 8)."""
    widget.set_state(state)
