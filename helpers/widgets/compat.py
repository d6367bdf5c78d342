"""The few ipywidgets 7.7 (Colab) ↔ 8.x differences the kit's widgets meet, in one place.

- `FileUpload.value`: a dict by file name (`{"name": {"metadata": {...}, "content": bytes}}`)
  in 7.7, a tuple of dicts (`({"name": ..., "content": memoryview, ...},)`) in 8.
- Tooltips: `description_tooltip` in 7.7, `tooltip` in 8 (the old name warns there).
- The registry of live widgets: `Widget.widgets` in 7.7, `ipywidgets.widgets.widget._instances`
  in 8.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from packaging.version import Version

VERSION = Version(widgets.__version__)
IPYWIDGETS_8 = VERSION.major >= 8


def set_tooltip(widget: Any, text: str) -> None:
    """Set the hover text of any widget, whichever ipywidgets runs."""
    if IPYWIDGETS_8:
        if widget.has_trait("tooltip"):
            widget.tooltip = text
    elif widget.has_trait("tooltip"):  # 7.7 Button/ToggleButton have their own `tooltip`
        widget.tooltip = text
    elif widget.has_trait("description_tooltip"):
        widget.description_tooltip = text


def bottom_border(css: str) -> dict[str, str]:
    """Layout options for a line under a box (`border_bottom` exists only in ipywidgets 8)."""
    return {"border_bottom": css} if IPYWIDGETS_8 else {"border": css}


def get_tooltip(widget: Any) -> str:
    for name in ("tooltip", "description_tooltip"):
        if widget.has_trait(name) and getattr(widget, name):
            return getattr(widget, name)
    return ""


def uploaded_files(upload: Any) -> list[tuple[str, bytes]]:
    """The files held by a `FileUpload`, as `(name, content)` pairs."""
    value = upload.value
    out: list[tuple[str, bytes]] = []
    if isinstance(value, dict):  # 7.7: {name: {"metadata": {...}, "content": bytes}}
        for name, entry in value.items():
            content = entry.get("content", b"") if isinstance(entry, dict) else b""
            out.append((str(name), bytes(content)))
    else:  # 8: ({"name": ..., "content": memoryview, ...}, ...)
        for entry in value or ():
            out.append((str(entry.get("name", "fichier")), bytes(entry.get("content", b""))))
    return out


def clear_upload(upload: Any) -> None:
    """Forget the uploaded files (they otherwise stay in the widget state, i.e. the notebook)."""
    if IPYWIDGETS_8:
        upload.value = ()
        return
    with upload.hold_trait_notifications():
        upload.metadata = []
        upload.data = []
    upload._counter = 0  # 7.7 rebuilds `value` when the counter changes


def simulate_upload(upload: Any, name: str, content: bytes) -> None:
    """Send the state the browser sends when someone picks a file (headless tests)."""
    if IPYWIDGETS_8:
        upload.set_state(
            {
                "value": [
                    {
                        "name": name,
                        "type": "",
                        "size": len(content),
                        "content": memoryview(content),
                        "last_modified": 0,
                    }
                ]
            }
        )
        return
    upload.set_state(
        {
            "metadata": [{"name": name, "type": "", "size": len(content), "lastModified": 0}],
            "data": [memoryview(content)],
            "_counter": upload._counter + 1,
        }
    )


def live_widgets() -> list[Any]:
    """Every widget the kernel knows (to check what the front end could ever see)."""
    if IPYWIDGETS_8:
        from ipywidgets.widgets import widget as _widget

        return list(_widget._instances.values())
    return list(widgets.Widget.widgets.values())
