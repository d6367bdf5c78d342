"""helpers.heap: a notebook's kernel gives its freed memory back after each cell (glibc), as
the kit server does after a burst of requests. (How much it gives back is measured by
bench/class_memory.py, not asserted here.)"""

from __future__ import annotations

import pytest

from helpers import heap


class _Events:
    def __init__(self) -> None:
        self.registered: list[tuple[str, object]] = []

    def register(self, event: str, callback: object) -> None:
        self.registered.append((event, callback))


class _Shell:
    def __init__(self) -> None:
        self.events = _Events()


@pytest.fixture
def trims(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(heap, "_malloc_trim", lambda: calls.append)
    monkeypatch.setattr(heap, "_after_cells", set())
    return calls


def test_release_trims_after_collecting(trims, monkeypatch):
    import gc

    order: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *a: order.append("collect") or 0)
    heap.release()
    assert order == ["collect"] and trims == [0]


def test_a_shell_releases_after_each_cell_registered_once(trims):
    shell = _Shell()
    assert heap.release_after_each_cell(shell) is True
    assert heap.release_after_each_cell(shell) is True  # a banner run again: still one hook
    ((event, callback),) = shell.events.registered
    assert event == "post_run_cell"
    callback(object())  # IPython passes the cell's result
    assert trims == [0]


def test_nothing_to_do_without_glibc_or_outside_a_kernel(monkeypatch):
    monkeypatch.setattr(heap, "_after_cells", set())
    assert heap.release_after_each_cell(None) is False
    monkeypatch.setattr(heap, "_malloc_trim", lambda: None)
    shell = _Shell()
    assert heap.release_after_each_cell(shell) is False and shell.events.registered == []
    heap.release()  # collects only: no error


def test_the_banner_turns_it_on_in_a_notebook(trims):
    """Every course notebook starts with `notebook.banner()`: from then on, each cell ends
    by giving the kernel's freed memory back."""
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    from helpers import notebook

    shell = InteractiveShell.instance()
    errors_on = notebook._french_errors_on
    try:
        shell.run_cell("from helpers import notebook; notebook.banner()")
        assert trims == [0]  # the banner's own cell already ended with it
        shell.run_cell("x = [bytes(1000) for _ in range(1000)]; del x")
        assert trims == [0, 0]
    finally:
        shell.events.callbacks["post_run_cell"] = [
            c for c in shell.events.callbacks["post_run_cell"] if c is not heap._after_cell
        ]
        shell.set_custom_exc((), None)
        notebook._french_errors_on = errors_on
        InteractiveShell.clear_instance()
