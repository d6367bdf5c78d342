"""Dataset table: build a chat dataset row by row, checked live, exported as JSONL.

One row per conversation: an optional `system` text and one or more turns (user → assistant).
With `method="dpo"` (or a file of preference pairs), one row per pair: `system`, the question,
the preferred answer and the non-preferred one (`helpers.preference_data`).
Examples that do not fit that shape (tool calls, weights, names…) are kept whole as JSON in
a single text box, never simplified away. The check beside the table is
`helpers.dataset.check_bytes` on exactly the JSONL the export would write (row N = line N),
so the table, the file and the sandbox's own validation always agree.

Nothing typed is lost: an import that cannot be read leaves the table as it was (lines that
are not valid JSON come in as rows to fix), a failed save changes nothing, and the last
deletion can be undone. Reading and writing files (JSONL, JSON array, CSV) is
`helpers.dataset_io`'s: this module only shows what it reads and says what it refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .. import dataset, dataset_io, models, preference_data, settings, workspace
from ..fileio import write_atomic
from ._common import box, diagnosis_html, esc
from .compat import bottom_border, clear_upload, set_tooltip, uploaded_files

_NAME_RE = re.compile(r"^[\w\-. ]{1,80}$")
MAX_PROBLEMS_SHOWN = 12


def default_export_dir() -> Path:
    """`data/perso/` of the checkout (git-ignored), else `perso/` in the workspace."""
    root = settings.repo_root()
    if root is not None and _writable(root / "data"):
        return root / "data" / "perso"
    return settings.workspace_dir() / "perso"


def _writable(folder: Path) -> bool:
    import os

    probe = folder
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK)


# ---------------------------------------------------------------------------------------
# The data behind one row


@dataclass
class Row:
    """One conversation. `raw` (JSON text) is used instead of the fields for rich examples."""

    system: str = ""
    turns: list[list[str]] = field(default_factory=lambda: [["", ""]])
    raw: str | None = None
    #: A preference pair (DPO): `turns` is [[question, preferred answer]], `rejected` the other.
    pair: bool = False
    rejected: str = ""

    @classmethod
    def from_example(cls, example: Any) -> Row:
        """A simple conversation becomes fields; anything else is kept whole as JSON."""
        if preference_data.is_pair(example):
            simple_pair = preference_data.simple_row(example)
            if simple_pair is None:
                return cls(
                    raw=json.dumps(example, ensure_ascii=False, indent=1), turns=[], pair=True
                )
            return cls(
                system=simple_pair["system"],
                turns=[[simple_pair["user"], simple_pair["preferred"]]],
                pair=True,
                rejected=simple_pair["non_preferred"],
            )
        msgs = example.get("messages") if isinstance(example, dict) else None
        simple = (
            isinstance(example, dict)
            and set(example) == {"messages"}
            and isinstance(msgs, list)
            and bool(msgs)
            and all(
                isinstance(m, dict)
                and set(m) == {"role", "content"}
                and isinstance(m["content"], str)
                for m in msgs
            )
        )
        if simple:
            assert isinstance(msgs, list)
            system, body = "", msgs
            if msgs[0]["role"] == "system" and msgs[0]["content"].strip():
                system, body = msgs[0]["content"], msgs[1:]
            roles = [m["role"] for m in body]
            if body and len(body) % 2 == 0 and roles == ["user", "assistant"] * (len(body) // 2):
                return cls(
                    system=system,
                    turns=[
                        [body[i]["content"], body[i + 1]["content"]] for i in range(0, len(body), 2)
                    ],
                )
        try:
            return cls(raw=json.dumps(example, ensure_ascii=False, indent=1), turns=[])
        except (ValueError, RecursionError):  # nested too deep to lay out: on one line
            return cls(raw=json.dumps(example, ensure_ascii=False), turns=[])

    @classmethod
    def empty(cls, pair: bool = False) -> Row:
        return cls(pair=pair)

    def copy(self) -> Row:
        return Row(self.system, [list(t) for t in self.turns], self.raw, self.pair, self.rejected)

    def is_empty(self) -> bool:
        if self.raw is not None:
            return not self.raw.strip()
        return (
            not self.system.strip()
            and not self.rejected.strip()
            and all(not u.strip() and not a.strip() for u, a in self.turns)
        )

    def example(self) -> dict[str, Any] | None:
        """The example as a dict (None: a raw row whose JSON does not parse)."""
        if self.raw is not None:
            value, _ = dataset.parse_json(self.raw)
            return value if isinstance(value, dict) else None
        if self.pair:
            user, preferred = self.turns[0] if self.turns else ("", "")
            return preference_data.pair(user, preferred, self.rejected, self.system or None)
        msgs: list[dict[str, Any]] = []
        if self.system.strip():
            msgs.append({"role": "system", "content": self.system})
        for user, assistant in self.turns:
            msgs.append({"role": "user", "content": user})
            msgs.append({"role": "assistant", "content": assistant})
        return {"messages": msgs}

    def jsonl_line(self) -> str:
        """What this row writes in the JSONL file (one line, no newline)."""
        if self.raw is not None:
            try:
                return json.dumps(json.loads(self.raw), ensure_ascii=False)
            except (ValueError, RecursionError):  # keep the learner's text, on one line, for
                return " ".join(self.raw.split("\n")).strip()  # the check to point at
        return json.dumps(self.example(), ensure_ascii=False)


# ---------------------------------------------------------------------------------------
# The widgets of one row


NUMBER_WIDTH = "56px"
ACTIONS_WIDTH = "150px"
SYSTEM_SHARE, TURNS_SHARE = "28%", "72%"


def _area(value: str, placeholder: str, width: str) -> widgets.Textarea:
    return widgets.Textarea(
        value=value,
        placeholder=placeholder,
        rows=2,
        layout=widgets.Layout(width=width, min_width="100px"),
    )


def _icon_layout() -> widgets.Layout:
    return widgets.Layout(width="34px", padding="0", margin="2px 1px")


def _header(method: str = "supervised") -> widgets.HBox:
    """Column titles laid out exactly like a row."""

    def title(label: str, width: str) -> widgets.HTML:
        return widgets.HTML(
            f"<b style='color:#57606a'>{label}</b>", layout=widgets.Layout(width=width)
        )

    if method == "dpo":
        columns = [
            title("user : la question", "34%"),
            title("✅ réponse préférée", "33%"),
            title("❌ réponse non préférée", "33%"),
        ]
    else:
        columns = [title("user : la question", "50%"), title("assistant : la réponse", "50%")]
    turns = widgets.HBox(columns, layout=widgets.Layout(width=TURNS_SHARE))
    body = widgets.HBox(
        [title("system (facultatif)", SYSTEM_SHARE), turns],
        layout=widgets.Layout(flex="1 1 auto", width="auto"),
    )
    return widgets.HBox([title("n°", NUMBER_WIDTH), body, title("", ACTIONS_WIDTH)])


class RowView(widgets.VBox):
    """The widgets of one row: `system`, `turns` (list of (user, assistant) text areas), `raw`."""

    def __init__(self, table: DatasetTable, row: Row, index: int) -> None:
        self.table, self.row, self.index = table, row, index
        self.number = widgets.HTML(
            layout=widgets.Layout(width=NUMBER_WIDTH, min_width=NUMBER_WIDTH)
        )
        self.problems = widgets.HTML()
        self.duplicate = widgets.Button(icon="copy", layout=_icon_layout())
        set_tooltip(self.duplicate, "Dupliquer cette rangée")
        self.delete = widgets.Button(icon="trash", layout=_icon_layout())
        set_tooltip(self.delete, "Supprimer cette rangée (annulable)")
        self.add_turn = widgets.Button(icon="plus", layout=_icon_layout())
        set_tooltip(
            self.add_turn, "Ajouter un tour de dialogue (user → assistant) à cette conversation"
        )
        self.remove_turn = widgets.Button(icon="minus", layout=_icon_layout())
        set_tooltip(self.remove_turn, "Retirer le dernier tour de dialogue")
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
            set_tooltip(self.raw, "Exemple complet en JSON (outils, poids…) : modifie-le ici.")
            self.raw.observe(self._on_raw, names="value")
            self._body.children = [widgets.HTML("<i>exemple avancé, en JSON :</i>"), self.raw]
            self.add_turn.layout.visibility = self.remove_turn.layout.visibility = "hidden"
            return
        self.system = _area(row.system, "system (facultatif) : le rôle du modèle", "100%")
        self.system.observe(self._on_system, names="value")
        if row.pair:
            self._build_pair()
            return
        self.turns = []
        lines = []
        for k, (user, assistant) in enumerate(row.turns):
            u = _area(user, "user : la question" + (f" (tour {k + 1})" if k else ""), "50%")
            a = _area(
                assistant,
                "assistant : la réponse attendue" + (f" (tour {k + 1})" if k else ""),
                "50%",
            )
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
        u = _area(user, "user : la question", "34%")
        a = _area(preferred, "la réponse à préférer", "33%")
        self.rejected = _area(self.row.rejected, "la réponse à éviter", "33%")
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
        self.table._changed()

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
        self.table._changed()

    def _on_turn(self, k: int, side: int) -> Callable[[dict[str, Any]], None]:
        def handler(change: dict[str, Any]) -> None:
            if k < len(self.row.turns):
                self.row.turns[k][side] = change["new"]
                self.table._changed()

        return handler

    def _on_raw(self, change: dict[str, Any]) -> None:
        self.row.raw = change["new"]
        self.table._changed()

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
            _close_tree(w)
        self.table._changed()

    def show(self, problems: list[dataset.Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        icon = "❌" if errors else ("⚠️" if problems else "✅")
        tip = " ; ".join(p.message for p in problems) or "prêt"
        self.number.value = f"<span title='{esc(tip)}'><b>{self.index + 1}</b> {icon}</span>"
        self.problems.value = (
            f"<div style='color:#cf222e;font-size:90%;padding-left:{NUMBER_WIDTH};line-height:1.4'>"
            + "<br>".join(
                esc(
                    f"{'❌' if p.severity == 'error' else '⚠️'} "
                    f"{('champ ' + p.field + ' : ') if p.field else ''}{p.message} → {p.fix}"
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
        _close_tree(self)


def _close_tree(w: Any) -> None:
    for child in getattr(w, "children", ()) or ():
        _close_tree(child)
    w.close()


# ---------------------------------------------------------------------------------------
# The table


class DatasetTable(widgets.VBox):
    """The dataset editor of notebook 03 (and of notebook 13's preference pairs).

    `DatasetTable(examples=None, *, path=None, model=DEFAULT_MODEL, export_dir=None,
    page_size=20, record=True, method=None)`; `method`: "supervised" (chat examples) or
    "dpo" (preference pairs), None: the format of what is loaded (chat when empty). Programmatic use (tests, notebooks): `add_row`,
    `duplicate_row`, `delete_row`, `undo_delete`, `view(i)` (the row's text areas),
    `load_examples`, `import_bytes`, `import_path`, `export`, `examples`, `report`,
    `to_dataframe()`, `jsonl()`. Widgets: `upload`, `path`, `import_button`, `name`,
    `export_button`, `model`, `summary`, `message`.
    """

    def __init__(
        self,
        examples: Iterable[dict[str, Any]] | None = None,
        *,
        path: str | Path | None = None,
        model: str = models.DEFAULT_MODEL,
        export_dir: str | Path | None = None,
        page_size: int = 20,
        record: bool = True,
        today: date | None = None,
        method: str | None = None,
    ) -> None:
        self.today = today  # the date the model list is for (default: the mode's server date)
        if examples is not None:
            examples = list(examples)
        if method is None and examples:
            method = "dpo" if preference_data.is_pair(examples[0]) else None
        if method is None and path is not None:
            try:
                method = preference_data.detect(Path(path).read_bytes())
            except OSError:
                method = None
        self.method = method or "supervised"
        self.export_dir = Path(export_dir) if export_dir is not None else default_export_dir()
        self.page_size = max(1, page_size)
        self.record = record
        self.rows: list[Row] = []
        self.page = 0
        self.report: dataset.Report | None = None
        self.saved_path: Path | None = None
        self._trash: list[tuple[int, Row]] = []
        self._views: list[RowView] = []

        names = models.offered(self._today())
        model = models.dated_name(model) or model  # an alias: its dated name (what a job needs)
        self.model = widgets.Dropdown(
            options=names,
            value=model if model in names else models.DEFAULT_MODEL,
            description="Modèle :",
            layout=widgets.Layout(width="360px"),
        )
        set_tooltip(
            self.model,
            "Le modèle de base, sous son nom daté (l'alias sans date est refusé pour le "
            "fine-tuning) : il fixe le prix et la limite de jetons par exemple",
        )
        self.model.observe(lambda _c: self._changed(), names="value")

        self.add_button = widgets.Button(
            description="Ajouter une rangée",
            icon="plus",
            button_style="success",
            layout=widgets.Layout(width="auto"),
        )
        self.add_button.on_click(lambda _b: self.add_row())
        self.undo_button = widgets.Button(
            description="Rétablir la rangée supprimée",
            icon="undo",
            layout=widgets.Layout(display="none", width="auto"),
        )
        self.undo_button.on_click(lambda _b: self.undo_delete())
        self.prev_button = widgets.Button(icon="chevron-left", layout=widgets.Layout(width="36px"))
        self.next_button = widgets.Button(icon="chevron-right", layout=widgets.Layout(width="36px"))
        self.page_label = widgets.HTML()
        self.prev_button.on_click(lambda _b: self.show_page(self.page - 1))
        self.next_button.on_click(lambda _b: self.show_page(self.page + 1))

        self.upload = widgets.FileUpload(
            accept=".jsonl,.json,.csv,.txt",
            multiple=False,
            description="Importer un fichier",
            layout=widgets.Layout(width="auto"),
        )
        self.upload.observe(self._on_upload, names="value")
        self.path = widgets.Text(
            placeholder="ou un chemin : data/coucou.jsonl", layout=widgets.Layout(width="260px")
        )
        self.import_button = widgets.Button(
            description="Importer ce chemin",
            icon="folder-open",
            layout=widgets.Layout(width="auto"),
        )
        self.import_button.on_click(lambda _b: self.import_path(self.path.value))
        self.replace = widgets.Checkbox(
            value=False,
            indent=False,
            description="remplacer le tableau",
            layout=widgets.Layout(width="auto"),
        )
        set_tooltip(self.replace, "Sinon, les exemples importés s'ajoutent à la fin")

        self.name = widgets.Text(
            value="mon_dataset.jsonl", description="Nom :", layout=widgets.Layout(width="280px")
        )
        self.export_button = widgets.Button(
            description="Enregistrer",
            icon="save",
            button_style="primary",
            layout=widgets.Layout(width="auto"),
        )
        set_tooltip(self.export_button, f"Écrit le fichier dans {self._where()}")
        self.export_button.on_click(lambda _b: self.export())

        self.summary = widgets.HTML()
        self.message = widgets.HTML()
        self.rows_box = widgets.VBox()
        toolbar_import = widgets.HBox(
            [self.upload, self.path, self.import_button, self.replace],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        toolbar_export = widgets.HBox(
            [
                self.name,
                self.export_button,
                widgets.HTML(
                    f"<span style='color:#57606a;padding-left:.5em'>→ {esc(self._where())}</span>"
                ),
            ]
        )
        check = widgets.VBox(
            [self.model, self.summary],
            layout=widgets.Layout(border="1px solid #d0d7de", padding="4px 8px", margin="4px 0"),
        )
        self.header = widgets.Box([_header(self.method)])
        super().__init__(
            children=[
                toolbar_import,
                check,
                self.header,
                self.rows_box,
                widgets.HBox(
                    [
                        self.add_button,
                        self.undo_button,
                        self.prev_button,
                        self.page_label,
                        self.next_button,
                    ]
                ),
                toolbar_export,
                self.message,
            ]
        )
        self.add_class("atelier-dataset-table")

        if path is not None:
            self.import_path(path, replace=True)
        elif examples is not None:
            self.load_examples(examples, replace=True)
        if not self.rows:
            self.rows.append(Row.empty(self.pairs))
            self.show_page(0)

    # --------------------------------------------------------------------- data access
    def _today(self) -> date:
        return self.today or models.world_today(settings.get_mode())

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def pairs(self) -> bool:
        """Whether the table holds preference pairs (DPO) rather than chat examples."""
        return self.method == "dpo"

    def _set_method(self, method: str) -> None:
        if method != self.method:
            self.method = method
            old = self.header.children
            self.header.children = [_header(method)]
            for w in old:
                _close_tree(w)

    def jsonl(self) -> str:
        """The file's text, exactly as `export` writes it (row N = line N)."""
        return "".join(row.jsonl_line() + "\n" for row in self.rows)

    @property
    def examples(self) -> list[dict[str, Any]]:
        """The rows as examples (raw rows whose JSON does not parse are left out)."""
        return [e for e in (row.example() for row in self.rows) if e is not None]

    def to_dataframe(self):  # -> pandas.DataFrame
        if self.pairs:
            return preference_data.to_dataframe(self.examples)
        return dataset.to_dataframe(self.examples)

    def view(self, index: int) -> RowView:
        """The widgets of row `index` (0-based), turning to its page."""
        if not 0 <= index < len(self.rows):
            raise IndexError(f"pas de rangée {index + 1} (le tableau en a {len(self.rows)})")
        if not self.page * self.page_size <= index < (self.page + 1) * self.page_size:
            self.show_page(index // self.page_size)
        return self._views[index - self.page * self.page_size]

    # --------------------------------------------------------------------- editing
    def add_row(self, user: str = "", assistant: str = "", system: str = "") -> int:
        if self.pairs:  # in a table of pairs, a new row is a pair (`assistant`: the preferred)
            return self.add_pair(user, assistant, "", system)
        self.rows.append(Row(system=system, turns=[[user, assistant]]))
        index = len(self.rows) - 1
        if (
            index // self.page_size == self.page
            and len(self._views) == index - self.page * self.page_size
        ):
            view = RowView(
                self, self.rows[index], index
            )  # same page: add one view, keep the others
            self._views.append(view)
            self.rows_box.children = [*self.rows_box.children, view]
            self._update_pager()
            self._changed()
        else:
            self.show_page(index // self.page_size)
        return index

    def add_pair(
        self, user: str = "", preferred: str = "", non_preferred: str = "", system: str = ""
    ) -> int:
        """A preference pair at the end (the table becomes a table of pairs when empty)."""
        if self._pristine():
            self._set_method("dpo")
            self.rows = []
        self.rows.append(
            Row(system=system, turns=[[user, preferred]], pair=True, rejected=non_preferred)
        )
        self.show_page((len(self.rows) - 1) // self.page_size)
        return len(self.rows) - 1

    def duplicate_row(self, index: int) -> int:
        self.rows.insert(index + 1, self.rows[index].copy())
        self.show_page((index + 1) // self.page_size)
        return index + 1

    def delete_row(self, index: int) -> None:
        row = self.rows.pop(index)
        self._trash.append((index, row))
        if not self.rows:
            self.rows.append(Row.empty(self.pairs))
        self.undo_button.layout.display = None
        self.undo_button.description = f"Rétablir la rangée {index + 1}"
        self.show_page(min(self.page, (len(self.rows) - 1) // self.page_size))

    def undo_delete(self) -> None:
        if not self._trash:
            return
        index, row = self._trash.pop()
        if len(self.rows) == 1 and self.rows[0].is_empty():
            self.rows.clear()
        self.rows.insert(min(index, len(self.rows)), row)
        if not self._trash:
            self.undo_button.layout.display = "none"
        else:
            self.undo_button.description = f"Rétablir la rangée {self._trash[-1][0] + 1}"
        self.show_page(min(index, len(self.rows) - 1) // self.page_size)

    def load_examples(self, examples: Iterable[Any], *, replace: bool = False) -> int:
        """Add (or, with `replace`, put instead) examples; returns how many rows came in."""
        new = [Row.from_example(e) for e in examples]
        if replace or self._pristine():
            self._set_method(_method_of(new, self.method))
            self.rows = new or [Row.empty(self.pairs)]
        else:
            self.rows.extend(new)
        self.show_page(0 if replace else self.page)
        return len(new)

    def _pristine(self) -> bool:
        return all(row.is_empty() for row in self.rows)

    # --------------------------------------------------------------------- display
    def show_page(self, page: int) -> None:
        n_pages = max(1, -(-len(self.rows) // self.page_size))
        self.page = max(0, min(page, n_pages - 1))
        start = self.page * self.page_size
        old = self._views
        self._views = [
            RowView(self, row, start + i)
            for i, row in enumerate(self.rows[start : start + self.page_size])
        ]
        self.rows_box.children = self._views
        for view in old:
            view.dispose()
        self._update_pager()
        self._changed()

    def _update_pager(self) -> None:
        n_pages = max(1, -(-len(self.rows) // self.page_size))
        self.page_label.value = (
            f"<span style='padding:0 .5em'>page {self.page + 1} / {n_pages} "
            f"({len(self.rows)} rangées)</span>"
        )
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= n_pages - 1

    def _changed(self) -> None:
        model = self.model.value
        rules = preference_data.rules_for(self.method)
        report = dataset.check_bytes(self.jsonl().encode("utf-8"), model, rules=rules)
        self.report = report
        for view in self._views:
            view.show(report.problems_at(view.index + 1))
        self.summary.value = self._summary_html(report)

    def _summary_html(self, report: dataset.Report) -> str:
        n = len(report.examples)
        noun = "paires de préférences" if self.pairs else "exemples"
        parts = []
        if n >= models.MIN_EXAMPLES:
            parts.append(
                box(
                    f"📋 {n} {noun} : ✅ minimum de {models.MIN_EXAMPLES} atteint "
                    "(50 à 100 donnent de meilleurs résultats).",
                    "ok",
                )
            )
        else:
            parts.append(
                box(
                    f"📋 {n} / {models.MIN_EXAMPLES} {noun} : ajoute-en encore "
                    f"{models.MIN_EXAMPLES - n} (l'API en exige au moins {models.MIN_EXAMPLES}).",
                    "warning",
                )
            )
        total = sum(report.token_counts)
        mean = total / n if n else 0
        unit = "paire" if self.pairs else "exemple"
        line = f"🔤 {total:,} jetons".replace(",", "\u202f") + (
            f" (≈ {mean:.0f} par {unit})" if n else ""
        )
        try:
            cost = report.cost("auto")
            tokens = f"{cost.billed_tokens:,}".replace(",", "\u202f")
            detail = (
                f"{cost.n_examples} {noun} × {cost.epochs} époques → {tokens} jetons "
                f"facturés × {models.number_fr(cost.price_per_million)} $ le million"
                + (" — méthode DPO" if self.pairs else "")
            )
            line += (
                "<br>💰 coût estimé de l'entraînement : "
                f"<b>{models.number_fr(round(cost.usd, 4), 4)} $</b> ({esc(detail)})"
            )
            info = models.get(model := self.model.value)
            if info:
                today = self._today()
                line += (
                    f"<br><span style='color:#57606a'>{esc(model)} : "
                    f"{esc(info.training_phrase(today))} ; {esc(info.shutdown_phrase(today))}.</span>"
                )
        except Exception as exc:  # unknown model: say it, keep the rest
            line += f"<br>💰 coût : {esc(exc)}"
        parts.append(box(line, "muted", raw=True))
        errors, warnings = report.errors, report.warnings
        if not errors:
            verdict = "✅ Prêt à enregistrer et à envoyer." + (
                f" ({len(warnings)} avertissement(s))" if warnings else ""
            )
            parts.append(box(verdict, "ok"))
        else:
            parts.append(
                box(
                    f"❌ {len(errors)} erreur(s) à corriger"
                    + (f", ⚠️ {len(warnings)} avertissement(s)" if warnings else ""),
                    "error",
                )
            )
        shown = report.problems[:MAX_PROBLEMS_SHOWN]
        if shown:
            items = "".join(f"<li>{esc(dataset_io.row_problem_text(p))}</li>" for p in shown)
            more = len(report.problems) - len(shown)
            if more:
                items += f"<li>… et {more} autre(s)</li>"
            parts.append(f"<ul style='margin:.2em 0;padding-left:1.2em;font-size:90%'>{items}</ul>")
        return "".join(parts)

    # --------------------------------------------------------------------- import
    def _on_upload(self, change: dict[str, Any]) -> None:
        files = uploaded_files(self.upload)
        if not files:
            return
        clear_upload(self.upload)  # the file would otherwise be saved inside the notebook
        name, content = files[0]
        self.import_bytes(content, name)

    def import_path(self, path: str | Path, *, replace: bool | None = None) -> bool:
        """Import a JSONL/CSV file from disk. Returns False (table untouched) when it cannot."""
        text = str(path).strip().strip("\"'")
        if not text:
            self._say("Indique d'abord un chemin, par exemple data/coucou.jsonl.", "warning")
            return False
        p = Path(text).expanduser()
        if not p.is_absolute() and not p.exists() and settings.repo_root() is not None:
            candidate = settings.repo_root() / p  # type: ignore[operator]
            if candidate.exists():
                p = candidate
        try:
            data = p.read_bytes()
        except OSError as exc:
            from .. import errors

            self.message.value = diagnosis_html(errors.explain(exc)) + box(
                "Ton tableau n'a pas changé.", "muted"
            )
            return False
        return self.import_bytes(data, p.name, replace=replace)

    def import_bytes(
        self, data: bytes, name: str = "fichier.jsonl", *, replace: bool | None = None
    ) -> bool:
        """Import a file's content. Returns False (table untouched, reason shown) when it cannot."""
        replace = self.replace.value if replace is None else replace
        try:
            imported = dataset_io.read_import(data, name, self.model.value)
            rows, note = _rows(imported.entries), imported.note
        except dataset_io.ImportProblem as exc:
            self._say(
                f"❌ Import de « {name} » impossible : {exc}\nTon tableau n'a pas changé.", "error"
            )
            return False
        except Exception as exc:  # anything unexpected: same promise
            from .. import errors

            self.message.value = diagnosis_html(errors.explain(exc)) + box(
                f"Import de « {name} » impossible. Ton tableau n'a pas changé.", "muted"
            )
            return False
        if replace or self._pristine():
            self._set_method(_method_of(rows, self.method))
            self.rows = rows
            first = 0
        else:
            first = len(self.rows)
            self.rows.extend(rows)
        self.show_page(first // self.page_size)
        bad = sum(1 for r in rows if r.raw is not None and r.example() is None)
        text = f"✅ {len(rows)} rangée(s) importée(s) depuis « {name} »" + (
            " (à la place du tableau)." if replace else "."
        )
        if note:
            text += " " + note
        if bad:
            text += (
                f"\n⚠️ {bad} ligne(s) illisible(s) sont arrivées telles quelles, en JSON, marquées ❌ : "
                "corrige-les dans le tableau."
            )
        self._say(text, "warning" if bad else "ok")
        return True

    # --------------------------------------------------------------------- export
    def _where(self) -> str:
        root = settings.repo_root()
        try:
            return str(self.export_dir.relative_to(root)) + "/" if root else str(self.export_dir)
        except ValueError:
            return str(self.export_dir)

    def export(self, name: str | None = None) -> Path | None:
        """Write the table to `export_dir/name` (.jsonl, or .csv). Returns the path, or None."""
        name = (self.name.value if name is None else name).strip()
        if not name:
            name = "mon_dataset.jsonl"
        if not Path(name).suffix:
            name += ".jsonl"
        if Path(name).name != name or not _NAME_RE.match(name) or name.startswith("."):
            self._say(
                "❌ Nom de fichier refusé : donne juste un nom, sans dossier ni caractère spécial, "
                "par exemple « mon_dataset.jsonl ». Rien n'a été enregistré ; ton tableau est intact.",
                "error",
            )
            return None
        suffix = Path(name).suffix.lower()
        if suffix not in (".jsonl", ".csv"):
            self._say(
                "❌ Le nom doit finir par .jsonl (ou .csv pour un tableur). Rien n'a été enregistré ; "
                "ton tableau est intact.",
                "error",
            )
            return None
        path = self.export_dir / name
        self._changed()
        report = self.report
        try:
            if suffix == ".jsonl":
                _save(path, self.jsonl())
            else:
                unreadable = [i + 1 for i, r in enumerate(self.rows) if r.example() is None]
                if unreadable:
                    self._say(
                        f"❌ Les rangées {', '.join(map(str, unreadable))} ne sont pas du JSON valide : "
                        "corrige-les avant un export CSV (ou enregistre en .jsonl). Ton tableau est intact.",
                        "error",
                    )
                    return None
                _save(path, dataset_io.dumps_csv(self.examples))  # (pairs: their own columns)
        except Exception as exc:
            from .. import errors

            self.message.value = diagnosis_html(errors.explain(exc)) + box(
                f"L'enregistrement dans {path} a échoué. Ton tableau est intact : corrige le problème et "
                "réessaie.",
                "muted",
            )
            return None
        self.saved_path = path
        shown = self._display_path(path)
        if report is not None and report.ok and suffix == ".jsonl" and self.pairs:
            self._say(
                f"✅ Enregistré : {shown} ({len(self.rows)} paires de préférences), prêt pour un job "
                "DPO (notebook 13).",
                "ok",
            )
        elif report is not None and report.ok and suffix == ".jsonl":
            if self.record:
                workspace.record(dataset_path=str(path))
            self._say(
                f"✅ Enregistré : {shown} ({len(self.rows)} exemples). C'est ce fichier que la suite du "
                "cours enverra.",
                "ok",
            )
        elif suffix == ".jsonl":
            self._say(
                f"💾 Enregistré : {shown}, mais il reste {len(report.errors) if report else '?'} erreur(s) : "
                "corrige-les avant l'envoi (le fichier n'est pas encore retenu pour la suite).",
                "warning",
            )
        else:
            self._say(f"💾 Exporté pour un tableur : {shown}.", "ok")
        return path

    def _display_path(self, path: Path) -> str:
        root = settings.repo_root()
        try:
            return str(path.relative_to(root)) if root else str(path)
        except ValueError:
            return str(path)

    def _say(self, text: str, kind: str = "info") -> None:
        self.message.value = box(text, kind)


def _method_of(rows: list[Row], current: str) -> str:
    """The table's method for rows brought in: pairs if most are pairs, else chat."""
    readable = [r for r in rows if r.raw is None or r.example() is not None]
    if not readable:
        return current
    return "dpo" if sum(r.pair for r in readable) * 2 > len(readable) else "supervised"


def _rows(entries: list[dataset_io.Entry]) -> list[Row]:
    """Imported entries as rows: examples become fields (or whole JSON), lines to fix stay text."""
    return [Row.from_example(e) if isinstance(e, dict) else Row(raw=e, turns=[]) for e in entries]


def _save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
