"""A fine-tuned folder as one model: its LoRA adapter merged into its base — and the base's own
adapter first when the base is itself a fine-tune (a DPO job that continued a supervised one).

`base_of(folder)`: what an adapter folder goes on (its `atelier.json`'s `base`, else peft's
`base_model_name_or_path`), None for a full model. `load_merged(source, device)`: tokenizer
and model with every adapter of the chain merged, in order. Generation (`generate.load`), the
export (`export`) and the DPO trainer's starting point use it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .train import INFO_FILE, load_base

MAX_CHAIN = 8  # adapters on adapters, at most (a loop in hand-edited files stops here)


def base_of(folder: str | Path) -> str | None:
    """The base of a LoRA adapter folder (None when `folder` is not an adapter folder)."""
    folder = Path(folder)
    if not (folder / "adapter_config.json").is_file():
        return None
    info = folder / INFO_FILE
    if info.exists():
        return json.loads(info.read_text(encoding="utf-8"))["base"]
    config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    return config["base_model_name_or_path"]


def chain(source: str | Path) -> tuple[str, list[Path]]:
    """(the full base model, the adapter folders to merge on it, first to last)."""
    adapters: list[Path] = []
    current = str(source)
    while (base := base_of(current)) is not None and len(adapters) < MAX_CHAIN:
        adapters.insert(0, Path(current))
        current = base
    return current, adapters


def load_merged(source: str | Path, device: str) -> tuple[Any, Any]:
    """Tokenizer (the last adapter's, else the base's) and the model with every adapter of
    `source`'s chain merged in."""
    base, adapters = chain(source)
    tokenizer, model = load_base(base, device)
    if not adapters:
        return tokenizer, model
    from peft import PeftModel
    from transformers import AutoTokenizer

    for folder in adapters:
        model = PeftModel.from_pretrained(model, folder).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(adapters[-1])
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model.to(device)
