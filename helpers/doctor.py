"""`python -m helpers doctor` (is everything ready: this Python, the key, the workspace, the
mode's server), and the check every command runs first: the kit's packages in this Python
(a terminal's Python other than the kit's venv is named, with the command that fixes it)."""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence

from .exceptions import UsageError
from .i18n import N_, _
from .modes import Engine, Mode

# What the commands import (import names of requirements.txt's packages; the notebooks' own,
# ipywidgets and matplotlib, are not needed in a terminal).
_KIT_IMPORTS = (
    "openai",
    "tiktoken",
    "orjson",
    "numpy",
    "pandas",
    "starlette",
    "uvicorn",
    "dotenv",
    "jsonschema",
    "filelock",
    "packaging",
    "tqdm",
)


def missing_packages() -> list[str]:
    """The kit's packages this Python cannot import (a Python other than the kit's venv)."""
    import importlib.util

    missing = []
    for name in _KIT_IMPORTS:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # ValueError: blocked (sys.modules[name] is None)
            found = False
        if not found:
            missing.append(name)
    return missing


def _packages_missing(missing: Sequence[str]) -> UsageError:
    """Say which Python lacks what, and the command that fixes it (never blame the file)."""
    return UsageError(
        _(
            "Les paquets du kit ne sont pas installés dans ce Python ({python}) : il manque "
            "{missing}."
        ).format(python=sys.executable, missing=", ".join(missing)),
        _(
            "Utilise le Python du kit : `source .venv/bin/activate` (Windows : "
            "`.venv\\Scripts\\Activate.ps1`) puis relance la commande, ou écris "
            "`.venv/bin/python -m helpers …`. Sinon installe-les dans ce Python : "
            "`{python} -m pip install -r requirements.txt`."
        ).format(python=sys.executable),
    )


def say_packages_missing(missing: Sequence[str]) -> None:
    from .errors import Diagnosis

    err = _packages_missing(missing)
    title = _("Paquets du kit absents de ce Python")
    print(Diagnosis(title, str(err), err.fix, "missing_packages"), file=sys.stderr)


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return _("absent")


_MODE_NAMES = {Mode.SANDBOX: N_("bac à sable"), Mode.LOCAL: "local", Mode.OPENAI: "openai"}


def run_doctor(args: argparse.Namespace) -> int:
    import os

    from . import settings

    ok = True
    print(_("🩺 Atelier fine-tuning — diagnostic"))
    print(f"Python {platform.python_version()} ({platform.system()}, {sys.executable})")
    openai_v = _version("openai")
    backend = "httpx2" if openai_v[:1].isdigit() and int(openai_v.split(".")[0]) >= 3 else "httpx"
    pkgs = ", ".join(
        f"{d} {_version(d)}" for d in ("tiktoken", "pandas", "ipywidgets", "starlette", "uvicorn")
    )
    print(
        _("Paquets : openai {version} (sur {backend}), {packages}").format(
            version=openai_v, backend=backend, packages=pkgs
        )
    )
    print(_("Colab : {answer}").format(answer=_("oui") if settings.on_colab() else _("non")))
    absent = missing_packages()
    if absent:
        err = _packages_missing(absent)
        print(f"❌ {err}\n   → {err.fix}")
        print(_("⚠️ Corrige les points marqués ❌."))
        return 1
    try:
        settings.current()
    except settings.SettingsError as err:
        print(f"❌ {err}\n   → {err.fix}")  # (the settings' own message, translated there)
        return 1
    if not _doctor_workspace(getattr(args, "repair", False)):
        print(_("⚠️ Corrige les points marqués ❌."))
        return 1
    try:
        mode = settings.get_mode()
    except settings.SettingsError as err:
        print(f"❌ {err}")
        return 1
    print(
        _("Mode : {mode} — {label} (source : {source})").format(
            mode=mode, label=_(settings.MODE_LABELS[mode]), source=settings.mode_source()
        )
    )
    print(_("Espace de travail : {path}").format(path=settings.workspace_dir()))
    where = settings.key_source()
    if where:
        print(
            _("Clé OPENAI_API_KEY : présente (source : {source}) — valeur jamais affichée").format(
                source=_(where)
            )
        )
    else:
        if mode.traits.needs_key:
            missing = _("Clé OPENAI_API_KEY : absente ❌ (nécessaire en mode {mode})")
        else:
            missing = _("Clé OPENAI_API_KEY : absente (inutile en mode {mode})")
        print(missing.format(mode=mode if mode.traits.needs_key else _(_MODE_NAMES[mode])))
        ok = ok and not mode.traits.needs_key
    if os.environ.get("OPENAI_BASE_URL"):
        if mode.traits.kit_server:
            note = _("ignorée en mode {mode}").format(mode=_(_MODE_NAMES[mode]))
        else:
            note = _("utilisée")
        print(_("OPENAI_BASE_URL : définie ({note})").format(note=note))
    try:
        from .tokens import local_length_function

        local_length_function("o200k_base")("ok")
        print(_("Comptage de jetons hors ligne : ✅"))
    except Exception as err:  # noqa: BLE001
        print(_("Comptage de jetons hors ligne : ❌ {error}").format(error=type(err).__name__))
        ok = False
    # Local mode (optional extra): light, imports torch only to find the device in local mode.
    from .local import doctor as local_doctor

    local_mode = mode.engine == Engine.LOCAL
    local = local_doctor(check_device=local_mode)
    print("\n".join(local.lines(active=True)) if local_mode else local.summary())
    ok = ok and (local.ready or not local_mode)
    if mode.traits.kit_server:
        ok = _doctor_sandbox(mode) and ok
    print(_("✅ Tout est prêt.") if ok else _("⚠️ Corrige les points marqués ❌."))
    return 0 if ok else 1


