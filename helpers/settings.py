"""Where the kit runs and how: its settings (the `ATELIER_*` variables), the mode, the
language, the workspace folder and its state file, the key lookup.

**One owner for the settings.** `Settings` is one typed, frozen object with a field per
`ATELIER_*` variable the kit reads (its type, default and what it does); `current()` reads
them all from the environment in one place and checks them (a French `SettingsError` names
the variable and what it expects). No other module reads an `ATELIER_*` variable
(`tests/test_owners.py`); the step-8 proxy, deployed alone, has its own
(`helpers.proxy.ProxySettings`). docs/reglages.md's table is generated from both
(`python tools/settings_table.py`). The environment stays the source: `%env` in a cell, or a
process the kit starts, sees the same values (`current()` reads again when it changed).

Mode precedence (docs/ARCHITECTURE.md): `ATELIER_MODE` > the choice saved in the workspace >
`sandbox`. A present `OPENAI_API_KEY` never switches the mode by itself.

The key is looked up, never stored by this module: environment, then a git-ignored `.env`
(repo root or current folder), then Colab's secrets. It is never printed: use `mask_key`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .exceptions import DamagedFileError, SettingsError
from .fileio import write_atomic
from .modes import DEFAULT_MODE, MODE_NAMES, Mode

MODES = MODE_NAMES
KEY_VAR = "OPENAI_API_KEY"

# The course's languages (issue 23): French is the source, English a translation.
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX order: the first one set decides

MODE_LABELS: dict[Mode, str] = {
    Mode.SANDBOX: "🧪 bac à sable (serveur local, sans clé, gratuit)",
    Mode.OPENAI: "☁️ OpenAI (vraie API, avec ta clé — payant)",
    Mode.LOCAL: "💻 local (vrai entraînement d'un petit modèle ouvert, sur cette machine)",
}

# How long the course's COUCOU job (notebook 03's 17 examples) lasts in the sandbox at speed 1,
# in seconds (tests/test_course_pacing.py checks it against the sandbox's engine).
COUCOU_JOB_SECONDS = 52.0
DEFAULT_SERVER_IDLE = 1800.0
DEFAULT_WORKER_IDLE = 120.0
DEFAULT_LOCAL_MODEL = "smollm2-135m-instruct"


# --------------------------------------------------------------------------- the settings


class _Invalid(ValueError):
    """A value a parser refuses; `current()` turns it into a SettingsError naming the variable."""


def _text(raw: str) -> str:
    return raw


def _language_code(value: str) -> str | None:
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
        raise _Invalid(f"un mode parmi {', '.join(MODE_NAMES)}") from None


def _positive(expected: str) -> Callable[[str], float]:
    """A parser of numbers > 0; `expected` says what the variable holds (French)."""

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not value > 0:
            raise _Invalid(expected)
        return value

    return parse


def _seconds(raw: str) -> float:
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise _Invalid("un nombre de secondes (0 : jamais d'arrêt)") from None


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise _Invalid("un nombre entier, 1 ou plus")
    return value


def _port(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise _Invalid("un numéro de port, de 0 à 65535")
    return value


def _yes(raw: str) -> bool:
    """1/true/yes/oui → True; 0/false/no/non → False."""
    value = raw.lower()
    if value in ("1", "true", "yes", "oui"):
        return True
    if value in ("0", "false", "no", "non"):
        return False
    raise _Invalid("1 (oui) ou 0 (non)")


def _lower(raw: str) -> str:
    return raw.lower()


def _class_url(raw: str) -> str:
    url = raw.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise _Invalid("une adresse http(s)://…, celle que ton enseignant·e t'a donnée")
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
        "le mode : `sandbox` (bac à sable), `openai` (la vraie API, payant) ou `local` (vrai "
        "entraînement sur cette machine) ; gagne sur le choix enregistré (`helpers.use_mode`)",
        _mode,
        kind="sandbox | openai | local",
        shown="le choix enregistré, sinon `sandbox`",
    )
    lang: str | None = _setting(
        "ATELIER_LANG",
        "la langue de ce que le kit affiche : `fr` ou `en` (une autre langue est ignorée) ; "
        "gagne sur l'édition du notebook (`notebooks/en/` : anglais) et la langue du système "
        "(`LC_ALL`, `LC_MESSAGES`, `LANG`)",
        _language_code,
        kind="fr | en",
        shown="l'édition du notebook, sinon la langue du système, sinon `fr`",
    )
    home: Path | None = _setting(
        "ATELIER_HOME",
        "le dossier de l'espace de travail (état, base du bac à sable, modèles locaux)",
        _path,
        kind="chemin",
        shown="`.atelier/` du dépôt, sinon `~/.atelier/`",
        strip=False,
    )
    # -- the sandbox -----------------------------------------------------------------------
    job_seconds: float | None = _setting(
        "ATELIER_JOB_SECONDS",
        "le réglage de l'enseignant·e : la durée d'un entraînement COUCOU dans le bac à sable, "
        "en secondes",
        _positive("une durée en secondes, plus grande que 0"),
        kind="secondes",
        shown=f"{COUCOU_JOB_SECONDS:g}",
        area="bac à sable",
    )
    sandbox_speed: float | None = _setting(
        "ATELIER_SANDBOX_SPEED",
        "la vitesse des jobs du bac à sable, un multiplicateur (1 : un job COUCOU d'une minute, "
        "1000 : les tests) ; gagne sur ATELIER_JOB_SECONDS",
        _positive("un nombre plus grand que 0 (1 : un job COUCOU d'une minute)"),
        kind="nombre",
        shown="1",
        area="bac à sable",
    )
    server_idle: float = _setting(
        "ATELIER_SERVER_IDLE",
        "secondes sans requête avant que le serveur du kit d'un espace de travail s'arrête "
        "(0 : jamais ; la requête suivante le relance)",
        _seconds,
        kind="secondes",
        default=DEFAULT_SERVER_IDLE,
        shown=f"{DEFAULT_SERVER_IDLE:g}",
        area="bac à sable",
    )
    sandbox_in_process: bool = _setting(
        "ATELIER_SANDBOX_IN_PROCESS",
        "1 : le serveur du kit tourne dans le processus même (tests, bancs d'essai)",
        _yes,
        kind="oui/non",
        default=False,
        shown="0",
        area="bac à sable",
    )
    sandbox_wal: bool | None = _setting(
        "ATELIER_SANDBOX_WAL",
        "1 ou 0 : forcer ou refuser le mode WAL de SQLite (sinon : deviné selon le système de "
        "fichiers ; les dossiers réseau n'en veulent pas)",
        _yes,
        kind="oui/non",
        shown="deviné",
        area="bac à sable",
    )
    # -- the class server ------------------------------------------------------------------
    class_url: str | None = _setting(
        "ATELIER_CLASS_URL",
        "l'adresse du serveur de la classe : les modes sandbox et local l'utilisent au lieu d'un "
        "serveur de l'espace de travail",
        _class_url,
        kind="adresse",
        area="serveur de classe",
    )
    class_key: str | None = _setting(
        "ATELIER_CLASS_KEY",
        "la clé de l'élève pour le serveur de la classe (sur un JupyterHub : le jeton du hub)",
        _text,
        kind="texte (secret)",
        shown="`JUPYTERHUB_API_TOKEN`",
        area="serveur de classe",
        secret=True,
    )
    class_home: Path | None = _setting(
        "ATELIER_CLASS_HOME",
        "le dossier de la classe (`python -m helpers class …`, sans `--home`)",
        _path,
        kind="chemin",
        shown="`./classe`",
        area="serveur de classe",
        strip=False,
    )
    class_host: str = _setting(
        "ATELIER_CLASS_HOST",
        "où écoute le serveur de la classe (`python -m helpers class serve`)",
        _text,
        kind="hôte",
        default="127.0.0.1",
        area="serveur de classe",
    )
    class_port: int = _setting(
        "ATELIER_CLASS_PORT",
        "le port du serveur de la classe",
        _port,
        kind="entier",
        default=8800,
        area="serveur de classe",
    )
    teachers_group: str = _setting(
        "ATELIER_TEACHERS_GROUP",
        "sur un JupyterHub, le groupe dont les membres sont enseignant·es",
        _text,
        kind="texte",
        default="enseignants",
        area="serveur de classe",
    )
    class_turns: Path | None = _setting(
        "ATELIER_CLASS_TURNS",
        "la base des tours de la classe en mode local (un GPU, les élèves à tour de rôle) ; "
        "le serveur de la classe la donne à ses processus",
        _path,
        kind="chemin",
        shown="`turns.sqlite3` du dossier de la classe",
        area="serveur de classe",
        strip=False,
    )
    class_slots: int = _setting(
        "ATELIER_CLASS_SLOTS",
        "en mode local, combien d'entraînements de la classe tournent à la fois",
        _count,
        kind="entier",
        default=1,
        area="serveur de classe",
    )
    # -- local mode ------------------------------------------------------------------------
    local_model: str = _setting(
        "ATELIER_LOCAL_MODEL",
        "le modèle ouvert entraîné en mode local : un nom du catalogue (`tiny`, …), un nom du "
        "hub Hugging Face, un dossier ou un fichier `.gguf`",
        _text,
        kind="texte",
        default=DEFAULT_LOCAL_MODEL,
        shown=f"`{DEFAULT_LOCAL_MODEL}`",
        area="mode local",
    )
    local_device: str | None = _setting(
        "ATELIER_LOCAL_DEVICE",
        "où calculer en mode local : `cpu`, `cuda` ou `mps`",
        _lower,
        kind="texte",
        shown="`cuda` si un GPU est là, sinon `cpu`",
        area="mode local",
    )
    local_threads: int = _setting(
        "ATELIER_LOCAL_THREADS",
        "threads de calcul sur CPU en mode local (un nombre fixe : mêmes données, même graine "
        "→ même modèle)",
        _count,
        kind="entier",
        default=1,
        area="mode local",
    )
    local_worker_idle: float = _setting(
        "ATELIER_LOCAL_WORKER_IDLE",
        "secondes sans travail avant que le processus d'entraînement local s'arrête",
        _seconds,
        kind="secondes",
        default=DEFAULT_WORKER_IDLE,
        shown=f"{DEFAULT_WORKER_IDLE:g}",
        area="mode local",
    )
    local_bf16: bool = _setting(
        "ATELIER_LOCAL_BF16",
        "0 : pas de calcul en bfloat16 sur CPU pour DPO, même quand le processeur le fait",
        _yes,
        kind="oui/non",
        default=True,
        shown="1",
        area="mode local",
    )
    export_dir: Path | None = _setting(
        "ATELIER_EXPORT_DIR",
        "le dossier où `python -m helpers export` écrit les modèles locaux exportés",
        _path,
        kind="chemin",
        shown="`./modeles-exportes`",
        area="mode local",
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
                shown = "(valeur masquée)" if not f.repr else repr(raw)
                problems.append(f"{var}={shown} (attendu : {exc})")
                continue
            if value is not None:  # None: a value the setting ignores (ATELIER_LANG=de)
                values[f.name] = value
        if problems:
            raise SettingsError(
                "Réglage inutilisable : " + " ; ".join(problems) + ".",
                fix="Corrige la variable (une cellule `%env NOM=valeur`, ou avant de lancer "
                "Jupyter) ou retire-la pour garder la valeur par défaut, puis relance.",
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


# --------------------------------------------------------------------------- workspace


def package_dir() -> Path:
    return Path(__file__).resolve().parent


def repo_root() -> Path | None:
    """The checkout that holds `helpers/` (None when installed elsewhere)."""
    root = package_dir().parent
    return root if (root / "pyproject.toml").exists() else None


def _writable(folder: Path) -> bool:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK)


def _workspace_path() -> Path:
    home = current().home
    if home is not None:
        return home
    root = repo_root()
    return root / ".atelier" if root is not None and _writable(root) else Path.home() / ".atelier"


def workspace_dir() -> Path:
    """`ATELIER_HOME`, else `.atelier/` at the repo root, else `~/.atelier/` (read-only checkout).

    Made owner-only when the kit creates it: on a shared host (a hub, a lab machine) the
    other users can neither read the sandbox's database nor the state file."""
    path = _workspace_path()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def workspace_dir_name() -> str:
    """The workspace folder as text, without creating it (never raises): for messages."""
    try:
        return str(_workspace_path())
    except Exception:
        return Settings.variable("home")


