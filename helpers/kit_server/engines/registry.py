"""THE table of the kit server's engines: an engine's name (`helpers.modes.Engine`) → how to
build it.

Each entry imports its engine only when a server asks for it: the local engine needs torch,
transformers and peft (`local.check_usable` says in French what is missing), the simulated
one numpy and scipy. A new engine is one more entry here and one more member of
`helpers.modes.Engine`, nothing else: whoever needs an engine asks `make` or `check_usable`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...modes import Engine as EngineName
from ..contract import Clock, Engine, EngineFactory
from ..file_store import FileService


def _simulated() -> EngineFactory:
    from .simulated import SimulatedEngine

    return SimulatedEngine


def _local_usable() -> None:
    from . import local

    local.check_usable()  # torch, transformers and peft, or a French LocalModeUnavailable


def _local() -> EngineFactory:
    _local_usable()
    from . import local

    return local.LocalEngine


def _always_usable() -> None:
    """An engine with no requirement beyond the kit's own dependencies."""


@dataclass(frozen=True)
class Entry:
    #: the engine's class (its factory), imported on first use
    load: Callable[[], EngineFactory]
    #: raises (in French) when the engine cannot run on this machine, before a server starts
    check_usable: Callable[[], None]


ENGINES: dict[EngineName, Entry] = {
    EngineName.SIMULATED: Entry(load=_simulated, check_usable=_always_usable),
    EngineName.LOCAL: Entry(load=_local, check_usable=_local_usable),
}


def entry(name: EngineName | str) -> Entry:
    """The table's entry for an engine name (ValueError for a name that is no engine's)."""
    try:
        return ENGINES[EngineName(name)]
    except (ValueError, KeyError):
        raise ValueError(f"unknown kit server engine: {name!r}") from None


def make(
    name: EngineName | str, home: Path, files: FileService, clock: Clock = time.time
) -> Engine:
    """The engine called `name` over the workspace `home` and its file service."""
    return entry(name).load()(home, files, clock)


def check_usable(name: EngineName | str) -> None:
    """Raise (a French message) when the engine `name` cannot run here; a server would fail."""
    entry(name).check_usable()
