"""Did it work? A held-out set, a model's answers to it, the score — in every mode.

- `split(path, heldout=0.25, seed=0)` cuts a JSONL dataset in two, reproducibly and
  stratified by answer (each answer keeps its share in both parts). The two files and a
  record of the split go to the workspace (`evaluation/`) and later calls reuse them (same
  source, same settings): a new kernel, the command line and a classmate get the same split.
- `evaluate(model, data, …)` asks the model each held-out question at temperature 0, several
  requests at once (a small thread pool over one SDK client; the local engine batches them),
  compares each answer with the expected one — exactly, or `loose` (case, spaces and accents
  ignored) — and returns an `Evaluation`: accuracy, per class, confusion table, mistakes.
  Each run is written to the workspace (`evaluation/results/`) and, on a class server, sent
  to the teacher's page (`POST /kit/evaluations`).
- `few_shot_prompt(examples)`: the "good prompt" contender's system message (the answers
  listed, two examples).

The same comparison as a Promptfoo configuration: `helpers.promptfoo`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import settings
from .charts import Chart, bars, lines
from .exceptions import EvaluationError
from .fileio import write_atomic
from .i18n import N_, _
from .messages import content_text
from .modes import Mode
from .tables import Table, percent

Match = Literal["exact", "loose"]
MATCHES: tuple[Match, ...] = ("exact", "loose")
# How each comparison is described (translate when shown: `_(MATCH_FR[match])`).
MATCH_FR = {
    "exact": N_("comparaison exacte"),
    "loose": N_("sans tenir compte de la casse, des espaces ni des accents"),
}
# The three contenders of notebook 12, as the teacher's page shows them (translate when shown).
CONTENDERS = {
    "base": N_("modèle de base"),
    "prompt": N_("base + bon prompt"),
    "fine-tune": N_("modèle fine-tuné"),
}
FOLDER = "evaluation"
WORKERS = 4  # requests in flight at once, gentle with the API and the sandbox
#: Local mode generates the temperature-0 requests that arrive together as one batch (at most
#: 20, `helpers.local.generate`): the evaluation sends that many at once there.
WORKERS_BY_MODE: dict[Mode, int] = {Mode.LOCAL: 20}


def default_workers(mode: str | Mode) -> int:
    """How many questions an evaluation has in flight at once in `mode`."""
    return WORKERS_BY_MODE.get(Mode(mode), WORKERS)


OTHER = N_("(autre réponse)")  # the confusion table's column for answers outside the classes
# Message fields a chat request accepts (a dataset's `weight` is a training field only).
_REQUEST_FIELDS = ("role", "content", "name", "tool_calls", "tool_call_id")


# --------------------------------------------------------------------------- examples


def answer_of(example: dict[str, Any]) -> str:
    """The expected answer: the text of the example's last assistant message."""
    for message in reversed(_messages(example)):
        if message.get("role") == "assistant":
            return content_text(message.get("content"))
    raise EvaluationError(_("Cet exemple n'a pas de réponse « assistant » à comparer."))


def prompt_of(example: dict[str, Any], system: str | None = None) -> list[dict[str, Any]]:
    """What the model is asked: the messages before the last assistant message (`system`,
    when given, replaces the example's system message)."""
    messages = _messages(example)
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    if last is None:
        raise EvaluationError(_("Cet exemple n'a pas de réponse « assistant » à comparer."))
    asked = [{k: m[k] for k in _REQUEST_FIELDS if k in m} for m in messages[:last]]
    if system is not None:
        asked = [m for m in asked if m.get("role") != "system"]
        asked.insert(0, {"role": "system", "content": system})
    return asked


def question_of(example: dict[str, Any]) -> str:
    """The last user message before the answer (what a table shows as « question »)."""
    for message in reversed(prompt_of(example)):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def _messages(example: Any) -> list[dict[str, Any]]:
    messages = example.get("messages") if isinstance(example, dict) else None
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise EvaluationError(
            _("Chaque exemple doit avoir une liste « messages » (voir notebook 03).")
        )
    return messages


def normalize(text: str, match: Match = "exact") -> str:
    """The text compared: unchanged (`exact`), or lower case without accents nor whitespace
    (`loose`). `helpers.promptfoo` writes the same rule in JavaScript."""
    if match == "exact":
        return text
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return re.sub(r"\s+", "", bare).lower()