def _doctor_workspace(repair: bool) -> bool:
    """The workspace's files and free space; `repair`: set the damaged files aside."""
    import os

    from . import repair as repairs
    from . import settings

    try:
        home = settings.workspace_dir()
    except OSError as err:
        from .errors import explain

        print(_("Espace de travail : ❌ {diagnosis}").format(diagnosis=explain(err)))
        return False
    found = repairs.find(home)
    if found and repair:
        for line in repairs.repair(home):
            print(line)
        found = repairs.find(home)
    for item in found:
        print(f"❌ {item.error}\n   → python -m helpers doctor --repair")
    free = repairs.free_space(home)
    if free is not None and free < repairs.MIN_FREE_BYTES:
        print(
            _(
                "❌ Disque presque plein : {free} Ko libres pour {path}. Libère de la place "
                "ou choisis un autre dossier (ATELIER_HOME), puis relance."
            ).format(free=free // 1024, path=home)
        )
        return False
    if not found:
        print(_("Fichiers de l'espace de travail : ✅ lisibles"))
    if os.name == "posix" and home.stat().st_mode & 0o077:
        print(
            _(
                "⚠️ {path} est lisible par les autres utilisateurs de cette machine : "
                "`chmod 700 {path}` le réserve à toi."
            ).format(path=home)
        )
    return not found


def _doctor_sandbox(mode: Mode) -> bool:
    label = _("Serveur local") if mode.engine == Engine.LOCAL else _("Bac à sable")
    try:
        from . import kit_server

        if not hasattr(kit_server, "start"):
            print(
                _("{label} : ❌ pas installé dans ce dossier (helpers/kit_server manquant)").format(
                    label=label
                )
            )
            return False
        from .client import client

        api = client(mode, max_retries=0, timeout=10)
        n = len(list(api.models.list().data))
    except Exception as err:  # noqa: BLE001
        from .errors import explain

        print(_("{label} : ❌ injoignable — {why}").format(label=label, why=explain(err).title))
        return False
    served = ""
    from . import settings

    if mode.engine == Engine.LOCAL and settings.class_server() is None:
        # the server that answered serves this command's setting (restarted if it differed)
        from .local import catalog

        name = kit_server.local_model_served() or (
            catalog.wanted_spec() if kit_server.running(engine=Engine.LOCAL) else "?"
        )
        served = _(", modèle servi : {name}").format(name=name)
    print(
        _("{label} : ✅ joignable sur {url} ({n} modèles{served})").format(
            label=label, url=api.base_url, n=n, served=served
        )
    )
    return True
