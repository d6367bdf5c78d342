"""argparse in the learner's language: in French, its help (« utilisation : », « options »,
« affiche cette aide ») and its errors translated; in English, argparse's own words. Standard
library only (and the kit's translation layer, helpers.i18n, itself standard library only):
every command of the kit uses it (`python -m helpers`, `python -m helpers.local.convert`…),
whatever its layer.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from .i18n import SOURCE_LANGUAGE, _, language

#: argparse's English error fragments, in French (argparse's own messages: in English they
#: stay as argparse writes them).
EN_FR = [
    ("the following arguments are required:", "il manque ces options obligatoires :"),  # i18n: keep
    ("unrecognized arguments:", "options inconnues :"),
    ("expected one argument", "attend une valeur"),  # i18n: keep (argparse in French)
    ("expected 2 arguments", "attend deux valeurs (ROLE puis CONTENU)"),
    ("invalid int value:", "nombre entier attendu, reçu"),  # i18n: keep (argparse in French)
    ("invalid float value:", "nombre attendu, reçu"),  # i18n: keep (argparse in French)
    ("invalid choice:", "choix inconnu :"),
    ("argument", "option"),
]


def translate(message: str) -> str:
    """One of argparse's (English) messages in the learner's language."""
    if language() != SOURCE_LANGUAGE:
        return message
    for en, fr in EN_FR:
        message = message.replace(en, fr)
    return message


class FrenchHelpFormatter(argparse.HelpFormatter):
    """argparse's help in the learner's language: « utilisation : » in French, « usage: » in
    English."""

    def add_usage(self, usage, actions, groups, prefix=None):
        if prefix is None and language() == SOURCE_LANGUAGE:
            prefix = "utilisation : "  # i18n: keep (argparse's "usage: " in French)
        return super().add_usage(usage, actions, groups, prefix)


class FrenchArgumentParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose help and errors are in the learner's language (errors:
    « erreur : … » in French, exit 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        french = language() == SOURCE_LANGUAGE
        self._positionals.title = "arguments" if french else "positional arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help=_("affiche cette aide et s'arrête"))

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            2,
            _("{prog} : erreur : {message}").format(prog=self.prog, message=translate(message))
            + "\n",
        )