def check_match(match: str) -> Match:
    if match not in MATCHES:
        raise EvaluationError(
            _("Comparaison inconnue : {match}.").format(match=repr(match)),
            _("Choisis « exact » (par défaut) ou « loose » (casse, espaces et accents ignorés)."),
        )
    return match


def read_examples(path: str | Path) -> list[dict[str, Any]]:
    """The examples of a JSONL file, each with an answer to compare (French errors naming the
    line). Lighter than `dataset.read_jsonl`: no token counts, no minimum of 10 examples (a
    held-out set is often smaller)."""
    path = Path(path)
    if not path.is_file():
        raise EvaluationError(
            _("Fichier introuvable : {path}.").format(path=path),
            _(
                "Donne le chemin d'un fichier .jsonl (par exemple celui que "
                "helpers.evaluation.split a écrit)."
            ),
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise EvaluationError(
            _("{file} n'est pas un texte UTF-8.").format(file=path.name),
            _("Enregistre-le en UTF-8 (voir notebook 03)."),
        ) from None
    examples = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            example = json.loads(line)
        except json.JSONDecodeError as err:
            raise EvaluationError(
                _("{file}, ligne {line} : ce n'est pas du JSON valide ({problem}).").format(
                    file=path.name, line=line_no, problem=err.msg
                ),
                _(
                    "Corrige la ligne {line} ; `python -m helpers check {file}` explique chaque "
                    "problème."
                ).format(line=line_no, file=path.name),
            ) from None
        try:
            answer_of(example)
        except EvaluationError as err:
            raise EvaluationError(
                _("{file}, ligne {line} : {problem}").format(
                    file=path.name, line=line_no, problem=err
                ),
                err.fix,
            ) from None
        examples.append(example)
    return examples


def load(data: str | Path | Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Examples and a name for them, from a JSONL path or a list of examples."""
    if isinstance(data, (str, Path)):
        return read_examples(data), Path(data).name
    examples = list(data)
    for i, example in enumerate(examples, 1):
        try:
            answer_of(example)
        except EvaluationError as err:
            raise EvaluationError(
                _("Exemple n° {number} : {problem}").format(number=i, problem=err), err.fix
            ) from None
    return examples, _("(exemples en mémoire)")


# --------------------------------------------------------------------------- the split


@dataclass(frozen=True)
class Split:
    """A dataset cut in two: `train` to fine-tune on, `heldout` never shown to training."""

    source: Path
    train: Path
    heldout: Path
    seed: int
    fraction: float
    classes: dict[str, tuple[int, int]]  # answer -> (in train, held out)
    reused: bool = False

    @property
    def n_train(self) -> int:
        return sum(t for t, _ in self.classes.values())

    @property
    def n_heldout(self) -> int:
        return sum(h for _, h in self.classes.values())

    def describe(self) -> str:
        how = _("reprise telle qu'enregistrée") if self.reused else _("faite et enregistrée")
        lines = [
            _(
                "Découpe de {file} ({how}, graine {seed}) : {train} exemples pour "
                "l'entraînement, {heldout} mis de côté pour l'évaluation."
            ).format(
                file=self.source.name,
                how=how,
                seed=self.seed,
                train=self.n_train,
                heldout=self.n_heldout,
            ),
            _("  entraînement : {path}").format(path=self.train),
            _("  évaluation   : {path}").format(path=self.heldout),
        ]
        width = max((len(a) for a in self.classes), default=0)
        lines += [
            f"  {answer:{width}}  "
            + _("{train} entraînement · {heldout} évaluation").format(
                train=f"{t:3}", heldout=f"{h:2}"
            )
            for answer, (t, h) in self.classes.items()
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.describe()


def _digest(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def stratified_indices(answers: Sequence[str], fraction: float, seed: int) -> list[int]:
    """Indices to hold out: about `fraction` of each answer's examples (at least one when the
    answer has two or more, never all of them), drawn with `random.Random(seed)`; sorted."""
    groups: dict[str, list[int]] = {}
    for i, answer in enumerate(answers):
        groups.setdefault(answer, []).append(i)
    rng = random.Random(seed)
    held: list[int] = []
    for indices in groups.values():  # in order of first appearance: reproducible
        n = len(indices)
        k = min(n - 1, max(1 if n >= 2 else 0, round(n * fraction)))
        chosen = indices[:]
        rng.shuffle(chosen)
        held += chosen[:k]
    return sorted(held)


def split(
    path: str | Path,
    *,
    heldout: float = 0.25,
    seed: int = 0,
    folder: str | Path | None = None,
    say: Callable[[str], None] | None = None,
) -> Split:
    """Cut `path` into a training file and a held-out file, stratified by answer.

    Written to `folder` (default: the workspace's `evaluation/`) as `<name>.train.jsonl` and
    `<name>.heldout.jsonl`, with `<name>.split.json` recording the source's SHA-256 and the
    settings. A later call with the same source and settings reuses the files; a file that
    was edited by hand since is kept beside, as `….bak`, before the split is written again.
    """
    from .dataset import dumps_jsonl

    if not 0 < heldout < 1:
        raise EvaluationError(
            _("La part mise de côté doit être entre 0 et 1 (reçu {value}).").format(value=heldout),
            _("Par exemple heldout=0.25 : un quart des exemples de chaque réponse."),
        )
    source = Path(path)
    examples = read_examples(source)
    raw = source.read_bytes()
    answers = [answer_of(e) for e in examples]
    held = set(stratified_indices(answers, heldout, seed))
    train_text = dumps_jsonl(e for i, e in enumerate(examples) if i not in held)
    heldout_text = dumps_jsonl(e for i, e in enumerate(examples) if i in held)
    counts: dict[str, list[int]] = {}
    for i, answer in enumerate(answers):
        counts.setdefault(answer, [0, 0])[i in held] += 1
    classes = {a: (c[0], c[1]) for a, c in counts.items()}
    out = Path(folder) if folder is not None else settings.workspace_dir() / FOLDER
    stem = source.name.removesuffix(".jsonl")
    train, held_path = out / f"{stem}.train.jsonl", out / f"{stem}.heldout.jsonl"
    record = out / f"{stem}.split.json"
    wanted = {
        "source": str(source.resolve()),
        "source_sha256": _digest(raw),
        "seed": seed,
        "heldout": heldout,
        "train_sha256": _digest(train_text),
        "heldout_sha256": _digest(heldout_text),
    }
    try:
        before = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = {}
    reused = before == wanted and all(
        p.is_file() and _digest(p.read_bytes()) == wanted[k]
        for p, k in ((train, "train_sha256"), (held_path, "heldout_sha256"))
    )
    if not reused:
        out.mkdir(parents=True, exist_ok=True)
        for target, text, key in (
            (train, train_text, "train_sha256"),
            (held_path, heldout_text, "heldout_sha256"),
        ):
            if target.is_file():
                current = _digest(target.read_bytes())
                if current not in (_digest(text), before.get(key)):  # edited by hand: keep it
                    backup = target.with_name(f"{target.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
                    target.replace(backup)
                    (say or print)(
                        _(
                            "ℹ️ {file} avait été modifié : l'ancienne version est gardée dans "
                            "{backup}."
                        ).format(file=target.name, backup=backup.name)
                    )
            write_atomic(target, text)
        write_atomic(record, json.dumps(wanted, indent=2, ensure_ascii=False) + "\n")
    return Split(source, train, held_path, seed, heldout, classes, reused)


# --------------------------------------------------------------------------- the good prompt


def few_shot_prompt(
    examples: Sequence[dict[str, Any]], *, instruction: str | None = None, shots: int = 2
) -> str:
    """A system message for the base model: the instruction, every answer allowed, and
    `shots` examples (the first examples of different answers, in the dataset's order)."""
    if not examples:
        raise EvaluationError(_("Il faut au moins un exemple pour écrire le prompt."))
    if instruction is None:
        first = prompt_of(examples[0])
        instruction = next(
            (content_text(m.get("content")) for m in first if m.get("role") == "system"), ""
        )
    answers = list(dict.fromkeys(answer_of(e) for e in examples))
    picked: list[dict[str, Any]] = []
    seen: set[str] = set()
    for example in examples:
        if len(picked) == shots:
            break
        if answer_of(example) not in seen:
            seen.add(answer_of(example))
            picked.append(example)
    lines = [instruction.strip()] if instruction.strip() else []
    lines.append(
        _("Réponds par une seule de ces réponses, écrite exactement ainsi, sans rien d'autre :")
    )
    lines += [f"- {a}" for a in answers]
    lines.append(_("Exemples :"))
    for example in picked:
        lines.append(_("Question : {question}").format(question=question_of(example)))
        lines.append(_("Réponse : {answer}").format(answer=answer_of(example)))
    return "\n".join(lines)


# --------------------------------------------------------------------------- evaluating


@dataclass(frozen=True)
class Outcome:
    question: str
    expected: str
    answer: str
    correct: bool


def percent_fr(value: float, digits: int = 0) -> str:
    """« 83 % », « 83,3 % » in French (decimal comma, a narrow no-break space before %),
    "83%", "83.3%" in English: `tables.percent`, the learner's convention."""
    return percent(value, digits)


@dataclass
class Evaluation:
    """One model on one held-out set: every answer, and the figures that follow."""

    model: str
    label: str
    match: Match
    dataset: str
    outcomes: list[Outcome]
    mode: Mode
    simulated: bool
    system: str | None = None
    max_tokens: int | None = None
    created_at: float = field(default_factory=time.time)
    seconds: float = 0.0
    path: Path | None = None

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def correct(self) -> int:
        return sum(o.correct for o in self.outcomes)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def classes(self) -> list[str]:
        return list(dict.fromkeys(o.expected for o in self.outcomes))

    def per_class_counts(self) -> dict[str, tuple[int, int]]:
        """answer -> (right, total), in the held-out set's order."""
        counts: dict[str, list[int]] = {}
        for o in self.outcomes:
            c = counts.setdefault(o.expected, [0, 0])
            c[0] += o.correct
            c[1] += 1
        return {k: (v[0], v[1]) for k, v in counts.items()}

    def per_class(self) -> Table:
        """One row per expected answer: right, total, rate (%)."""
        rows = [[k, r, t, round(100 * r / t)] for k, (r, t) in self.per_class_counts().items()]
        return Table([_("réponse attendue"), _("justes"), _("total"), _("taux (%)")], rows)

    def confusion(self) -> Table:
        """Rows: the expected answer; columns: what the model answered (answers outside the
        classes grouped as « (autre réponse) »); each cell counts questions."""
        classes = self.classes
        other = _(OTHER)
        known = {normalize(c, self.match): c for c in classes}
        columns = [*classes, other]
        counts = {c: dict.fromkeys(columns, 0) for c in classes}
        for o in self.outcomes:
            counts[o.expected][known.get(normalize(o.answer, self.match), other)] += 1
        if not any(counts[c][other] for c in classes):
            columns.remove(other)
        rows = [[c, *(counts[c][k] for k in columns)] for c in classes]
        return Table([_("attendu ↓ / répondu →"), *columns], rows)

    def mistakes(self) -> Table:
        """The questions it got wrong: question, expected answer, the model's answer."""
        rows = [[o.question, o.expected, o.answer] for o in self.outcomes if not o.correct]
        return Table([_("question"), _("attendu"), _("réponse du modèle")], rows)

    def lines(self, *, mistakes: int = 10) -> list[str]:
        out = [
            _("Évaluation de {model} sur {dataset} ({total} exemples, {match})").format(
                model=self.model,
                dataset=self.dataset,
                total=self.total,
                match=_(MATCH_FR[self.match]),
            ),
            _("Justes : {correct}/{total} ({percent})").format(
                correct=self.correct, total=self.total, percent=percent(self.accuracy)
            ),
            _("Par réponse attendue :"),
        ]
        counts = self.per_class_counts()
        width = max((len(k) for k in counts), default=0)
        out += [f"  {k:{width}}  {r:3}/{t:<3} {percent(r / t):>6}" for k, (r, t) in counts.items()]
        wrong = [o for o in self.outcomes if not o.correct]
        if wrong:
            out.append(_("Erreurs ({n}) :").format(n=len(wrong)))
            for o in wrong[:mistakes]:
                out.append(
                    "  ❌ "
                    + _("{question} → {answer} (attendu : {expected})").format(
                        question=_short(o.question), answer=_short(o.answer), expected=o.expected
                    )
                )
            if len(wrong) > mistakes:
                out.append(
                    "  "
                    + _("… et {n} autres (voir le fichier de résultats)").format(
                        n=len(wrong) - mistakes
                    )
                )
        if self.simulated:
            out.append(
                _(
                    "⚠️ Bac à sable : chiffres simulés. Aucun modèle n'a été entraîné ni "
                    "interrogé : le « modèle fine-tuné » répond comme l'exemple d'entraînement le "
                    "plus ressemblant, le modèle de base par une phrase toute faite."
                )
            )
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict[str, Any]:
        return {
            "object": "atelier.evaluation",
            "model": self.model,
            "label": self.label,
            "match": self.match,
            "dataset": self.dataset,
            "mode": self.mode,
            "simulated": self.simulated,
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "system": self.system,
            "created_at": round(self.created_at, 3),
            "seconds": round(self.seconds, 3),
            "correct": self.correct,
            "total": self.total,
            "accuracy": self.accuracy,
            "per_class": {
                k: {"correct": r, "total": t} for k, (r, t) in self.per_class_counts().items()
            },
            "outcomes": [o.__dict__ for o in self.outcomes],
        }

    def save(self, folder: str | Path | None = None) -> Path:
        """Write the run to `folder` (default: the workspace's `evaluation/results/`)."""
        out = Path(folder) if folder is not None else settings.workspace_dir() / FOLDER / "results"
        out.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.created_at))
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{self.label}-{self.model}").strip("-")[:80]
        self.path = write_atomic(
            out / f"{stamp}-{slug}.json",
            json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n",
        )
        return self.path


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def auto_max_tokens(expected: Iterable[str]) -> int:
    """A cap on each answer's length: the longest expected answer in UTF-8 bytes, plus 8. A
    token is at least one byte, so a right answer always fits, and a longer one is wrong
    anyway: the cap only spares the time of a long wrong answer (a base model's essay)."""
    return max((len(e.encode("utf-8")) for e in expected), default=0) + 8


def default_label(model: str, system: str | None) -> str:
    if model.startswith("ft:"):
        return "fine-tune"
    return "prompt" if system else "base"


def evaluate(
    model: str,
    data: str | Path | Sequence[dict[str, Any]],
    *,
    match: Match = "exact",
    system: str | None = None,
    label: str | None = None,
    workers: int | None = None,
    max_tokens: int | Literal["auto"] | None = "auto",
    progress: bool = True,
    save: bool = True,
    share: bool = True,
    client: Any = None,
) -> Evaluation:
    """Ask `model` every example of `data` (a JSONL path or examples) at temperature 0 and
    compare its answers with the expected ones. `system` replaces the examples' system message
    (the prompt contender). `workers` requests are in flight at once (None: the mode's
    `default_workers`). The run is saved in the
    workspace (`save`) and, on a class server, shown on the teacher's page (`share`)."""
    match = check_match(match)
    examples, name = load(data)
    if not examples:
        raise EvaluationError(_("Aucun exemple à évaluer dans {name}.").format(name=name))
    expected = [answer_of(e) for e in examples]
    prompts = [prompt_of(e, system) for e in examples]
    cap = auto_max_tokens(expected) if max_tokens == "auto" else max_tokens
    if client is None:
        from .client import client as make

        client = make()
    mode = settings.get_mode()
    start = time.perf_counter()
    if workers is None:
        workers = default_workers(mode)
    answers, fingerprints = ask_all(
        client, model, prompts, max_tokens=cap, workers=workers, progress=progress
    )
    outcomes = [
        Outcome(question_of(e), want, got, normalize(got, match) == normalize(want, match))
        for e, want, got in zip(examples, expected, answers, strict=True)
    ]
    result = Evaluation(
        model=model,
        label=label or default_label(model, system),
        match=match,
        dataset=name,
        outcomes=outcomes,
        mode=mode,
        simulated="fp_sandbox" in fingerprints,
        system=system,
        max_tokens=cap,
        seconds=time.perf_counter() - start,
    )
    if save:
        result.save()
    if share:
        share_with_class(result)
    return result


def ask_all(
    client: Any,
    model: str,
    prompts: Sequence[list[dict[str, Any]]],
    *,
    max_tokens: int | None,
    workers: int = WORKERS,
    progress: bool = True,
) -> tuple[list[str], set[str]]:
    """Each prompt's answer at temperature 0 (in order), `workers` requests at once; and the
    servers' `system_fingerprint`s. The first error stops the rest and is raised."""
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    def one(messages: list[dict[str, Any]]) -> tuple[str, str]:
        params: dict[str, Any] = {"model": model, "messages": messages, "temperature": 0}
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        completion = client.chat.completions.create(**params)
        text = completion.choices[0].message.content or "" if completion.choices else ""
        return text, getattr(completion, "system_fingerprint", None) or ""

    bar = _bar(len(prompts), model) if progress else None
    answers: list[str] = [""] * len(prompts)
    prints: set[str] = set()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="atelier-eval")
    try:
        futures = {pool.submit(one, p): i for i, p in enumerate(prompts)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                text, fingerprint = future.result()  # raises the first error
                answers[futures[future]] = text
                prints.add(fingerprint)
                if bar is not None:
                    bar.update(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    return answers, prints


def _bar(total: int, model: str) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=_("Évaluation"),
        unit=_("question"),
        file=sys.stderr,
        leave=False,
        postfix=model if len(model) < 50 else model[:47] + "…",
    )


def compare(evaluations: Sequence[Evaluation]) -> Table:
    """One row per contender: model, right answers, total, accuracy (%)."""
    rows = [
        [_contender(e.label), e.model, e.correct, e.total, round(100 * e.accuracy)]
        for e in evaluations
    ]
    return Table([_("candidat"), _("modèle"), _("justes"), _("total"), _("taux (%)")], rows)


def _contender(label: str) -> str:
    """A contender's name as the learner reads it (a label of one's own stays as it is)."""
    return _(CONTENDERS[label]) if label in CONTENDERS else label


def per_class_table(evaluations: Sequence[Evaluation]) -> Table:
    """Rows: the expected answers; one column per contender: its rate (%) on that answer."""
    classes = list(dict.fromkeys(k for e in evaluations for k in e.per_class_counts()))
    rows = []
    for k in classes:
        row: list[Any] = [k]
        for e in evaluations:
            right, total = e.per_class_counts().get(k, (0, 0))
            row.append(round(100 * right / total) if total else None)
        rows.append(row)
    return Table(
        [_("réponse attendue (taux en %)"), *(_contender(e.label) for e in evaluations)],
        rows,
    )


def chart(evaluations: Sequence[Evaluation]) -> Chart:
    """A bar per contender: its rate of right answers (%) on the held-out questions."""
    return bars(
        [_contender(e.label) for e in evaluations],
        [round(100 * e.accuracy) for e in evaluations],
        title=_("Réponses justes sur les questions mises de côté"),
        ylabel=_("réponses justes (%)"),
        top=100,
        colors=("#90a4ae", "#ffb74d", "#43a047"),
    )


def _measured(rows: Sequence[dict[str, float | None]], key: str) -> tuple[list[float], list[float]]:
    """(steps, values) of the rows where `key` was measured."""
    steps: list[float] = []
    values: list[float] = []
    for row in rows:
        step, value = row.get("step"), row.get(key)
        if step is not None and value is not None:
            steps.append(step)
            values.append(value)
    return steps, values


def loss_chart(rows: Sequence[dict[str, float | None]]) -> Chart:
    """Training loss at every step and validation loss where it was measured (the rows of
    `jobs.result_rows`; a job without a validation file: the training loss alone)."""
    training, validation = _("entraînement"), _("validation")
    series: dict[str, tuple[Sequence[float], Sequence[float]]] = {
        training: _measured(rows, "train_loss")
    }
    valid = _measured(rows, "valid_loss")
    if valid[0]:
        series[validation] = valid
    return lines(
        series,
        title=_("Perte : entraînement et validation") if valid[0] else _("Perte d'entraînement"),
        xlabel=_("étape"),
        ylabel=_("perte"),
        markers=(validation,),
    )


# --------------------------------------------------------------------------- the class


SHARE_PATH = "/kit/evaluations"


def summary_for_class(result: Evaluation) -> dict[str, Any]:
    """What the teacher's page receives: figures only, never the questions or answers."""
    return {
        "label": result.label,
        "model": result.model,
        "dataset": result.dataset,
        "match": result.match,
        "correct": result.correct,
        "total": result.total,
        "simulated": result.simulated,
    }


def share_with_class(result: Evaluation) -> bool:
    """On a class server (`ATELIER_CLASS_URL`), send the run's figures to the teacher's page
    (one plain POST, as this student). False when there is no class server or it refused."""
    import urllib.error
    import urllib.request

    served = settings.class_server() if Mode(result.mode).traits.kit_server else None
    if served is None:
        return False
    url, key = served
    request = urllib.request.Request(
        url.removesuffix("/v1") + SHARE_PATH,
        data=json.dumps(summary_for_class(result)).encode("utf-8"),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the class server
            return 200 <= answer.status < 300
    except (urllib.error.URLError, OSError):
        print(
            _("⚠️ Le serveur de la classe n'a pas reçu ce résultat (il est gardé dans ton espace).")
        )
        return False
