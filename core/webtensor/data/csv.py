"""``tf.data.experimental.CsvDataset`` and ``make_csv_dataset``: CSV files, parsed in Python.

String columns are Python ``bytes`` per element (webtensor has no string dtype); batched, they
are a ``Strings`` holding a list of bytes. Numeric columns are Tensors as in TF.
"""

from __future__ import annotations

import array
import collections
import csv
import glob
import io

from .. import dtypes as D
from ..errors import InvalidArgumentError
from ..io.tfrecord import read_file_bytes
from ..spec import TensorSpec
from ..tensor import Tensor, convert
from . import structure as S
from .dataset import UNKNOWN, Dataset
from .text import file_names

STRING = "string"


class Strings(S._Opaque):
    """A batch of string values (a list of bytes): what a string column batches to."""

    def __init__(self, values):
        self.values = list(values)

    shape = property(lambda self: (len(self.values),))

    def numpy(self):
        return list(self.values)

    def __eq__(self, other):
        return isinstance(other, Strings) and other.values == self.values

    def __repr__(self):
        return f"Strings({self.values!r})"


def _column(default, i: int):
    """(dtype or STRING, default or None when required) from one ``record_defaults`` entry."""
    if isinstance(default, (list, tuple)):
        if len(default) > 1:
            raise ValueError(f"CsvDataset: record_defaults[{i}] must hold at most one value, got {default}")
        default = default[0] if default else None
        if default is None:
            raise ValueError(f"CsvDataset: record_defaults[{i}] is empty; give a dtype for a required column")
    if isinstance(default, D.DType) or default is str or default is bytes or default == STRING:
        return (STRING if not isinstance(default, D.DType) else default), None
    if isinstance(default, Tensor):
        if default.shape.num_elements() == 0:
            return default.dtype, None
        return default.dtype, default.numpy().tolist() if default.shape.rank else default.numpy().item()
    if isinstance(default, bytes):
        return STRING, default
    if isinstance(default, str):
        return STRING, default.encode()
    if isinstance(default, bool):
        raise TypeError(f"CsvDataset: record_defaults[{i}]: bool columns are not supported by TF's CSV reader")
    if isinstance(default, int):
        return D.int32, default
    if isinstance(default, float):
        return D.float32, default
    raise TypeError(f"CsvDataset: record_defaults[{i}] must be a dtype, a scalar or a one-value list, got {default!r}")


def _parse_field(text: str, dtype, default, col: int, line: int, path: str, na_value: str):
    if text == "" or (na_value and text == na_value):
        if default is None:
            raise InvalidArgumentError(
                f"CsvDataset: field {col} is required but missing in record at line {line} of {path}"
            )
        return default
    if dtype == STRING:
        return text.encode("utf-8", "surrogateescape")  # the file's bytes, as TF's tf.string
    try:
        return int(text) if dtype.is_integer else float(text)
    except ValueError:
        raise InvalidArgumentError(
            f"CsvDataset: field {col} in record at line {line} of {path} is not a valid {dtype.name}: {text!r}"
        ) from None


def _rows(path, comp, header, delim, quote, op):
    """(line number, fields) for each record of one file."""
    # surrogateescape: bytes that are not UTF-8 pass through to string columns (TF's CSV reader
    # is bytewise) and fail numeric ones with the line number, instead of a UnicodeDecodeError
    text = read_file_bytes(path, comp, op).decode("utf-8", "surrogateescape")
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delim,
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
        strict=True,
    )
    try:
        for row in reader:
            if header and reader.line_num == 1:
                continue
            if not row:
                continue
            yield reader.line_num, row
    except csv.Error as e:
        raise InvalidArgumentError(f"{op}: malformed CSV at line {reader.line_num} of {path}: {e}") from None


def _leaf(v, dtype):
    return v if dtype == STRING else convert(v, dtype)


_ARRAY_CODES = {"float32": "f", "float64": "d", "int32": "i", "int64": "q"}  # a buffer converts in one copy


def _py(v):
    """A parsed field as a Python value (defaults may be given as tensors)."""
    return v.numpy().tolist() if hasattr(v, "numpy") else v


