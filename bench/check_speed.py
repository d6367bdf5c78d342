"""`python -m helpers check FILE` as the learner runs it, against a naive script, on one file.

Both run as processes, start to exit, on the same generated dataset (50,000 varied chat
examples, ≈ 36 MB), alternated in one run (A B A B …):

- ours: `python -m helpers check FILE` — every check, the token counts and the cost, printed
  as the command always prints them;
- naive: what the OpenAI Cookbook does — `json.loads` every line, tiktoken `encode` every
  message value, the Cookbook formula, the total printed (no check at all).

Both totals must be equal. Printed: each run's wall time, peak memory (the child's
`ru_maxrss`) and CPU time (all threads), the median wall times, the highest peaks and the
ratios. Targets: ours ≥ 2× faster, peak memory ≤ 1.2× the naive script's. Exit code 1
when a target is missed. Ours encodes on every core: run it on an otherwise idle machine
(its CPU time, lower than the naive script's, shows what a busy machine hides).

`--anchor DIR`: another checkout of the kit (e.g. `git archive main | tar -x -C DIR`), whose
`python -m helpers check` runs too, in the same rounds (its total must be the same): its
figures and ours side by side, with their ratios. The load average is printed before and
after the rounds.

    .venv/bin/python bench/check_speed.py [N] [--rounds R] [--anchor DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import models, tokens  # noqa: E402

SPEED_TARGET = 2.0  # naive wall time / ours
MEMORY_TARGET = 1.2  # ours peak / naive peak

NAIVE = """\
import json, sys
import tiktoken

encoding = tiktoken.get_encoding(sys.argv[2])
total = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        example = json.loads(line)
        n = 3
        for message in example["messages"]:
            n += 3
            for key, value in message.items():
                n += len(encoding.encode(value))
                if key == "name":
                    n += 1
        total += n