def state_path() -> Path:
    """The workspace's state file: the saved mode (here) and each step's records (`workspace`)."""
    return workspace_dir() / "state.json"


STATE_WHAT = "l'état de ton espace de travail : le mode choisi, les identifiants de chaque étape"


def load_state() -> dict[str, Any]:
    """The state file's content; `{}` when there is none yet.

    A state file the kit cannot read (cut short, hand-edited into another shape, a folder of
    that name) raises `DamagedFileError`: resetting it silently would lose the ids it records
    (a paid job's, in openai mode); `python -m helpers doctor --repair` sets it aside."""
    path = state_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise DamagedFileError(path, STATE_WHAT, "c'est un dossier, pas un fichier") from None
    except UnicodeDecodeError:
        raise DamagedFileError(path, STATE_WHAT, "ce n'est pas du texte UTF-8") from None
    except OSError:
        if not path.exists():  # gone in between
            return {}
        raise
    if not text.strip():
        raise DamagedFileError(path, STATE_WHAT, "il est vide")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise DamagedFileError(path, STATE_WHAT, "son JSON est coupé ou mal formé") from None
    problem = _state_shape_problem(data)
    if problem:
        raise DamagedFileError(path, STATE_WHAT, problem)
    return data


def _state_shape_problem(data: Any) -> str | None:
    """What is wrong with the state's shape (None: nothing): {"mode": str, "runs": {mode: {…}}}."""
    if not isinstance(data, dict):
        return "il devrait contenir un objet JSON {…}"
    if "mode" in data and not isinstance(data["mode"], str):
        return '"mode" devrait être un texte'
    runs = data.get("runs", {})
    if not isinstance(runs, dict):
        return '"runs" devrait être un objet {"sandbox": {…}, …}'
    for mode, records in runs.items():
        if not isinstance(records, dict):
            return f'"runs" → "{mode}" devrait être un objet {{…}}'
    return None


