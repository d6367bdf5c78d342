"""fileio.write_atomic: all or nothing, permissions, never through a symbolic link."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from helpers.fileio import write_atomic


def test_writes_bytes_and_text(tmp_path):
    path = tmp_path / "a.txt"
    assert write_atomic(path, b"\x00\xff") == path and path.read_bytes() == b"\x00\xff"
    write_atomic(str(path), "é\n")
    assert path.read_bytes() == "é\n".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_mode_applies_and_default_follows_umask(tmp_path):
    secret = write_atomic(tmp_path / ".env", "KEY=x\n", mode=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    old = os.umask(0o022)
    try:
        plain = write_atomic(tmp_path / "plain.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o644


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")
def test_replaces_a_symlink_instead_of_writing_through_it(tmp_path):
    target = tmp_path / "shared.env"
    target.write_text("SHARED=1\n")
    link = tmp_path / ".env"
    link.symlink_to(target)
    write_atomic(link, "KEY=x\n", mode=0o600)
    assert not link.is_symlink() and link.read_text() == "KEY=x\n"
    assert target.read_text() == "SHARED=1\n"


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "d.jsonl"
    path.write_text("old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        write_atomic(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["d.jsonl"]


def test_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "none" / "x.txt", "x")
