"""How long `python -m helpers eval` takes on a held-out set, next to a plain SDK loop.

    python bench/eval_speed.py [--n 100] [--mode sandbox|local] [--python PY]

Setup (not timed): a fresh workspace, its kit server started as a notebook starts it
(detached), the subject classifier fine-tuned on the training part of `data/matieres.jsonl`,
and a held-out file of `--n` questions (the subject questions, then numbered variants).

Timed, each from process start to exit, as the user runs them:
1. `python -m helpers eval MODEL heldout.jsonl` — the kit's evaluation (4 requests at once,
   temperature 0, answers capped, results written to the workspace);
2. a plain script: `helpers.client()` then one `chat.completions.create` per question at
   temperature 0, one after the other, counting exact matches.
Prints both, per question too, and whether they agree. Target (sandbox, 100 questions): ≤ 5 s.
In local mode (`--mode local --python .venv-local/bin/python`, with ATELIER_LOCAL_MODEL set)
the same on the real model; target ≤ 0.15 s per question on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_SANDBOX = 5.0
TARGET_LOCAL_PER_QUESTION = 0.15

PLAIN_LOOP = r"""
import json, sys
import helpers
client = helpers.client()
model, path = sys.argv[1], sys.argv[2]
right = total = 0
for line in open(path, encoding="utf-8"):
    example = json.loads(line)
    messages, expected = example["messages"][:-1], example["messages"][-1]["content"]
    reply = client.chat.completions.create(model=model, messages=messages, temperature=0)
    right += reply.choices[0].message.content == expected
    total += 1
print(json.dumps({"correct": right, "total": total}))
"""


def _env(home: Path, mode: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "OPENAI_"))}
    env.update(
        ATELIER_HOME=str(home),
        ATELIER_MODE=mode,
        ATELIER_SANDBOX_SPEED="1000",
        PYTHONPATH=str(REPO),
        HF_HUB_OFFLINE="1",
    )
    if os.environ.get("ATELIER_LOCAL_MODEL"):
        env["ATELIER_LOCAL_MODEL"] = os.environ["ATELIER_LOCAL_MODEL"]
    return env


SETUP = r"""
import json, sys
from pathlib import Path
from helpers import evaluation, jobs, notebook
n, out = int(sys.argv[1]), Path(sys.argv[2])
split = evaluation.split(notebook.data_file("matieres.jsonl"))
job = jobs.wait(jobs.create(jobs.upload(split.train).id, suffix="bench", seed=1).id, record=False)
assert job.status == "succeeded", job.status
source = evaluation.read_examples(notebook.data_file("matieres.jsonl"))
examples = []
for k in range(n):
    e = json.loads(json.dumps(source[k % len(source)]))
    if k >= len(source):
        e["messages"][-2]["content"] += f" (variante {k // len(source)})"
    examples.append(e)
out.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples), encoding="utf-8")
print(job.fine_tuned_model)
"""


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"failed: {' '.join(cmd[:4])}…\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--mode", choices=("sandbox", "local"), default="sandbox")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, heldout = Path(tmp) / "home", Path(tmp) / "heldout.jsonl"
        home.mkdir()
        env = _env(home, args.mode)
        try:
            setup, out = _timed([args.python, "-c", SETUP, str(args.n), str(heldout)], env)
            model = out.strip().splitlines()[-1]
            kit, kit_out = _timed(
                [args.python, "-m", "helpers", "eval", model, str(heldout), "--json"], env
            )
            plain, plain_out = _timed([args.python, "-c", PLAIN_LOOP, model, str(heldout)], env)
        finally:
            subprocess.run(
                [args.python, "-m", "helpers.kit_server", "--stop", "--home", str(home)],
                env=env,
                capture_output=True,
            )
    result, loop = json.loads(kit_out), json.loads(plain_out.strip().splitlines()[-1])
    n = args.n
    print(f"Evaluation of {n} held-out questions, {args.mode} mode ({model})")
    print(f"  setup (not timed): fine-tune and held-out file in {setup:.1f} s")
    print(
        f"  python -m helpers eval (4 at once)  : {kit:6.2f} s  ({kit / n:.3f} s/question)  "
        f"{result['correct']}/{result['total']} right"
    )
    print(
        f"  plain SDK loop (one by one)        : {plain:6.2f} s  ({plain / n:.3f} s/question)  "
        f"{loop['correct']}/{loop['total']} right"
    )
    print(
        f"  same count: {'yes' if (result['correct'], result['total']) == (loop['correct'], loop['total']) else 'NO'}"
    )
    if args.mode == "sandbox":
        verdict = "OK" if kit <= TARGET_SANDBOX else "over target"
        print(f"  target: ≤ {TARGET_SANDBOX:g} s for the command → {verdict}")
    else:
        verdict = "OK" if kit / n <= TARGET_LOCAL_PER_QUESTION else "over target"
        print(f"  target: ≤ {TARGET_LOCAL_PER_QUESTION} s per question → {verdict}")


if __name__ == "__main__":
    main()
