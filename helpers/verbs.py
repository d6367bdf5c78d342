"""The guide's command names and "did you mean": what `python -m helpers` accepts.

`cli` parses command lines with these names; `errors` uses `suggest` to name the right verb
when a message says "invalid choice". Pure data and string matching: imports nothing of the kit.
"""

from __future__ import annotations

import difflib
import re

VERBS = (
    "files.create",
    "files.list",
    "files.retrieve",
    "files.delete",
    "fine_tuning.jobs.create",
    "fine_tuning.jobs.retrieve",
    "fine_tuning.jobs.list",
    "fine_tuning.jobs.cancel",
    "fine_tuning.jobs.list_events",
    "fine_tuning.jobs.follow",
    "chat.completions.create",
    "models.list",
)
COMMANDS = ("api", "check", "eval", "doctor", "reset", "export", "class")
# Names from older SDKs and tutorials.
OLD_NAMES = {
    "fine_tunes.create": "fine_tuning.jobs.create",
    "fine_tunes.get": "fine_tuning.jobs.retrieve",
    "fine_tunes.list": "fine_tuning.jobs.list",
    "fine_tunes.follow": "fine_tuning.jobs.follow",
    "fine_tunes.cancel": "fine_tuning.jobs.cancel",
    "chatcompletion.create": "chat.completions.create",
    "completions.create": "chat.completions.create",
    "files.upload": "files.create",
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggest(wrong: str) -> str | None:
    """The verb the learner probably meant (`chat_completions.create` → `chat.completions.create`)."""
    low = wrong.strip().lower()
    if low in OLD_NAMES:
        return OLD_NAMES[low]
    by_norm = {_norm(v): v for v in VERBS}
    by_norm.update({_norm(k): v for k, v in OLD_NAMES.items()})
    if _norm(wrong) in by_norm:
        return by_norm[_norm(wrong)]
    close = difflib.get_close_matches(_norm(wrong), list(by_norm), n=1, cutoff=0.6)
    return by_norm[close[0]] if close else None
