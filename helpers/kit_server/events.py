"""The real API's fine-tuning event texts and metrics cadence — the same in every engine.

From real job transcripts (OpenAI Cookbook, "How to fine-tune chat models", and public logs
of gpt-4o-mini jobs, 2024): a metrics event per step, the validation loss every 10 steps, the
full validation loss on the last step; then, once training ends, one event per kept checkpoint
("… with Snapshot ID: ft:…:ckpt-step-N"), "New fine-tuned model created: ft:…" and
"The job has successfully completed".
"""

from __future__ import annotations

from typing import Any

CREATED = "Created fine-tuning job: {job_id}"
VALIDATED = "Files validated, moving job to queued state"
STARTED = "Fine-tuning job started"
CANCELLED = "Fine-tuning job cancelled"
#: Unconfirmed wording: pause/resume events are not in any public transcript found.
PAUSED = "Fine-tuning job paused"
RESUMED = "Fine-tuning job resumed"
SUCCEEDED = "The job has successfully completed"

#: The validation loss is computed every this many steps (290, 300 in a 303-step real job).
VALIDATION_EVERY = 10
#: A DPO job's metrics add the reward margin and accuracy (Unconfirmed names: no public
#: transcript of a real DPO job's metrics events; TRL's `rewards/margins`, `rewards/accuracies`).
DPO_KEYS = ("reward_margin", "reward_accuracy")
VALIDATION_KEYS = ("valid_loss", "valid_mean_token_accuracy", *(f"valid_{k}" for k in DPO_KEYS))
FULL_VALIDATION_KEYS = (
    "full_valid_loss",
    "full_valid_mean_token_accuracy",
    *(f"full_valid_{k}" for k in DPO_KEYS),
)
#: What a checkpoint's `metrics` hold (real checkpoints: no full-validation keys, no nulls).
CHECKPOINT_KEYS = ("step", "train_loss", "train_mean_token_accuracy", *VALIDATION_KEYS)


def validating(training_file: str, validation_file: str | None) -> str:
    text = f"Validating training file: {training_file}"
    return text + (f" and validation file: {validation_file}" if validation_file else "")


def validation_due(step: int) -> bool:
    return step % VALIDATION_EVERY == 0


def step_data(data: dict[str, Any], total_steps: int) -> dict[str, Any]:
    """A metrics event's `data` with the real cadence: validation metrics every
    `VALIDATION_EVERY` steps, full-validation metrics on the last step only; no nulls."""
    step = int(data["step"])
    out = {k: v for k, v in data.items() if v is not None}
    if not validation_due(step):
        for key in VALIDATION_KEYS:
            out.pop(key, None)
    if step != total_steps:
        for key in FULL_VALIDATION_KEYS:
            out.pop(key, None)
    out["total_steps"] = total_steps
    return out


def step_message(data: dict[str, Any]) -> str:
    """ "Step 300/303: training loss=0.00, validation loss=0.04" (data as `step_data` gives)."""
    text = f"Step {data['step']}/{data['total_steps']}: training loss={data['train_loss']:.2f}"
    if data.get("valid_loss") is not None:
        text += f", validation loss={data['valid_loss']:.2f}"
    if data.get("full_valid_loss") is not None:
        text += f", full validation loss={data['full_valid_loss']:.2f}"
    return text


def checkpoint_metrics(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in CHECKPOINT_KEYS if data.get(k) is not None}


def checkpoint_created(step: int, snapshot: str) -> str:
    return f"Checkpoint created at step {step} with Snapshot ID: {snapshot}"


def model_created(name: str) -> str:
    return f"New fine-tuned model created: {name}"
