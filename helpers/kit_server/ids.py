"""Object ids as the real API shapes them: random (`file-…`, `ftjob-…`) or derived.

Derived ids are a function of their parts, so every process computes the same id for the
same event, checkpoint or results file: nothing is emitted twice.
"""

from __future__ import annotations

import hashlib
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def derived_id(prefix: str, *parts: object, length: int = 24) -> str:
    """A deterministic id: the same parts give the same id in every process."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()  # 32 bytes: length ≤ 32
    return prefix + "".join([_ALPHABET[b % 62] for b in digest[:length]])


def derived_seed(job_id: str) -> int:
    """The seed of a job created without one (stable across processes)."""
    digest = hashlib.sha256(f"{job_id}:seed".encode()).digest()[:8]
    return int.from_bytes(digest, "big") % (2**31 - 1)
