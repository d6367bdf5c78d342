"""Keep the worker's logs readable (no progress bars, no advisory warnings) and its threads
polite on a shared machine."""

from __future__ import annotations


def quiet() -> None:
    """No progress bars or advisory warnings in the worker's logs."""
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # torch's threads that wait for a busy core sleep instead of spinning (a shared machine);
    # read when torch starts its thread pool, so before the first `import torch`
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import warnings

    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except Exception:
        pass
