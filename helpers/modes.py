"""The kit's modes and training engines: the one owner of their names and of what each implies.

A mode says where the notebooks' requests go (`settings.get_mode()` chooses it); an engine is
how the kit's own server trains (`helpers.kit_server`'s engines). Everything that depends on the
mode reads it from `TRAITS`, a table, instead of comparing names:

    >>> Mode("local").engine
    <Engine.LOCAL: 'local'>
    >>> Mode.OPENAI.traits.replayable
    False

Both enums are `str` subclasses: a mode is written to JSON and to the environment as its
plain name (`"sandbox"`), and read back with `Mode(name)` (ValueError for an unknown name).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Engine(str, enum.Enum):
    """How the kit's server trains: a simulation, or real training of an open model."""

    SIMULATED = "simulated"
    LOCAL = "local"

    def __str__(self) -> str:
        return self.value


class Mode(str, enum.Enum):
    """Where the notebooks' requests go."""

    SANDBOX = "sandbox"  # the kit's server, simulated training (the default)
    OPENAI = "openai"  # OpenAI's API, the learner's key
    LOCAL = "local"  # the kit's server, real training of an open model

    def __str__(self) -> str:
        return self.value

    @property
    def traits(self) -> ModeTraits:
        return TRAITS[self]

    @property
    def engine(self) -> Engine | None:
        """The kit server's engine that serves this mode (None: not the kit's server)."""
        return TRAITS[self].engine


@dataclass(frozen=True)
class ModeTraits:
    #: the kit server's engine behind the mode; None: OpenAI's servers
    engine: Engine | None
    #: a missing earlier step may be replayed automatically (free, on this machine)
    replayable: bool
    #: every job costs money
    paid: bool
    #: requests need the learner's OpenAI key
    needs_key: bool

    @property
    def kit_server(self) -> bool:
        """The kit's own server answers (the workspace's, or the class's): its frozen world,
        its workspace key, its ids; False: OpenAI's servers and today's real date."""
        return self.engine is not None


TRAITS: dict[Mode, ModeTraits] = {
    Mode.SANDBOX: ModeTraits(engine=Engine.SIMULATED, replayable=True, paid=False, needs_key=False),
    Mode.LOCAL: ModeTraits(engine=Engine.LOCAL, replayable=True, paid=False, needs_key=False),
    Mode.OPENAI: ModeTraits(engine=None, replayable=False, paid=True, needs_key=True),
}

#: The organisation part of the fine-tunes each engine names (`ft:{base}:{org}:{suffix}:{id8}`):
#: a model's name says which mode trained it.
MODEL_ORG: dict[Engine, str] = {Engine.SIMULATED: "sandbox", Engine.LOCAL: "local"}

DEFAULT_MODE = Mode.SANDBOX
MODE_NAMES: tuple[str, ...] = tuple(m.value for m in Mode)
ENGINE_NAMES: tuple[str, ...] = tuple(e.value for e in Engine)


def mode_of_engine(engine: Engine) -> Mode:
    """The mode the kit server's `engine` serves."""
    return next(mode for mode, traits in TRAITS.items() if traits.engine is engine)


def trained_in(model: str) -> Mode | None:
    """Which mode trained the fine-tune `model`, read from its name (`ft:base:org:…`): the kit
    server's engines name their own organisation (`MODEL_ORG`), any other is OpenAI's. None for
    a name that is not a fine-tune's."""
    parts = model.split(":")
    if not model.startswith("ft:") or len(parts) < 3:
        return None
    for engine, org in MODEL_ORG.items():
        if parts[2] == org:
            return mode_of_engine(engine)
    return Mode.OPENAI
