"""The small open base models of `local` mode, where they run, LoRA defaults, `doctor()`.

This module imports neither torch nor transformers at import time: `doctor()` must answer
on a machine that has neither.

Which model trains: the job's `model` when it names a local model (an id below, a hub repo
id, or a folder made with `save_pretrained`); an OpenAI name such as `gpt-4o-mini-2024-07-18`
(what the notebooks send by default) means "the default local model", chosen with
`ATELIER_LOCAL_MODEL` (an id, hub repo, folder or `.gguf` file; `smollm2-135m-instruct` when
unset). A `.gguf` file (what Ollama and LM Studio keep) is converted once into the workspace's
model cache (`helpers.local.convert`).
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import settings
from ..exceptions import LocalModelError
from ..i18n import N_, _

LOCAL_MODEL_VAR = settings.Settings.variable("local_model")
DEVICE_VAR = settings.Settings.variable("local_device")
DEFAULT_LOCAL_MODEL = settings.DEFAULT_LOCAL_MODEL
# Shown translated: _(INSTALL_HINT).
INSTALL_HINT = N_(
    "pip install -e '.[local]'  (ou : pip install torch transformers peft accelerate)"
)
DEFAULT_LEARNING_RATE = 2e-4  # LoRA, at learning_rate_multiplier = 1
REQUIRED = {"torch": "2.4", "transformers": "5", "peft": "0.20", "accelerate": "1.0"}


@dataclass(frozen=True)
class LocalModel:
    id: str  # short name used in model names: ft:{id}:local:{suffix}:{8 chars}
    source: str  # hub repo id or folder
    description: str  # French, for the learner
    parameters: str
    download: str  # approximate download size ("" when built here)
    learning_rate: float  # LoRA learning rate at learning_rate_multiplier = 1
    builtin: bool = False  # built on this machine (never downloaded)

    @property
    def is_gguf(self) -> bool:
        """A GGUF file (`.gguf`, or any file: Ollama's blobs have no extension)."""
        if not self.source or self.builtin:
            return False
        return self.source.lower().endswith(".gguf") or Path(self.source).expanduser().is_file()

    @property
    def is_folder(self) -> bool:
        """A source on this machine (a folder, or a `.gguf` file): nothing to download."""
        if self.builtin:
            return True
        if not self.source:
            return False
        path = Path(self.source).expanduser()
        return path.is_dir() or (self.is_gguf and path.is_file())


CATALOG: dict[str, LocalModel] = {
    m.id: m
    for m in [
        LocalModel(
            "smollm2-135m-instruct",
            "HuggingFaceTB/SmolLM2-135M-Instruct",
            N_(
                "SmolLM2 135M Instruct (Hugging Face) : le plus petit, rapide même sur CPU ; "
                "anglais surtout."
            ),
            "135 M",
            "≈ 270 Mo",
            # COUCOU (15 examples, batch 1): learned by step 5-6 at 2e-3, step 8-9 at 1e-3,
            # step ~40 at 2e-4; at 5e-4 the job stops early at step 16 (as at 2e-3: 13-15),
            # 8/8 held-out answers exact. The subject classifier (data/matieres.jsonl: 18
            # examples, 24 held out, stratified; 3 splits × 2-3 seeds, December 2026): exact
            # held-out answers 14.8/24 on average at 5e-4, 13.0 at 2e-3 (better or equal in
            # each of the 8 pairs), 10.7 at 1e-3 and 11.3 at 2.5e-4 (one split); the base
            # model 0/24. A high rate learns the answers' form fast, then leans on one or two
            # subjects.
            5e-4,
        ),
        LocalModel(
            "smollm2-360m-instruct",
            "HuggingFaceTB/SmolLM2-360M-Instruct",
            N_("SmolLM2 360M Instruct : meilleur, encore raisonnable sur CPU (quelques minutes)."),
            "360 M",
            "≈ 720 Mo",
            1e-3,
        ),
        LocalModel(
            "qwen2.5-0.5b-instruct",
            "Qwen/Qwen2.5-0.5B-Instruct",
            N_(
                "Qwen2.5 0.5B Instruct (Alibaba) : multilingue, parle français ; idéal avec un "
                "GPU (Colab)."
            ),
            "494 M",
            "≈ 1 Go",
            DEFAULT_LEARNING_RATE,
        ),
        LocalModel(
            "tiny",
            "",
            N_(
                "Modèle minuscule construit sur cette machine, sans téléchargement (~100 k "
                "paramètres) : il ne sait rien au départ, mais apprend COUCOU en quelques "
                "secondes. Pour les tests et pour essayer sans internet."
            ),
            "0,1 M",
            "",
            3e-3,
            builtin=True,
        ),
    ]
}


def slug(text: str) -> str:
    """A model name made safe for a folder name (`helpers.local.convert.slug`). Imported when
    called: `python -m helpers.local.convert` must not find that module already imported by
    its own package (Python warns about it)."""
    from .convert import slug as convert_slug

    return convert_slug(text)


def is_openai_name(name: str) -> bool:
    from .. import models

    base = name[3:].split(":")[0] if name.startswith("ft:") else name
    return base.startswith(("gpt-", "o1", "o3", "o4")) or models.get(base) is not None


def _settings_for(name: str) -> LocalModel | None:
    """The catalog entry whose id starts a folder or file name (SmolLM2-135M-Instruct.Q4_1 →
    smollm2-135m-instruct): its training settings suit that model."""
    short = slug(name)
    for m in sorted(CATALOG.values(), key=lambda m: -len(m.id)):
        if not m.builtin and short.startswith(m.id):
            return m
    return None


def _local(path: Path, kind: str) -> LocalModel:
    name = re.sub(
        r"[.\-](q\d\w*|f16|f32|bf16)$", "", path.stem if kind == "gguf" else path.name, flags=re.I
    )
    known = _settings_for(name)
    local = _("Modèle local ({path})") if kind == "folder" else _("Fichier GGUF {path}")
    description = local.format(path=path)
    if known is not None:
        return replace(known, source=str(path.resolve()), description=description, download="")
    return LocalModel(slug(name), str(path.resolve()), description, "?", "", DEFAULT_LEARNING_RATE)


def from_spec(spec: str) -> LocalModel:
    """A catalog id, a hub repo id (catalog or not), a folder or a `.gguf` file → LocalModel."""
    spec = spec.strip()
    if spec in CATALOG:
        return CATALOG[spec]
    for m in CATALOG.values():
        if m.source and m.source.lower() == spec.lower():
            return m
    folder = Path(spec).expanduser()
    if spec.lower().endswith(".gguf") or folder.is_file():
        from .convert import check_file

        return _local(check_file(folder), "gguf")
    if folder.is_dir():
        if not (folder / "config.json").exists():
            raise LocalModelError(
                _(
                    "Le dossier {folder} ne contient pas de modèle (pas de config.json). Donne un "
                    "dossier écrit par save_pretrained, ou un nom du catalogue : {names}."
                ).format(folder=folder, names=", ".join(CATALOG))
            )
        if (folder / "atelier_tiny.json").exists():  # built by tiny.build: same settings as "tiny"
            return replace(CATALOG["tiny"], source=str(folder.resolve()), builtin=False)
        return _local(folder, "folder")
    if re.fullmatch(r"[\w.\-]+/[\w.\-]+", spec):
        return LocalModel(
            slug(spec.split("/")[-1]),
            spec,
            _("Modèle du hub Hugging Face {name}").format(name=spec),
            "?",
            "?",
            DEFAULT_LEARNING_RATE,
        )
    raise LocalModelError(
        _(
            "Modèle local inconnu : {spec!r}. Choisis parmi {names}, un nom du hub Hugging Face "
            "(« organisation/modèle »), un dossier de modèle ou un fichier .gguf."
        ).format(spec=spec, names=", ".join(CATALOG))
    )


def wanted_spec() -> str:
    """What `ATELIER_LOCAL_MODEL` names in this process, as one comparable string: a path that
    exists made absolute (a relative path means the same file from any folder), else the value
    as written (a catalog id, a hub repo id), `smollm2-135m-instruct` when unset."""
    raw = settings.current().local_model
    if raw in CATALOG:  # a catalog id wins over a folder of the same name (as in from_spec)
        return raw
    path = Path(raw).expanduser()
    try:
        return str(path.resolve()) if path.exists() else raw
    except OSError:
        return raw


def default_model() -> LocalModel:
    """The model that an OpenAI model name stands for in local mode (`ATELIER_LOCAL_MODEL`)."""
    return from_spec(wanted_spec())


SERVED_FILE = "served-model.json"  # in <workspace>/local/: what the running server serves


def record_served(home: str | Path) -> None:
    """Say, for the kernels of workspace `home`, which default model this server process
    serves (`wanted_spec()` in its environment): a kernel whose setting differs restarts it."""
    import json

    from ..fileio import write_atomic

    folder = Path(home) / "local"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / SERVED_FILE, json.dumps({"pid": os.getpid(), "model": wanted_spec()}))
    except OSError:  # a read-only workspace: kernels then restart the server to be sure
        pass


