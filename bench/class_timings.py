"""How long each notebook's Run All takes at the class's job duration (the teacher's page).

    python bench/class_timings.py [--job-seconds 52] [--only 05 06]

Runs the course notebooks in order in one fresh sandbox workspace, as a class does, with
`ATELIER_JOB_SECONDS` set (the teacher's setting; unset `ATELIER_SANDBOX_SPEED`), and prints
the machine time of each notebook (kernel start included) as a Markdown table, then the
total. This is the time a student waits on the machine; reading time comes on top
(docs/enseignant.md gives both).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def run(job_seconds: float, only: list[str]) -> list[tuple[str, float]]:
    import nbformat
    from nbclient import NotebookClient

    timings = []
    with tempfile.TemporaryDirectory() as home:
        for key in [k for k in os.environ if k.startswith(("ATELIER_", "OPENAI_"))]:
            os.environ.pop(key)
        os.environ.update(
            {
                "ATELIER_HOME": home,
                "ATELIER_MODE": "sandbox",
                "ATELIER_JOB_SECONDS": repr(job_seconds),
            }
        )
        for path in COURSE:
            if only and not any(path.name.startswith(o) for o in only):
                continue
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(
                nb,
                timeout=900,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            ).execute()
            timings.append((path.stem, time.perf_counter() - start))
            print(f"{path.stem}: {timings[-1][1]:.1f} s", file=sys.stderr, flush=True)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job-seconds", type=float, default=52.0)
    parser.add_argument("--only", nargs="*", default=[])
    args = parser.parse_args()
    timings = run(args.job_seconds, args.only)
    print(f"ATELIER_JOB_SECONDS={args.job_seconds:g}")
    print("| notebook | Run All (machine) |")
    print("| --- | --- |")
    for name, seconds in timings:
        print(f"| {name} | {seconds:.0f} s |")
    print(f"| total | {sum(s for _, s in timings):.0f} s |")


if __name__ == "__main__":
    main()
