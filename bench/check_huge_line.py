"""`python -m helpers check FILE` on one huge line, against the naive script, on one file.

The file is a single chat example on one line, ≈ 50 MB (a user message of varied French
text, the assistant's COUCOU): what a learner gets by pasting a whole book into one
example. Both run as processes, start to exit, alternated (A B A B …):

- ours: `python -m helpers check FILE` (every check, the token count, the cost);
- naive: bench/check_speed.py's script — `json.loads` the line, tiktoken `encode` each value.

Printed: each run's wall time and peak memory (the child's `ru_maxrss`), then the worst of
each. Targets (issue 12): ours ≤ 10 s and ≤ 500 MB. Exit code 1 when a target is missed.

    .venv/bin/python bench/check_huge_line.py [MB] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from check_speed import _own_peak, _sentence, side_by_side  # noqa: E402

from helpers import models, tokens  # noqa: E402

WALL_TARGET = 10.0  # seconds
MEMORY_TARGET = 500.0  # MB


def generate(megabytes: float, seed: int = 0) -> bytes:
    """One example on one line: a user message of about `megabytes` MB of text."""
    rng = random.Random(seed)
    size, parts = 0, []
    while size < megabytes * 1e6:
        part = _sentence(rng, 6, 30)
        parts.append(part)
        size += len(part.encode("utf-8")) + 1
    example = {
        "messages": [
            {"role": "user", "content": " ".join(parts)},
            {"role": "assistant", "content": "COUCOU"},
        ]
    }
    return json.dumps(example, ensure_ascii=False).encode("utf-8") + b"\n"


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak resident memory (MB), exit code and stdout of one process.

    The check exits 1 on this file (a single example: fewer than the API's 10), as it should.
    """
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        scale = 1 if sys.platform == "darwin" else 1024
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return wall, usage.ru_maxrss * scale / 1e6, os.waitstatus_to_exitcode(status), text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mb", nargs="?", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:  # in a child process, so that this one stays small (see check_speed.run)
        Path(args.write).write_bytes(generate(args.mb))
        return 0
    if not hasattr(os, "wait4"):  # pragma: no cover - Windows
        print("needs os.wait4 (Linux, macOS)")
        return 1
    model = models.DEFAULT_MODEL
    cache = tokens.ensure_offline_encodings()
    worst: dict[str, tuple[float, float]] = {"ours": (0.0, 0.0), "naive": (0.0, 0.0)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "huge.jsonl"
        subprocess.run([sys.executable, __file__, str(args.mb), "--write", str(path)], check=True)
        env, commands = side_by_side(Path(tmp), path, cache, model)
        print(f"file: one line, {path.stat().st_size / 1e6:.1f} MB, {model}")
        for round_ in range(1, args.rounds + 1):
            for name in ("ours", "naive"):
                wall, peak, code, out = run(commands[name], env)
                if (name == "ours" and code not in (0, 1)) or (name == "naive" and code != 0):
                    print(f"{name} failed ({code}):\n{out[-2000:]}")
                    return 1
                if name == "ours" and ("Traceback" in out or not re.search(r"total \d+", out)):
                    print(f"ours printed no token total:\n{out[-2000:]}")
                    return 1
                worst[name] = (max(worst[name][0], wall), max(worst[name][1], peak))
                print(f"  round {round_} {name:5}: {wall:6.2f} s, {peak:7.1f} MB")
    if _own_peak() >= min(p for _, p in worst.values()):
        print("this script's own peak hides the children's: memory not measured")
        return 1
    (ours_wall, ours_peak), (naive_wall, naive_peak) = worst["ours"], worst["naive"]
    print(f"python -m helpers check  (worst): {ours_wall:6.2f} s, {ours_peak:7.1f} MB")
    print(f"naive json.loads+tiktoken (worst): {naive_wall:6.2f} s, {naive_peak:7.1f} MB")
    ok = ours_wall <= WALL_TARGET and ours_peak <= MEMORY_TARGET
    print(f"targets ≤ {WALL_TARGET:.0f} s and ≤ {MEMORY_TARGET:.0f} MB: {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
