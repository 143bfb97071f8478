"""``tf.io.gfile``: TF's file API over local paths (Pyodide's file system in the page).

TF's errors: a missing path is ``tf.errors.NotFoundError``, an existing destination
``tf.errors.AlreadyExistsError`` (both ``OSError``-like ``OpError``s)."""

from __future__ import annotations

import glob as _glob
import os
import shutil

from ..errors import AlreadyExistsError, NotFoundError


def _p(path) -> str:
    return os.fsdecode(path.numpy() if hasattr(path, "numpy") else path)


def exists(path) -> bool:
    return os.path.exists(_p(path))


def isdir(path) -> bool:
    return os.path.isdir(_p(path))


def glob(pattern) -> list:
    return sorted(_glob.glob(_p(pattern)))


def listdir(path) -> list:
    p = _p(path)
    if not os.path.isdir(p):
        raise NotFoundError(f"gfile.listdir: {p} is not a directory (or does not exist)")
    return sorted(os.listdir(p))


def makedirs(path) -> None:
    os.makedirs(_p(path), exist_ok=True)


def mkdir(path) -> None:
    p = _p(path)
    if os.path.exists(p):
        raise AlreadyExistsError(f"gfile.mkdir: {p} already exists")
    if not os.path.isdir(os.path.dirname(os.path.abspath(p))):
        raise NotFoundError(f"gfile.mkdir: the parent of {p} does not exist (use makedirs)")
    os.mkdir(p)


def remove(path) -> None:
    p = _p(path)
    if not os.path.isfile(p):
        raise NotFoundError(f"gfile.remove: {p} is not a file (or does not exist)")
    os.remove(p)


def rmtree(path) -> None:
    p = _p(path)
    if not os.path.isdir(p):
        raise NotFoundError(f"gfile.rmtree: {p} is not a directory (or does not exist)")
    shutil.rmtree(p)


def _dest(src: str, dst: str, overwrite: bool, op: str) -> None:
    if not os.path.exists(src):
        raise NotFoundError(f"gfile.{op}: {src} does not exist")
    if os.path.exists(dst) and not overwrite:
        raise AlreadyExistsError(f"gfile.{op}: {dst} already exists (pass overwrite=True)")


def copy(src, dst, overwrite=False) -> None:
    s, d = _p(src), _p(dst)
    _dest(s, d, overwrite, "copy")
    shutil.copyfile(s, d)


def rename(src, dst, overwrite=False) -> None:
    s, d = _p(src), _p(dst)
    _dest(s, d, overwrite, "rename")
    os.replace(s, d)


def walk(top, topdown=True, onerror=None):
    """(dirname, subdirs, files) as os.walk, sorted for reproducibility."""
    for root, dirs, files in os.walk(_p(top), topdown=topdown, onerror=onerror):
        dirs.sort()
        yield root, dirs, sorted(files)


class _Stat:
    def __init__(self, st, path):
        self.length, self.mtime_nsec, self.is_directory = st.st_size, st.st_mtime_ns, os.path.isdir(path)


def stat(path) -> _Stat:
    p = _p(path)
    if not os.path.exists(p):
        raise NotFoundError(f"gfile.stat: {p} does not exist")
    return _Stat(os.stat(p), p)


class GFile:
    """``tf.io.gfile.GFile``: a file object; mode as ``open`` ("r" text, "rb" bytes)."""

    def __init__(self, name, mode: str = "r"):
        p = _p(name)
        if "r" in mode and not os.path.exists(p):
            raise NotFoundError(f"GFile: {p}; No such file or directory")
        self.name, self.mode = p, mode
        self._f = open(p, mode)

    def read(self, n: int = -1):
        return self._f.read(n)

    def readline(self):
        return self._f.readline()

    def readlines(self):
        return self._f.readlines()

    def write(self, data) -> None:
        if "b" in self.mode and isinstance(data, str):
            data = data.encode()
        elif "b" not in self.mode and isinstance(data, bytes):
            data = data.decode()
        self._f.write(data)

    def seek(self, offset: int, whence: int = 0):
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def size(self) -> int:
        return os.path.getsize(self.name)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    def __iter__(self):
        return iter(self._f)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


Open = GFile
