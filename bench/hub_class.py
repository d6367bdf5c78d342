"""A class on a real JupyterHub (127.0.0.1): N students run the course notebooks at once.

    make bench-hub HUB_STUDENTS=10        # installs .venv-hub and the proxy first
    python bench/hub_class.py --students 10 [--browser] [--speed 1000]

Same setup as tests/test_hub.py (tests/hubkit.py): the README's nbgitpuller link pulls the
course from a loopback git server into each home; each student's notebooks run in order in
their own single-user server, each in its own kernel, none shut down (REST + kernel
websocket; `--browser`: student 0 in Chromium). Prints, per student: completion, wall time,
and memory (PSS and RSS of the single-user server, its kernels and the student's kit server),
beside the budget (1 GiB PSS per student) and the anchor (1104 MiB: the figure must not rise
above it), and which `python3` kernel spec the hub's venv has: the course's (binder/kernel,
installed by `make venv-hub` as by postBuild: no debugpy, no aiohttp in the kernels, ≈ 170 MiB
less for 14 notebooks) or ipykernel's own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import hubkit  # noqa: E402

BUDGET_MIB = 1024  # one student's whole course on a hub, single-user server included (PSS)
ANCHOR_MIB = 1104  # the standing anchor: the figure must not rise above it


def kernel_spec(venv: Path) -> str:
    """Which `python3` kernel the hub's venv starts: the course's or ipykernel's own."""
    spec = venv / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    try:
        argv = json.loads(spec.read_text(encoding="utf-8"))["argv"]
    except (OSError, ValueError, KeyError):
        return "ipykernel's (built in)"
    if any("atelier_kernel.py" in a for a in argv):
        return "the course's (binder/kernel: no debugpy, no aiohttp)"
    return "ipykernel's (debugpy and aiohttp in the kernels)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="student 0 in Chromium")
    parser.add_argument("--speed", default="1000", help="ATELIER_SANDBOX_SPEED of the students")
    parser.add_argument("--venv", type=Path, default=REPO / ".venv-hub")
    parser.add_argument("--node", type=Path, default=REPO / ".hub-node")
    args = parser.parse_args()
    if not (args.venv / "bin" / "jupyterhub").exists():
        raise SystemExit(f"no hub venv at {args.venv}: make venv-hub")
    users = [f"eleve{i}" for i in range(args.students)]
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="atelier-hub-bench-") as tmp:
        root = Path(tmp)
        with (
            hubkit.git_server(root / "git") as repo_url,
            hubkit.running_hub(root / "hub", args.venv, args.node, args.speed) as hub,
        ):
            hub.repo_url = repo_url
            for user in users:
                hub.add_student(user)
            threads = [
                threading.Thread(
                    target=hubkit.browser_student
                    if args.browser and i == 0
                    else hubkit.api_student,
                    args=(hub, user, out),
                )
                for i, user in enumerate(users)
            ]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            memory = {user: hubkit.student_memory(hub, user) for user in users}
    done = [u for u in users if out.get(u, ("?",))[0] == "ok"]
    print(
        f"JupyterHub class — {args.students} students × {len(hubkit.COURSE)} notebooks, "
        f"speed {args.speed}, {os.cpu_count()} CPU, load {os.getloadavg()[0]:.1f}"
    )
    print(f"kernel spec python3: {kernel_spec(args.venv)}")
    print(f"budget {BUDGET_MIB} MiB PSS per student, anchor {ANCHOR_MIB} MiB")
    for user in users:
        status, detail = out.get(user, ("failed", "no result"))
        pss, rss = memory[user]
        how = "Chromium" if args.browser and user == users[0] else "API"
        figure = f"{detail:6.1f} s" if status == "ok" else f"FAILED {detail}"
        print(
            f"  {user:<8} {how:<8} {figure:<10}  PSS {pss / 2**20:7.1f} MiB  RSS {rss / 2**20:7.1f} MiB"
            f"  vs anchor {pss / 2**20 - ANCHOR_MIB:+7.1f} MiB"
            f"  {'within' if pss <= BUDGET_MIB * 2**20 else 'OVER'} budget"
        )
    print(f"completed {len(done)}/{len(users)}  wall {wall:.1f} s")
    return 0 if len(done) == len(users) else 1


if __name__ == "__main__":
    sys.exit(main())
