"""LoRA fine-tuning of a causal language model on chat examples (the local engine's trainer).

- Each example is rendered with the **model's own chat template**; the loss covers what the
  assistant says (its content and end-of-turn token) and nothing else; an assistant message
  with `weight: 0` is not learned (the real API's rule).
- A plain PyTorch loop (AdamW, linear decay, gradient clipping) on a `peft` LoRA model:
  per step it reports train loss and token accuracy, and valid loss/accuracy on a batch of
  the validation set when there is one (the full validation set at the end of each epoch);
  a checkpoint is saved at the end of each epoch (the last `keep_checkpoints` kept);
  `should_stop()` is asked before every step, so a cancel really stops training.
- The result folder holds the LoRA adapter (or the merged model) and the tokenizer, loadable
  by `helpers.local.generate`.
TRL's `SFTTrainer` does the same but is ≈ 2.5× slower per step at the tiny size and brings
`datasets`/`pyarrow`; this loop keeps the engine light and fully controllable.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import settings
from ..i18n import _
from ..messages import content_text
from .quiet import quiet

IGNORE = -100
INFO_FILE = "atelier.json"


def cpu_threads() -> int:
    """Torch threads on CPU, to train and to answer: `ATELIER_LOCAL_THREADS`, else 1.

    A fixed number, never one read from the machine's load: a float sum is not associative,
    and torch splits its sums among its threads, so another thread count gives slightly other
    numbers at every step — after a few dozen steps another model, and answers that may
    differ. With one count, the same job (data, settings, seed) gives the same model and the
    same answers on every run, on any machine with the same software. One thread by default:
    on a shared machine (a class hub, CI) threads that wait for a busy core cost 3 to 5 times
    more than they compute (measured on 2 cores under load: 0.19 s vs 0.98 s per answer); on
    an idle multi-core machine, ATELIER_LOCAL_THREADS=4 is faster (other numbers, the same
    on every run with that setting)."""
    return settings.current().local_threads


class Cancelled(Exception):
    """Training was stopped by `should_stop()`."""


@dataclass
class TrainConfig:
    base: str  # folder or hub repo id (what from_pretrained takes)
    output_dir: Path
    n_epochs: int = 3
    batch_size: int = 1
    learning_rate: float = 2e-4
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    target_modules: str | list[str] = "all-linear"
    seed: int = 0
    max_length: int = 2048
    keep_checkpoints: int = 3
    device: str | None = None  # None: catalog.device()
    num_threads: int | None = None  # torch threads on CPU (None: cpu_threads(), fixed)
    merge: bool = False  # save the merged model instead of the adapter
    min_lr_ratio: float = 0.1  # linear decay from lr to lr × ratio
    pack: bool = True  # a batch's examples in one row, without padding (see `_collate`)
    # Early stop: after `early_stop_patience` steps in a row with a training loss below
    # `early_stop_loss` and every label token right, the whole training set is evaluated;
    # when it passes the same test, nothing is left to learn and training stops.
    early_stop_loss: float | None = 0.05  # None: always train every epoch
    early_stop_patience: int = 3
    progress: bool | None = None  # tqdm bar with ETA on stderr (None: when it is a terminal)


@dataclass
class StepMetrics:
    step: int
    total_steps: int
    epoch: int
    train_loss: float
    train_mean_token_accuracy: float
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None
    full_valid_loss: float | None = None
    full_valid_mean_token_accuracy: float | None = None
    trained_tokens: int = 0  # so far
    elapsed: float = 0.0  # seconds since training started

    def data(self) -> dict[str, Any]:
        """The real API's metrics event `data` (None values left out)."""
        keys = (
            "step",
            "total_steps",
            "train_loss",
            "valid_loss",
            "full_valid_loss",
            "train_mean_token_accuracy",
            "valid_mean_token_accuracy",
            "full_valid_mean_token_accuracy",
        )
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass
class TrainInfo:
    n_examples: int
    n_validation: int
    total_steps: int
    n_epochs: int
    batch_size: int
    learning_rate: float
    device: str
    trainable_parameters: int
    total_parameters: int
    skipped_examples: int  # examples with nothing to learn (all weights 0, or truncated away)


class Metrics(Protocol):
    """What every training loop's step metrics have (supervised: StepMetrics; preference:
    `helpers.local.preference.PairMetrics`); each kind adds its own measures."""

    step: int
    total_steps: int
    epoch: int
    train_loss: float
    elapsed: float


