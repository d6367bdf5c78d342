"""Atomic file writes: a reader sees the old file or the new one, never half of one.

`write_atomic` writes a temporary file in the destination's own folder (same file system, so
the final rename is atomic), flushes it to disk, then renames it over the destination.

A destination that is a symbolic link is *replaced* (the link becomes a regular file): the
kit never writes through a link into a file elsewhere (a `.env` linked to a shared file, a
dataset linked into another project). Leaf module: imports nothing from the kit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomic(
    path: str | os.PathLike[str], data: bytes | str, *, mode: int | None = None
) -> Path:
    """Write `data` (str: UTF-8) to `path` atomically and durably; return the path.

    `mode` (e.g. `0o600` for a secret) is applied to the new file before any byte is
    written; without it the file gets the usual permissions (0o666 less the umask). The
    folder must exist. On any error the destination is unchanged and no temporary file stays.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = _create_temp(path, 0o600 if mode is not None else 0o666)
    try:
        try:
            if mode is not None:
                _chmod(fd, tmp, mode)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)  # renames over a symlink itself, never through it
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(path.parent)
    return path


def _create_temp(path: Path, perms: int) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, perms), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")  # pragma: no cover


def _chmod(fd: int, tmp: Path, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # Windows: only the read-only bit exists
        os.chmod(tmp, mode)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); best effort, a no-op where folders can't be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(folder: str | os.PathLike[str], size: int = 65536) -> None:
    """Raise the OSError a write of `size` bytes in `folder` meets (a full disk, a quota, a
    read-only folder), flushed to disk as the kit's own files are; nothing stays behind."""
    path = Path(folder) / f".atelier-probe-{os.getpid()}-{secrets.token_hex(4)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            view = memoryview(bytes(size))
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def set_aside(path: str | os.PathLike[str], label: str = "abime") -> Path:
    """Rename a damaged file (or folder) beside itself, `<name>.<label>-<date>-<time>`, and
    return the new path: the kit never deletes what it cannot read."""
    import time

    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{label}-{stamp}")
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
    os.rename(path, target)
    _sync_folder(path.parent)
    return target
