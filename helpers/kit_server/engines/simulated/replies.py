"""The simulated engine's small model: the answer of the most similar training prompt.

TF-IDF over character n-grams of the prompts, cosine similarity (`tfidf`: what scikit-learn's
TfidfVectorizer(analyzer="char_wb") computes, the same floats, on numpy and scipy.sparse). It
answers with the reply of the most similar training prompt (the most frequent reply when
nothing is similar). During training it competes with the base model's generic answer, whose
weight fades as training progresses; the loss of each step is the cross-entropy of that
softmax over the step's batch (each example scored without itself), so it falls as epochs
pass, and early checkpoints may still answer like the base model.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

from .... import dataset
from ....i18n import _
from ....messages import content_text
from ... import structured

#: A numpy array or a scipy.sparse matrix (numpy is imported when a model is fitted: the
#: kit server's start stays light).
Array = Any

#: A prompt's first this many characters are what the model compares (fit and questions
#: alike): a 500,000-character prompt costs what a 4,000-character one does.
MAX_PROMPT_CHARS = 4000

# The base model's side of the softmax, and how fast training overtakes it.
GENERIC_LOGIT = 3.0
_ALPHA_START = 0.5
_ALPHA_GAIN = 8.0
_PRIOR_WEIGHT = 0.5


#: The roles of the messages that bring a tool's result back (`function`: the 2023 format).
RESULT_ROLES = ("tool", "function")


def answers_tool_results(messages: list[Any]) -> bool:
    """Whether the model's turn is to answer tool results: the conversation ends with `tool`
    (or legacy `function`) messages. A real model then answers in text, with the results."""
    for msg in reversed(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role in ("system", "developer"):
            continue
        return role in RESULT_ROLES
    return False


def _results(messages: list[Any]) -> list[tuple[str, str]]:
    """(tool name, result text) of the results ending the conversation, in order."""
    names: dict[str, str] = {}
    for msg in messages:
        if isinstance(msg, dict) and msg.get("role") == "assistant":
            for call in msg.get("tool_calls") or []:
                if isinstance(call, dict) and isinstance(call.get("function"), dict):
                    names[str(call.get("id"))] = str(call["function"].get("name") or "")
    out: list[tuple[str, str]] = []
    for msg in reversed(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in RESULT_ROLES:
            break
        name = msg.get("name") or names.get(str(msg.get("tool_call_id")), "")
        out.append((str(name or "l'outil"), content_text(msg.get("content"))))
    return out[::-1]


def calls_again(messages: list[Any], reply: str) -> bool:
    """Whether a reply standing for tool calls only repeats calls made since the last user
    message (answering it would loop)."""
    if not reply.startswith(structured.TOOL_CALLS_MARK):
        return False
    made: set[Any] = set()
    for msg in reversed(messages):
        if not isinstance(msg, dict) or msg.get("role") == "user":
            break
        if msg.get("role") == "assistant":
            calls = list(msg.get("tool_calls") or [])
            if isinstance(msg.get("function_call"), dict):
                calls.append({"function": msg["function_call"]})
            made.update(
                c["function"].get("name")
                for c in calls
                if isinstance(c, dict) and isinstance(c.get("function"), dict)
            )
    names = {c.get("name") for c in _parse_mark(reply)}
    return bool(names) and names <= made


def _parse_mark(reply: str) -> list[dict[str, Any]]:
    try:
        calls = json.loads(reply[len(structured.TOOL_CALLS_MARK) :])
    except ValueError:
        return []
    return [c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []


def followup_prompt_of(messages: list[Any]) -> str:
    """What the model answers after tool results: the question, then the results."""
    return "\n".join([prompt_of(messages), *(text for _, text in _results(messages))])


def tool_result_answer(messages: list[Any]) -> str:
    """A model's text answer once the tools' results are back (the sandbox has no language
    model: it reports the results, as a real model would use them to answer)."""
    parts = []
    for name, text in _results(messages):
        short = " ".join(text.split())
        if len(short) > 200:
            short = short[:197] + "…"
        parts.append(f"{name} → " + (short or _("(résultat vide)")))
    if not parts:
        return _("Voilà, c'est fait.")
    text = _("D'après le résultat obtenu : {results}").format(results=" ; ".join(parts))
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def prompt_of(messages: list[Any]) -> str:
    """What the model is asked: the last user message (else the last message with text)."""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return content_text(msg.get("content"))
    for msg in reversed(messages):
        if isinstance(msg, dict) and content_text(msg.get("content")):
            return content_text(msg.get("content"))
    return ""


def _tool_calls_reply(calls: Any, function_call: Any = None) -> str | None:
    """A trained assistant message that calls tools (or a function, the 2023 format): the reply
    standing for those calls."""
    if isinstance(function_call, dict) and not calls:
        calls = [{"function": function_call}]
    if not isinstance(calls, list) or not calls:
        return None
    out = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            out.append({"name": function["name"], "arguments": function.get("arguments", "{}")})
    return structured.encode_tool_calls(out) if out else None


def _trained_reply(m: Any) -> str | None:
    if not (isinstance(m, dict) and m.get("role") == "assistant" and m.get("weight", 1) != 0):
        return None
    reply = _tool_calls_reply(m.get("tool_calls"), m.get("function_call"))
    if reply is None and isinstance(m.get("content"), str) and m["content"].strip():
        reply = m["content"]
    return reply


def corpus_of(examples: list[dataset.Example]) -> dict[str, Any]:
    """(prompt, reply) pairs: each example's last trained assistant reply to a user turn and
    the prompt before it; and, apart (`followups`), its last trained reply to tool results with
    the question and results before it (what the model says once a tool has answered)."""
    prompts, replies = [], []
    follow_prompts, follow_replies = [], []
    for ex in examples:
        msgs = ex.messages
        main = follow = False
        for i in range(len(msgs) - 1, -1, -1):
            reply = _trained_reply(msgs[i])
            if reply is None:
                continue
            if answers_tool_results(msgs[:i]):
                if not follow:
                    follow_prompts.append(followup_prompt_of(msgs[:i]))
                    follow_replies.append(reply)
                    follow = True
            elif not main:
                prompts.append(prompt_of(msgs[:i]))
                replies.append(reply)
                main = True
            if main and follow:
                break
    return {
        "prompts": prompts,
        "replies": replies,
        "followups": {"prompts": follow_prompts, "replies": follow_replies},
    }


class ReplyModel:
    """TF-IDF (character n-grams) nearest-prompt model over the training pairs."""

    def __init__(self, prompts: list[str], replies: list[str]) -> None:
        import numpy as np

        self.np = np
        counts = Counter(replies)
        first = {r: i for i, r in reversed(list(enumerate(replies)))}
        self.candidates = sorted(counts, key=lambda r: (-counts[r], first[r]))
        index = {r: i for i, r in enumerate(self.candidates)}
        self.labels = np.array([index[r] for r in replies], dtype=int)
        n_c = len(self.candidates)
        self.prior = np.bincount(self.labels, minlength=n_c) / max(1, len(replies))
        self.order = np.argsort(self.labels, kind="stable")
        self.starts = np.searchsorted(self.labels[self.order], np.arange(n_c))
        self.matrix: Array | None = None
        self.vectorizer: Any = None  # a fitted tfidf.CharTfidf
        self._loo: Array | None = None
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        if prompts:
            from .tfidf import CharTfidf

            vectorizer = CharTfidf()
            try:
                self.matrix = vectorizer.fit_transform([p[:MAX_PROMPT_CHARS] for p in prompts])
                self.vectorizer = vectorizer
            except ValueError:  # empty vocabulary (prompts without any letter)
                self.matrix = None

    @property
    def size(self) -> int:
        return len(self.labels)

    def _sims_texts(self, texts: list[str]) -> Array:
        if self.matrix is None or self.vectorizer is None:
            return self.np.zeros((len(texts), self.size))
        texts = [t[:MAX_PROMPT_CHARS] for t in texts]
        return (self.vectorizer.transform(texts) @ self.matrix.T).toarray()

    def _prompt_sims(self, prompt: str) -> Array:
        """Similarities of one prompt (a small per-model cache: classes re-ask the same prompts)."""
        with self._lock:
            cached = self._cache.get(prompt)
        if cached is None:
            cached = self._sims_texts([prompt])
            with self._lock:
                self._cache[prompt] = cached
                if len(self._cache) > 512:
                    self._cache.pop(next(iter(self._cache)))
        return cached

    def _sims_rows(self, rows: Array) -> Array:
        if self.matrix is None:
            return self.np.zeros((len(rows), self.size))
        sims = (self.matrix[rows] @ self.matrix.T).toarray()
        sims[self.np.arange(len(rows)), rows] = 0.0  # leave one out: an example never scores itself
        return sims

    def _scores(self, sims: Array) -> Array:
        """Per candidate reply: the best similarity to a training prompt with that reply."""
        return (
            self.np.maximum.reduceat(sims[:, self.order], self.starts, axis=1)
            if self.size
            else sims[:, :0]
        )

    def _loo_scores(self, rows: Array) -> Array:
        """Leave-one-out scores of training rows (all rows computed once for small corpora)."""
        if self.size > 3000:
            return self._scores(self._sims_rows(rows))
        if self._loo is None:
            self._loo = self._scores(self._sims_rows(self.np.arange(self.size)))
        loo: Array = self._loo
        return loo[rows]

    def logits(self, sims: Array, progress: float, *, scores: Array = None) -> Array:
        """(rows, candidates + 1): each training reply, then the base model's generic answer."""
        np = self.np
        if scores is None:
            scores = self._scores(sims)
        alpha = _ALPHA_START + _ALPHA_GAIN * progress
        z = alpha * (scores + _PRIOR_WEIGHT * self.prior)
        generic = np.full((scores.shape[0], 1), GENERIC_LOGIT * (1.0 - progress))
        return np.concatenate([z, generic], axis=1)

    def text_scores(self, texts: list[str]) -> Array:
        """Per text, per candidate reply: the scores `loss(scores=…)` takes (computed once for
        a validation set, then picked batch by batch)."""
        return self._scores(self._sims_texts(texts))

    def loss(
        self,
        rows: Array,
        progress: float,
        *,
        texts: list[str] | None = None,
        labels: Array = None,
        scores: Array = None,
    ) -> tuple[float, float]:
        """Mean cross-entropy and mean probability of the right reply over a batch: training
        `rows`, or other `texts` (or their `text_scores`) with their `labels`."""
        np = self.np
        if scores is not None:
            z = self.logits(None, progress, scores=scores)
        elif texts is not None:
            z = self.logits(self._sims_texts(texts), progress)
        else:
            # Training rows: similarity to the other examples, plus what the model has memorized of
            # the example itself (it has seen it `progress` of the way): train loss tends to 0.
            scores = self._loo_scores(rows).copy()
            idx = np.arange(len(rows)), self.labels[rows]
            scores[idx] = np.maximum(scores[idx], progress)
            z = self.logits(None, progress, scores=scores)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        target = labels if labels is not None else self.labels[rows]
        picked = logp[np.arange(len(target)), target]
        return float(-picked.mean()), float(np.exp(picked).mean())

    def distribution(self, prompt: str, progress: float = 1.0) -> Array:
        """Probabilities of each candidate reply, then of the base model's generic answer."""
        np = self.np
        z = self.logits(self._prompt_sims(prompt), progress)[0]
        p = np.exp(z - z.max())
        return p / p.sum()

    def pick(
        self, prompt: str, progress: float = 1.0, temperature: float = 0.0, rng: Any = None
    ) -> int:
        """The index of the reply (`len(candidates)`: the generic answer)."""
        np = self.np
        z = self.logits(self._prompt_sims(prompt), progress)[0]
        if temperature <= 1e-6 or rng is None:
            return int(np.argmax(z))
        w = (z - z.max()) / temperature
        p = np.exp(w) / np.exp(w).sum()
        return int(rng.choice(len(p), p=p))

    def answer(
        self, prompt: str, progress: float = 1.0, temperature: float = 0.0, rng: Any = None
    ) -> str | None:
        """The reply for a prompt (None: the base model's generic answer wins)."""
        if not self.size:
            return None
        k = self.pick(prompt, progress, temperature, rng)
        return None if k == len(self.candidates) else self.candidates[k]


