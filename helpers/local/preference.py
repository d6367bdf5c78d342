"""Preference fine-tuning (DPO) of a local model with LoRA: the local engine's DPO trainer.

The same LoRA path as supervised training (`helpers.local.train`), on pairs
(`helpers.preference_data`): for each pair, the input rendered with the model's own chat
template, then each answer (its content and end-of-turn token).

- **Policy**: the base model (or the supervised fine-tune the job continues, its adapter
  merged in: `parent`) plus a fresh LoRA adapter. **Reference**: the same model with the
  adapter disabled (peft's `disable_adapter()`), i.e. the frozen starting point: no second copy
  of the weights. Its log-probabilities never change: computed once, before the first step.
- **Loss** (Rafailov et al., 2023): −log σ(β·Δ), Δ = (log π(preferred) − log π_ref(preferred))
  − (log π(other) − log π_ref(other)), each log-probability the sum over the answer's tokens.
  Reported per step as the real API's metrics events carry them: `train_loss`, and the reward
  margin β·Δ and the share of pairs whose margin is positive (`train_reward_margin`,
  `train_reward_accuracy`); held-out pairs every `VALID_EVERY` steps and at the end of each
  epoch when there is a validation file.
- One forward and one backward pass per step over the batch's 2 × B answers (padded together;
  logits only where an answer's token is predicted). AdamW, linear decay, gradient clipping,
  a checkpoint (adapter) at the end of each epoch, `should_stop()` before every step.
- The result folder holds the adapter, the tokenizer and `atelier.json`, whose `base` is the
  starting point: a base model, or the supervised fine-tune's folder (an adapter on its own
  base: `adapters.load_merged` follows the chain).

TRL's `DPOTrainer` does the same; `bench/local_dpo_trainers.py` measures both on the same pairs
and steps (this loop was the faster: see README, « Mode local »).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .train import (
    IGNORE,
    INFO_FILE,
    Callbacks,
    Cancelled,
    TrainConfig,
    TrainInfo,
    TrainResult,
    encode,
)

DEFAULT_BETA = 0.1  # what `beta: "auto"` means here too (helpers.models.DPO_AUTO_BETA)
#: DPO's learning rate: the model's supervised LoRA rate (`catalog`) times this. SmolLM2-135M
#: (5e-4 there), 30 pairs, 2 epochs, batches of 4: the held-out margin reaches +5 and 10/10
#: held-out answers take the preferred style; at twice the rate the model learns to « cheat »
#: (empty answers, its system prompt recited). Measured December 2026 (bench/local_dpo.py).
LEARNING_RATE_RATIO = 1.0
VALID_EVERY = 10  # held-out pairs are scored every this many steps (the events' cadence)
#: bfloat16 matrix products on a CPU that has them in hardware (AMX or AVX-512 BF16): about
#: twice as fast as float32 here (bench/local_dpo_trainers.py); the weights stay float32 and
#: log-probabilities are summed in float32. "0" turns it off.


def cpu_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (Linux: its flags)."""
    from .. import settings

    if not settings.current().local_bf16:
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def autocast(device: str) -> Any:
    """The precision of the forward passes: bfloat16 autocast on a CPU that has it."""
    import contextlib

    import torch

    if device == "cpu" and cpu_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass
class PairMetrics:
    """One step's metrics (the names of the real API's metrics events where they exist)."""

    step: int
    total_steps: int
    epoch: int
    train_loss: float
    train_reward_margin: float
    train_reward_accuracy: float
    valid_loss: float | None = None
    valid_reward_margin: float | None = None
    valid_reward_accuracy: float | None = None
    full_valid_loss: float | None = None
    full_valid_reward_margin: float | None = None
    full_valid_reward_accuracy: float | None = None
    trained_tokens: int = 0
    elapsed: float = 0.0

    def data(self) -> dict[str, Any]:
        """A metrics event's `data` (None values left out)."""
        skip = ("epoch", "trained_tokens", "elapsed")
        return {k: v for k, v in asdict(self).items() if k not in skip and v is not None}


@dataclass
class Encoded:
    """A pair's two answers, each as (input_ids, labels) after the same input."""

    chosen: tuple[list[int], list[int]]
    rejected: tuple[list[int], list[int]]