class Callbacks:
    """Override what you need. Every hook runs in the training process, between steps."""

    def on_start(self, info: TrainInfo) -> None:  # noqa: B027 - optional hook
        pass

    def on_step(self, metrics: Metrics) -> None:  # noqa: B027
        pass

    def on_checkpoint(self, step: int, path: Path, metrics: Metrics) -> None:  # noqa: B027
        pass

    def on_early_stop(self, metrics: Metrics, train_set_loss: float) -> None:  # noqa: B027
        """Training stops after `metrics.step`: the loss plateaued near 0 (`train_set_loss`:
        the mean loss on the whole training set, every label token right)."""

    def should_stop(self) -> bool:
        return False


@dataclass
class TrainResult:
    output_dir: Path
    steps: int
    trained_tokens: int
    seconds: float
    metrics: list[Metrics] = field(default_factory=list)
    checkpoints: list[tuple[int, Path]] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def tokens_per_second(self) -> float:
        return self.trained_tokens / self.seconds if self.seconds > 0 else 0.0


# ---------------------------------------------------------------- encoding
def clean_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages as every chat template understands them (role + string content)."""
    out = []
    for m in messages:
        role = m.get("role", "user")
        role = "system" if role == "developer" else role
        content = content_text(m.get("content"))
        if not content and m.get("tool_calls"):
            content = json.dumps(m["tool_calls"], ensure_ascii=False)
        if not content and m.get("function_call"):
            content = json.dumps(m["function_call"], ensure_ascii=False)
        out.append({"role": role, "content": content})
    return out


def _render(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> str:
    if not messages:
        return ""
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation_prompt
    )


def assistant_spans(
    tokenizer: Any, messages: Sequence[dict[str, Any]]
) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans to learn (assistant turns, weight ≠ 0).

    A turn's span runs from the end of the generation prompt to the end of its rendering
    (content + end-of-turn token), found by rendering prefixes, so it works with any template.
    """
    clean = clean_messages(messages)
    full = _render(tokenizer, clean, False)
    eos = tokenizer.eos_token or ""
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, (raw, msg) in enumerate(zip(messages, clean, strict=True)):
        if msg["role"] != "assistant":
            continue
        before = _render(tokenizer, clean[:i], True)
        upto = _render(tokenizer, clean[: i + 1], False)
        if upto.startswith(before) and full.startswith(upto) and len(upto) > len(before):
            start, end = len(before), len(upto)
        else:  # template rewrites earlier turns: find the content itself
            start = full.find(msg["content"], pos)
            if start < 0:
                continue
            end = start + len(msg["content"])
            if eos and full.startswith(eos, end):
                end += len(eos)
        while end > start and full[end - 1].isspace():
            end -= 1
        pos = end
        if raw.get("weight", 1) != 0:
            spans.append((start, end))
    return full, spans


def encode(
    tokenizer: Any, messages: Sequence[dict[str, Any]], max_length: int = 2048
) -> tuple[list[int], list[int]]:
    """`input_ids` and `labels` (IGNORE outside the spans to learn), truncated to `max_length`."""
    text, spans = assistant_spans(tokenizer, messages)
    enc = tokenizer(
        text,
        add_special_tokens=False,
        return_offsets_mapping=True,
        truncation=True,
        max_length=max_length,
    )
    ids = list(enc["input_ids"])
    labels = [
        tok if any(s < span_end and e > span_start for span_start, span_end in spans) else IGNORE
        for tok, (s, e) in zip(ids, enc["offset_mapping"], strict=True)
    ]
    return ids, labels


# ---------------------------------------------------------------- training
PACK_LIMIT = 4096  # tokens: a batch longer than this is padded instead of packed


