"""Chat completion with a local model: a base model (catalog id, hub repo, folder) or a
fine-tuned result folder (LoRA adapter merged in memory, or a merged model).

Loaded models are cached (the last few) in the process that answers (the kit's server), so a
notebook's comparison table does not reload them for every prompt. Temperature 0 means greedy
decoding: the same answer every time. Without `max_tokens`, an answer stops after
`DEFAULT_MAX_TOKENS` tokens: a small model on a CPU writes 20–40 tokens a second, and an
untrained base model rambles on.

**Greedy requests that arrive together are generated together** (an evaluation sends its
questions concurrently): the requests for one model that wait while a batch runs, or arrive
within `BATCH_GAP` seconds of each other, form the next batch (at most `MAX_BATCH` requests and
`BATCH_TOKENS` tokens), padded on the left, each one stopped at its own end-of-turn token or
`max_tokens`; their common beginning (a system prompt, few-shot examples) is computed once.
One forward pass then serves the whole batch: on a CPU, a small model's step costs about the
same for one sequence or twenty (reading the weights dominates). Each answer is the one that
generating it alone gives (tests compare them; only a near-exact tie between two tokens, in
float32, could tell them apart). Sampled requests (temperature > 0) are generated one by one,
with their own seed.

CPU threads are a fixed number (`train.cpu_threads()`), never one chosen from the machine's
load: another thread count sums floats in another order, which may change an answer.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .quiet import quiet
from .train import INFO_FILE, clean_messages, cpu_threads, load_base

CACHE_SIZE = 3
DEFAULT_MAX_TOKENS = 128
#: Greedy requests for one model generated as one batch, at most, and their tokens (prompt +
#: `max_tokens`) at most: the key/value cache holds that many (SmolLM2-135M: 46 KB a token,
#: so ≈ 150 MB at worst). 20: the kit server answers from a pool of 40 threads, where a
#: request waits for its batch; one batch runs while the next one fills.
MAX_BATCH = 20
BATCH_TOKENS = 3200
#: Seconds a batch waits for one more request, once the first one is there (and at most
#: `BATCH_WAIT` in all).
BATCH_GAP = 0.015
BATCH_WAIT = 0.25
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
    quiet()  # before torch is imported: threads that wait sleep instead of spinning
    from .catalog import device as pick_device

    dev = device or pick_device()
    _threads(dev)
    key = _key(source, dev)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
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


def _key(source: str | Path, device: str) -> str:
    return f"{Path(source).resolve() if Path(source).exists() else source}@{device}"


_threads_set = False


def _threads(device: str) -> None:
    """On CPU, `train.cpu_threads()` torch threads: a fixed number (never one read from the
    load), so that the same question gets the same answer however busy the machine is."""
    global _threads_set
    if _threads_set or device != "cpu":
        return
    import torch

    torch.set_num_threads(cpu_threads())
    _threads_set = True


def prewarm(source: str | Path | None = None) -> threading.Thread:
    """Import torch/transformers and load `source` (default: the default local base model)
    in a background thread, so that the first chat answer does not wait for them (≈ 10 s on
    a 2-core CPU). For the server to call when it starts with the local engine."""

    def run() -> None:
        try:
            quiet()
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
    """Answer the conversation `messages` with the model at `source` (greedy requests that
    arrive together are generated as one batch: see the module's docstring)."""
    tokenizer, model = load(source, device)
    prompt = tokenizer.apply_chat_template(
        clean_messages(messages), tokenize=False, add_generation_prompt=True
    )
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    limit = max_tokens or DEFAULT_MAX_TOKENS
    if temperature is None or temperature > 0:
        return _sample(tokenizer, model, ids, limit, temperature, top_p, seed)
    return _batcher.submit(_key(source, str(model.device)), tokenizer, model, ids, limit)


def _eos_ids(tokenizer: Any, model: Any) -> list[int]:
    eos = model.generation_config.eos_token_id
    eos = eos if eos is not None else tokenizer.eos_token_id
    return list(eos) if isinstance(eos, (list, tuple)) else [eos]


def _completion(tokenizer: Any, prompt_len: int, new: list[int], eos: list[int], limit: int):
    """The answer in `new` (generated tokens, padding after the end of turn ignored)."""
    cut = next((i + 1 for i, token in enumerate(new[:limit]) if token in eos), None)
    new = new[:cut] if cut is not None else new[:limit]
    text = tokenizer.decode(new, skip_special_tokens=True).strip()
    return Completion(text, prompt_len, len(new), "stop" if cut is not None else "length")


def _sample(
    tokenizer: Any,
    model: Any,
    ids: list[int],
    limit: int,
    temperature: float | None,
    top_p: float | None,
    seed: int | None,
) -> Completion:
    import torch

    eos = _eos_ids(tokenizer, model)
    with _lock, torch.no_grad():
        if seed is not None:
            torch.manual_seed(seed)
        output = model.generate(
            input_ids=torch.tensor([ids], device=model.device),
            attention_mask=torch.ones((1, len(ids)), dtype=torch.long, device=model.device),
            max_new_tokens=limit,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=eos,
            do_sample=True,
            temperature=temperature or 1.0,
            top_p=top_p or 1.0,
            top_k=0,
        )
    return _completion(tokenizer, len(ids), output[0, len(ids) :].tolist(), eos, limit)


def generate_greedy(
    tokenizer: Any, model: Any, prompts: list[list[int]], limits: list[int]
) -> list[Completion]:
    """Greedy answers to several prompts (token ids) in one batch: padded on the left, each
    stopped at its own end of turn or limit. What `complete` runs for concurrent requests.

    The prompts' common beginning (an evaluation's system prompt, its few-shot examples) is
    computed once and shared (`SHARED_PREFIX` tokens at least): the padding then sits between
    it and each prompt's own end, where the attention mask skips it."""
    import torch

    eos = _eos_ids(tokenizer, model)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos[0]
    shared = _common_prefix(prompts) if len(prompts) > 1 else 0
    if shared < SHARED_PREFIX:
        shared = 0
    head, tails = prompts[0][:shared], [p[shared:] for p in prompts]
    width = max(len(t) for t in tails)
    input_ids = torch.tensor(
        [head + [pad] * (width - len(t)) + t for t in tails], device=model.device
    )
    mask = torch.tensor(
        [[1] * shared + [0] * (width - len(t)) + [1] * len(t) for t in tails], device=model.device
    )
    options: dict[str, Any] = {}
    with _lock, torch.no_grad():
        if shared:
            out = model(input_ids=input_ids[:1, :shared], use_cache=True)
            cache = _cache_of(out)
            cache.batch_repeat_interleave(len(prompts))
            options[_cache_kwarg()] = cache
        output = model.generate(
            input_ids=input_ids,
            attention_mask=mask,
            max_new_tokens=max(limits),
            pad_token_id=pad,
            eos_token_id=eos,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            **options,
        )
    rows = output[:, shared + width :].tolist()
    return [
        _completion(tokenizer, len(p), row, eos, limit)
        for p, row, limit in zip(prompts, rows, limits, strict=True)
    ]


#: The common beginning of a batch's prompts is computed once when it is this long at least.
SHARED_PREFIX = 8


def _common_prefix(prompts: list[list[int]]) -> int:
    """Tokens every prompt starts with (each keeps one of its own at least)."""
    n = min(len(p) for p in prompts) - 1
    first = prompts[0]
    for i in range(max(n, 0)):
        if any(p[i] != first[i] for p in prompts):
            return i
    return max(n, 0)


def _cache_of(output: Any) -> Any:
    """A forward pass's key/value cache (`cache` since transformers 5.2x, `past_key_values`
    before)."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


@functools.cache
def _cache_kwarg() -> str:
    """`generate`'s name for a prefilled cache: `cache` in the transformers versions whose
    outputs name it so (5.2x), `past_key_values` before (Colab's 5.15 among them)."""
    from transformers.modeling_outputs import CausalLMOutputWithPast

    return "cache" if "cache" in CausalLMOutputWithPast.__dataclass_fields__ else "past_key_values"


@dataclass
class _Request:
    key: str
    tokenizer: Any
    model: Any
    ids: list[int]
    limit: int
    done: threading.Event = field(default_factory=threading.Event)
    result: Completion | None = None
    error: BaseException | None = None


class _Batcher:
    """Collects greedy requests and generates them in batches, in one thread of its own."""

    def __init__(self) -> None:
        self._pending: list[_Request] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self.batches: list[int] = []  # sizes of the last batches run (tests, benches)

    def submit(self, key: str, tokenizer: Any, model: Any, ids: list[int], limit: int):
        request = _Request(key, tokenizer, model, ids, limit)
        with self._ready:
            self._pending.append(request)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="atelier-local-batches", daemon=True
                )
                self._thread.start()
            self._ready.notify_all()
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _next_batch(self) -> list[_Request]:
        """Wait for requests; once one is there, wait `BATCH_GAP` for each next one (at most
        `MAX_BATCH` for the same model); take them."""
        with self._ready:
            while not self._pending:
                self._ready.wait()
            until = time.monotonic() + BATCH_WAIT
            while time.monotonic() < until:
                if self._full():
                    break
                seen = len(self._pending)
                self._ready.wait(BATCH_GAP)
                if len(self._pending) == seen:  # nobody came in time
                    break
            batch = self._take()
            self._pending = [r for r in self._pending if r not in batch]
            return batch

    def _take(self) -> list[_Request]:
        """The oldest requests for the first request's model, within the batch's bounds."""
        batch: list[_Request] = []
        tokens = 0
        for request in self._pending:
            if request.key != self._pending[0].key:
                continue
            tokens += len(request.ids) + request.limit
            if batch and (len(batch) >= MAX_BATCH or tokens > BATCH_TOKENS):
                break
            batch.append(request)
        return batch

    def _full(self) -> bool:
        """The next batch cannot grow any more (its bounds are reached)."""
        taken = len(self._take())
        waiting = sum(r.key == self._pending[0].key for r in self._pending)
        return taken >= MAX_BATCH or taken < waiting

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            first = batch[0]
            try:
                results = generate_greedy(
                    first.tokenizer, first.model, [r.ids for r in batch], [r.limit for r in batch]
                )
            except BaseException as exc:  # every waiting request hears it
                for request in batch:
                    request.error = exc
                    request.done.set()
                continue
            self.batches = (self.batches + [len(batch)])[-100:]
            for request, result in zip(batch, results, strict=True):
                request.result = result
                request.done.set()


_batcher = _Batcher()
