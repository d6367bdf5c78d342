"""The widgets of one row of the dataset table: its text areas (system, the turns or a pair's
three texts, or the whole example as JSON), its buttons, its problems shown beside it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import ipywidgets as widgets

from .. import dataset
from ..i18n import _
from ._common import esc
from .compat import bottom_border, set_tooltip
from .table_rows import Row


class Table(Protocol):
    """What a row's widgets ask of their table."""

    def duplicate_row(self, index: int) -> int: ...

    def delete_row(self, index: int) -> None: ...

    def row_changed(self) -> None: ...


NUMBER_WIDTH = "56px"
ACTIONS_WIDTH = "150px"
SYSTEM_SHARE, TURNS_SHARE = "28%", "72%"


def area(value: str, placeholder: str, width: str) -> widgets.Textarea:
    return widgets.Textarea(
        value=value,
        placeholder=placeholder,
        rows=2,
        layout=widgets.Layout(width=width, min_width="100px"),
    )


def icon_layout() -> widgets.Layout:
    return widgets.Layout(width="34px", padding="0", margin="2px 1px")


def header(method: str = "supervised") -> widgets.HBox:
    """Column titles laid out exactly like a row."""

    def title(label: str, width: str) -> widgets.HTML:
        return widgets.HTML(
            f"<b style='color:#57606a'>{label}</b>", layout=widgets.Layout(width=width)
        )

    if method == "dpo":
        columns = [
            title(_("user : la question"), "34%"),
            title(_("✅ réponse préférée"), "33%"),
            title(_("❌ réponse non préférée"), "33%"),
        ]
    else:
        columns = [
            title(_("user : la question"), "50%"),
            title(_("assistant : la réponse"), "50%"),
        ]
    turns = widgets.HBox(columns, layout=widgets.Layout(width=TURNS_SHARE))
    body = widgets.HBox(
        [title(_("system (facultatif)"), SYSTEM_SHARE), turns],
        layout=widgets.Layout(flex="1 1 auto", width="auto"),
    )
    return widgets.HBox([title(_("n°"), NUMBER_WIDTH), body, title("", ACTIONS_WIDTH)])


