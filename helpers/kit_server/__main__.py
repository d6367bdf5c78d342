"""`python -m helpers.kit_server --port 8765 [--home DIR] [--engine E] [--idle S]`: the kit
server in the foreground; `python -m helpers.kit_server --stop [--home DIR]`: stop the
workspace's server process(es); `--key`: print the workspace's key."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..i18n import _
from ..modes import ENGINE_NAMES, Engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.kit_server",
        description=_(
            "Lance le bac à sable : une API compatible OpenAI, locale et gratuite (elle "
            "ne répond qu'aux clients de son espace de travail : voir --key)."
        ),
    )
    parser.add_argument(
        "--port", type=int, default=8765, help=_("port d'écoute (0 : un port libre ; défaut 8765)")
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help=_("adresse d'écoute (défaut 127.0.0.1)")
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help=_("dossier de l'espace de travail (défaut : ATELIER_HOME, sinon .atelier/)"),
    )
    parser.add_argument("--verbose", action="store_true", help=_("affiche chaque requête reçue"))
    parser.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=Engine.SIMULATED.value,
        help=_("entraînement simulé (défaut) ou réel sur cette machine (mode local)"),
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=0.0,
        help=_(
            "s'arrête après ce nombre de secondes sans requête (défaut 0 : jamais ; "
            "le serveur lancé par les notebooks utilise ATELIER_SERVER_IDLE, 1800 par défaut)"
        ),
    )
    parser.add_argument(
        "--key",
        action="store_true",
        help=_(
            "affiche la clé de cet espace de travail (son serveur refuse toute requête sans "
            "elle ; les notebooks l'envoient d'eux-mêmes) : pour un client écrit à la main"
        ),
    )
    parser.add_argument(
        "--stop",
        action="store_true",
        help=_(
            "arrête le bac à sable de cet espace de travail (celui que les notebooks ont lancé)"
        ),
    )
    args = parser.parse_args(argv)

    from .. import settings
    from ..exceptions import DamagedFileError, WorkspaceError, workspace_problem
    from . import launcher

    try:
        home = (args.home.expanduser() if args.home else settings.workspace_dir()).resolve()
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        where = args.home or settings.workspace_dir_name()
        err = WorkspaceError(where, workspace_problem(exc) or exc.strerror or str(exc))
        print(f"❌ {err}\n   {err.fix}", file=sys.stderr)
        return 1
    if args.key:
        from ..advert import workspace_key

        print(workspace_key(home))
        return 0
    if args.stop:
        stopped = [launcher.shutdown(home, engine) for engine in Engine]
        print(_("🧪 Bac à sable arrêté.") if any(stopped) else _("🧪 Aucun bac à sable en marche."))
        return 0

    from . import serving

    # A loopback server is the workspace's: its kernels and commands find it by its advert.
    advertised = args.host in ("127.0.0.1", "localhost")
    try:
        serving.serve_forever(
            home,
            args.host,
            args.port,
            verbose=args.verbose,
            announce=lambda text: print(text, flush=True),
            engine=args.engine,
            idle=args.idle,
            on_ready=(lambda url: launcher.advertise(home, args.engine, url))
            if advertised
            else None,
        )
    except WorkspaceError as err:
        print(f"❌ {err}\n   {err.fix}", file=sys.stderr)
        launcher.report_failure(home, args.engine, str(err), err.fix, "workspace")
        return 1
    except DamagedFileError as err:
        print(f"❌ {err}\n   {err.fix}", file=sys.stderr)
        launcher.report_failure(home, args.engine, str(err), err.fix, "damaged_file")
        return 1
    except OSError as err:
        message = _(
            "Impossible d'écouter sur {host}:{port} ({problem}). "
            "Ce port est peut-être déjà pris : essaie --port 0 (un port libre)."
        ).format(host=args.host, port=args.port, problem=err.strerror)
        print(f"❌ {message}", file=sys.stderr)
        launcher.report_failure(home, args.engine, message)
        return 1
    except KeyboardInterrupt:
        pass
    except Exception as err:  # e.g. local mode without its packages: tell the waiting kernel
        launcher.report_failure(home, args.engine, str(err) or type(err).__name__)
        raise
    finally:
        launcher.withdraw(home, args.engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