def save_state(data: dict[str, Any]) -> None:
    """Replace the state file atomically (a reader never sees half a file)."""
    write_atomic(state_path(), json.dumps(data, indent=2, ensure_ascii=False))


# --------------------------------------------------------------------------- mode


def check_mode(mode: str | Mode) -> Mode:
    """The `Mode` a name stands for (`"OpenAI "` → `Mode.OPENAI`); a French error otherwise."""
    try:
        return Mode(str(mode).strip().lower())
    except ValueError:
        raise SettingsError(
            f"Mode inconnu : {mode!r}. Choisis parmi {', '.join(MODES)} "
            f"(variable {Settings.variable('mode')} ou helpers.use_mode(...))."
        ) from None


def get_mode() -> Mode:
    """The active mode: ATELIER_MODE > saved choice > sandbox."""
    forced = current().mode
    if forced is not None:
        return forced
    saved = saved_mode()
    return check_mode(saved) if saved else DEFAULT_MODE


def resolve_mode(mode: str | Mode | None = None) -> Mode:
    """`mode` checked when given, else the active mode."""
    return check_mode(mode) if mode else get_mode()


def mode_source() -> str:
    """Where the active mode comes from (French): the variable, the saved choice or the default."""
    if current().mode is not None:
        return Settings.variable("mode")
    return "choix enregistré" if saved_mode() else "par défaut"


