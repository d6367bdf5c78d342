"""Who plans when, in one server process: fair between workspaces (the class server's tenants).

Planning a job (`plan.make_plan`) is CPU work that grows with its files (the dataset check is
linear; the small model is fitted on a bounded sample). In one process:

- each workspace plans one job at a time (`turn`: a student's twenty jobs plan one after the
  other);
- a small plan (files under `LARGE_BYTES`) runs at once in the caller's thread (`compute`):
  it never waits for another workspace;
- a large plan runs in a process of its own (Python's threads share one interpreter lock: a
  plan of 100,000 examples in a thread slowed every other request of the server several
  times), and takes one of `SLOTS` shared slots, in arrival order, so a few students' huge
  files cannot hold the memory of many plans at once.

So one student's heavy job never delays another student's small one; heavy jobs of several
students take turns, first come first served. (Before: one slot for the whole process, and a
12-example job waited behind a 100,000-example one for minutes.)
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

LARGE_BYTES = 512 * 1024
SLOTS = max(1, min(4, os.cpu_count() or 1))


class Planners:
    """One plan per workspace at a time; large plans share `slots` slots in arrival order."""

    def __init__(self, slots: int = SLOTS, large: int = LARGE_BYTES) -> None:
        self.slots, self.large = slots, large
        self._guard = threading.Lock()
        self._workspaces: dict[str, tuple[threading.Lock, int]] = {}  # lock, holders + waiters
        self._slots = threading.Condition()
        self._queue: collections.deque[object] = collections.deque()
        self._running = 0

    @contextlib.contextmanager
    def turn(self, workspace: str) -> Iterator[None]:
        """Wait for this workspace's turn to plan."""
        lock = self._enter(workspace)
        try:
            with lock:
                yield
        finally:
            self._leave(workspace)

    def compute(self, size: int, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` for a plan reading `size` bytes: here when small, else in a process of
        its own once a shared slot is free (`fn` and its arguments must pickle)."""
        if size < self.large:
            return fn(*args)
        with self._slot():
            return in_own_process(fn, *args)

    def _enter(self, workspace: str) -> threading.Lock:
        with self._guard:
            lock, users = self._workspaces.get(workspace, (threading.Lock(), 0))
            self._workspaces[workspace] = (lock, users + 1)
            return lock

    def _leave(self, workspace: str) -> None:
        with self._guard:
            lock, users = self._workspaces[workspace]
            if users <= 1:  # nobody else holds or waits: forget it (tenants come and go)
                del self._workspaces[workspace]
            else:
                self._workspaces[workspace] = (lock, users - 1)

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        ticket = object()
        with self._slots:
            self._queue.append(ticket)
            while self._queue[0] is not ticket or self._running >= self.slots:
                self._slots.wait()
            self._queue.popleft()
            self._running += 1
            self._slots.notify_all()
        try:
            yield
        finally:
            with self._slots:
                self._running -= 1
                self._slots.notify_all()


def in_own_process(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a fresh process (spawned: safe beside the server's threads), at a lower
    priority than the server's (the class's requests and small plans go first on a busy
    machine), which exits after it, giving back the memory of a large plan."""
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=lower_priority
    ) as pool:
        return pool.submit(fn, *args).result()


def lower_priority() -> None:
    """Be nicer to the machine's other processes (Unix; elsewhere nothing)."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(10)


#: The process's planners (every engine of the process, e.g. every student of a class server).
PLANNERS = Planners()
