"""Give freed memory back to the system: the kit server after a burst of requests, a
notebook's kernel after each cell.

glibc keeps what a process frees for its later allocations (one arena per thread that
allocated), so a process that waits holds the peak of its last work. A class's host counts
every process that waits: one student's kit server and a kernel per notebook, none shut down
(bench/class_memory.py, bench/hub_class.py). `malloc_trim(0)` returns the free pages of every
arena; garbage cycles are collected first, so that what they held is free too. Where the C
library is not glibc (macOS, Windows, musl), nothing is trimmed. Leaf module: imports nothing
from the kit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def release() -> None:
    """Collect garbage cycles, then return the heap's free pages to the system (glibc)."""
    import gc

    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


_after_cells: set[int] = set()  # the shells that release after each cell


def release_after_each_cell(shell: Any) -> bool:
    """In a notebook's kernel (an IPython `shell`): `release()` after every cell, so that the
    kernel waits with what its notebook keeps, not with the peak of its last cell (a few MiB
    per kernel after a job or an evaluation; ≈ 35 ms per cell, most of it the collection).
    Only where there is something to trim (glibc: Linux, hubs). Returns whether it is on."""
    if shell is None or _malloc_trim() is None:
        return False
    if id(shell) not in _after_cells:
        shell.events.register("post_run_cell", _after_cell)
        _after_cells.add(id(shell))
    return True


def _after_cell(_result: Any = None) -> None:
    release()
