"""`python -m helpers class …`: the teacher's commands for a class server (in the kit's
language, helpers.i18n).

    python -m helpers class add-students alice bob … [--home CLASS]   keys for these students
    python -m helpers class teacher-key [--home CLASS]                 the teacher's key
    python -m helpers class quota jobs_per_day 5 [--home CLASS]        change a quota
    python -m helpers class quota storage_bytes 500M                   (K, M, G: kilo, mega, giga)
    python -m helpers class serve [--home CLASS] [--engine simulated|local] [--hub]
                                  [--host 0.0.0.0] [--port 8800]

The class folder is `--home`, else `ATELIER_CLASS_HOME`, else `./classe`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from ... import settings
from ...i18n import _
from ...modes import ENGINE_NAMES, Engine
from .roster import DEFAULT_QUOTAS, TEACHER


def _home(raw: str | None) -> Path:
    return Path(raw or settings.current().class_home or "classe").expanduser().resolve()


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _amount(text: str) -> int:
    """`5`, `200M`, `1G`, `500Mo`, `2 Go`: a quota's value (sizes in bytes)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]?)(?:[OB])?\s*", text.upper())
    if not match:
        raise argparse.ArgumentTypeError(
            _("valeur refusée : {text!r} (un nombre entier, par exemple 5, 200M ou 1G)").format(
                text=text
            )
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers class",
        description=_("Un serveur du kit pour toute la classe : clés des élèves, quotas, serveur."),
    )
    sub = p.add_subparsers(dest="command", required=True, metavar=_("COMMANDE"))
    a = sub.add_parser("add-students", help=_("donner une clé à chaque élève (affichée une fois)"))
    a.add_argument("names", nargs="+", help=_("noms des élèves (alice bob …)"))
    sub.add_parser("teacher-key", help=_("créer (ou remplacer) la clé enseignant·e"))
    q = sub.add_parser("quota", help=_("changer un quota (par élève)"))
    q.add_argument("name", choices=tuple(DEFAULT_QUOTAS), help=_("le quota à changer"))
    q.add_argument("value", type=_amount, help=_("un nombre (500M, 2G : octets, pour le stockage)"))
    s = sub.add_parser("serve", help=_("lancer le serveur de la classe"))
    s.add_argument("--engine", choices=ENGINE_NAMES, default=Engine.SIMULATED.value)
    s.add_argument("--hub", action="store_true", help=_("identifier les élèves par JupyterHub"))
    s.add_argument("--host", default=settings.current().class_host)
    s.add_argument("--port", type=int, default=settings.current().class_port)
    for command in (a, q, s, sub.choices["teacher-key"]):
        command.add_argument(
            "--home", default=None, help=_("dossier de la classe (défaut ./classe)")
        )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .roster import Roster, RosterError

    home = _home(args.home)
    try:
        if args.command == "serve":
            return _serve(home, args)
        roster = Roster(home)
        if args.command == "add-students":
            had = {n for n in roster.students() if roster.has_key(n)}
            keys = roster.add_students(args.names)
            print(
                _(
                    "🔑 Clés des élèves ({home}) — à donner à chacun·e, elles ne seront plus "
                    "affichées :"
                ).format(home=home)
            )
            for name, key in keys.items():
                again = (
                    "\t" + _("(nouvelle clé : l'ancienne ne marche plus)") if name in had else ""
                )
                print(f"  {name}\t{key}{again}")
        elif args.command == "teacher-key":
            replaced = roster.has_key(TEACHER)
            print(_("🔑 Clé enseignant·e (page /classe/) : {key}").format(key=roster.teacher_key()))
            if replaced:
                print("   " + _("(nouvelle clé : l'ancienne ne marche plus)"))
        else:
            roster.set_quota(args.name, args.value)
            if args.name.startswith("storage"):
                done = _("✅ Quota {name} = {value} par élève.")
            else:
                done = _("✅ Quota {name} = {value} par élève et par jour.")
            print(done.format(name=args.name, value=args.value))
    except RosterError as err:
        print(f"❌ {err}", file=sys.stderr)
        return 2
    return 0


def _serve(home: Path, args: argparse.Namespace) -> int:
    from ...asgi_thread import serve_forever
    from .router import create_class_app

    if args.hub:
        problem = _hub_problem()
        if problem:
            print(f"❌ {problem}", file=sys.stderr)
            return 2
    app = create_class_app(home, engine=args.engine, hub=args.hub)

    def ready(port: int) -> None:
        line = _(
            "🏫 Serveur de la classe prêt : {api} — page enseignant·e : {page} (dossier {home}). "
            "Ctrl+C pour arrêter."
        )
        base = f"http://{args.host}:{port}"
        print(line.format(api=f"{base}/v1", page=f"{base}/classe/", home=home), flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(app, host=args.host, port=args.port, announce=ready)
    return 0


def _hub_problem() -> str | None:
    """Why `--hub` cannot work here (French), or None."""
    try:
        import jupyterhub.services.auth  # noqa: F401
    except ImportError:
        return _(
            "Le mode --hub demande JupyterHub dans cet environnement Python : installe-le "
            "(`pip install jupyterhub`) ou lance le serveur de classe avec l'image du hub."
        )
    if not os.environ.get("JUPYTERHUB_API_TOKEN"):
        return _(
            "Le mode --hub demande le jeton de service du hub (JUPYTERHUB_API_TOKEN) et son "
            "adresse (JUPYTERHUB_API_URL) : déclare le serveur de classe comme service du hub "
            "(docs/serveur-de-classe.md), ou lance-le sans --hub avec des clés par élève."
        )
    return None
