"""Write docs/reglages.md's table of every `ATELIER_*` variable from the objects that read them.

    python tools/settings_table.py          # rewrite the tables (docs/reglages.md, and the
                                            # proxy's in docs/deploiement-proxy.md)
    python tools/settings_table.py --check  # exit 1 if one would change (tests/test_owners.py)

The kit's variables are the fields of `helpers.settings.Settings`; the step-8 proxy's, the
fields of `helpers.proxy.ProxySettings` (the proxy is deployed alone: it keeps its own
object). Each field says its variable, type, default and what it does (French): the table is
those, grouped by who reads them.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from helpers.proxy import ProxySettings  # noqa: E402
from helpers.settings import HANDED_OVER, Settings  # noqa: E402

DOC = REPO / "docs" / "reglages.md"
PROXY_DOC = REPO / "docs" / "deploiement-proxy.md"
END = "<!-- fin des réglages -->"
#: Who reads the variables, in the table's order, with each group's title.
AREAS = {
    "kit": "Pour tout le monde",
    "bac à sable": "Le bac à sable (le serveur du kit)",
    "serveur de classe": "Le serveur de la classe",
    "mode local": "Le mode local",
    "proxy (étape 8)": "Le proxy de l'étape 8 (`python -m helpers.proxy`, déployé seul)",
    "autres outils": "Données à d'autres programmes (le kit ne les lit pas)",
}


def rows() -> list[dict[str, str]]:
    """One row per variable: var, kind, default, doc, area (both objects' field metadata, and
    the variables the kit hands over to other programs)."""
    found = []
    for cls in (Settings, ProxySettings):
        for f in dataclasses.fields(cls):
            if "var" in f.metadata:
                found.append({k: f.metadata[k] for k in ("var", "kind", "default", "doc", "area")})
    for var, (kind, doc) in HANDED_OVER.items():
        found.append(
            {"var": var, "kind": kind, "default": "—", "doc": doc, "area": "autres outils"}
        )
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def begin(areas: list[str] | None = None) -> str:
    source = (
        "helpers/proxy/settings.py"
        if areas == [PROXY]
        else "helpers/settings/variables.py et helpers/proxy/settings.py"
    )
    return f"<!-- réglages : généré par tools/settings_table.py depuis {source}, ne pas modifier à la main -->"


PROXY = "proxy (étape 8)"
#: Each file with a table, and the groups it shows (None: all of them, with their titles).
DOCS: dict[Path, list[str] | None] = {DOC: None, PROXY_DOC: [PROXY]}


def table(areas: list[str] | None = None) -> str:
    """The generated block, markers included: every group (with titles) or only `areas`."""
    lines = [begin(areas)]
    every = rows()
    unknown = sorted({r["area"] for r in every} - set(AREAS))
    if unknown:
        raise SystemExit(f"areas without a title in tools/settings_table.py: {unknown}")
    for area, title in AREAS.items():
        group = [r for r in every if r["area"] == area]
        if not group or (areas is not None and area not in areas):
            continue
        lines += [""] if areas is not None else ["", f"### {title}", ""]
        lines += ["| variable | type | défaut | rôle |", "| --- | --- | --- | --- |"]
        lines += [
            f"| `{r['var']}` | {_cell(r['kind'])} | {_cell(r['default'])} | {_cell(r['doc'])} |"
            for r in group
        ]
    lines += ["", END]
    return "\n".join(lines)


def wanted() -> dict[Path, str]:
    """Each documentation file with its table as the objects say today."""
    out = {}
    for path, areas in DOCS.items():
        text = path.read_text(encoding="utf-8")
        start = begin(areas)
        if start not in text or END not in text:
            raise SystemExit(f"{path.relative_to(REPO)}: the table's markers are missing")
        head, rest = text.split(start, 1)
        out[path] = head + table(areas) + rest.split(END, 1)[1]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a table is stale")
    args = parser.parse_args(argv)
    stale = [path for path, text in wanted().items() if path.read_text(encoding="utf-8") != text]
    for path in stale:
        if args.check:
            print(f"stale: {path.relative_to(REPO)} (run python tools/settings_table.py)")
        else:
            path.write_text(wanted()[path], encoding="utf-8")
            print(f"wrote: {path.relative_to(REPO)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
