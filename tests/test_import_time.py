"""`import helpers` stays instant (lazy imports): < 0.3 s, and never imports httpx/httpx2."""

from __future__ import annotations

import subprocess
import sys


def test_import_helpers_is_fast_and_light():
    code = (
        "import sys, time; t = time.perf_counter(); import helpers; d = time.perf_counter() - t; "
        "heavy = [m for m in ('openai', 'pandas', 'httpx', 'httpx2', 'tiktoken', 'numpy') if m in sys.modules]; "
        "print(d, ','.join(heavy))"
    )
    best = min(
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout.split()[0]
        )
        for _ in range(3)
    )
    assert best < 0.3
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(out) == 1, f"heavy modules imported by `import helpers`: {out[1:]}"


def test_importtime_flag_total():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import helpers"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(ln for ln in proc.stderr.splitlines() if ln.rstrip().endswith("| helpers"))
    cumulative_us = int(line.split("|")[1])
    assert cumulative_us < 300_000


def test_helpers_never_imports_httpx():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "helpers"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            stripped = line.strip()
            assert not stripped.startswith(("import httpx", "from httpx")), f"{path}: {line}"