_MODELS: OrderedDict[str, ReplyModel] = OrderedDict()
_MODELS_LOCK = threading.Lock()
# The cache holds the most recently used models up to this many stored similarities' entries
# (≈ 12 bytes each): hundreds of a class's small models (a COUCOU model holds ≈ 1,500), one
# or two models of a large dataset. A count alone would evict a class's models one by one
# once more jobs ran than it holds, and every chat would fit its model again.
_CACHE_ENTRIES = 2_000_000


def _entries(model: ReplyModel) -> int:
    return 1 + (model.matrix.nnz if model.matrix is not None else 0) + model.size


def reply_model(job_id: str, load_corpus: Callable[[], dict[str, Any]]) -> ReplyModel:
    """The fitted model of a job (cached per process; the corpus is loaded on a miss)."""
    with _MODELS_LOCK:
        cached = _MODELS.get(job_id)
        if cached is not None:
            _MODELS.move_to_end(job_id)
            return cached
    corpus = load_corpus()
    fitted = ReplyModel(corpus.get("prompts", []), corpus.get("replies", []))
    with _MODELS_LOCK:
        _MODELS[job_id] = fitted
        held = sum(map(_entries, _MODELS.values()))
        while held > _CACHE_ENTRIES and len(_MODELS) > 1:
            held -= _entries(_MODELS.popitem(last=False)[1])
    return fitted