class CsvDataset(Dataset):
    """One tuple per record, one component per selected column, typed by ``record_defaults``."""

    def __init__(
        self,
        filenames,
        record_defaults,
        compression_type=None,
        buffer_size=None,
        header=False,
        field_delim=",",
        use_quote_delim=True,
        na_value="",
        select_cols=None,
        exclude_cols=None,
        name=None,
    ):
        self._files = file_names(filenames, "CsvDataset")
        self._cols = [_column(d, i) for i, d in enumerate(record_defaults)]
        if select_cols is not None and exclude_cols is not None:
            raise ValueError("CsvDataset: give `select_cols` or `exclude_cols`, not both")
        if select_cols is not None:
            sel = list(select_cols)
            if sel != sorted(set(sel)):
                raise ValueError(f"CsvDataset: select_cols must be increasing and unique, got {sel}")
            if len(sel) != len(self._cols):
                raise ValueError(f"CsvDataset: {len(sel)} select_cols but {len(self._cols)} record_defaults")
        self._select, self._exclude = select_cols, set(exclude_cols or ())
        self._comp, self._header, self._delim = compression_type, bool(header), field_delim
        self._quote, self._na = use_quote_delim, na_value

    def _elements(self):
        for path in self._files:
            for line, row in _rows(path, self._comp, self._header, self._delim, self._quote, "CsvDataset"):
                yield self._record(row, line, path)

    def _raw(self):
        """The records as tuples of Python values (``bytes`` for strings): no tensor per field."""
        for path in self._files:
            for line, row in _rows(path, self._comp, self._header, self._delim, self._quote, "CsvDataset"):
                yield self._values(row, line, path)

    def _record(self, row, line, path):
        return tuple(_leaf(v, dt) for v, (dt, _) in zip(self._values(row, line, path), self._cols))

    def _values(self, row, line, path):
        idx = self._select if self._select is not None else [i for i in range(len(row)) if i not in self._exclude]
        if self._select is None and len(idx) != len(self._cols):
            raise InvalidArgumentError(
                f"CsvDataset: expect {len(self._cols)} fields but have {len(idx)} in record at line {line} of {path}"
            )
        if self._select is not None and idx[-1] >= len(row):
            raise InvalidArgumentError(
                f"CsvDataset: record at line {line} of {path} has {len(row)} fields; "
                f"select_cols asks for column {idx[-1]}"
            )
        return tuple(_py(_parse_field(row[c], dt, d, c, line, path, self._na)) for c, (dt, d) in zip(idx, self._cols))

    def _spec(self):
        return tuple(S.StringSpec() if dt == STRING else TensorSpec([], dt) for dt, _ in self._cols)

    def _card(self) -> int:
        return UNKNOWN


def _infer(values: list):
    """TF's inference order: int32, int64, float32, else string (empty fields are skipped)."""
    vals = [v for v in values if v != ""]
    for conv, dtype in ((int, D.int32), (float, D.float32)):
        try:
            nums = [conv(v) for v in vals]
        except ValueError:
            continue
        if dtype is D.int32 and any(not -(2**31) <= n < 2**31 for n in nums):
            return D.int64
        return dtype
    return STRING


def _default_for(dtype):
    """The ``record_defaults`` entry for an inferred column type (empty fields become 0 / b"")."""
    if dtype == STRING:
        return b""
    return convert(0.0 if dtype.is_floating else 0, dtype)


