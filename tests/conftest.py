"""Shared fixtures. Every test runs in its own workspace, in sandbox mode, offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"

# Never let a test (or a notebook kernel started by nbval) reach the network or a real key.
os.environ.setdefault("ATELIER_SANDBOX_SPEED", "1000")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """A fresh workspace per test, sandbox mode, no inherited key or base URL.

    The client serves the sandbox from the test's own process (and the commands it runs from
    theirs): no workspace server process left behind per test. tests/test_server_process.py
    tests the server processes themselves.
    """
    home = tmp_path_factory.mktemp("atelier-home")
    monkeypatch.setenv("ATELIER_HOME", str(home))
    monkeypatch.setenv("ATELIER_MODE", "sandbox")
    monkeypatch.setenv("ATELIER_SANDBOX_IN_PROCESS", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    yield home


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory, request):
    """A sandbox server shared by a test module, in a workspace of its own; its base URL."""
    from helpers import kit_server

    home = tmp_path_factory.mktemp(f"sandbox-{request.module.__name__}")
    url = kit_server.start(home)
    yield url
    kit_server.stop(home)


@pytest.fixture
def workspace(_isolated) -> Path:
    return _isolated


QUICK_EXAMPLES = "ATELIER_QUICK_EXAMPLES"


def quick() -> bool:
    """`make check`'s run (ATELIER_QUICK_EXAMPLES=1): the contributor's fast path runs the same
    tests with fewer generated inputs; make test and CI generate them all."""
    return os.environ.get(QUICK_EXAMPLES) == "1"


def examples(n: int) -> int:
    """How many examples a property test generates: all `n`, a quarter in `quick()` runs."""
    return max(3, n // 4) if quick() else n


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip with a reason on a laptop; fail in CI, where .ci/run must have installed it."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"missing in CI (.ci/run should install it): {reason}")
    pytest.skip(reason)


def pytest_sessionfinish(session, exitstatus):
    """Stop the kit server processes that this session's kernels and commands started (in its
    temporary folders): they would otherwise wait for their idle period (ATELIER_SERVER_IDLE)."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    try:
        base = factory.getbasetemp()
    except (OSError, ValueError):
        return
    from helpers.kit_server import launcher

    for advert in base.rglob("sandbox-*.json"):
        engine = advert.stem.removeprefix("sandbox-")
        if engine in ("simulated", "local"):
            launcher.shutdown(advert.parent, engine, timeout=5)