def served_by(home: str | Path, pid: int) -> str | None:
    """The default model that server process `pid` of workspace `home` serves (None: unknown)."""
    import json

    try:
        record = json.loads((Path(home) / "local" / SERVED_FILE).read_text(encoding="utf-8"))
        if int(record["pid"]) == pid:
            return str(record["model"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def resolve(name: str | None) -> LocalModel:
    """The local base model a request names (see the module's docstring)."""
    if not name or is_openai_name(name):
        return default_model()
    default = default_model()
    if name in (default.id, default.source):
        return default
    return from_spec(name)


def model_path(model: LocalModel, on_stage: Any = None) -> str:
    """What `from_pretrained` takes: a folder (the tiny model is built on first use, a `.gguf`
    file converted on first use; `on_stage(stage)` hears its stages) or a repo id."""
    if model.builtin and not model.source:
        from . import tiny

        return str(tiny.ensure())
    if model.is_gguf:
        from . import convert

        return str(convert.ensure(model.source, on_stage=on_stage))
    return model.source


def _count_safetensors(folder: Path) -> int | None:
    """Parameters stored in a folder's `*.safetensors` files, read from their JSON headers
    (no torch, nothing loaded)."""
    import json
    import math
    import struct

    total = 0
    files = sorted(folder.glob("*.safetensors"))
    if not files or (folder / "adapter_config.json").exists():
        return None
    for file in files:
        try:
            with file.open("rb") as f:
                (size,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(min(size, 100_000_000)))
        except (OSError, ValueError, struct.error):
            return None
        total += sum(
            math.prod(t.get("shape", ()))
            for name, t in header.items()
            if name != "__metadata__" and isinstance(t, dict)
        )
    return total or None


def parameters_fr(model: LocalModel) -> str | None:
    """« 135 M », « 0,1 M »: the model's size in parameters, French; None when it cannot be
    known without downloading or loading it."""
    if model.parameters and model.parameters != "?":
        return model.parameters
    folder: Path | None = None
    if model.is_gguf:
        from .convert import cached_folder

        folder = cached_folder(model.source)
    elif model.is_folder:
        folder = Path(model.source).expanduser()
    if folder is None:
        return None
    count = _count_safetensors(folder)
    if count is None:
        return None
    if count >= 1e9:
        return f"{count / 1e9:.1f} Md".replace(".", ",")
    return f"{count / 1e6:.0f} M" if count >= 1e7 else f"{count / 1e6:.1f} M".replace(".", ",")


def offline() -> bool:
    return any(
        os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def is_cached(model: LocalModel) -> bool:
    """True when the model needs no download (a folder, or already in the Hugging Face cache)."""
    if model.is_folder:
        return True
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model.source, "config.json")
    except Exception:
        return False
    return isinstance(found, str)


def unavailable_message(model: LocalModel, cause: BaseException | None = None) -> str:
    """French explanation when a model cannot be loaded."""
    why = (
        _("le mode hors ligne est activé (HF_HUB_OFFLINE=1)")
        if offline()
        else _("cette machine n'a pas pu le télécharger (pas d'accès à internet ?)")
    )
    text = _(
        "Le modèle « {model} » ({source}) n'est pas encore sur cette machine et {why}. "
        "Deux solutions : lance une fois cette étape sur une machine connectée à internet "
        "(transformers télécharge {download} puis le garde en cache), "
        "ou utilise le modèle minuscule construit ici, sans téléchargement : dans le notebook, "
        "une cellule `%env {var}=tiny` puis relance la cellule qui a échoué (dans un "
        "terminal : {var}=tiny devant la commande, ou avant de lancer Jupyter). "
        "Le serveur local redémarre tout seul avec le nouveau modèle."
    ).format(
        model=model.id,
        source=model.source,
        why=why,
        download=model.download if model.download not in ("", "?") else _("le modèle"),
        var=LOCAL_MODEL_VAR,
    )
    if cause is not None:
        text += _(" (détail : {cause})").format(cause=type(cause).__name__)
    return text


def device() -> str:
    """`ATELIER_LOCAL_DEVICE`, else `cuda` when a GPU is usable, else `cpu` (imports torch)."""
    forced = settings.current().local_device
    if forced:
        return forced
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def dtype_for(device_name: str) -> Any:
    """The base model's weights: float32 on CPU (half precision is slower there); on a GPU,
    bfloat16 when it supports it (A100, L4…), else float16 (Colab's T4: training scales
    the loss, see `train`). LoRA weights stay float32 (peft's default)."""
    import torch

    if device_name.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


@dataclass(frozen=True)
class LoraDefaults:
    r: int
    alpha: int
    dropout: float
    learning_rate: float
    target_modules: str = "all-linear"


def lora_defaults(n_examples: int, model: LocalModel | None = None) -> LoraDefaults:
    """Sensible LoRA settings for 10–1000 examples: small rank for few examples, no dropout
    below 100 examples (nothing to regularise against in 2–3 epochs of tiny data)."""
    lr = (model or default_model()).learning_rate
    if n_examples <= 200:
        return LoraDefaults(
            r=8, alpha=16, dropout=0.0 if n_examples < 100 else 0.05, learning_rate=lr
        )
    return LoraDefaults(r=16, alpha=32, dropout=0.05, learning_rate=lr)


# ---------------------------------------------------------------- doctor
def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _at_least(version: str, minimum: str) -> bool:
    """PEP 440 order (`packaging`): `2.13.0+cpu` ≥ `2.4`; an unreadable version is not."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) >= Version(minimum)
    except InvalidVersion:
        return False


def is_available() -> bool:
    """The optional packages are installed, in versions the engine supports (no import)."""
    for package, minimum in REQUIRED.items():
        version = _version(package)
        if (
            version is None
            or not _at_least(version, minimum)
            or importlib.util.find_spec(package) is None
        ):
            return False
    return True


@dataclass
class Doctor:
    usable: bool
    packages: dict[str, str | None]
    problems: list[str]
    device: str | None
    model: LocalModel | None
    model_ready: bool
    notes: list[str]
    warnings: list[str] = field(default_factory=list)
    #: What stops local mode from training or answering here, once it is the active mode (the
    #: default model is not on this machine and cannot be downloaded): ❌ in local mode only.
    blocking: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Usable, and the default model can be loaded (or downloaded) now."""
        return self.usable and not self.blocking

    def summary(self) -> str:
        """One line, for a diagnostic where local mode is not the active mode."""
        if self.usable:
            model = self.model.id if self.model else "?"
            if self.blocking:
                return _(
                    "Mode local : installé, mais le modèle par défaut ({model}) n'est pas sur "
                    "cette machine (hors ligne) ; sans téléchargement : {var}=tiny"
                ).format(model=model, var=LOCAL_MODEL_VAR)
            return _("Mode local : ✅ utilisable (modèle par défaut : {model})").format(model=model)
        missing = [p for p, v in self.packages.items() if not v]
        if missing:
            why = _("{packages} absent(s)").format(packages=", ".join(missing))
        else:
            why = "; ".join(self.problems)
        return _("Mode local (optionnel) : pas installé — {why} ; pour l'essayer : {hint}").format(
            why=why, hint=_(INSTALL_HINT)
        )

    def lines(self, *, active: bool = False) -> list[str]:
        """The diagnosis, line by line; `active`: local mode is the mode in use, so what
        blocks it is an error (❌), not a warning."""
        out = [_("Mode local (vrai entraînement sur cette machine) :")]
        if self.usable and (self.ready or not active):
            out.append("  " + _("✅ utilisable"))
        else:
            out.append("  " + _("❌ pas utilisable pour l'instant"))
        for package, version in self.packages.items():
            shown = version or _("absent")
            out.append(f"  {'✅' if version else '❌'} {package} {shown}")
        if self.device:
            out.append("  " + _("calcul : {device}").format(device=self.device))
        if self.model:
            state = (
                _("prêt")
                if self.model_ready
                else _("pas sur cette machine")
                if self.blocking
                else _("à télécharger au premier usage")
            )
            line = _("modèle de base par défaut : {model} ({source}) — {state}").format(
                model=self.model.id, source=self.model.source or _("construit ici"), state=state
            )
            out.append("  " + line)
        out.extend(f"  ❌ {p}" for p in self.problems)
        out.extend(f"  {'❌' if active else '⚠️'} {b}" for b in self.blocking)
        out.extend(f"  ⚠️ {w}" for w in self.warnings)
        out.extend(f"  ℹ️ {n}" for n in self.notes)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def doctor(*, check_device: bool = True) -> Doctor:
    """Is local mode usable here, and if not why (French). `check_device` imports torch (~2 s)."""
    packages = {p: _version(p) for p in REQUIRED}
    problems: list[str] = []
    notes: list[str] = []
    warnings: list[str] = []
    blocking: list[str] = []
    missing = [p for p, v in packages.items() if v is None]
    if missing:
        problems.append(
            _("paquets manquants : {packages} → installe-les avec : {hint}").format(
                packages=", ".join(missing), hint=_(INSTALL_HINT)
            )
        )
    for package, minimum in REQUIRED.items():
        version = packages[package]
        if version and not _at_least(version, minimum):
            problems.append(
                _("{package} {version} est trop ancien : il faut {package} ≥ {minimum}.").format(
                    package=package, version=version, minimum=minimum
                )
            )
    dev = None
    if not problems and check_device:
        try:
            dev = device()
            if dev == "cpu":
                dev = _(
                    "cpu ({cores} cœurs) — pas de GPU : les modèles du hub seront lents, "
                    "« tiny » reste rapide"
                ).format(cores=os.cpu_count() or "?")
            elif dev.startswith("cuda"):
                import torch

                dev = f"GPU {torch.cuda.get_device_name(0)}"
        except Exception as exc:  # a broken torch install
            problems.append(
                _("torch ne se charge pas ({error}) : réinstalle-le.").format(
                    error=type(exc).__name__
                )
            )
    model = None
    ready = False
    try:
        model = default_model()
        ready = is_cached(model)  # a folder is here, packages or not
        if not ready and offline():
            blocking.append(unavailable_message(model))
        elif not ready:
            notes.append(
                _(
                    "{model} sera téléchargé ({size}) au premier entraînement ou à la première "
                    "question."
                ).format(model=model.id, size=model.download)
            )
        if ready and model.is_gguf:
            from . import convert

            if importlib.util.find_spec("gguf") is None:
                problems.append(
                    _("{file} est un fichier GGUF : il faut le paquet gguf ({hint}).").format(
                        file=Path(model.source).name, hint=convert.GGUF_HINT
                    )
                )
            elif convert.cached_folder(model.source) is None:
                notes.append(
                    _(
                        "{file} sera converti une fois (GGUF → dossier Hugging Face, environ une "
                        "minute) au premier entraînement ou à la première question."
                    ).format(file=Path(model.source).name)
                )
    except LocalModelError as exc:
        problems.append(str(exc))
    notes.append(
        _("modèles du catalogue : {names} (choix : variable {var}).").format(
            names=", ".join(CATALOG), var=LOCAL_MODEL_VAR
        )
    )
    return Doctor(not problems, packages, problems, dev, model, ready, notes, warnings, blocking)


def doctor_lines(*, check_device: bool = True) -> list[str]:
    """What `python -m helpers doctor` prints about local mode (French lines)."""
    return doctor(check_device=check_device).lines()


def is_tiny(model: LocalModel) -> bool:
    return model.id == "tiny"
