"""The kit's settings: every `ATELIER_*` variable it reads, in one typed, frozen object.

`Settings` has a field per variable (its type, default and what it does, in French: the
docs' table, docs/reglages.md, is generated from them by `python tools/settings_table.py`);
`current()` reads them all from the environment in one place and checks them: a French
`SettingsError` names each variable whose value the kit cannot use, and what it expects. No
other module of the kit reads an `ATELIER_*` variable (`tests/test_owners.py`); the step-8
proxy, deployed alone, has its own (`helpers.proxy.ProxySettings`).

The environment stays the source: `%env` in a cell, or a process the kit starts, sees the
same values (`current()` reads again when a variable changed); `put`, `overridden` and
`environment` set them for this process or a child.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import SettingsError
from ..i18n import N_, _
from ..modes import MODE_NAMES, Mode

# The course's languages (issue 23): French is the source, English a translation.
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
# How long the course's COUCOU job (notebook 03's 17 examples) lasts in the sandbox at speed 1,
# in seconds (tests/test_course_pacing.py checks it against the sandbox's engine).
COUCOU_JOB_SECONDS = 52.0
DEFAULT_SERVER_IDLE = 1800.0
DEFAULT_WORKER_IDLE = 120.0
DEFAULT_LOCAL_MODEL = "smollm2-135m-instruct"

#: The variable Promptfoo reads the workspace's kit-server key from (`helpers.promptfoo`).
KIT_KEY_VAR = "ATELIER_KIT_KEY"
#: Variables the kit hands over to another program and never reads itself: their type and
#: what they hold (French), for docs/reglages.md's table.
HANDED_OVER: dict[str, tuple[str, str]] = {
    KIT_KEY_VAR: (
        N_("texte (secret)"),
        N_(
            "lue par Promptfoo, pas par le kit : la clé du serveur du kit de l'espace de travail "
            "(la commande que le kit affiche pour Promptfoo la donne, sans l'écrire dans un fichier)"
        ),
    ),
}


class _Invalid(ValueError):
    """A value a parser refuses; `current()` turns it into a SettingsError naming the variable."""


def _text(raw: str) -> str:
    return raw


def language_code(value: str) -> str | None:
    """`en`, `en_GB.UTF-8`, `EN-us` → `en`; a language the kit does not speak → None (for
    ATELIER_LANG: as if unset, the next source decides)."""
    code = value.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    return code if code in LANGUAGES else None


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _mode(raw: str) -> Mode:
    try:
        return Mode(raw.lower())
    except ValueError:
        raise _Invalid(_("un mode parmi {modes}").format(modes=", ".join(MODE_NAMES))) from None


def _positive(expected: str) -> Callable[[str], float]:
    """A parser of numbers > 0; `expected` says what the variable holds (marked with `N_`)."""

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not value > 0:
            raise _Invalid(_(expected))
        return value

    return parse


def _seconds(raw: str) -> float:
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise _Invalid(_("un nombre de secondes (0 : jamais d'arrêt)")) from None


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise _Invalid(_("un nombre entier, 1 ou plus"))
    return value


def _port(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise _Invalid(_("un numéro de port, de 0 à 65535"))
    return value


def _yes(raw: str) -> bool:
    """1/true/yes/oui → True; 0/false/no/non → False."""
    value = raw.lower()
    if value in ("1", "true", "yes", "oui"):
        return True
    if value in ("0", "false", "no", "non"):
        return False
    raise _Invalid(_("1 (oui) ou 0 (non)"))


def _lower(raw: str) -> str:
    return raw.lower()


def _class_url(raw: str) -> str:
    url = raw.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise _Invalid(_("une adresse http(s)://…, celle que ton enseignant·e t'a donnée"))
    return url if url.endswith("/v1") else url + "/v1"


def _setting(
    var: str,
    doc: str,
    parse: Callable[[str], Any],
    *,
    kind: str,
    default: Any = None,
    shown: str | None = None,
    area: str = "kit",
    strip: bool = True,
    secret: bool = False,
) -> Any:
    """A field of `Settings`: the variable it reads, what it does (French, for the docs'
    table), how its text becomes a value, its type and default as the table shows them."""
    return dataclasses.field(
        default=default,
        repr=not secret,
        metadata={
            "var": var,
            "doc": doc,
            "parse": parse,
            "kind": kind,
            "default": shown if shown is not None else ("—" if default is None else str(default)),
            "area": area,
            "strip": strip,
        },
    )


@dataclass(frozen=True)
class Settings:
    """Every `ATELIER_*` variable the kit reads, typed (None: not set, the kit decides)."""

    # -- everyone --------------------------------------------------------------------------
    mode: Mode | None = _setting(
        "ATELIER_MODE",
        N_(
            "le mode : `sandbox` (bac à sable), `openai` (la vraie API, payant) ou `local` (vrai "
            "entraînement sur cette machine) ; gagne sur le choix enregistré (`helpers.use_mode`)"
        ),
        _mode,
        kind="sandbox | openai | local",
        shown=N_("le choix enregistré, sinon `sandbox`"),
    )
    lang: str | None = _setting(
        "ATELIER_LANG",
        N_(
            "la langue de ce que le kit affiche : `fr` ou `en` (une autre langue est ignorée) ; "
            "gagne sur l'édition du notebook (`notebooks/en/` : anglais), celle du dernier "
            "notebook lancé dans l'espace de travail (pour un terminal) et la langue du système "
            "(`LC_ALL`, `LC_MESSAGES`, `LANG` ; `C` et `POSIX` ne comptent pas)"
        ),
        language_code,
        kind="fr | en",
        shown=N_(
            "l'édition du notebook, sinon celle du dernier notebook de l'espace de travail, "
            "sinon la langue du système, sinon `fr`"
        ),
    )
    home: Path | None = _setting(
        "ATELIER_HOME",
        N_("le dossier de l'espace de travail (état, base du bac à sable, modèles locaux)"),
        _path,
        kind=N_("chemin"),
        shown=N_("`.atelier/` du dépôt, sinon `~/.atelier/`"),
        strip=False,
    )
    # -- the sandbox -----------------------------------------------------------------------
    job_seconds: float | None = _setting(
        "ATELIER_JOB_SECONDS",
        N_(
            "le réglage de l'enseignant·e : la durée d'un entraînement COUCOU dans le bac à sable, "
            "en secondes"
        ),
        _positive(N_("une durée en secondes, plus grande que 0")),
        kind=N_("secondes"),
        shown=f"{COUCOU_JOB_SECONDS:g}",
        area="bac à sable",  # i18n: keep (a group of the docs' table)
    )
    sandbox_speed: float | None = _setting(
        "ATELIER_SANDBOX_SPEED",
        N_(
            "la vitesse des jobs du bac à sable, un multiplicateur (1 : un job COUCOU d'une minute, "
            "1000 : les tests) ; gagne sur ATELIER_JOB_SECONDS"
        ),
        _positive(N_("un nombre plus grand que 0 (1 : un job COUCOU d'une minute)")),
        kind=N_("nombre"),
        shown="1",
        area="bac à sable",  # i18n: keep (a group of the docs' table)
    )
    server_idle: float = _setting(
        "ATELIER_SERVER_IDLE",
        N_(
            "secondes sans requête avant que le serveur du kit d'un espace de travail s'arrête "
            "(0 : jamais ; la requête suivante le relance)"
        ),
        _seconds,
        kind=N_("secondes"),
        default=DEFAULT_SERVER_IDLE,
        shown=f"{DEFAULT_SERVER_IDLE:g}",
        area="bac à sable",  # i18n: keep (a group of the docs' table)
    )
    sandbox_in_process: bool = _setting(
        "ATELIER_SANDBOX_IN_PROCESS",
        N_("1 : le serveur du kit tourne dans le processus même (tests, bancs d'essai)"),
        _yes,
        kind=N_("oui/non"),
        default=False,
        shown="0",
        area="bac à sable",  # i18n: keep (a group of the docs' table)
    )
    sandbox_wal: bool | None = _setting(
        "ATELIER_SANDBOX_WAL",
        N_(
            "1 ou 0 : forcer ou refuser le mode WAL de SQLite (sinon : deviné selon le système de "
            "fichiers ; les dossiers réseau n'en veulent pas)"
        ),
        _yes,
        kind=N_("oui/non"),
        shown=N_("deviné"),
        area="bac à sable",  # i18n: keep (a group of the docs' table)
    )
    # -- the class server ------------------------------------------------------------------
    class_url: str | None = _setting(
        "ATELIER_CLASS_URL",
        N_(
            "l'adresse du serveur de la classe : les modes sandbox et local l'utilisent au lieu d'un "
            "serveur de l'espace de travail"
        ),
        _class_url,
        kind=N_("adresse"),
        area="serveur de classe",  # i18n: keep (a group of the docs' table)
    )
    class_key: str | None = _setting(
        "ATELIER_CLASS_KEY",
        N_("la clé de l'élève pour le serveur de la classe (sur un JupyterHub : le jeton du hub)"),
        _text,
        kind=N_("texte (secret)"),
        shown="`JUPYTERHUB_API_TOKEN`",
        area="serveur de classe",  # i18n: keep (a group of the docs' table)
        secret=True,
    )
    class_home: Path | None = _setting(
        "ATELIER_CLASS_HOME",
        N_("le dossier de la classe (`python -m helpers class …`, sans `--home`)"),
        _path,
        kind=N_("chemin"),
        shown="`./classe`",
        area="serveur de classe",  # i18n: keep (a group of the docs' table)
        strip=False,
    )
    class_host: str = _setting(
        "ATELIER_CLASS_HOST",
        N_("où écoute le serveur de la classe (`python -m helpers class serve`)"),
        _text,
        kind=N_("hôte"),
        default="127.0.0.1",
        area="serveur de classe",  # i18n: keep (a group of the docs' table)
    )
    class_port: int = _setting(
        "ATELIER_CLASS_PORT",
        N_("le port du serveur de la classe"),
        _port,
        kind=N_("entier"),
        default=8800,
        area="serveur de classe",  # i18n: keep (a group of the docs' table)
    )
    teachers_group: str = _setting(
        "ATELIER_TEACHERS_GROUP",
        N_("sur un JupyterHub, le groupe dont les membres sont enseignant·es"),
        _text,
        kind=N_("texte"),
        default="enseignants",
        area="serveur de classe",  # i18n: keep (a group of the docs' table)
    )
    class_turns: Path | None = _setting(
        "ATELIER_CLASS_TURNS",
        N_(
            "la base des tours de la classe en mode local (un GPU, les élèves à tour de rôle) ; "
            "le serveur de la classe la donne à ses processus"
        ),
        _path,
        kind=N_("chemin"),
        shown=N_("`turns.sqlite3` du dossier de la classe"),
        area="serveur de classe",  # i18n: keep (a group of the docs' table)
        strip=False,
    )
    class_slots: int = _setting(
        "ATELIER_CLASS_SLOTS",
        N_("en mode local, combien d'entraînements de la classe tournent à la fois"),
        _count,
        kind=N_("entier"),
        default=1,
        area="serveur de classe",  # i18n: keep (a group of the docs' table)
    )
    # -- local mode ------------------------------------------------------------------------
    local_model: str = _setting(
        "ATELIER_LOCAL_MODEL",
        N_(
            "le modèle ouvert entraîné en mode local : un nom du catalogue (`tiny`, …), un nom du "
            "hub Hugging Face, un dossier ou un fichier `.gguf`"
        ),
        _text,
        kind=N_("texte"),
        default=DEFAULT_LOCAL_MODEL,
        shown=f"`{DEFAULT_LOCAL_MODEL}`",
        area="mode local",  # i18n: keep (a group of the docs' table)
    )
    local_device: str | None = _setting(
        "ATELIER_LOCAL_DEVICE",
        N_("où calculer en mode local : `cpu`, `cuda` ou `mps`"),
        _lower,
        kind=N_("texte"),
        shown=N_("`cuda` si un GPU est là, sinon `cpu`"),
        area="mode local",  # i18n: keep (a group of the docs' table)
    )
    local_threads: int = _setting(
        "ATELIER_LOCAL_THREADS",
        N_(
            "threads de calcul sur CPU en mode local (un nombre fixe : mêmes données, même graine "
            "→ même modèle)"
        ),
        _count,
        kind=N_("entier"),
        default=1,
        area="mode local",  # i18n: keep (a group of the docs' table)
    )
    local_worker_idle: float = _setting(
        "ATELIER_LOCAL_WORKER_IDLE",
        N_("secondes sans travail avant que le processus d'entraînement local s'arrête"),
        _seconds,
        kind=N_("secondes"),
        default=DEFAULT_WORKER_IDLE,
        shown=f"{DEFAULT_WORKER_IDLE:g}",
        area="mode local",  # i18n: keep (a group of the docs' table)
    )
    local_bf16: bool = _setting(
        "ATELIER_LOCAL_BF16",
        N_("0 : pas de calcul en bfloat16 sur CPU pour DPO, même quand le processeur le fait"),
        _yes,
        kind=N_("oui/non"),
        default=True,
        shown="1",
        area="mode local",  # i18n: keep (a group of the docs' table)
    )
    export_dir: Path | None = _setting(
        "ATELIER_EXPORT_DIR",
        N_("le dossier où `python -m helpers export` écrit les modèles locaux exportés"),
        _path,
        kind=N_("chemin"),
        shown="`./modeles-exportes`",
        area="mode local",  # i18n: keep (a group of the docs' table)
        strip=False,
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every variable (`os.environ` by default) and check it: a French
        `SettingsError` names each variable whose value the kit cannot use."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in dataclasses.fields(cls):
            var = f.metadata["var"]
            raw = env.get(var)
            if raw is None or not raw.strip():
                continue  # unset or empty: the default
            text = raw.strip() if f.metadata["strip"] else raw
            try:
                value = f.metadata["parse"](text)
            except _Invalid as exc:
                shown = _("(valeur masquée)") if not f.repr else repr(raw)
                problems.append(
                    _("{variable}={value} (attendu : {expected})").format(
                        variable=var, value=shown, expected=exc
                    )
                )
                continue
            if value is not None:  # None: a value the setting ignores (ATELIER_LANG=de)
                values[f.name] = value
        if problems:
            raise SettingsError(
                _("Réglage inutilisable : {problems}.").format(problems=_(" ; ").join(problems)),
                fix=_(
                    "Corrige la variable (une cellule `%env NOM=valeur`, ou avant de lancer "
                    "Jupyter) ou retire-la pour garder la valeur par défaut, puis relance."
                ),
            )
        return cls(**values)

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of the field `name` (`variable("home")` → `ATELIER_HOME`)."""
        return _FIELDS[name].metadata["var"]

    @classmethod
    def table(cls) -> list[dict[str, str]]:
        """One row per variable (variable, type, default, what it does, who reads it), for
        docs/reglages.md."""
        return [
            {
                "var": f.metadata["var"],
                "kind": f.metadata["kind"],
                "default": f.metadata["default"],
                "doc": f.metadata["doc"],
                "area": f.metadata["area"],
            }
            for f in dataclasses.fields(cls)
        ]


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
LANG_VAR = _FIELDS["lang"].metadata["var"]


