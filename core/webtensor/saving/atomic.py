"""Atomic file replacement: a save either completes or leaves the old file intact."""

from __future__ import annotations

import os
import tempfile
import time

try:
    import fcntl
except ImportError:  # Windows, the page: stale temp files are told by age instead
    fcntl = None

STALE_AGE = 3600  # seconds: without file locks, an untouched temp file this old is stale


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
    prefix = "." + os.path.basename(path) + "."
    remove_stale(folder, prefix)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            _lock(f)
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


def _lock(f) -> None:
    """Hold a lock on our temp file while it is written: a process killed mid-save
    (SIGKILL) releases it, which is how the next save tells its temp file is stale."""
    if fcntl is not None:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # a file system without locks: the age rule applies


def _stale(tmp: str) -> bool:
    if fcntl is None:
        return time.time() - os.stat(tmp).st_mtime > STALE_AGE
    fd = os.open(tmp, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True  # nobody holds it: its writer is gone
    except OSError:
        return False  # a save of the same target is under way in another process
    finally:
        os.close(fd)


def remove_stale(folder: str, prefix: str) -> int:
    """Delete temp files an interrupted save of the same target left (``.name.*.tmp``);
    returns how many."""
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            tmp = os.path.join(folder, name)
            try:
                if _stale(tmp):
                    os.unlink(tmp)
                    removed += 1
            except OSError:
                pass  # gone already, or not ours to remove
    return removed
