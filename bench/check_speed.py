"""How fast `helpers.dataset.check_bytes` checks a 50,000-example file, vs a naive baseline.

Baseline (same run, same file): what the OpenAI Cookbook does — `json.loads` every line and
encode every message value with tiktoken (no checks). Target: the full check runs at
≥ 1.5× the baseline's examples/s.

    .venv/bin/python bench/check_speed.py [N]
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import dataset, models, tokens  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
TARGET = 1.5


def generate(n: int, seed: int = 0) -> bytes:
    """A realistic course dataset: a few system prompts, varied questions, short replies."""
    rng = random.Random(seed)
    words = [
        "bonjour",
        "explique",
        "python",
        "modèle",
        "données",
        "fine-tuning",
        "jeton",
        "réseau",
        "apprentissage",
        "question",
        "réponse",
        "pourquoi",
        "comment",
        "exemple",
        "chat",
        "assistant",
        "utilisateur",
        "fichier",
        "ligne",
        "erreur",
        "format",
        "époque",
        "coût",
        "prix",
        "vérifie",
        "envoie",
    ]
    systems = [
        "Tu es un assistant qui répond toujours COUCOU.",
        "Tu réponds en une phrase, poliment.",
        "Tu es un professeur de mathématiques patient.",
    ]
    replies = ["COUCOU", "Bien sûr !", "Je ne sais pas.", "Voici la réponse : 42."]
    lines = []
    for i in range(n):
        q = " ".join(rng.choice(words) for _ in range(rng.randint(4, 30)))
        a = (
            rng.choice(replies)
            if rng.random() < 0.7
            else " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))
        )
        msgs = [
            {"role": "system", "content": rng.choice(systems)},
            {"role": "user", "content": f"{q} ({i})"},
            {"role": "assistant", "content": a},
        ]
        lines.append(json.dumps({"messages": msgs}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def baseline(data: bytes, model: str) -> int:
    """The Cookbook's loop: load every line, encode every message value."""
    enc = tokens.encoding_for(model)
    total = 0
    for line in data.decode("utf-8").splitlines():
        ex = json.loads(line)
        n = 3
        for message in ex["messages"]:
            n += 3
            for key, value in message.items():
                n += len(enc.encode(value))
                if key == "name":
                    n += 1
        total += n
    return total


def best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    model = models.DEFAULT_MODEL
    data = generate(N)
    tokens.encoding_for(model).encode("warm up")
    base_total = baseline(data, model)
    report = dataset.check_bytes(data, model)
    assert sum(report.token_counts) == base_total, (
        "the check must count exactly what the Cookbook counts"
    )
    assert report.ok and len(report.examples) == N, report.summary()[:500]
    t_base = best_of(lambda: baseline(data, model))
    t_check = best_of(lambda: dataset.check_bytes(data, model))
    t_full = best_of(lambda: dataset.check_bytes(data, model).token_counts)
    speed_base, speed_check = N / t_base, N / t_check
    ratio = speed_check / speed_base
    print(f"file: {N} examples, {len(data) / 1e6:.1f} MB, {model}")
    print(
        f"baseline (json.loads + tiktoken encode, no checks): {speed_base:10,.0f} examples/s  ({t_base:.2f} s)"
    )
    print(
        f"helpers.dataset.check_bytes (all checks):           {speed_check:10,.0f} examples/s  ({t_check:.2f} s)"
    )
    print(
        f"  + exact token counts for stats/cost (lazy):        {N / t_full:10,.0f} examples/s  ({t_full:.2f} s)"
    )
    print(f"ratio: {ratio:.2f}x (target ≥ {TARGET}x) {'OK' if ratio >= TARGET else 'BELOW TARGET'}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
