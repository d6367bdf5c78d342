"""`python -m helpers class …`: the teacher's commands for a class server (French).

    python -m helpers class add-students alice bob … [--home CLASS]   keys for these students
    python -m helpers class teacher-key [--home CLASS]                 the teacher's key
    python -m helpers class quota jobs_per_day 5 [--home CLASS]        change a quota
    python -m helpers class serve [--home CLASS] [--engine simulated|local] [--hub]
                                  [--host 0.0.0.0] [--port 8800]

The class folder is `--home`, else `ATELIER_CLASS_HOME`, else `./classe`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def _home(raw: str | None) -> Path:
    return Path(raw or os.environ.get("ATELIER_CLASS_HOME") or "classe").expanduser().resolve()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers class",
        description="Un serveur du kit pour toute la classe : clés des élèves, quotas, serveur.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMANDE")
    a = sub.add_parser("add-students", help="donner une clé à chaque élève (affichée une fois)")
    a.add_argument("names", nargs="+", help="noms des élèves (alice bob …)")
    sub.add_parser("teacher-key", help="créer (ou remplacer) la clé enseignant·e")
    q = sub.add_parser("quota", help="changer un quota (par élève et par jour)")
    q.add_argument("name", choices=("jobs_per_day", "training_tokens_per_day"))
    q.add_argument("value", type=int)
    s = sub.add_parser("serve", help="lancer le serveur de la classe")
    s.add_argument("--engine", choices=("simulated", "local"), default="simulated")
    s.add_argument("--hub", action="store_true", help="identifier les élèves par JupyterHub")
    s.add_argument("--host", default=os.environ.get("ATELIER_CLASS_HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("ATELIER_CLASS_PORT", "8800")))
    for command in (a, q, s, sub.choices["teacher-key"]):
        command.add_argument("--home", default=None, help="dossier de la classe (défaut ./classe)")
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
            keys = roster.add_students(args.names)
            print(
                f"🔑 Clés des élèves ({home}) — à donner à chacun·e, elles ne seront plus affichées :"
            )
            for name, key in keys.items():
                print(f"  {name}\t{key}")
        elif args.command == "teacher-key":
            print(f"🔑 Clé enseignant·e (page /classe/) : {roster.teacher_key()}")
        else:
            roster.set_quota(args.name, args.value)
            print(f"✅ Quota {args.name} = {args.value} par élève et par jour.")
    except RosterError as err:
        print(f"❌ {err}", file=sys.stderr)
        return 2
    return 0


def _serve(home: Path, args: argparse.Namespace) -> int:
    from ...asgi_thread import serve_forever
    from .router import create_class_app

    app = create_class_app(home, engine=args.engine, hub=args.hub)

    def ready(port: int) -> None:
        print(
            f"🏫 Serveur de la classe prêt : http://{args.host}:{port}/v1 — page enseignant·e : "
            f"http://{args.host}:{port}/classe/ (dossier {home}). Ctrl+C pour arrêter.",
            flush=True,
        )

    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(app, host=args.host, port=args.port, announce=ready)
    return 0
