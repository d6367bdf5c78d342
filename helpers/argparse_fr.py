"""argparse in French: help (« utilisation : », « options », « affiche cette aide »), and
errors translated. Standard library only: every command of the kit uses it (`python -m helpers`,
`python -m helpers.local.convert`…), whatever its layer.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

#: argparse's English error fragments, in French.
EN_FR = [
    ("the following arguments are required:", "il manque ces options obligatoires :"),
    ("unrecognized arguments:", "options inconnues :"),
    ("expected one argument", "attend une valeur"),
    ("expected 2 arguments", "attend deux valeurs (ROLE puis CONTENU)"),
    ("invalid int value:", "nombre entier attendu, reçu"),
    ("invalid float value:", "nombre attendu, reçu"),
    ("invalid choice:", "choix inconnu :"),
    ("argument", "option"),
]


def translate(message: str) -> str:
    for en, fr in EN_FR:
        message = message.replace(en, fr)
    return message


class FrenchHelpFormatter(argparse.HelpFormatter):
    """argparse's help in French: « utilisation : » instead of « usage: »."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(
            usage, actions, groups, "utilisation : " if prefix is None else prefix
        )


class FrenchArgumentParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose help and errors are French (errors: « erreur : … », exit 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="affiche cette aide et s'arrête")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {translate(message)}\n")