print(total)
"""

_WORDS = " ".join(
    (
        "bonjour explique python modèle données fine-tuning jeton réseau apprentissage question "
        "réponse pourquoi comment exemple chat assistant utilisateur fichier ligne erreur format "
        "époque coût prix vérifie envoie entraînement validation perte courbe surapprentissage "
        "température prompt système consigne ton style client facture commande livraison retour "
        "remboursement colis adresse mot de passe compte abonnement résiliation garantie produit "
        "taille couleur stock magasin horaires rendez-vous médecin ordonnance pharmacie école "
        "élève professeur exercice fraction équation géométrie histoire Révolution Napoléon "
        "recette farine beurre œuf four cuisson minutes degrés randonnée montagne météo pluie "
        "soleil vent train billet retard correspondance gare aéroport valise hôtel réservation "
        "la le les un une des du de à au aux et ou mais donc car ni pour par avec sans sous sur "
        "dans chez vers entre très plus moins bien mal vite lentement toujours jamais souvent "
        "il elle on nous vous ils est sont a ont fait peut doit faut veut sait va vient "
        "l’équipe d’abord qu’il s’il aujourd’hui c’est n’est jusqu’à "
        "2024 2025 3 10 42 100 12,5 € % API JSON CSV GPU CPU URL",
    )
).split()
_SYSTEMS = [
    "Tu es un assistant qui répond toujours COUCOU.",
    "Tu réponds en une phrase, poliment.",
    "Tu es un professeur de mathématiques patient : tu expliques pas à pas, avec un exemple "
    "chiffré, et tu vérifies que l’élève a compris avant de passer à la suite.",
    "Tu es le service client d’une boutique en ligne de vêtements. Tu tutoies le client, tu "
    "restes bref (trois phrases au plus), tu ne promets jamais de remboursement sans numéro "
    "de commande, et tu proposes toujours une solution concrète : échange, avoir ou retour.",
    "Tu es un guide de randonnée. Réponds avec prudence : rappelle la météo, l’équipement et "
    "l’horaire de retour. Si la question sort du sujet, dis-le gentiment.",
    "Assistant de cuisine : donne les quantités en grammes, les temps en minutes, la "
    "température du four en degrés Celsius, et une astuce à la fin. Pas plus de 120 mots. "
    "Si un ingrédient manque, propose un remplacement courant.",
]
_CANNED = ["COUCOU", "Bien sûr !", "Je ne sais pas.", "Voici la réponse : 42.", "D’accord 👍"]
_OPENERS = ["Bonjour,", "Salut !", "Dis-moi,", "Question :", "Petite question :", "", "", ""]


def _sentence(rng: random.Random, n_min: int, n_max: int) -> str:
    words = rng.choices(_WORDS, k=rng.randint(n_min, n_max))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", " !", " ?", "…"])


def _reply(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(_CANNED)
    return " ".join(_sentence(rng, 6, 20) for _ in range(rng.randint(1, 5)))


def generate(n: int, seed: int = 0) -> bytes:
    """A realistic course dataset: a few system prompts (one example in ten has none),
    varied questions and replies of every length, one conversation in six multi-turn."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        msgs = []
        if rng.random() < 0.9:
            msgs.append({"role": "system", "content": rng.choice(_SYSTEMS)})
        for turn in range(1 if rng.random() < 5 / 6 else rng.randint(2, 3)):
            question = f"{rng.choice(_OPENERS)} {_sentence(rng, 4, 30)} ({i}.{turn})".strip()
            msgs.append({"role": "user", "content": question})
            msgs.append({"role": "assistant", "content": _reply(rng)})
        lines.append(json.dumps({"messages": msgs}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds (start to exit), CPU seconds (all its threads), peak resident memory
    (MB) and stdout of one process.

    The peak is the child's `ru_maxrss`. Linux counts in it the memory of the parent at
    the fork, so this process stays small: the dataset is written by a child (`--write`).
    """
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            scale = (
                1 if sys.platform == "darwin" else 1024
            )  # ru_maxrss: bytes on macOS, KiB elsewhere
            peak = usage.ru_maxrss * scale / 1e6
            cpu = usage.ru_utime + usage.ru_stime
        else:  # pragma: no cover - Windows: no per-child peak memory
            proc.wait()
            wall, cpu, peak = time.perf_counter() - start, float("nan"), float("nan")
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{text[-2000:]}")
    return wall, cpu, peak, text


def _own_peak() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def side_by_side(
    tmp: Path, path: Path, cache: Path, model: str
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The environment and the two commands run on `path`: `python -m helpers check` as the
    learner types it, and the naive script (written into `tmp`)."""
    naive_py = tmp / "naive.py"
    naive_py.write_text(NAIVE, encoding="utf-8")
    env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(cache), ATELIER_HOME=str(tmp / "home"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("ATELIER_MODE", None)
    commands = {
        "ours": [sys.executable, "-m", "helpers", "check", str(path)],
        "naive": [sys.executable, str(naive_py), str(path), tokens.encoding_name_for(model)],
    }
    return env, commands


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--anchor", type=Path, help="another checkout, its command run too")
    parser.add_argument("--write", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:  # in a child process: see `run`
        Path(args.write).write_bytes(generate(args.n))
        return 0
    model = models.DEFAULT_MODEL
    cache = tokens.ensure_offline_encodings()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dataset.jsonl"
        subprocess.run([sys.executable, __file__, str(args.n), "--write", str(path)], check=True)
        env, commands = side_by_side(Path(tmp), path, cache, model)
        envs = dict.fromkeys(commands, env)
        if args.anchor:
            commands["anchor"] = commands["ours"]
            envs["anchor"] = dict(env, PYTHONPATH=str(args.anchor.resolve()))
        size = path.stat().st_size
        print(f"file: {args.n} examples, {size / 1e6:.1f} MB, {model}, {os.cpu_count()} cores")
        print(f"load average before: {_load()}")
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        peaks: dict[str, list[float]] = {name: [] for name in commands}
        totals: dict[str, set[int]] = {name: set() for name in commands}
        for round_ in range(1, args.rounds + 1):
            for name in commands:
                wall, cpu, peak, out = run(commands[name], envs[name])
                found = re.search(r"total (\d+)\.", out) if name != "naive" else None
                totals[name].add(int(found.group(1) if found else out.split()[-1]))
                walls[name].append(wall)
                cpus[name].append(cpu)
                peaks[name].append(peak)
                print(
                    f"  round {round_} {name:6}: {wall:5.2f} s, {peak:6.1f} MB  (cpu {cpu:.2f} s)"
                )
        print(f"load average after: {_load()}")
    own = _own_peak()
    if own >= min(min(peaks["ours"]), min(peaks["naive"])):  # the children's figures are void
        print(f"this script's own peak ({own:.0f} MB) hides the children's: memory not measured")
        return 1
    if len(set.union(*totals.values())) != 1:
        print(f"token totals differ: {totals}")
        return 1
    ours_wall, naive_wall = statistics.median(walls["ours"]), statistics.median(walls["naive"])
    ours_peak, naive_peak = max(peaks["ours"]), max(peaks["naive"])
    speed, memory = naive_wall / ours_wall, ours_peak / naive_peak
    print(f"same token total: {totals['ours'].pop()}")
    for label, name, wall, peak in (
        ("python -m helpers check (all checks, counts, cost)", "ours", ours_wall, ours_peak),
        ("naive json.loads + tiktoken encode (no check)     ", "naive", naive_wall, naive_peak),
    ):
        best = min(walls[name])
        print(f"{label}: {wall:5.2f} s (median; best {best:.2f} s), {peak:6.1f} MB")
    if args.anchor:
        anchor_wall, anchor_peak = statistics.median(walls["anchor"]), max(peaks["anchor"])
        print(
            f"anchor {args.anchor} (same command)         : {anchor_wall:5.2f} s (median; "
            f"best {min(walls['anchor']):.2f} s), {anchor_peak:6.1f} MB"
        )
        print(
            f"ours / anchor: wall {ours_wall / anchor_wall:.3f}x (median), "
            f"{min(walls['ours']) / min(walls['anchor']):.3f}x (best); "
            f"peak memory {ours_peak / anchor_peak:.3f}x ({ours_peak - anchor_peak:+.1f} MB)"
        )
    print(
        "CPU time, all threads (median): "
        + ", ".join(f"{name} {statistics.median(cpus[name]):.2f} s" for name in commands)
    )
    speed_ok, memory_ok = speed >= SPEED_TARGET, memory <= MEMORY_TARGET
    print(
        f"speed: {speed:.2f}x faster (target ≥ {SPEED_TARGET}x) {'OK' if speed_ok else 'BELOW TARGET'}"
    )
    print(
        f"peak memory: {memory:.2f}x the naive script's (target ≤ {MEMORY_TARGET}x) "
        f"{'OK' if memory_ok else 'ABOVE TARGET'}"
    )
    return 0 if speed_ok and memory_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
