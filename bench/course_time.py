"""How long the whole course takes under nbval, next to the bare cost of its kernels.

    python bench/course_time.py [--repeat N]

In the same run: (1) `make course`, as a teacher rehearses the class: every course notebook
under nbval, in order, in one fresh sandbox workspace (ATELIER_SANDBOX_SPEED=1000, as
`make test`), timed from process start to exit; (2) start and stop as many bare Python
kernels one after the other (jupyter_client), the floor nbval cannot go below. Prints both
and the ratio; the target is ≤ 3×. Then (3) `make course-en`, the English edition in its own
fresh workspace: what the second edition adds to `make test` (its `test-en` step).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COURSE_EN = sorted((REPO / "notebooks" / "en").glob("[0-9][0-9]_*.ipynb"))
TARGET = 3.0


def course_under_nbval(target: str = "course") -> float:
    """`make course` (or `course-en`), process start to exit: the notebooks under nbval,
    fresh workspace."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "OPENAI_"))}
    start = time.perf_counter()
    run = subprocess.run(
        ["make", "--no-print-directory", "-s", target],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-2000:], sep="\n")
        raise SystemExit("the course failed under nbval: fix that first")
    return elapsed


def bare_kernels(n: int) -> float:
    from jupyter_client.manager import start_new_kernel

    start = time.perf_counter()
    for _ in range(n):
        km, kc = start_new_kernel(kernel_name="python3")
        kc.execute_interactive("pass", timeout=60)  # nbval runs at least one cell per kernel
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each measure (the best is kept)"
    )
    args = parser.parse_args()
    n = len(COURSE)
    course = min(course_under_nbval() for _ in range(args.repeat))
    kernels = min(bare_kernels(n) for _ in range(args.repeat))
    ratio = course / kernels
    print(f"course under nbval ({n} notebooks)      : {course:6.1f} s")
    print(f"{n} bare kernels started and stopped     : {kernels:6.1f} s")
    print(
        f"ratio                                   : {ratio:6.2f}×  (target ≤ {TARGET:g}×) "
        + ("✅" if ratio <= TARGET else "❌")
    )
    if COURSE_EN:
        english = min(course_under_nbval("course-en") for _ in range(args.repeat))
        print(f"English course under nbval ({len(COURSE_EN)} notebooks): {english:6.1f} s")
        print(f"both editions (make test runs both)     : {course + english:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