class _CsvBatches(Dataset):
    """make_csv_dataset's pipeline: (features OrderedDict, label) batches."""

    def __init__(self, files, names, cols, label, batch_size, epochs, shuffle, buffer, seed, drop, opts):
        self._files, self._names, self._cols, self._label = files, names, cols, label
        self._bs, self._epochs, self._shuffle, self._buffer, self._seed = batch_size, epochs, shuffle, buffer, seed
        self._drop, self._opts = drop, opts

    def _records(self):
        """Python-valued records in column order, one epoch after another, each epoch shuffled
        as ``shuffle(buffer, seed).repeat(epochs)`` would (the epoch number reseeds the order)."""
        import itertools
        import random

        from ..ops.random import _key
        from .transforms import _shuffled

        sel = [self._names.index(n) for n in self._cols]
        ds = CsvDataset(self._files, [self._cols[n] for n in self._cols], select_cols=sorted(sel), **self._opts)
        order = [sorted(sel).index(i) for i in sel]
        k0, k1 = _key(self._seed) if self._shuffle else (0, 0)
        seed = (k0 << 96) | (k1 << 64)
        epochs = itertools.count() if self._epochs is None or self._epochs < 0 else range(int(self._epochs))
        for epoch in epochs:
            rows = (tuple(r[k] for k in order) for r in ds._raw())
            seen = 0
            for r in _shuffled(rows, self._buffer, random.Random(seed | epoch)) if self._shuffle else rows:
                seen += 1
                yield r
            if not seen:
                return  # repeating an empty file ends, as repeat() does

    def _elements(self):
        names = list(self._cols)
        dtypes = [_column(self._cols[n], 0)[0] for n in names]
        batch = []
        for rec in self._records():
            batch.append(rec)
            if len(batch) == self._bs:
                yield self._pack(batch, names, dtypes)
                batch = []
        if batch and not self._drop:
            yield self._pack(batch, names, dtypes)

    def _pack(self, batch, names, dtypes):
        """One tensor per column per batch, straight from the Python values."""
        feats = collections.OrderedDict()
        for j, (n, dt) in enumerate(zip(names, dtypes)):
            col = [r[j] for r in batch]
            if dt == STRING:
                feats[n] = Strings(col)
                continue
            code = _ARRAY_CODES.get(dt.name)
            try:
                feats[n] = convert(array.array(code, col) if code else col, dt)
            except OverflowError:
                raise InvalidArgumentError(
                    f"make_csv_dataset: a value of column {n!r} does not fit in {dt.name}"
                ) from None
        if self._label is None:
            return feats
        return feats, feats.pop(self._label)

    def _spec(self):
        def spec(dt):
            return Strings([]) if dt == STRING else TensorSpec([self._bs if self._drop else None], dt)

        feats = collections.OrderedDict((n, spec(_column(d, 0)[0])) for n, d in self._cols.items())
        if self._label is None:
            return feats
        return feats, feats.pop(self._label)


def make_csv_dataset(
    file_pattern,
    batch_size: int,
    column_names=None,
    column_defaults=None,
    label_name=None,
    select_columns=None,
    field_delim=",",
    use_quote_delim=True,
    na_value="",
    header=True,
    num_epochs=None,
    shuffle=True,
    shuffle_buffer_size=10000,
    shuffle_seed=None,
    prefetch_buffer_size=None,
    num_parallel_reads=None,
    sloppy=False,
    num_rows_for_inference=100,
    compression_type=None,
    ignore_errors=False,
) -> Dataset:
    """Batches of (OrderedDict of columns, label column) from CSV files; types inferred from the
    first ``num_rows_for_inference`` rows when ``column_defaults`` is not given."""
    files = _expand(file_pattern)
    if int(batch_size) <= 0:
        raise InvalidArgumentError(f"make_csv_dataset: batch_size must be > 0, got {batch_size}")
    rows = []
    for line, row in _rows(files[0], compression_type, False, field_delim, use_quote_delim, "make_csv_dataset"):
        rows.append(row)
        if len(rows) > num_rows_for_inference:
            break
    if column_names is None:
        if not header or not rows:
            raise ValueError("make_csv_dataset: give `column_names` when the files have no header")
        column_names = rows[0]
    names = list(column_names)
    data = rows[1:] if header else rows
    if column_defaults is None:
        column_defaults = [_default_for(_infer([r[i] for r in data if i < len(r)])) for i in range(len(names))]
    if len(column_defaults) != len(names):
        raise ValueError(f"make_csv_dataset: {len(column_defaults)} column_defaults for {len(names)} columns")
    keep = names if select_columns is None else [names[c] if isinstance(c, int) else c for c in select_columns]
    for n in keep + ([label_name] if label_name is not None else []):
        if n not in names:
            raise ValueError(f"make_csv_dataset: column {n!r} is not one of {names}")
    if label_name is not None and label_name not in keep:
        raise ValueError(f"make_csv_dataset: label_name {label_name!r} must be among select_columns {keep}")
    cols = collections.OrderedDict((n, column_defaults[names.index(n)]) for n in keep)
    opts = dict(
        compression_type=compression_type,
        header=header,
        field_delim=field_delim,
        use_quote_delim=use_quote_delim,
        na_value=na_value,
    )
    return _CsvBatches(
        files,
        names,
        cols,
        label_name,
        int(batch_size),
        num_epochs,
        shuffle,
        shuffle_buffer_size,
        shuffle_seed,
        False,
        opts,
    )


def _expand(file_pattern) -> list:
    pats = file_pattern if isinstance(file_pattern, (list, tuple)) else [file_pattern]
    files = []
    for p in pats:
        hits = sorted(glob.glob(str(p)))
        if not hits:
            from ..errors import NotFoundError

            raise NotFoundError(f"make_csv_dataset: no files match {p!r}")
        files.extend(hits)
    return files