def conversations(pair: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pair's two conversations: its input then each answer; only the answer is learned
    (an assistant message inside the input gets `weight: 0`)."""
    messages = [
        {**m, "weight": 0} if m.get("role") == "assistant" else dict(m)
        for m in pair["input"]["messages"]
    ]
    return (
        messages + list(pair["preferred_output"][:1]),
        messages + list(pair["non_preferred_output"][:1]),
    )


def encode_pair(tokenizer: Any, pair: dict[str, Any], max_length: int = 2048) -> Encoded:
    chosen, rejected = conversations(pair)
    return Encoded(encode(tokenizer, chosen, max_length), encode(tokenizer, rejected, max_length))


@dataclass
class Packed:
    """A batch of pairs, one row each: the shared input once, then both answers, the second
    one seeing the input but not the first (a 4-D attention mask, positions restarting after
    the input). Each answer token's log-probability is read where it is predicted."""

    ids: Any  # (B, L) token ids, padded
    positions: Any  # (B, L)
    mask: Any  # (B, 1, L, L) additive attention mask
    keep: Any  # (B, L) bool: positions whose logits are needed
    where: Any  # (N,) index into the kept logits of each answer token
    targets: Any  # (N,) the answer tokens
    owner: Any  # (N,) which answer: pair b's chosen is b, its rejected B + b
    n_tokens: int


def shared_prefix(e: Encoded) -> int:
    """How many first tokens the pair's two sequences share before either answer starts."""
    (c_ids, c_labels), (r_ids, r_labels) = e.chosen, e.rejected
    first = min(
        next((i for i, t in enumerate(c_labels) if t != IGNORE), len(c_ids)),
        next((i for i, t in enumerate(r_labels) if t != IGNORE), len(r_ids)),
    )
    p = 0
    while p < first and c_ids[p] == r_ids[p]:
        p += 1
    return max(1, p)


def pack(encoded: list[Encoded], pad_id: int, device: str) -> Packed:
    import torch

    rows, spans = [], []
    for e in encoded:
        p = shared_prefix(e)
        (c_ids, c_labels), (r_ids, r_labels) = e.chosen, e.rejected
        chosen, rejected = c_ids[p:], r_ids[p:]
        ids = c_ids[:p] + chosen + rejected
        positions = list(range(p + len(chosen))) + list(range(p, p + len(rejected)))
        rows.append((ids, positions))
        spans.append((p, c_labels[p:], r_labels[p:]))
    batch, width = len(rows), max(len(ids) for ids, _ in rows)
    ids = torch.full((batch, width), pad_id, dtype=torch.long)
    positions = torch.zeros((batch, width), dtype=torch.long)
    allowed = torch.zeros((batch, width, width), dtype=torch.bool)
    keep = torch.zeros((batch, width), dtype=torch.bool)
    entries: list[tuple[int, int, int, int]] = []  # (row, position, target, owner)
    for b, ((row_ids, row_pos), (p, c_labels, r_labels)) in enumerate(
        zip(rows, spans, strict=True)
    ):
        n, c = len(row_ids), len(c_labels)
        ids[b, :n] = torch.tensor(row_ids)
        positions[b, :n] = torch.tensor(row_pos)
        allowed[b, :n, :n] = torch.tril(torch.ones(n, n, dtype=torch.bool))
        allowed[b, p + c : n, p : p + c] = False  # the second answer does not see the first
        allowed[b, n:, 0] = True  # padding rows: anything but nothing (no NaN)
        for j, target in enumerate(c_labels):
            if target != IGNORE:
                entries.append((b, p + j - 1, target, b))
        for j, target in enumerate(r_labels):
            if target != IGNORE:
                entries.append((b, p - 1 if j == 0 else p + c + j - 1, target, batch + b))
    for b, at, _, _ in entries:
        keep[b, at] = True
    rank = keep.flatten().cumsum(0) - 1  # index of each kept position among the kept logits
    where = torch.tensor([int(rank[b * width + at]) for b, at, _, _ in entries], dtype=torch.long)
    mask = torch.where(allowed, 0.0, torch.finfo(torch.float32).min)[:, None]
    return Packed(
        ids.to(device),
        positions.to(device),
        mask.to(device),
        keep.to(device),
        where.to(device),
        torch.tensor([t for _, _, t, _ in entries], dtype=torch.long, device=device),
        torch.tensor([o for _, _, _, o in entries], dtype=torch.long, device=device),
        sum(len(r) for r, _ in rows),
    )


def pair_logps(model: Any, encoded: list[Encoded], pad_id: int, device: str):
    """(chosen, rejected) log-probabilities of some pairs in one forward pass, and the tokens
    it read. Logits are computed only where an answer token is predicted (the vocabulary
    projection dominates a small model's cost)."""
    import torch

    batch = pack(encoded, pad_id, device)
    with autocast(device):
        logits = model(
            input_ids=batch.ids,
            attention_mask=batch.mask,
            position_ids=batch.positions,
            logits_to_keep=batch.keep,
            use_cache=False,
        ).logits
    logp = torch.log_softmax(logits.float().reshape(-1, logits.size(-1)), dim=-1)
    token_logp = logp[batch.where, batch.targets]
    sums = torch.zeros(2 * len(encoded), dtype=token_logp.dtype, device=token_logp.device)
    sums = sums.index_add(0, batch.owner, token_logp)
    return sums[: len(encoded)], sums[len(encoded) :], batch.n_tokens


def dpo_loss(
    chosen: Any, rejected: Any, ref_chosen: Any, ref_rejected: Any, beta: float
) -> tuple[Any, float, float]:
    """(mean loss, mean reward margin, share of pairs won) — the DPO paper's sigmoid loss."""
    import torch.nn.functional as F

    margins = beta * ((chosen - ref_chosen) - (rejected - ref_rejected))
    loss = -F.logsigmoid(margins).mean()
    shown = margins.detach()
    return loss, float(shown.mean()), float((shown > 0).float().mean())


def load_start(base: str, device: str, parent: str | None = None) -> tuple[Any, Any]:
    """Tokenizer and model a DPO job starts from: `base`, or the fine-tune folder `parent`
    (its adapter merged into its base: the policy's starting point and the reference)."""
    from .train import load_base

    if not parent:
        return load_base(base, device)
    from .adapters import load_merged

    return load_merged(parent, device)


def train_preferences(
    pairs: Sequence[dict[str, Any]],
    config: TrainConfig,
    *,
    validation: Sequence[dict[str, Any]] = (),
    callbacks: Callbacks | None = None,
    beta: float = DEFAULT_BETA,
    parent: str | None = None,
) -> TrainResult:
    """DPO-train a LoRA adapter on `pairs` (preference lines). `config` is the supervised
    trainer's (its learning rate times `LEARNING_RATE_RATIO`); `parent`: the folder of a
    fine-tune to continue. Raises `Cancelled` when `callbacks.should_stop()` says so."""
    import torch
    from peft import LoraConfig, get_peft_model

    from .catalog import device as pick_device
    from .quiet import quiet

    quiet()
    callbacks = callbacks or Callbacks()
    device = config.device or pick_device()
    if device == "cpu":
        torch.set_num_threads(config.num_threads or 1)
    rng = random.Random(config.seed)  # the order of the pairs, epoch after epoch
    tokenizer, model = load_start(config.base, device, parent)
    encoded = [encode_pair(tokenizer, p, config.max_length) for p in pairs]
    keep = [i for i, e in enumerate(encoded) if _learnable(e)]
    valid = [encode_pair(tokenizer, p, config.max_length) for p in validation]
    valid = [e for e in valid if _learnable(e)]

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(config.seed)  # right before LoRA's initial weights
    model = get_peft_model(model, lora)
    pad_id = tokenizer.pad_token_id
    model.eval()
    started = time.perf_counter()
    with torch.no_grad(), model.disable_adapter():  # the reference: the frozen starting point
        ref = _reference(model, encoded, keep, config.batch_size, pad_id, device)
        valid_ref = _reference(model, valid, range(len(valid)), config.batch_size, pad_id, device)

    steps_per_epoch = math.ceil(len(keep) / config.batch_size) if keep else 0
    n_steps = steps_per_epoch * config.n_epochs
    trainable = [p for p in model.parameters() if p.requires_grad]
    learning_rate = config.learning_rate * LEARNING_RATE_RATIO
    optimizer = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 1.0 - (1.0 - config.min_lr_ratio) * (s / max(1, n_steps - 1))
    )
    callbacks.on_start(
        TrainInfo(
            len(pairs),
            len(validation),
            n_steps,
            config.n_epochs,
            config.batch_size,
            learning_rate,
            device,
            sum(p.numel() for p in trainable),
            sum(p.numel() for p in model.parameters()),
            len(pairs) - len(keep),
        )
    )
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    result = TrainResult(output_dir, 0, 0, 0.0)
    score = partial(_score, model, pad_id=pad_id, device=device, beta=beta)
    step = 0
    for epoch in range(1, config.n_epochs + 1):
        order = keep[:]
        rng.shuffle(order)
        for start in range(0, len(order), config.batch_size):
            if callbacks.should_stop():
                result.seconds = time.perf_counter() - started
                raise Cancelled(f"stopped before step {step + 1}/{n_steps}")
            rows = order[start : start + config.batch_size]
            model.train()
            chosen, rejected, n_tokens = pair_logps(
                model, [encoded[i] for i in rows], pad_id, device
            )
            loss, margin, won = dpo_loss(chosen, rejected, ref[0][rows], ref[1][rows], beta)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            result.trained_tokens += n_tokens
            metrics = PairMetrics(
                step, n_steps, epoch, loss.item(), margin, won, trained_tokens=result.trained_tokens
            )
            end_of_epoch = step % steps_per_epoch == 0
            if valid and (step % VALID_EVERY == 0 or end_of_epoch):
                model.eval()
                some = [
                    (step * config.batch_size + k) % len(valid) for k in range(config.batch_size)
                ]
                some = sorted(set(some))
                (
                    metrics.valid_loss,
                    metrics.valid_reward_margin,
                    metrics.valid_reward_accuracy,
                ) = score(valid, valid_ref, some, config.batch_size)
                if end_of_epoch:
                    (
                        metrics.full_valid_loss,
                        metrics.full_valid_reward_margin,
                        metrics.full_valid_reward_accuracy,
                    ) = score(valid, valid_ref, list(range(len(valid))), config.batch_size)
            metrics.elapsed = time.perf_counter() - started
            result.metrics.append(metrics)
            result.steps = step
            callbacks.on_step(metrics)
        if steps_per_epoch and config.keep_checkpoints > 0:
            path = output_dir / "checkpoints" / f"step-{step}"
            save(model, tokenizer, path, config, parent=parent, beta=beta)
            result.checkpoints.append((step, path))
            for _, old in result.checkpoints[: -config.keep_checkpoints]:
                shutil.rmtree(old, ignore_errors=True)
            result.checkpoints = result.checkpoints[-config.keep_checkpoints :]
            callbacks.on_checkpoint(step, path, result.metrics[-1])
    result.seconds = time.perf_counter() - started
    save(model, tokenizer, output_dir, config, parent=parent, beta=beta)
    return result


