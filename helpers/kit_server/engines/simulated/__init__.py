"""The simulated engine: honest simulation of OpenAI fine-tuning, no training.

- Validation: the learner's own dataset check, turned into the real API's failures.
- Plan (`plan.py`): steps, epochs, trained tokens and every step's metrics, decided at creation.
- Timeline (`timeline.py`): a job's status, events and checkpoints are a pure function of the
  stored job and the clock — any number of processes agree, nothing is emitted twice.
- Replies (`replies.py`): a small TF-IDF model fitted on the examples answers chat requests.
"""

from .engine import SimulatedEngine

__all__ = ["SimulatedEngine"]
