"""Damaged files of the workspace: find them, set them aside, salvage what can be read back.

`python -m helpers doctor` reports them (`find`); `python -m helpers doctor --repair` repairs
them (`repair`). A damaged file is never deleted: it is renamed beside itself
(`state.json.abime-20261207-153012`). The files:

- `state.json` (the saved mode, each step's ids): cut short, hand-edited into another shape,
  or a folder of that name. The ids that can still be read in it are written back to a new
  state file, so a notebook does not redo (or pay for again) a step it had done.
- `sandbox.sqlite3` (the sandbox's files, jobs and models): a file SQLite cannot read. The
  workspace's kit server is stopped first; the next notebook starts it on a new database and
  replays the earlier steps (sandbox and local modes cost nothing).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from . import settings, workspace
from .exceptions import DamagedFileError
from .fileio import set_aside
from .i18n import _

#: Below this much free space, the workspace is reported as full (its server cannot start).
MIN_FREE_BYTES = 16 * 1024 * 1024


@dataclass
class Found:
    """A damaged file and its French diagnosis."""

    path: Path
    error: DamagedFileError


def find(home: Path | None = None) -> list[Found]:
    """The workspace's damaged files (read only: nothing is changed)."""
    from .kit_server import database

    home = Path(home) if home is not None else settings.workspace_dir()
    found = []
    try:
        settings.load_state()
    except DamagedFileError as err:
        found.append(Found(Path(err.path), err))
    db = database.check(home)
    if db is not None:
        found.append(Found(Path(db.path), db))
    return found


def free_space(home: Path | None = None) -> int | None:
    """Bytes free for the workspace (None when unknown)."""
    try:
        return shutil.disk_usage(home if home is not None else settings.workspace_dir()).free
    except OSError:
        return None


def repair(home: Path | None = None) -> list[str]:
    """Set every damaged file aside and salvage what can be; what was done, in French lines."""
    from .kit_server import database

    home = Path(home) if home is not None else settings.workspace_dir()
    done = []
    for item in find(home):
        if item.path.name == database.DB_NAME:
            from . import kit_server

            kit_server.shutdown(home)  # the server holds the file open
            moved = database.set_aside(home)
            done.append(
                _(
                    "🔧 {name} mis de côté sous {new_name} (rien n'est effacé) : le bac à sable "
                    "repartira d'une base neuve, et les notebooks referont d'eux-mêmes les étapes "
                    "d'avant."
                ).format(name=item.path.name, new_name=moved[0].name)
            )
            continue
        text = _text_of(item.path)
        moved_path = set_aside(item.path)
        kept = workspace.salvage(text)
        if kept:
            settings.save_state(kept)
        names = sorted({n for records in kept.get("runs", {}).values() for n in records})
        if "mode" in kept:
            names.insert(0, "mode")
        done.append(
            _("🔧 {name} mis de côté sous {new_name} (rien n'est effacé)").format(
                name=item.path.name, new_name=moved_path.name
            )
            + (
                _(" ; repris dans un nouveau {name} : {names}.").format(
                    name=item.path.name, names=", ".join(names)
                )
                if names
                else _(" ; rien n'a pu y être relu : un nouveau {name} repart de zéro.").format(
                    name=item.path.name
                )
            )
        )
    return done


def _text_of(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:  # a folder of that name, unreadable: nothing to salvage
        return ""
