"""The kit server's memory after a learner's first chat, this checkout beside an anchor.

    python bench/kit_server_memory.py [--anchor DIR] [--rounds R]

Starts the workspace's kit server as a notebook does (`python -m helpers.kit_server`, its own
process, a fresh workspace, sandbox mode), then does with it what the first notebooks do: a
kernel's token counts (`POST /kit/tokens`, one batch, the default model's encoding) and a
first chat completion with the default model. Once the server has given back its freed heap (it does so 2 s after a burst of
requests), reads its PSS and RSS from /proc/PID/smaps_rollup (as bench/class_memory.py
does), then stops it. `--anchor DIR`: another checkout of the kit (e.g. one made by
`git worktree add` or `git archive main | tar -x -C DIR`), measured the same way, the two
alternated round by round. Linux only. Prints each round, the medians and the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from class_memory import memory  # noqa: E402

from helpers import models, tokens  # noqa: E402

SETTLE = 4.0  # seconds after the last request: the server trims its heap after 2 s
TEXTS = [
    f"Question {i} : pourquoi le modèle répond-il « COUCOU » ? " * (1 + i % 4) for i in range(200)
]


def _post(url: str, body: dict, key: str) -> dict:
    request = urllib.request.Request(
        url,
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())


def _wait_for_advert(home: Path, proc: subprocess.Popen, timeout: float = 60.0) -> str:
    advert = home / "sandbox-simulated.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the kit server exited ({proc.returncode}): see {home}/server.log")
        try:
            return str(json.loads(advert.read_text())["url"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)
    raise SystemExit(f"no kit server advert in {home} after {timeout:g} s")


def measure(root: Path, cache: Path) -> tuple[int, int, int, int]:
    """(PSS, RSS) in bytes of `root`'s kit server once started, then after a first chat."""
    with tempfile.TemporaryDirectory(prefix="atelier-server-memory-") as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "OPENAI_"))}
        env.update(
            ATELIER_HOME=str(home),
            ATELIER_MODE="sandbox",
            ATELIER_SANDBOX_SPEED="1000",
            TIKTOKEN_CACHE_DIR=str(cache),
            PYTHONPATH=str(root),
        )
        command = [sys.executable, "-m", "helpers.kit_server", "--port", "0", "--home", str(home)]
        with open(home / "server.log", "wb") as log:
            proc = subprocess.Popen(
                [*command, "--idle", "600"], cwd=root, env=env, stdout=log, stderr=log
            )
        try:
            url = _wait_for_advert(home, proc)
            time.sleep(SETTLE)
            started = memory(proc.pid)
            base = url.rsplit("/v1", 1)[0]
            name = tokens.encoding_name_for(models.DEFAULT_MODEL)
            # every kit server asks for its workspace's key (issue 19), on /kit too
            key = (home / "kit-server.key").read_text(encoding="utf-8").strip()
            lengths = _post(base + "/kit/tokens", {"encoding": name, "texts": TEXTS}, key)
            assert len(lengths["lengths"]) == len(TEXTS)
            chat = _post(
                url + "/chat/completions",
                {
                    "model": models.DEFAULT_MODEL,
                    "messages": [{"role": "user", "content": "Bonjour !"}],
                },
                key,
            )
            assert chat["choices"][0]["message"]["content"], chat
            time.sleep(SETTLE)
            after = memory(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return (*started, *after)


def mib(n: float) -> str:
    return f"{n / 2**20:6.1f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchor", type=Path, help="another checkout of the kit, measured too")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cache = tokens.ensure_offline_encodings()
    roots = {"ours": ROOT}
    if args.anchor:
        roots["anchor"] = args.anchor.resolve()
    figures: dict[str, list[tuple[int, int, int, int]]] = {name: [] for name in roots}
    print(f"kit server memory, first chat — load {os.getloadavg()[0]:.1f}")
    for round_ in range(1, args.rounds + 1):
        for name, root in sorted(roots.items()):
            pss0, rss0, pss, rss = measure(root, cache)
            figures[name].append((pss0, rss0, pss, rss))
            print(
                f"  round {round_} {name:6}: started PSS {mib(pss0)} RSS {mib(rss0)}; "
                f"after the first chat PSS {mib(pss)} RSS {mib(rss)}"
            )
    medians = {
        name: [statistics.median(f[i] for f in rows) for i in range(4)]
        for name, rows in figures.items()
    }
    for name, (pss0, rss0, pss, rss) in sorted(medians.items()):
        print(
            f"{name:6} (median, {roots[name]}): started PSS {mib(pss0)} RSS {mib(rss0)}; "
            f"after the first chat PSS {mib(pss)} RSS {mib(rss)}"
        )
    if "anchor" in medians:
        ours, anchor = medians["ours"], medians["anchor"]
        print(
            f"ours − anchor after the first chat: PSS {mib(ours[2] - anchor[2])}, "
            f"RSS {mib(ours[3] - anchor[3])}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
