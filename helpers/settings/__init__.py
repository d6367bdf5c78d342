"""Where the kit runs and how: its settings (the `ATELIER_*` variables), the mode, the
language, the workspace folder and its state file, the key lookup.

**One owner for the settings.** `Settings` (`settings.variables`, every name public here) is
one typed, frozen object with a field per `ATELIER_*` variable the kit reads; `current()`
reads and checks them all. No other module reads an `ATELIER_*` variable
(`tests/test_owners.py`).

Mode precedence (docs/ARCHITECTURE.md): `ATELIER_MODE` > the choice saved in the workspace >
`sandbox`. A present `OPENAI_API_KEY` never switches the mode by itself.

The key is looked up, never stored by this module: environment, then a git-ignored `.env`
(repo root or current folder), then Colab's secrets. It is never printed: use `mask_key`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import i18n
from ..exceptions import DamagedFileError, SettingsError
from ..fileio import write_atomic
from ..i18n import N_, _
from ..modes import DEFAULT_MODE, MODE_NAMES, Mode
from .variables import (  # noqa: F401 - the settings' public names, here too
    COUCOU_JOB_SECONDS,
    DEFAULT_LANGUAGE,
    DEFAULT_LOCAL_MODEL,
    DEFAULT_SERVER_IDLE,
    DEFAULT_WORKER_IDLE,
    HANDED_OVER,
    KIT_KEY_VAR,
    LANG_VAR,
    LANGUAGES,
    Settings,
    chosen_language,
    current,
    environment,
    language_code,
    overridden,
    put,
)

MODES = MODE_NAMES
KEY_VAR = "OPENAI_API_KEY"

LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX order: the first one set decides


#: Each mode in a few words, in the learner's language (`MODE_LABELS[mode]`).
MODE_LABELS: Mapping[Mode, str] = i18n.Translated(
    {
        Mode.SANDBOX: N_("🧪 bac à sable (serveur local, sans clé, gratuit)"),
        Mode.OPENAI: N_("☁️ OpenAI (vraie API, avec ta clé — payant)"),
        Mode.LOCAL: N_("💻 local (vrai entraînement d'un petit modèle ouvert, sur cette machine)"),
    }
)


# --------------------------------------------------------------------------- workspace


def package_dir() -> Path:
    """The `helpers/` folder (this module is `helpers/settings/__init__.py`)."""
    return Path(__file__).resolve().parent.parent


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


STATE_WHAT = N_(
    "l'état de ton espace de travail : le mode choisi, les identifiants de chaque étape"
)


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
        raise DamagedFileError(path, _(STATE_WHAT), _("c'est un dossier, pas un fichier")) from None
    except UnicodeDecodeError:
        raise DamagedFileError(path, _(STATE_WHAT), _("ce n'est pas du texte UTF-8")) from None
    except OSError:
        if not path.exists():  # gone in between
            return {}
        raise
    if not text.strip():
        raise DamagedFileError(path, _(STATE_WHAT), _("il est vide"))
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise DamagedFileError(path, _(STATE_WHAT), _("son JSON est coupé ou mal formé")) from None
    problem = _state_shape_problem(data)
    if problem:
        raise DamagedFileError(path, _(STATE_WHAT), problem)
    return data


def _state_shape_problem(data: Any) -> str | None:
    """What is wrong with the state's shape (None: nothing): {"mode": str, "runs": {mode: {…}}}."""
    if not isinstance(data, dict):
        return _("il devrait contenir un objet JSON {…}")
    if "mode" in data and not isinstance(data["mode"], str):
        return _('"mode" devrait être un texte')
    runs = data.get("runs", {})
    if not isinstance(runs, dict):
        return _('"runs" devrait être un objet {"sandbox": {…}, …}')
    for mode, records in runs.items():
        if not isinstance(records, dict):
            return _('"runs" → "{mode}" devrait être un objet {{…}}').format(mode=mode)
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
            _(
                "Mode inconnu : {mode}. Choisis parmi {modes} (variable {variable} ou "
                "helpers.use_mode(...))."
            ).format(mode=repr(mode), modes=", ".join(MODES), variable=Settings.variable("mode"))
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
    """Where the active mode comes from, in the learner's language: the variable, the saved
    choice or the default."""
    if current().mode is not None:
        return Settings.variable("mode")
    return _("choix enregistré") if saved_mode() else _("par défaut")


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


