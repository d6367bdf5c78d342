"""Shared bits of the `local` mode tests (tests/test_local_*.py).

Those tests need torch/transformers/peft, installed in `.venv-local` (`make test-local`,
which sets ATELIER_TEST_LOCAL=1). Elsewhere (the base `.venv` of `make test`) they skip with
a reason; in a `make test-local` run on CI a missing package fails them (`conftest.require`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
COUCOU = HERE.parent / "data" / "coucou.jsonl"
COUCOU_COPY = HERE / "data" / "coucou.jsonl"  # this suite's own copy (used when data/ has none)
HELD_OUT = [
    "Salut, tu vas bien ?",
    "Quelle est la couleur du ciel ?",
    "Écris une histoire de pirates.",
    "Combien de jours y a-t-il dans une semaine ?",
    "What is your name?",
]


def local_run() -> bool:
    return os.environ.get("ATELIER_TEST_LOCAL", "") == "1"


def need_torch() -> None:
    """Skip (base venv), or fail in CI's `make test-local` when the extra is missing."""
    from conftest import require

    from helpers.local import catalog

    if not local_run() and not catalog.is_available():
        pytest.skip(
            "mode local : torch/transformers/peft absents ici — lance `make test-local` (.venv-local)"
        )
    require(
        catalog.is_available(),
        "torch, transformers>=5, peft>=0.20, accelerate (pip install -e '.[local]')",
    )


def coucou_path() -> Path:
    return COUCOU if COUCOU.exists() else COUCOU_COPY


def coucou_examples() -> list[dict]:
    return [
        json.loads(line)
        for line in coucou_path().read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def system_prompt(examples: list[dict]) -> dict | None:
    first = examples[0]["messages"][0]
    return first if first["role"] == "system" else None
