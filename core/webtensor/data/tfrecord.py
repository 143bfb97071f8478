"""``tf.data.TFRecordDataset``: the records of TFRecord files (TF's framing, CRC-checked)."""

from __future__ import annotations

from ..io.tfrecord import iter_records, read_file_bytes
from . import structure as S
from .dataset import UNKNOWN, Dataset
from .text import file_names


class TFRecordDataset(Dataset):
    """One ``bytes`` element per record, files read in order. Truncated or corrupt files raise
    ``DataLossError``, a missing file ``NotFoundError``, as in TF."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        self._files = file_names(filenames, "TFRecordDataset")
        self._comp = compression_type

    def _elements(self):
        for f in self._files:
            yield from iter_records(read_file_bytes(f, self._comp, "TFRecordDataset"), f)

    def _spec(self):
        return S.StringSpec()

    def _card(self) -> int:
        return UNKNOWN
