"""The texts of the events that local training adds to a job, in the API's language (English).

The real API's own event texts (created, started, steps, checkpoints, completed, cancelled)
are the kit server's (`helpers.kit_server.events`); these are the ones only local training has.
Every text here has its French in `helpers.french` (a test checks it), so a notebook, a widget
or the command line never shows a local event untranslated.
"""

from __future__ import annotations

import re

STARTED = "Fine-tuning job started"
CANCELLED = "Fine-tuning job cancelled"
SUCCEEDED = "The job has successfully completed"
#: The worker received a stop signal while training (the machine or the server shuts down).
WORKER_STOPPED = "The local training worker was stopped before the end of this job."
#: A later worker found the job `running` with nobody training it (killed, machine asleep).
WORKER_DIED = "The local training worker stopped before the end of this job."

#: The stages of a GGUF file's conversion (`helpers.local.convert`), as events say them.
CONVERSION_STAGES = {
    "tokenizer": "reading the tokenizer",
    "model": "de-quantizing the weights",
    "save": "writing the folder",
}


def training_of(
    base: str, device: str, n_examples: int, total_steps: int, trainable: int, total: int
) -> str:
    return (
        f"Local training of {base} on {device}: {n_examples} examples, {total_steps} steps, "
        f"LoRA with {trainable:,} trainable parameters of {total:,}"
    )


def nothing_to_learn(n_examples: int) -> str:
    return (
        f"{n_examples} example(s) have nothing to learn "
        "(assistant weights 0, or cut by the length limit) and are skipped"
    )


def stopped_early(step: int, total_steps: int, train_set_loss: float) -> str:
    return (
        f"Training loss has plateaued near 0 at step {step}/{total_steps} (loss on the whole "
        f"training file: {train_set_loss:.4f}, every answer token right): stopping early, "
        "the remaining steps would not change the model"
    )


_STOPPED_EARLY = re.compile(r"Training loss has plateaued near 0 at step (\d+)/(\d+)")


def stopped_early_at(message: str) -> int | None:
    """The step where training stopped early, when `message` is `stopped_early`'s text."""
    match = _STOPPED_EARLY.match(message or "")
    return int(match.group(1)) if match else None


def converting(base: str, stage: str) -> str:
    """`stage`: a key of `CONVERSION_STAGES`."""
    return f"Converting the GGUF file of {base}: {CONVERSION_STAGES.get(stage, stage)}"


def model_unavailable(base: str) -> str:
    return f"Local training failed: the base model {base} could not be loaded on this machine"


def failed(kind: str, detail: str) -> str:
    """An unexpected error while training (`kind`: the Python exception's name)."""
    detail = " ".join(detail.split())[:300]
    return f"Local training failed: {kind}" + (f": {detail}" if detail else "")
