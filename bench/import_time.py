"""How long `import helpers` takes in a fresh interpreter (what a notebook's first cell pays),
beside the anchor: a bare interpreter's start. Target: `import helpers` < 0.3 s.

    .venv/bin/python bench/import_time.py [RUNS]

Prints the best of RUNS (default 5) wall times of `python -c "import helpers"` and of
`python -c "pass"`, and the cumulative microseconds that `-X importtime` reports for helpers.
tests/test_import_time.py checks what the import loads (nothing of the kit, no package),
which is what keeps this figure low; the figure itself lives here, not in a test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 0.3


def best_wall(code: str, runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)
        best = min(best, time.perf_counter() - start)
    return best


def importtime_us() -> int:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import helpers"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
    )
    line = next(ln for ln in done.stderr.splitlines() if ln.rstrip().endswith("| helpers"))
    return int(line.split("|")[1])


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    bare = best_wall("pass", runs)
    kit = best_wall("import helpers", runs)
    print(f"python -c pass            : {bare:.3f} s (best of {runs})")
    print(f"python -c 'import helpers': {kit:.3f} s (best of {runs})")
    print(f"import helpers alone      : {kit - bare:.3f} s (target < {TARGET_S} s)")
    print(f"-X importtime, helpers    : {importtime_us()} µs cumulative")
    return 0 if kit - bare < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
