"""File sources shared by ``TextLineDataset``, ``TFRecordDataset`` and ``CsvDataset``: a list of
file names (a string, a list, or a dataset of names) read one file after another."""

from __future__ import annotations

from ..errors import InvalidArgumentError
from ..io.tfrecord import read_file_bytes
from . import structure as S
from .dataset import UNKNOWN, Dataset


def file_names(filenames, op: str) -> list:
    """``filenames`` as a list of str: one name, a list/tuple of names, or a Dataset of them."""
    if isinstance(filenames, Dataset):
        filenames = list(filenames._iterate())
    if isinstance(filenames, (str, bytes)) or hasattr(filenames, "__fspath__"):
        filenames = [filenames]
    names = []
    for f in filenames:
        if isinstance(f, bytes):
            f = f.decode()
        if hasattr(f, "__fspath__"):
            f = f.__fspath__()
        if not isinstance(f, str):
            raise TypeError(f"{op}: `filenames` must be strings, got {type(f).__name__}")
        names.append(f)
    if not names:
        raise InvalidArgumentError(f"{op}: `filenames` is empty")
    return names


def split_lines(data: bytes) -> list:
    """Lines as TF's TextLineDataset gives them: without '\\n' or a trailing '\\r'; a final line
    without a newline counts, an empty file has none."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]


class TextLineDataset(Dataset):
    """``tf.data.TextLineDataset(filenames, compression_type)``: one ``bytes`` element per line.

    Elements are Python ``bytes`` (webtensor has no string dtype); ``map`` functions receive them."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        self._files = file_names(filenames, "TextLineDataset")
        self._comp = compression_type

    def _elements(self):
        for f in self._files:
            yield from split_lines(read_file_bytes(f, self._comp, "TextLineDataset"))

    def _spec(self):
        return S.StringSpec()

    def _card(self) -> int:
        return UNKNOWN
