"""`local` mode: real fine-tuning of a small open-weights model on this machine.

Optional part of the kit (`pip install -e .[local]`): nothing here is imported by the base
kit, and torch/transformers/peft are imported lazily inside functions, so `import
helpers.local` stays cheap and works without them (for `doctor()`).

Modules:
- `catalog`: the documented small base models, device choice, LoRA defaults, `doctor()`.
- `tiny`: an offline tiny model (tokenizer trained here, ~100 k parameters) for tests and CI.
- `train`: LoRA fine-tuning on chat examples (loss on assistant tokens, `weight: 0` honoured).
- `generate`: chat completion with a base or fine-tuned local model (cached).
- `worker`: the background process that runs queued jobs one at a time per workspace.
"""

from __future__ import annotations

from .catalog import LocalModelError, doctor, doctor_lines, is_available

__all__ = ["LocalModelError", "doctor", "doctor_lines", "is_available"]
