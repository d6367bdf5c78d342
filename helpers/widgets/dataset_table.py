"""Dataset table: build a chat dataset row by row, checked live, exported as JSONL.

One row per conversation: an optional `system` text and one or more turns (user → assistant).
With `method="dpo"` (or a file of preference pairs), one row per pair: `system`, the question,
the preferred answer and the non-preferred one (`helpers.preference_data`).
Examples that do not fit that shape (tool calls, weights, names…) are kept whole as JSON in
a single text box, never simplified away. The check beside the table is
`helpers.dataset.check_bytes` on exactly the JSONL the export would write (row N = line N),
so the table, the file and the sandbox's own validation always agree.

The rows' data is `table_rows.Row`, a row's widgets `row_view.RowView`.

Nothing typed is lost: an import that cannot be read leaves the table as it was (lines that
are not valid JSON come in as rows to fix), a failed save changes nothing, and the last
deletion can be undone. Reading and writing files (JSONL, JSON array, CSV) is
`helpers.dataset_io`'s: this module only shows what it reads and says what it refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .. import dataset, dataset_io, models, preference_data, settings, workspace
from ..fileio import write_atomic
from ..i18n import _, ngettext
from ..tables import decimal, grouped
from ._common import box, diagnosis_html, esc
from .compat import clear_upload, set_tooltip, uploaded_files
from .row_view import RowView, close_tree, header
from .table_rows import Row, method_of, rows_from

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
            description=_("Modèle :"),
            layout=widgets.Layout(width="360px"),
        )
        set_tooltip(
            self.model,
            _(
                "Le modèle de base, sous son nom daté (l'alias sans date est refusé pour le "
                "fine-tuning) : il fixe le prix et la limite de jetons par exemple"
            ),
        )
        self.model.observe(lambda _c: self.row_changed(), names="value")

        self.add_button = widgets.Button(
            description=_("Ajouter une rangée"),
            icon="plus",
            button_style="success",
            layout=widgets.Layout(width="auto"),
        )
        self.add_button.on_click(lambda _b: self.add_row())
        self.undo_button = widgets.Button(
            description=_("Rétablir la rangée supprimée"),
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
            description=_("Importer un fichier"),
            layout=widgets.Layout(width="auto"),
        )
        self.upload.observe(self._on_upload, names="value")
        self.path = widgets.Text(
            placeholder=_("ou un chemin : data/coucou.jsonl"), layout=widgets.Layout(width="260px")
        )
        self.import_button = widgets.Button(
            description=_("Importer ce chemin"),
            icon="folder-open",
            layout=widgets.Layout(width="auto"),
        )
        self.import_button.on_click(lambda _b: self.import_path(self.path.value))
        self.replace = widgets.Checkbox(
            value=False,
            indent=False,
            description=_("remplacer le tableau"),
            layout=widgets.Layout(width="auto"),
        )
        set_tooltip(self.replace, _("Sinon, les exemples importés s'ajoutent à la fin"))

        self.name = widgets.Text(
            value=_("mon_dataset.jsonl"),
            description=_("Nom :"),
            layout=widgets.Layout(width="280px"),
        )
        self.export_button = widgets.Button(
            description=_("Enregistrer"),
            icon="save",
            button_style="primary",
            layout=widgets.Layout(width="auto"),
        )
        set_tooltip(
            self.export_button, _("Écrit le fichier dans {folder}").format(folder=self._where())
        )
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
        self.header = widgets.Box([header(self.method)])
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
            self.header.children = [header(method)]
            for w in old:
                close_tree(w)

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
            raise IndexError(
                _("pas de rangée {number} (le tableau en a {count})").format(
                    number=index + 1, count=len(self.rows)
                )
            )
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
            self.row_changed()
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
        self.undo_button.description = _("Rétablir la rangée {number}").format(number=index + 1)
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
            self.undo_button.description = _("Rétablir la rangée {number}").format(
                number=self._trash[-1][0] + 1
            )
        self.show_page(min(index, len(self.rows) - 1) // self.page_size)

    def load_examples(self, examples: Iterable[Any], *, replace: bool = False) -> int:
        """Add (or, with `replace`, put instead) examples; returns how many rows came in."""
        new = [Row.from_example(e) for e in examples]
        if replace or self._pristine():
            self._set_method(method_of(new, self.method))
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
        self.row_changed()

    def _update_pager(self) -> None:
        n_pages = max(1, -(-len(self.rows) // self.page_size))
        # (French says « rangées » whatever the count, as it always did)
        pager = ngettext(
            "page {page} / {pages} ({n} rangées)",
            "page {page} / {pages} ({n} rangées)",
            len(self.rows),
        ).format(page=self.page + 1, pages=n_pages, n=len(self.rows))
        self.page_label.value = f"<span style='padding:0 .5em'>{pager}</span>"
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= n_pages - 1

    def row_changed(self) -> None:
        model = self.model.value
        rules = preference_data.rules_for(self.method)
        report = dataset.check_bytes(self.jsonl().encode("utf-8"), model, rules=rules)
        self.report = report
        for view in self._views:
            view.show(report.problems_at(view.index + 1))
        self.summary.value = self._summary_html(report)

    def _summary_html(self, report: dataset.Report) -> str:
        n = len(report.examples)
        minimum = models.MIN_EXAMPLES
        parts = []
        # (French says « exemples » whatever the count, as it always did: n / minimum)
        if n >= minimum:
            reached = (
                _(
                    "📋 {n} paires de préférences : ✅ minimum de {minimum} atteint "
                    "(50 à 100 donnent de meilleurs résultats)."
                )
                if self.pairs
                else _(
                    "📋 {n} exemples : ✅ minimum de {minimum} atteint "
                    "(50 à 100 donnent de meilleurs résultats)."
                )
            )
            parts.append(box(reached.format(n=n, minimum=minimum), "ok"))
        else:
            missing = (
                _(
                    "📋 {n} / {minimum} paires de préférences : ajoute-en encore {missing} "
                    "(l'API en exige au moins {minimum})."
                )
                if self.pairs
                else _(
                    "📋 {n} / {minimum} exemples : ajoute-en encore {missing} "
                    "(l'API en exige au moins {minimum})."
                )
            )
            parts.append(box(missing.format(n=n, minimum=minimum, missing=minimum - n), "warning"))
        total = sum(report.token_counts)
        mean = total / n if n else 0
        line = _("🔤 {tokens} jetons").format(tokens=grouped(total))
        if n:
            per = _(" (≈ {mean} par paire)") if self.pairs else _(" (≈ {mean} par exemple)")
            line += per.format(mean=f"{mean:.0f}")
        try:
            cost = report.cost("auto")
            n = cost.n_examples
            if self.pairs:
                template = _(
                    "{what} × {epochs} → {tokens} jetons facturés × {price} $ le million — "
                    "méthode DPO"
                )
                what = ngettext("{n} paire de préférences", "{n} paires de préférences", n)
            else:
                template = _("{what} × {epochs} → {tokens} jetons facturés × {price} $ le million")
                what = ngettext("{n} exemple", "{n} exemples", n)
            detail = template.format(
                what=what.format(n=n),
                epochs=ngettext("{n} époque", "{n} époques", cost.epochs).format(n=cost.epochs),
                tokens=grouped(cost.billed_tokens),
                price=decimal(cost.price_per_million),
            )
            line += "<br>" + _(
                "💰 coût estimé de l'entraînement : <b>{cost} $</b> ({detail})"
            ).format(cost=decimal(round(cost.usd, 4), 4), detail=esc(detail))
            info = models.get(model := self.model.value)
            if info:
                today = self._today()
                dates = _("{model} : {training} ; {shutdown}.").format(
                    model=esc(model),
                    training=esc(info.training_phrase(today)),
                    shutdown=esc(info.shutdown_phrase(today)),
                )
                line += f"<br><span style='color:#57606a'>{dates}</span>"
        except Exception as exc:  # unknown model: say it, keep the rest
            line += "<br>" + _("💰 coût : {problem}").format(problem=esc(exc))
        parts.append(box(line, "muted", raw=True))
        errors, warnings = report.errors, report.warnings
        # (French writes « (s) » whatever the count, as it always did)
        warned = (
            ngettext("{n} avertissement(s)", "{n} avertissement(s)", len(warnings)).format(
                n=len(warnings)
            )
            if warnings
            else ""
        )
        if not errors:
            verdict = _("✅ Prêt à enregistrer et à envoyer.") + (f" ({warned})" if warned else "")
            parts.append(box(verdict, "ok"))
        else:
            wrong = ngettext(
                "❌ {n} erreur(s) à corriger", "❌ {n} erreur(s) à corriger", len(errors)
            ).format(n=len(errors))
            parts.append(box(wrong + (f", ⚠️ {warned}" if warned else ""), "error"))
        shown = report.problems[:MAX_PROBLEMS_SHOWN]
        if shown:
            items = "".join(f"<li>{esc(dataset_io.row_problem_text(p))}</li>" for p in shown)
            more = len(report.problems) - len(shown)
            if more:
                others = ngettext("… et {n} autre(s)", "… et {n} autre(s)", more).format(n=more)
                items += f"<li>{others}</li>"
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
            self._say(_("Indique d'abord un chemin, par exemple data/coucou.jsonl."), "warning")
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
                _("Ton tableau n'a pas changé."), "muted"
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
            rows, note = rows_from(imported.entries), imported.note
        except dataset_io.ImportProblem as exc:
            self._say(
                _("❌ Import de « {name} » impossible : {problem}").format(name=name, problem=exc)
                + "\n"
                + _("Ton tableau n'a pas changé."),
                "error",
            )
            return False
        except Exception as exc:  # anything unexpected: same promise
            from .. import errors

            self.message.value = diagnosis_html(errors.explain(exc)) + box(
                _("Import de « {name} » impossible. Ton tableau n'a pas changé.").format(name=name),
                "muted",
            )
            return False
        if replace or self._pristine():
            self._set_method(method_of(rows, self.method))
            self.rows = rows
            first = 0
        else:
            first = len(self.rows)
            self.rows.extend(rows)
        self.show_page(first // self.page_size)
        bad = sum(1 for r in rows if r.raw is not None and r.example() is None)
        text = (
            ngettext(
                "✅ {n} rangée(s) importée(s) depuis « {name} » (à la place du tableau).",
                "✅ {n} rangée(s) importée(s) depuis « {name} » (à la place du tableau).",
                len(rows),
            )
            if replace
            else ngettext(
                "✅ {n} rangée(s) importée(s) depuis « {name} ».",
                "✅ {n} rangée(s) importée(s) depuis « {name} ».",
                len(rows),
            )
        ).format(n=len(rows), name=name)
        if note:
            text += " " + note
        if bad:
            text += "\n" + ngettext(
                "⚠️ {n} ligne(s) illisible(s) sont arrivées telles quelles, en JSON, marquées ❌ : "
                "corrige-les dans le tableau.",
                "⚠️ {n} ligne(s) illisible(s) sont arrivées telles quelles, en JSON, marquées ❌ : "
                "corrige-les dans le tableau.",
                bad,
            ).format(n=bad)
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
            name = _("mon_dataset.jsonl")
        if not Path(name).suffix:
            name += ".jsonl"
        if Path(name).name != name or not _NAME_RE.match(name) or name.startswith("."):
            self._say(
                _(
                    "❌ Nom de fichier refusé : donne juste un nom, sans dossier ni caractère "
                    "spécial, par exemple « mon_dataset.jsonl ». Rien n'a été enregistré ; ton "
                    "tableau est intact."
                ),
                "error",
            )
            return None
        suffix = Path(name).suffix.lower()
        if suffix not in (".jsonl", ".csv"):
            self._say(
                _(
                    "❌ Le nom doit finir par .jsonl (ou .csv pour un tableur). Rien n'a été "
                    "enregistré ; ton tableau est intact."
                ),
                "error",
            )
            return None
        path = self.export_dir / name
        self.row_changed()
        report = self.report
        try:
            if suffix == ".jsonl":
                _save(path, self.jsonl())
            else:
                unreadable = [i + 1 for i, r in enumerate(self.rows) if r.example() is None]
                if unreadable:
                    self._say(
                        _(
                            "❌ Les rangées {rows} ne sont pas du JSON valide : corrige-les avant "
                            "un export CSV (ou enregistre en .jsonl). Ton tableau est intact."
                        ).format(rows=", ".join(map(str, unreadable))),
                        "error",
                    )
                    return None
                _save(path, dataset_io.dumps_csv(self.examples))  # (pairs: their own columns)
        except Exception as exc:
            from .. import errors

            self.message.value = diagnosis_html(errors.explain(exc)) + box(
                _(
                    "L'enregistrement dans {path} a échoué. Ton tableau est intact : corrige le "
                    "problème et réessaie."
                ).format(path=path),
                "muted",
            )
            return None
        self.saved_path = path
        shown = self._display_path(path)
        if report is not None and report.ok and suffix == ".jsonl" and self.pairs:
            self._say(
                _(
                    "✅ Enregistré : {path} ({n} paires de préférences), prêt pour un job DPO "
                    "(notebook 13)."
                ).format(path=shown, n=len(self.rows)),
                "ok",
            )
        elif report is not None and report.ok and suffix == ".jsonl":
            if self.record:
                workspace.record(dataset_path=str(path))
            self._say(
                _(
                    "✅ Enregistré : {path} ({n} exemples). C'est ce fichier que la suite du cours "
                    "enverra."
                ).format(path=shown, n=len(self.rows)),
                "ok",
            )
        elif suffix == ".jsonl":
            left = len(report.errors) if report else "?"
            self._say(
                ngettext(
                    "💾 Enregistré : {path}, mais il reste {n} erreur(s) : corrige-les avant "
                    "l'envoi (le fichier n'est pas encore retenu pour la suite).",
                    "💾 Enregistré : {path}, mais il reste {n} erreur(s) : corrige-les avant "
                    "l'envoi (le fichier n'est pas encore retenu pour la suite).",
                    left if isinstance(left, int) else 2,
                ).format(path=shown, n=left),
                "warning",
            )
        else:
            self._say(_("💾 Exporté pour un tableur : {path}.").format(path=shown), "ok")
        return path

    def _display_path(self, path: Path) -> str:
        root = settings.repo_root()
        try:
            return str(path.relative_to(root)) if root else str(path)
        except ValueError:
            return str(path)

    def _say(self, text: str, kind: str = "info") -> None:
        self.message.value = box(text, kind)


def _save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