class RowView(widgets.VBox):
    """The widgets of one row: `system`, `turns` (list of (user, assistant) text areas), `raw`."""

    def __init__(self, table: Table, row: Row, index: int) -> None:
        self.table, self.row, self.index = table, row, index
        self.number = widgets.HTML(
            layout=widgets.Layout(width=NUMBER_WIDTH, min_width=NUMBER_WIDTH)
        )
        self.problems = widgets.HTML()
        self.duplicate = widgets.Button(icon="copy", layout=icon_layout())
        set_tooltip(self.duplicate, _("Dupliquer cette rangée"))
        self.delete = widgets.Button(icon="trash", layout=icon_layout())
        set_tooltip(self.delete, _("Supprimer cette rangée (annulable)"))
        self.add_turn = widgets.Button(icon="plus", layout=icon_layout())
        set_tooltip(
            self.add_turn, _("Ajouter un tour de dialogue (user → assistant) à cette conversation")
        )
        self.remove_turn = widgets.Button(icon="minus", layout=icon_layout())
        set_tooltip(self.remove_turn, _("Retirer le dernier tour de dialogue"))
        self.duplicate.on_click(lambda _b: table.duplicate_row(self.index))
        self.delete.on_click(lambda _b: table.delete_row(self.index))
        self.add_turn.on_click(lambda _b: self._add_turn())
        self.remove_turn.on_click(lambda _b: self._remove_turn())
        self.system: widgets.Textarea | None = None
        self.raw: widgets.Textarea | None = None
        self.turns: list[tuple[widgets.Textarea, widgets.Textarea]] = []
        self.rejected: widgets.Textarea | None = None  # a pair's non-preferred answer
        self._body = widgets.VBox(layout=widgets.Layout(flex="1 1 auto", width="auto"))
        self._build_body()
        actions = widgets.HBox(
            [self.duplicate, self.delete, self.add_turn, self.remove_turn],
            layout=widgets.Layout(width=ACTIONS_WIDTH, min_width=ACTIONS_WIDTH),
        )
        super().__init__(
            children=[
                widgets.HBox(
                    [self.number, self._body, actions],
                    layout=widgets.Layout(align_items="flex-start"),
                ),
                self.problems,
            ],
            layout=widgets.Layout(padding="2px 0", **bottom_border("1px solid #ddd")),
        )

    def _build_body(self) -> None:
        row = self.row
        if row.raw is not None:
            self.raw = widgets.Textarea(
                value=row.raw,
                rows=max(3, min(12, row.raw.count("\n") + 1)),
                layout=widgets.Layout(width="100%"),
            )
            set_tooltip(self.raw, _("Exemple complet en JSON (outils, poids…) : modifie-le ici."))
            self.raw.observe(self._on_raw, names="value")
            advanced = _("exemple avancé, en JSON :")
            self._body.children = [widgets.HTML(f"<i>{advanced}</i>"), self.raw]
            self.add_turn.layout.visibility = self.remove_turn.layout.visibility = "hidden"
            return
        self.system = area(row.system, _("system (facultatif) : le rôle du modèle"), "100%")
        self.system.observe(self._on_system, names="value")
        if row.pair:
            self._build_pair()
            return
        self.turns = []
        lines = []
        for k, (user, assistant) in enumerate(row.turns):
            turn = " " + _("(tour {n})").format(n=k + 1) if k else ""
            u = area(user, _("user : la question") + turn, "50%")
            a = area(assistant, _("assistant : la réponse attendue") + turn, "50%")
            u.observe(self._on_turn(k, 0), names="value")
            a.observe(self._on_turn(k, 1), names="value")
            self.turns.append((u, a))
            lines.append(widgets.HBox([u, a], layout=widgets.Layout(width="100%")))
        first = widgets.HBox(
            [
                widgets.Box([self.system], layout=widgets.Layout(width=SYSTEM_SHARE)),
                widgets.VBox(lines, layout=widgets.Layout(width=TURNS_SHARE)),
            ],
            layout=widgets.Layout(width="100%"),
        )
        self._body.children = [first]
        self.remove_turn.disabled = len(row.turns) <= 1

    def _build_pair(self) -> None:
        """A preference pair: the question, the preferred answer, the non-preferred one."""
        user, preferred = self.row.turns[0] if self.row.turns else ("", "")
        u = area(user, _("user : la question"), "34%")
        a = area(preferred, _("la réponse à préférer"), "33%")
        self.rejected = area(self.row.rejected, _("la réponse à éviter"), "33%")
        u.observe(self._on_turn(0, 0), names="value")
        a.observe(self._on_turn(0, 1), names="value")
        self.rejected.observe(self._on_rejected, names="value")
        self.turns = [(u, a)]
        self._body.children = [
            widgets.HBox(
                [
                    widgets.Box([self.system], layout=widgets.Layout(width=SYSTEM_SHARE)),
                    widgets.HBox([u, a, self.rejected], layout=widgets.Layout(width=TURNS_SHARE)),
                ],
                layout=widgets.Layout(width="100%"),
            )
        ]
        self.add_turn.layout.visibility = self.remove_turn.layout.visibility = "hidden"

    def _on_rejected(self, change: dict[str, Any]) -> None:
        self.row.rejected = change["new"]
        self.table.row_changed()

    def _pair_area(self, p: dataset.Problem) -> Any:
        """The text area a pair's problem is about (by its field)."""
        fld = p.field or ""
        if fld.startswith("non_preferred_output"):
            return self.rejected
        if fld.startswith("preferred_output"):
            return self.turns[0][1] if self.turns else None
        if fld.startswith("input.messages[0]") and self.row.system.strip():
            return self.system
        if fld.startswith("input"):
            return self.turns[0][0] if self.turns else None
        return None

    def widgets_for_message(self) -> list[Any]:
        """Text areas in message order (to point at a problem's `message_index`)."""
        if self.raw is not None:
            return []
        out: list[Any] = [self.system] if self.row.system.strip() else []
        for u, a in self.turns:
            out += [u, a]
        return out

    def _on_system(self, change: dict[str, Any]) -> None:
        self.row.system = change["new"]
        self.table.row_changed()

    def _on_turn(self, k: int, side: int) -> Callable[[dict[str, Any]], None]:
        def handler(change: dict[str, Any]) -> None:
            if k < len(self.row.turns):
                self.row.turns[k][side] = change["new"]
                self.table.row_changed()

        return handler

    def _on_raw(self, change: dict[str, Any]) -> None:
        self.row.raw = change["new"]
        self.table.row_changed()

    def _add_turn(self) -> None:
        self.row.turns.append(["", ""])
        self._rebuild()

    def _remove_turn(self) -> None:
        if len(self.row.turns) > 1:
            self.row.turns.pop()
            self._rebuild()

    def _rebuild(self) -> None:
        old = list(self._body.children)
        self._build_body()
        for w in old:
            close_tree(w)
        self.table.row_changed()

    def show(self, problems: list[dataset.Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        icon = "❌" if errors else ("⚠️" if problems else "✅")
        tip = _(" ; ").join(p.message for p in problems) or _("prêt")
        self.number.value = f"<span title='{esc(tip)}'><b>{self.index + 1}</b> {icon}</span>"
        self.problems.value = (
            f"<div style='color:#cf222e;font-size:90%;padding-left:{NUMBER_WIDTH};line-height:1.4'>"
            + "<br>".join(
                esc(
                    f"{'❌' if p.severity == 'error' else '⚠️'} "
                    f"{_('champ {field} : ').format(field=p.field) if p.field else ''}"
                    f"{p.message} → {p.fix}"
                )
                for p in problems
            )
            + "</div>"
            if problems
            else ""
        )
        if self.row.pair and self.raw is None:
            marked_areas = {id(a) for a in map(self._pair_area, errors) if a is not None}
            for area in (self.system, *(self.turns[0] if self.turns else ()), self.rejected):
                if area is not None:
                    area.layout.border = "1px solid #cf222e" if id(area) in marked_areas else ""
            return
        areas = self.widgets_for_message()
        marked = {p.message_index for p in problems if p.message_index}
        for i, area in enumerate(areas, start=1):
            if area is not None:
                area.layout.border = "1px solid #cf222e" if i in marked else ""
        if self.raw is not None:
            self.raw.layout.border = "1px solid #cf222e" if errors else ""

    def dispose(self) -> None:
        close_tree(self)


def close_tree(w: Any) -> None:
    for child in getattr(w, "children", ()) or ():
        close_tree(child)
    w.close()