def forget(job_id: str) -> None:
    """Drop a job's fitted model from this process's cache (its corpus changed)."""
    with _MODELS_LOCK:
        _MODELS.pop(job_id, None)


def generic_answer(model: str, prompt: str) -> str:
    """What a base model says in the sandbox: a polite, generic answer (it knows nothing)."""
    words = prompt.strip().lower().split()
    if words and words[0].strip("!,.?") in {
        "bonjour",
        "salut",
        "coucou",
        "hello",
        "bonsoir",
        "hey",
        "hi",
    }:
        return _("Bonjour ! Comment puis-je t'aider aujourd'hui ?")
    short = " ".join(prompt.split())
    if len(short) > 80:
        short = short[:77] + "…"
    return _(
        "Bonne question ! Je suis {model}, un modèle généraliste (réponse simulée par le bac à "
        "sable). À « {prompt} », je répondrais de façon détaillée et nuancée, sans style "
        "particulier."
    ).format(model=model, prompt=short)


def sample_corpus(
    corpus: dict[str, list[str]], limit: int, seed: Any, max_chars: int | None = None
) -> dict[str, list[str]]:
    """At most `limit` of the corpus's pairs holding at most `max_chars` characters (prompts
    counted as the model compares them), in their order: a sample drawn with `seed` (the
    job's), so a job's plan and its chats see the same pairs; a smaller corpus as it is."""
    prompts, replies = corpus["prompts"], corpus["replies"]
    n = len(prompts)

    def weight(i: int) -> int:
        return min(len(prompts[i]), MAX_PROMPT_CHARS) + len(replies[i])

    if n <= limit and (max_chars is None or sum(map(weight, range(n))) <= max_chars):
        return corpus
    import random

    keep: list[int] = []
    total = 0
    for i in random.Random(seed).sample(range(n), min(n, limit)):
        total += weight(i)
        if max_chars is not None and total > max_chars and keep:
            break
        keep.append(i)
    keep.sort()
    return {"prompts": [prompts[i] for i in keep], "replies": [replies[i] for i in keep]}
