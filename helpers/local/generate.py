"""Chat completion with a local model: a base model (catalog id, hub repo, folder) or a
fine-tuned result folder (LoRA adapter merged in memory, or a merged model).

Loaded models are cached (the last few) in the process that answers (the kit's server), so a
notebook's comparison table does not reload them for every prompt. Temperature 0 means greedy
decoding: the same answer every time. Without `max_tokens`, an answer stops after
`DEFAULT_MAX_TOKENS` tokens: a small model on a CPU writes 20–40 tokens a second, and an
untrained base model rambles on.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .quiet import quiet
from .train import INFO_FILE, clean_messages, load_base

CACHE_SIZE = 3
DEFAULT_MAX_TOKENS = 128
_cache: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_lock = threading.RLock()


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" or "length"


def adapter_base(folder: Path) -> str | None:
    """The base model of a LoRA adapter folder (None when `folder` is a full model)."""
    if not (folder / "adapter_config.json").exists():
        return None
    info = folder / INFO_FILE
    if info.exists():
        return json.loads(info.read_text(encoding="utf-8"))["base"]
    return json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))[
        "base_model_name_or_path"
    ]


def load(source: str | Path, device: str | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) for a base model or a fine-tuned folder, cached, in eval mode."""
    from .catalog import device as pick_device

    dev = device or pick_device()
    _threads(dev)
    key = f"{Path(source).resolve() if Path(source).exists() else source}@{dev}"
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        quiet()
        folder = Path(source)
        base = adapter_base(folder) if folder.is_dir() else None
        if base is not None:
            from peft import PeftModel

            from .adapters import load_merged

            _, model = load_merged(base, dev)  # (a base that is itself a fine-tune: merged too)
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(folder)
            if tokenizer.pad_token_id is None:
                tokenizer.pad_token = tokenizer.eos_token
            model = PeftModel.from_pretrained(model, folder).merge_and_unload()
        else:
            tokenizer, model = load_base(str(source), dev)
        model.eval()
        _cache[key] = (tokenizer, model)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return tokenizer, model


_threads_set = False


def _threads(device: str) -> None:
    """On CPU, as many torch threads as there are idle cores (see `train.cpu_threads`)."""
    global _threads_set
    if _threads_set or device != "cpu":
        return
    import torch

    from .train import cpu_threads

    torch.set_num_threads(cpu_threads())
    _threads_set = True


def prewarm(source: str | Path | None = None) -> threading.Thread:
    """Import torch/transformers and load `source` (default: the default local base model)
    in a background thread, so that the first chat answer does not wait for them (≈ 10 s on
    a 2-core CPU). For the server to call when it starts with the local engine."""

    def run() -> None:
        try:
            from . import catalog

            target = source
            if target is None:
                model = catalog.default_model()
                if not catalog.is_cached(model):  # never a download nobody asked for yet
                    import transformers  # noqa: F401

                    return
                target = catalog.model_path(model)
            load(target)
        except Exception:  # a model that cannot load says so at the first real request
            pass

    thread = threading.Thread(target=run, name="atelier-local-prewarm", daemon=True)
    thread.start()
    return thread


def forget(source: str | Path | None = None) -> None:
    """Drop cached models (all of them, or those loaded from `source`)."""
    with _lock:
        for key in list(_cache):
            if source is None or key.startswith(
                f"{Path(source).resolve() if Path(source).exists() else source}@"
            ):
                del _cache[key]


def complete(
    source: str | Path,
    messages: list[dict[str, Any]],
    *,
    temperature: float | None = 0.0,
    max_tokens: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    device: str | None = None,
) -> Completion:
    """Answer the conversation `messages` with the model at `source`."""
    import torch

    tokenizer, model = load(source, device)
    prompt = tokenizer.apply_chat_template(
        clean_messages(messages), tokenize=False, add_generation_prompt=True
    )
    inputs = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").to(model.device)
    limit = max_tokens or DEFAULT_MAX_TOKENS
    options: dict[str, Any] = {"max_new_tokens": limit, "pad_token_id": tokenizer.pad_token_id}
    eos = model.generation_config.eos_token_id
    options["eos_token_id"] = eos if eos is not None else tokenizer.eos_token_id
    if temperature is None or temperature > 0:
        options.update(do_sample=True, temperature=temperature or 1.0, top_p=top_p or 1.0, top_k=0)
        if seed is not None:
            torch.manual_seed(seed)
    else:
        options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    with _lock, torch.no_grad():
        output = model.generate(**inputs, **options)
    new = output[0, inputs["input_ids"].shape[1] :].tolist()
    eos_ids = set(
        options["eos_token_id"]
        if isinstance(options["eos_token_id"], list)
        else [options["eos_token_id"]]
    )
    finish = "length"
    if new and new[-1] in eos_ids:
        finish = "stop"
    text = tokenizer.decode(new, skip_special_tokens=True).strip()
    return Completion(text, int(inputs["input_ids"].shape[1]), len(new), finish)