def chosen_language() -> str | None:
    """The language ATELIER_LANG asks for (None: unset, or one the kit does not speak), as
    `current().lang` reads it but without checking the other settings: the translation layer
    asks for it while `current()` writes the `SettingsError` of another variable."""
    return language_code(os.environ.get(LANG_VAR, ""))


VARIABLES: tuple[str, ...] = tuple(f.metadata["var"] for f in dataclasses.fields(Settings))
_cache: tuple[tuple[str | None, ...], Settings] | None = None


def current() -> Settings:
    """The settings as the environment holds them now (read again when a variable changed:
    `%env` in a cell). Raises a French `SettingsError` for a value the kit cannot use."""
    global _cache
    seen = tuple(os.environ.get(var) for var in VARIABLES)
    cached = _cache
    if cached is not None and cached[0] == seen:
        return cached[1]
    value = Settings.from_env()
    _cache = (seen, value)
    return value


def environment(**values: Any) -> dict[str, str]:
    """The variables that give these settings to a process the kit starts
    (`environment(local_model="tiny")` → `{"ATELIER_LOCAL_MODEL": "tiny"}`)."""
    return {Settings.variable(name): _as_text(value) for name, value in values.items()}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def put(**values: Any) -> None:
    """Set settings for the rest of this process and the processes it starts (None: unset)."""
    for name, value in values.items():
        var = Settings.variable(name)
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = _as_text(value)


@contextmanager
def overridden(**values: Any) -> Iterator[Settings]:
    """These settings for the duration of a `with` block, then the previous ones back."""
    old = {name: os.environ.get(Settings.variable(name)) for name in values}
    put(**values)
    try:
        yield current()
    finally:
        for name, raw in old.items():
            var = Settings.variable(name)
            if raw is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = raw