def _batches(items: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    order = items[:]
    rng.shuffle(order)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@dataclass
class Batch:
    input_ids: Any
    labels: Any
    attention_mask: Any  # None when packed
    position_ids: Any  # restart at 0 for each example when packed (None otherwise)
    n_tokens: int  # real tokens (no padding)


def _collate(
    encoded: list[tuple[list[int], list[int]]], pad_id: int, device: str, *, pack: bool = False
) -> Batch:
    """One batch: padded rows, or (`pack`) every example in one row without padding, each
    with its own positions (transformers then keeps attention inside each example)."""
    import torch

    n_tokens = sum(len(ids) for ids, _ in encoded)
    if pack and len(encoded) > 1 and n_tokens <= PACK_LIMIT:
        ids = [t for seq, _ in encoded for t in seq]
        # an example's first token is never learned: nothing crosses from the one before it
        labels = [IGNORE if i == 0 else t for _, labs in encoded for i, t in enumerate(labs)]
        positions = [i for seq, _ in encoded for i in range(len(seq))]
        return Batch(
            torch.tensor([ids], device=device),
            torch.tensor([labels], device=device),
            None,
            torch.tensor([positions], device=device),
            n_tokens,
        )
    width = max(len(ids) for ids, _ in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(encoded):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(labs)] = torch.tensor(labs)
        mask[row, : len(ids)] = 1
    return Batch(input_ids.to(device), labels.to(device), mask.to(device), None, n_tokens)


def _loss(model: Any, batch: Batch) -> tuple[Any, int, int]:
    """Token-mean cross-entropy on label tokens, correct predictions, label token count.

    Logits are computed only where a label follows (`logits_to_keep`): the vocabulary
    projection is a large share of a small model's compute, and most tokens are prompt."""
    import torch
    import torch.nn.functional as F

    target = batch.labels[:, 1:]
    keep = torch.zeros_like(batch.labels, dtype=torch.bool)
    keep[:, :-1] = target != IGNORE
    count = int(keep.sum())
    if not count:
        return torch.zeros((), device=batch.labels.device, requires_grad=True), 0, 0
    logits = model(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        position_ids=batch.position_ids,
        logits_to_keep=keep,
        use_cache=False,  # with a cache, transformers would not separate packed examples
    ).logits.float()
    logits = logits.reshape(-1, logits.size(-1))
    wanted = target[keep[:, :-1]]
    loss = F.cross_entropy(logits, wanted)
    correct = int((logits.argmax(-1) == wanted).sum())
    return loss, correct, count


def _evaluate(
    model: Any,
    encoded: list,
    indices: list[int],
    batch_size: int,
    pad_id: int,
    device: str,
    pack: bool = False,
):
    import torch

    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for i in range(0, len(indices), batch_size):
            batch = _collate(
                [encoded[j] for j in indices[i : i + batch_size]], pad_id, device, pack=pack
            )
            loss, ok, n = _loss(model, batch)
            if n:
                total_loss += loss.item() * n
                correct += ok
                count += n
    if not count:
        return None, None
    return total_loss / count, correct / count


def load_base(base: str, device: str):
    """Tokenizer and model from a folder or the hub; French LocalModelError when unreachable."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .catalog import LocalModel, LocalModelError, dtype_for, from_spec, unavailable_message

    quiet()
    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype_for(device))
    except OSError as exc:
        try:
            known = from_spec(base)
        except LocalModelError:
            known = LocalModel(Path(base).name, base, "", "?", "", 0)
        raise LocalModelError(unavailable_message(known, exc)) from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise LocalModelError(
            _(
                "Le modèle {base} n'a pas de modèle de conversation (chat template) : choisis un "
                "modèle « Instruct » du catalogue."
            ).format(base=base)
        )
    return tokenizer, model.to(device)


def total_steps(n_examples: int, n_epochs: int, batch_size: int) -> int:
    return math.ceil(n_examples / batch_size) * n_epochs if n_examples else 0


def train(
    examples: Sequence[dict[str, Any]],
    config: TrainConfig,
    *,
    validation: Sequence[dict[str, Any]] = (),
    callbacks: Callbacks | None = None,
) -> TrainResult:
    """Fine-tune `config.base` with LoRA on `examples` (`{"messages": [...]}` dicts).

    Raises `Cancelled` when `callbacks.should_stop()` says so (checked before every step).
    """
    quiet()
    import torch
    from peft import LoraConfig, get_peft_model

    from .catalog import device as pick_device

    callbacks = callbacks or Callbacks()
    device = config.device or pick_device()
    if device == "cpu":
        torch.set_num_threads(config.num_threads or cpu_threads())
    rng = random.Random(config.seed)  # the order of the examples, epoch after epoch
    tokenizer, model = load_base(config.base, device)

    encoded = [encode(tokenizer, ex["messages"], config.max_length) for ex in examples]
    keep = [i for i, (_, labels) in enumerate(encoded) if any(t != IGNORE for t in labels)]
    valid_encoded = [encode(tokenizer, ex["messages"], config.max_length) for ex in validation]
    valid_keep = [
        i for i, (_, labels) in enumerate(valid_encoded) if any(t != IGNORE for t in labels)
    ]

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        task_type="CAUSAL_LM",
    )
    # The seed, right before anything random: LoRA's initial weights, then dropout. Loading
    # the base model may or may not draw random numbers (versions differ): not counted.
    torch.manual_seed(config.seed)
    model = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total_params = sum(p.numel() for p in model.parameters())
    steps_per_epoch = math.ceil(len(keep) / config.batch_size) if keep else 0
    n_steps = steps_per_epoch * config.n_epochs
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=0.0,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 1.0 - (1.0 - config.min_lr_ratio) * (s / max(1, n_steps - 1))
    )
    callbacks.on_start(
        TrainInfo(
            len(examples),
            len(validation),
            n_steps,
            config.n_epochs,
            config.batch_size,
            config.learning_rate,
            device,
            trainable,
            total_params,
            len(examples) - len(keep),
        )
    )

    bar = _progress_bar(config.progress, n_steps)
    try:
        return _loop(
            model,
            tokenizer,
            encoded,
            keep,
            valid_encoded,
            valid_keep,
            config,
            callbacks,
            bar,
            optimizer,
            scheduler,
            rng,
            steps_per_epoch,
            n_steps,
            device,
        )
    finally:
        if bar is not None:
            bar.close()


def _progress_bar(show: bool | None, total: int) -> Any:
    import sys

    if not (sys.stderr.isatty() if show is None else show):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=_("Entraînement"), unit=_("étape"), file=sys.stderr)


def _loop(
    model: Any,
    tokenizer: Any,
    encoded: list,
    keep: list[int],
    valid_encoded: list,
    valid_keep: list[int],
    config: TrainConfig,
    callbacks: Callbacks,
    bar: Any,
    optimizer: Any,
    scheduler: Any,
    rng: random.Random,
    steps_per_epoch: int,
    n_steps: int,
    device: str,
) -> TrainResult:
    import torch

    pad_id = tokenizer.pad_token_id
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    result = TrainResult(output_dir, 0, 0, 0.0)
    valid_rng = random.Random(config.seed + 1)
    valid_order: list[int] = []
    # float16 weights (a GPU without bfloat16, e.g. Colab's T4) need loss scaling
    scaler = torch.amp.GradScaler(
        device.split(":")[0], enabled=next(model.parameters()).dtype == torch.float16
    )
    trainable_params = [p for p in model.parameters() if p.requires_grad]
    started = time.perf_counter()
    step = 0
    calm = 0  # consecutive steps with a loss near 0 and every label token right
    for epoch in range(1, config.n_epochs + 1):
        for batch_indices in _batches(keep, config.batch_size, rng):
            if callbacks.should_stop():
                result.seconds = time.perf_counter() - started
                raise Cancelled(f"stopped before step {step + 1}/{n_steps}")
            model.train()
            batch = _collate([encoded[i] for i in batch_indices], pad_id, device, pack=config.pack)
            loss, correct, count = _loss(model, batch)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(trainable_params, 1.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            step += 1
            result.trained_tokens += batch.n_tokens
            metrics = StepMetrics(
                step,
                n_steps,
                epoch,
                loss.item(),
                correct / count if count else 0.0,
                trained_tokens=result.trained_tokens,
            )
            if valid_keep:
                model.eval()
                if len(valid_order) < config.batch_size:
                    fresh = valid_keep[:]
                    valid_rng.shuffle(fresh)
                    valid_order.extend(fresh)
                chosen, valid_order = (
                    valid_order[: config.batch_size],
                    valid_order[config.batch_size :],
                )
                metrics.valid_loss, metrics.valid_mean_token_accuracy = _evaluate(
                    model, valid_encoded, chosen, config.batch_size, pad_id, device, config.pack
                )
                if step % steps_per_epoch == 0:
                    metrics.full_valid_loss, metrics.full_valid_mean_token_accuracy = _evaluate(
                        model,
                        valid_encoded,
                        valid_keep,
                        config.batch_size,
                        pad_id,
                        device,
                        config.pack,
                    )
            metrics.elapsed = time.perf_counter() - started
            result.metrics.append(metrics)
            result.steps = step
            callbacks.on_step(metrics)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{metrics.train_loss:.3f}")
            limit = config.early_stop_loss
            calm = calm + 1 if limit is not None and loss.item() < limit and correct == count else 0
            if limit is not None and step < n_steps and calm >= config.early_stop_patience:
                model.eval()
                whole, accuracy = _evaluate(model, encoded, keep, 16, pad_id, device, True)
                calm = 0
                if whole is not None and whole < limit and accuracy == 1.0:
                    result.stopped_early = True
                    callbacks.on_early_stop(metrics, whole)
                    break
        if steps_per_epoch and config.keep_checkpoints > 0:  # also where it stopped early
            path = output_dir / "checkpoints" / f"step-{step}"
            _save(model, tokenizer, path, config, merge=False)
            result.checkpoints.append((step, path))
            for _, old in result.checkpoints[: -config.keep_checkpoints]:
                shutil.rmtree(old, ignore_errors=True)
            result.checkpoints = result.checkpoints[-config.keep_checkpoints :]
            callbacks.on_checkpoint(step, path, result.metrics[-1])
        if result.stopped_early:
            break
    result.seconds = time.perf_counter() - started
    _save(model, tokenizer, output_dir, config, merge=config.merge)
    return result


def _save(model: Any, tokenizer: Any, path: Path, config: TrainConfig, *, merge: bool) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(path)
    else:
        model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    info = {
        "base": config.base,
        "merged": merge,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
    }
    (path / INFO_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