def saved_mode() -> str | None:
    """The mode saved in the workspace by `save_mode`, if any."""
    return load_state().get("mode")


def save_mode(mode: str | Mode) -> Mode:
    """Remember the mode in the workspace (ATELIER_MODE, when set, still wins)."""
    mode = check_mode(mode)
    data = load_state()
    data["mode"] = mode.value
    save_state(data)
    return mode


# --------------------------------------------------------------------------- language


def notebook_edition() -> str | None:
    """The edition of the notebook this kernel runs: `en` under `notebooks/en/` (or
    `notebooks/colab/en/`), `fr` elsewhere under `notebooks/`, None outside the course.

    Jupyter Server gives a kernel its notebook's path in `JPY_SESSION_NAME`; nbval, nbclient
    and Jupyter start the kernel in the notebook's folder (the fallback)."""
    folders = []
    if os.environ.get("JPY_SESSION_NAME"):
        folders.append(Path(os.environ["JPY_SESSION_NAME"]).parent)
    with contextlib.suppress(OSError):  # the current folder was deleted
        folders.append(Path.cwd())
    for folder in folders:
        parts = folder.parts
        if "notebooks" in parts:
            below = parts[len(parts) - parts[::-1].index("notebooks") :]
            return next((p for p in below if p in LANGUAGES), DEFAULT_LANGUAGE)
    return None


def language() -> str:
    """The language of what the kit shows: `ATELIER_LANG` (fr|en) > the notebook's edition
    (`notebook_edition`) > the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`: the first one set;
    `en…` → en) > French. An ATELIER_LANG the kit does not speak is ignored."""
    chosen = current().lang
    if chosen:
        return chosen
    edition = notebook_edition()
    if edition:
        return edition
    for var in LOCALE_VARS:
        value = os.environ.get(var, "").strip()
        if value:
            return _language_code(value) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


# --------------------------------------------------------------------------- sandbox pace


def sandbox_speed() -> float:
    """How fast sandbox jobs run: 1 ≈ a one-minute COUCOU job (class), 1000 ≈ 0.06 s (CI).

    The teacher's setting is `ATELIER_JOB_SECONDS`, the COUCOU job's duration in seconds;
    `ATELIER_SANDBOX_SPEED` (a multiplier, used by tests and CI) wins when both are set.
    """
    now = current()
    if now.sandbox_speed is not None:
        return now.sandbox_speed
    if now.job_seconds is not None:
        return COUCOU_JOB_SECONDS / now.job_seconds
    return 1.0