def save_edition(edition: str) -> None:
    """Remember in the workspace the edition (fr|en) of the notebook that ran last, so that a
    terminal's commands speak it too (`language`). Written only when it changes."""
    if edition not in LANGUAGES or saved_edition() == edition:
        return
    data = load_state()
    data["edition"] = edition
    save_state(data)


_edition_cache: tuple[Path, int, str | None] | None = None
_reading_edition = False


def saved_edition() -> str | None:
    """The edition saved by `save_edition`, if any. Never raises (`language` asks it for every
    message, including the messages of the errors this read could meet): a workspace or state
    file it cannot read has no edition."""
    global _edition_cache, _reading_edition
    if _reading_edition:  # a message translated while reading the state: no edition
        return None
    _reading_edition = True
    try:
        path = _workspace_path() / "state.json"
        mtime = path.stat().st_mtime_ns
        if _edition_cache is not None and _edition_cache[:2] == (path, mtime):
            return _edition_cache[2]
        data = json.loads(path.read_text(encoding="utf-8"))
        edition = data.get("edition") if isinstance(data, dict) else None
        edition = edition if edition in LANGUAGES else None
        _edition_cache = (path, mtime, edition)
        return edition
    except Exception:  # noqa: BLE001 - no state file, a damaged one: no saved edition
        return None
    finally:
        _reading_edition = False


# A locale that says nothing of the user's language (Docker, SSH, CI): as if unset.
NEUTRAL_LOCALES = ("C", "POSIX")


def language() -> str:
    """The language of what the kit shows: `ATELIER_LANG` (fr|en) > the notebook's edition
    (`notebook_edition`) > the edition of the workspace's last notebook (`saved_edition`: a
    terminal follows the edition the learner uses) > the locale (`LC_ALL`, `LC_MESSAGES`,
    `LANG`: the first one set, `C` and `POSIX` counting as unset; `en…` → en) > French. An
    ATELIER_LANG the kit does not speak is ignored."""
    chosen = chosen_language()  # (not current(): its own errors are translated)
    if chosen:
        return chosen
    edition = notebook_edition() or saved_edition()
    if edition:
        return edition
    for var in LOCALE_VARS:
        value = os.environ.get(var, "").strip()
        if value and value.split(".")[0] not in NEUTRAL_LOCALES:
            return language_code(value) or DEFAULT_LANGUAGE
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
        from google.colab import userdata

        return (userdata.get(KEY_VAR) or "").strip() or None
    except Exception:  # secret missing or access not granted
        return None


def key_source() -> str | None:
    """Where the key would come from: 'environnement', '.env', 'Colab', or None (a name code
    compares: translate it with `_()` to show it)."""
    if os.environ.get(KEY_VAR, "").strip():
        return N_("environnement")
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
        return _("(aucune)")
    return f"{key[:3]}…{key[-4:]}" if len(key) > 12 else "…"


def use_key_for_session(key: str) -> None:
    """Put the key in this kernel's environment (what the SDK reads). Nothing is written."""
    key = key.strip()
    if not key:
        raise SettingsError(_("La clé est vide."))
    os.environ[KEY_VAR] = key


def save_key_to_env_file(key: str) -> Path:
    """Remember the key in the git-ignored `.env` (owner-only permissions). Other lines are kept."""
    key = key.strip()
    if not key or any(c in key for c in "\r\n\"' "):
        raise SettingsError(
            _("Cette clé contient des caractères inattendus : recopie-la sans espace ni guillemet.")
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
