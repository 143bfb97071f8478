"""Atomic file replacement: a save either completes or leaves the old file intact."""
from __future__ import annotations

import os
import tempfile


def _mode_for(path: str) -> int:
    """Keep an existing file's permissions; a new one gets the umask's (mkstemp uses 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write(path, write) -> None:
    """Call ``write(f)`` on a temp file beside ``path``, fsync it, rename it over ``path``.

    The temp file is in the same directory (a rename is atomic only within one file
    system); the directory is fsynced too so the rename survives a crash. On any
    failure the temp file is removed and ``path`` is untouched."""
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if hasattr(os, "chmod"):
            os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except (OSError, AttributeError):
        return  # no directory handles here (Windows, some in-page file systems)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