def job_seconds() -> float:
    """The COUCOU job's duration in the sandbox at the current setting, in seconds."""
    return COUCOU_JOB_SECONDS / sandbox_speed()


# --------------------------------------------------------------------------- class server

CLASS_URL_VAR = Settings.variable("class_url")
CLASS_KEY_VAR = Settings.variable("class_key")


def class_server() -> tuple[str, str] | None:
    """The class's kit server, when the teacher runs one: (URL ending in /v1, this student's
    key). `ATELIER_CLASS_URL` names it; the key is `ATELIER_CLASS_KEY` (keys the teacher
    issued), else, on a JupyterHub, the hub's own `JUPYTERHUB_API_TOKEN`. Sandbox and local
    modes then use it instead of a server of this workspace; nothing else changes."""
    now = current()
    if now.class_url is None:
        return None
    key = now.class_key or os.environ.get("JUPYTERHUB_API_TOKEN", "")
    return now.class_url, key.strip()


def class_key_source() -> str:
    """The variable the class key comes from (for a tool's own configuration)."""
    return CLASS_KEY_VAR if current().class_key else "JUPYTERHUB_API_TOKEN"


# --------------------------------------------------------------------------- the key


def on_colab() -> bool:
    return "google.colab" in sys.modules or bool(os.environ.get("COLAB_RELEASE_TAG"))


def env_file() -> Path:
    """The git-ignored `.env` the kit reads (and the key form may write)."""
    root = repo_root()
    return (root if root is not None else Path.cwd()) / ".env"


def _from_env_file() -> str | None:
    from dotenv import dotenv_values

    for path in dict.fromkeys([env_file(), Path.cwd() / ".env"]):
        if path.is_file():
            value = dotenv_values(path).get(KEY_VAR)
            if value:
                return value.strip()
    return None


def _from_colab_secrets() -> str | None:
    if not on_colab():
        return None
    try:
        from google.colab import userdata  # type: ignore[import-not-found]

        return (userdata.get(KEY_VAR) or "").strip() or None
    except Exception:  # secret missing or access not granted
        return None


def key_source() -> str | None:
    """Where the key would come from: 'environnement', '.env', 'Colab', or None."""
    if os.environ.get(KEY_VAR, "").strip():
        return "environnement"
    if _from_env_file():
        return ".env"
    if _from_colab_secrets():
        return "Colab"
    return None


def find_api_key() -> str | None:
    """The learner's OpenAI key, or None. Never print the result: see `mask_key`."""
    return os.environ.get(KEY_VAR, "").strip() or _from_env_file() or _from_colab_secrets()


def mask_key(key: str | None) -> str:
    """`sk-proj-abcd…wxyz` → `sk-…wxyz` style: enough to recognise, useless to steal."""
    if not key:
        return "(aucune)"
    return f"{key[:3]}…{key[-4:]}" if len(key) > 12 else "…"


def use_key_for_session(key: str) -> None:
    """Put the key in this kernel's environment (what the SDK reads). Nothing is written."""
    key = key.strip()
    if not key:
        raise SettingsError("La clé est vide.")
    os.environ[KEY_VAR] = key


def save_key_to_env_file(key: str) -> Path:
    """Remember the key in the git-ignored `.env` (owner-only permissions). Other lines are kept."""
    key = key.strip()
    if not key or any(c in key for c in "\r\n\"' "):
        raise SettingsError(
            "Cette clé contient des caractères inattendus : recopie-la sans espace ni guillemet."
        )
    path = env_file()
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines = [ln for ln in lines if not ln.strip().startswith(f"{KEY_VAR}=")]
    lines.append(f"{KEY_VAR}={key}")
    # Never written through a symlink (a `.env` pointing elsewhere is replaced by a file of its
    # own), and owner-only from its first byte.
    return write_atomic(path, "\n".join(lines) + "\n", mode=0o600)


def forget_key() -> None:
    """Remove the key from this kernel and from `.env` (keeping the file's other lines)."""
    os.environ.pop(KEY_VAR, None)
    path = env_file()
    if path.exists():
        lines = [
            ln
            for ln in path.read_text(encoding="utf-8").splitlines()
            if not ln.strip().startswith(f"{KEY_VAR}=")
        ]
        write_atomic(path, "\n".join(lines) + ("\n" if lines else ""), mode=0o600)
