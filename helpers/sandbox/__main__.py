"""`python -m helpers.sandbox --port 8765 [--home DIR]`: the sandbox in the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.sandbox",
        description="Lance le bac à sable : une API compatible OpenAI, locale, sans clé et gratuite.",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port d'écoute (0 : un port libre ; défaut 8765)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut 127.0.0.1)")
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="dossier de l'espace de travail (défaut : ATELIER_HOME, sinon .atelier/)",
    )
    parser.add_argument("--verbose", action="store_true", help="affiche chaque requête reçue")
    parser.add_argument(
        "--engine",
        choices=("simulated", "local"),
        default="simulated",
        help="entraînement simulé (défaut) ou réel sur cette machine (mode local)",
    )
    args = parser.parse_args(argv)

    from .. import settings
    from . import server

    home = (args.home.expanduser() if args.home else settings.workspace_dir()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    try:
        server.serve_forever(
            home,
            args.host,
            args.port,
            verbose=args.verbose,
            announce=lambda text: print(text, flush=True),
            engine=args.engine,
        )
    except OSError as err:
        print(
            f"❌ Impossible d'écouter sur {args.host}:{args.port} ({err.strerror}). "
            "Ce port est peut-être déjà pris : essaie --port 0 (un port libre).",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
