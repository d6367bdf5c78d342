"""Memory of one student who runs every course notebook and shuts no kernel down.

    python bench/class_memory.py [--speed 1000]

Runs the course notebooks in order, in one fresh workspace (sandbox mode), each in its own
kernel (nbclient), and leaves every kernel running — what students do in JupyterLab. Then
sums the memory of all the kernels' process trees plus the kit server's (the workspace's
server process, found by its advert), as PSS (each shared page counted once, split among
the processes that share it) and as RSS (shared pages counted in every process). Linux only
(/proc). Target: ≤ 1 GiB in all. Also lists, per kernel, the heavy modules it imported
(tests/test_kernel_imports.py says which each notebook may hold). bench/hub_class.py measures
the same course on a real JupyterHub, its single-user server included, with the hub image's
kernel (binder/kernel: no debugpy, no aiohttp); this one uses the venv's own `python3` kernel.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
COURSE = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BUDGET = 1024**3
HEAVY = (
    "starlette",
    "uvicorn",
    "scipy",
    "sklearn",
    "pandas",
    "matplotlib",
    "ipywidgets",
    "openai",
    "torch",
    "numpy",
    "tiktoken",  # an encoding in a kernel: its kit server was not running (≈ 72 MiB)
)
PROBE = f"import sys, json\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(x) for x in (task / "children").read_text().split()]
    return out


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p not in seen and Path(f"/proc/{p}").exists():
            seen.append(p)
            todo += _children(p)
    return seen


def memory(pid: int) -> tuple[int, int]:
    """(PSS, RSS) in bytes of one process, from /proc/PID/smaps_rollup."""
    pss = rss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
            elif line.startswith("Rss:"):
                rss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return pss, rss


def tree_memory(pids: list[int]) -> tuple[int, int]:
    seen = {p for pid in pids for p in tree(pid)}
    pss = rss = 0
    for p in seen:
        a, b = memory(p)
        pss, rss = pss + a, rss + b
    return pss, rss


def mib(n: float) -> str:
    return f"{n / 1024**2:7.1f} MiB"


def run_course(home: Path, speed: str) -> list[tuple[str, object, list[str]]]:
    """Each notebook in its own kernel, in order; the kernels stay up. [(name, km, modules)]"""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "OPENAI_"))}
    env.update(
        {"ATELIER_HOME": str(home), "ATELIER_MODE": "sandbox", "ATELIER_SANDBOX_SPEED": speed}
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    kernels = []
    for path in COURSE:
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
        km = KernelManager(kernel_name="python3")
        km.start_kernel(env=env, cwd=str(path.parent))
        client = NotebookClient(nb, km=km, timeout=300, allow_errors=True)
        client.execute(cleanup_kc=False)
        out = nb.cells[-1].outputs
        mods = json.loads(out[0]["text"]) if out and out[0].get("name") == "stdout" else ["?"]
        kernels.append((path.stem, km, mods))
    return kernels


def kit_server_pids(home: Path) -> list[int]:
    pids = []
    for advert in home.glob("sandbox-*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            pids.append(int(json.loads(advert.read_text())["pid"]))
    return pids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", default="1000", help="ATELIER_SANDBOX_SPEED (1000: CI speed)")
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds to wait before measuring"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-class-memory-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        kernels = run_course(home, args.speed)
        wall = time.perf_counter() - t0
        time.sleep(args.settle)
        kernel_pids = [km.provisioner.process.pid for _, km, _ in kernels]
        servers = [
            p for p in kit_server_pids(home) if p not in {q for k in kernel_pids for q in tree(k)}
        ]
        print(
            f"class memory — {len(kernels)} notebooks, each in its own kernel, none shut down ({wall:.0f} s)"
        )
        total_pss = total_rss = 0
        for (name, _, mods), pid in zip(kernels, kernel_pids, strict=False):
            pss, rss = tree_memory([pid])
            total_pss, total_rss = total_pss + pss, total_rss + rss
            print(f"  kernel {name:<22} PSS {mib(pss)}  RSS {mib(rss)}  {' '.join(mods)}")
        pss, rss = tree_memory(servers)
        total_pss, total_rss = total_pss + pss, total_rss + rss
        print(
            f"  kit server (pid {','.join(map(str, servers)) or '—':<8})      PSS {mib(pss)}  RSS {mib(rss)}"
        )
        ok = total_pss <= BUDGET
        print(
            f"total: PSS {mib(total_pss)}  RSS {mib(total_rss)}  (budget {mib(BUDGET)} PSS) "
            + ("✅" if ok else "❌")
        )
        for _, km, _ in kernels:
            km.shutdown_kernel(now=True)
        _stop_servers(home)
    return 0  # the verdict is printed (✅/❌), like the other benchmarks


def _stop_servers(home: Path) -> None:
    from helpers import kit_server

    kit_server.shutdown(home)


if __name__ == "__main__":
    sys.exit(main())
