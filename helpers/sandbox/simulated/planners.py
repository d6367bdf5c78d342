"""Who plans when, in one server process: fair between workspaces (the class server's tenants).

Planning a job (`plan.make_plan`) is CPU work that grows with its files (the dataset check is
linear; the small model is fitted on a bounded sample). In one process:

- each workspace plans one job at a time (a student's twenty jobs plan one after the other);
- a small plan (files under `LARGE_BYTES`) never waits for another workspace;
- a large plan also takes one of `SLOTS` shared slots, in arrival order, so a few students'
  huge files cannot hold the memory of many plans at once.

So one student's heavy job never delays another student's small one; heavy jobs of several
students take turns, first come first served. (Before: one slot for the whole process, and a
12-example job waited behind a 100,000-example one for minutes.)
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
from collections.abc import Iterator

LARGE_BYTES = 4 * 1024 * 1024
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
    def turn(self, workspace: str, size: int) -> Iterator[None]:
        """Wait for this workspace's turn (and a shared slot when `size` bytes is large)."""
        lock = self._enter(workspace)
        try:
            with lock:
                if size < self.large:
                    yield
                    return
                with self._slot():
                    yield
        finally:
            self._leave(workspace)

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


#: The process's planners (every engine of the process, e.g. every student of a class server).
PLANNERS = Planners()