def _learnable(e: Encoded) -> bool:
    return any(t != IGNORE for t in e.chosen[1]) and any(t != IGNORE for t in e.rejected[1])


def _reference(model: Any, encoded: list[Encoded], rows: Any, batch_size: int, pad_id, device):
    """(chosen, rejected) reference log-probabilities of every pair (indexed like `encoded`)."""
    import torch

    chosen = torch.zeros(len(encoded), device=device)
    rejected = torch.zeros(len(encoded), device=device)
    rows = list(rows)
    for start in range(0, len(rows), max(1, batch_size)):
        some = rows[start : start + batch_size]
        c, r, _ = pair_logps(model, [encoded[i] for i in some], pad_id, device)
        chosen[some], rejected[some] = c, r
    return chosen, rejected


def _score(
    model: Any,
    encoded: list[Encoded],
    ref: tuple[Any, Any],
    rows: list[int],
    batch_size: int,
    *,
    pad_id: int,
    device: str,
    beta: float,
) -> tuple[float, float, float]:
    """Mean loss, margin and share won of some pairs (no gradient)."""
    import torch

    losses, margins, won, n = 0.0, 0.0, 0.0, 0
    with torch.no_grad():
        for start in range(0, len(rows), max(1, batch_size)):
            some = rows[start : start + batch_size]
            c, r, _ = pair_logps(model, [encoded[i] for i in some], pad_id, device)
            loss, margin, share = dpo_loss(c, r, ref[0][some], ref[1][some], beta)
            losses += float(loss) * len(some)
            margins += margin * len(some)
            won += share * len(some)
            n += len(some)
    return losses / n, margins / n, won / n


def save(
    model: Any,
    tokenizer: Any,
    path: Path,
    config: TrainConfig,
    *,
    parent: str | None = None,
    beta: float = DEFAULT_BETA,
) -> None:
    """The adapter, the tokenizer and `atelier.json` (`base`: what the adapter goes on)."""
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    info = {
        "base": parent or config.base,
        "merged": False,
        "method": "dpo",
        "beta": beta,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
    }
    (path / INFO_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")


# ---------------------------------------------------------------- the worker's side
def is_preference_job(request: dict[str, Any]) -> bool:
    return (request.get("spec") or {}).get("method") == "dpo"


def trainer_for(request: dict[str, Any]) -> Callable[..., TrainResult]:
    """What the worker trains a job with: for a DPO job, `train_preferences` with the job's
    `beta` and the fine-tune it continues (`train.train`'s signature)."""
    beta = (request.get("hyperparameters") or {}).get("beta", "auto")
    beta = DEFAULT_BETA if beta in (None, "auto") else float(beta)
    parent = (request.get("spec") or {}).get("parent_folder")
    return partial(train_preferences, beta=beta, parent=parent)
