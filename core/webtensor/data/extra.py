"""More tf.data: ``Dataset.random``, ``group_by_window``, ``bucket_by_sequence_length``,
``rejection_resample``, ``Options``/``with_options``, and ``save``/``load``.

``save`` writes a directory of our own layout (not TF's snapshot protobufs): ``element_spec.json``
plus TFRecord shards whose records hold each component as ``tf.io.serialize_tensor`` bytes."""

from __future__ import annotations

import json
import os
import random

from .. import dtypes as D
from .. import nest
from ..errors import InvalidArgumentError, NotFoundError
from ..ops.random import _key
from ..spec import TensorSpec
from ..tensor import Tensor, constant, convert
from . import structure as S
from .dataset import INFINITE, UNKNOWN, Dataset


def _scalar_int(v, op: str, what: str) -> int:
    t = v if isinstance(v, Tensor) else convert(v)
    if t.shape.rank != 0 or not t.dtype.is_integer:
        raise InvalidArgumentError(
            f"{op}: `{what}` must return a scalar integer tensor, got shape {t.shape} dtype {t.dtype.name}"
        )
    return int(t)


# -- Dataset.random ------------------------------------------------------------------------------


class RandomDataset(Dataset):
    """Infinite int64 scalars drawn uniformly (seeded like ``tf.random``; not TF's numbers)."""

    def __init__(self, seed=None, rerandomize_each_iteration=None):
        self._seed, self._rerandomize = seed, bool(rerandomize_each_iteration)
        self._fixed = _key(seed) if not self._rerandomize else None

    def _elements(self):
        k0, k1 = self._fixed if self._fixed is not None else _key(self._seed)
        rng = random.Random((k0 << 64) | k1)
        while True:
            yield constant(rng.randrange(-(1 << 63), 1 << 63), D.int64)

    def _spec(self):
        return TensorSpec((), D.int64)

    def _card(self) -> int:
        return INFINITE


# -- group_by_window / bucket_by_sequence_length -------------------------------------------------


class GroupByWindowDataset(Dataset):
    """Elements grouped by ``key_func``; each full window (and, at the end, each partial one in
    ascending key order, as TF's sorted map) goes through ``reduce_func(key, window_dataset)``."""

    def __init__(self, input, key_func, reduce_func, window_size=None, window_size_func=None):
        if (window_size is None) == (window_size_func is None):
            raise ValueError("group_by_window: give exactly one of `window_size` and `window_size_func`")
        if window_size is not None:
            n = _scalar_int(window_size, "group_by_window", "window_size")
            if n <= 0:
                raise InvalidArgumentError(f"group_by_window: window_size must be positive, got {n}")
            window_size_func = lambda key: n  # noqa: E731
        self._input, self._key, self._reduce, self._size = input, key_func, reduce_func, window_size_func

    def _window(self, key, items):
        from .more import _ListDataset

        out = self._reduce(constant(key, D.int64), _ListDataset(items, self._input.element_spec))
        if not isinstance(out, Dataset):
            raise TypeError(f"group_by_window: `reduce_func` must return a Dataset, got {type(out).__name__}")
        return out._iterate()

    def _elements(self):
        groups: dict = {}
        sizes: dict = {}
        for e in self._input._iterate():
            k = _scalar_int(S.call(self._key, e), "group_by_window", "key_func")
            if k not in sizes:
                sizes[k] = _scalar_int(self._size(constant(k, D.int64)), "group_by_window", "window_size_func")
                if sizes[k] <= 0:
                    raise InvalidArgumentError(
                        f"group_by_window: window size for key {k} must be positive, got {sizes[k]}"
                    )
            groups.setdefault(k, []).append(e)
            if len(groups[k]) == sizes[k]:
                yield from self._window(k, groups.pop(k))
        for k in sorted(groups):
            yield from self._window(k, groups[k])

    def _spec(self):
        from .more import _ListDataset

        probe = _ListDataset([S.dummy(self._input.element_spec, 1, 0)], self._input.element_spec)
        out = self._reduce(constant(0, D.int64), probe)
        return out.element_spec

    def _card(self) -> int:
        return INFINITE if self._input._card() == INFINITE else UNKNOWN


def bucket_by_sequence_length(
    element_length_func,
    bucket_boundaries,
    bucket_batch_sizes,
    padded_shapes=None,
    padding_values=None,
    pad_to_bucket_boundary=False,
    no_padding=False,
    drop_remainder=False,
):
    """``tf.data.experimental.bucket_by_sequence_length`` (also ``Dataset.bucket_by_sequence_length``):
    bucket ``i`` holds lengths in ``[boundaries[i-1], boundaries[i])`` and batches
    ``bucket_batch_sizes[i]`` elements, padded to the longest (or to the boundary - 1)."""
    bounds = [int(b) for b in bucket_boundaries]
    sizes = [int(b) for b in bucket_batch_sizes]
    if len(sizes) != len(bounds) + 1:
        raise ValueError(
            f"len(bucket_batch_sizes) must equal len(bucket_boundaries) + 1, got {len(sizes)} and {len(bounds)}"
        )
    if any(b >= c for b, c in zip(bounds, bounds[1:])) or any(b <= 0 for b in bounds):
        raise ValueError(f"bucket_boundaries must be positive and increasing, got {bounds}")

    def bucket(*args):
        n = _scalar_int(element_length_func(*args), "bucket_by_sequence_length", "element_length_func")
        return constant(sum(1 for b in bounds if n >= b), D.int64)

    def batching(dataset):
        def reduce(key, window):
            k = int(key)
            if no_padding:
                return window.batch(sizes[k], drop_remainder=drop_remainder)
            shapes = padded_shapes
            if pad_to_bucket_boundary:
                if k == len(bounds):
                    raise InvalidArgumentError(
                        "bucket_by_sequence_length: with pad_to_bucket_boundary=True an "
                        "element is longer than the last boundary - 1; add a larger "
                        "boundary"
                    )
                fill = bounds[k] - 1
                shapes = (
                    nest.map_structure(
                        lambda s: [fill if d is None else d for d in s.shape.as_list()], window.element_spec
                    )
                    if shapes is None
                    else shapes
                )
            return window.padded_batch(sizes[k], shapes, padding_values, drop_remainder=drop_remainder)

        return GroupByWindowDataset(
            dataset, lambda *a: bucket(*a), reduce, window_size_func=lambda key: sizes[int(key)]
        )

    return batching


# -- rejection_resample --------------------------------------------------------------------------


def _probs(v, op: str) -> list:
    p = [float(x) for x in (v.numpy().tolist() if isinstance(v, Tensor) else v)]
    if not p or any(x < 0 for x in p) or abs(sum(p) - 1.0) > 1e-4:
        raise InvalidArgumentError(f"{op}: a distribution must be non-negative and sum to 1, got {p}")
    return p


def _acceptance(initial: list, target: list) -> tuple:
    """TF's ``_calculate_acceptance_probs_with_mixing``: (accept prob per class, P(take original))."""
    ratio = [t / i if i > 0 else (float("inf") if t > 0 else 0.0) for i, t in zip(initial, target)]
    hi, lo = max(ratio), min(ratio)
    if hi == lo:
        return [0.0] * len(ratio), lo
    return [(r - lo) / (hi - lo) for r in ratio], lo


class RejectionResampleDataset(Dataset):
    """``(class, element)`` pairs whose class frequencies approach ``target_dist``: TF's mix of
    the original stream (probability ``min(target / initial)``) and a filtered stream accepting
    class ``c`` with probability ``a_c``; without ``initial_dist`` the class frequencies are
    estimated on the fly (counts from 10 each, updated per 32 elements, as TF)."""

    def __init__(self, input, class_func, target_dist, initial_dist=None, seed=None):
        self._input, self._class, self._seed = input, class_func, seed
        self._target = _probs(target_dist, "rejection_resample")
        self._initial = None if initial_dist is None else _probs(initial_dist, "rejection_resample")
        if self._initial is not None and len(self._initial) != len(self._target):
            raise InvalidArgumentError("rejection_resample: initial_dist and target_dist differ in length")

    def _pair(self, e):
        c = _scalar_int(S.call(self._class, e), "rejection_resample", "class_func")
        if not 0 <= c < len(self._target):
            raise InvalidArgumentError(f"rejection_resample: class {c} is out of range for {len(self._target)} classes")
        return c, e

    def _filtered(self, rng):
        counts = [10] * len(self._target)
        block: list = []
        dist = self._initial
        for e in self._input._iterate():
            c, e = self._pair(e)
            if self._initial is None:
                if not block:  # TF estimates per batch of 32 class values, counting the batch first
                    dist = None
                block.append(c)
                if dist is None:
                    for k in block:
                        counts[k] += 1
                    total = sum(counts)
                    dist = [k / total for k in counts]
                if len(block) == 32:
                    block = []
            accept, _ = _acceptance(dist, self._target)
            if rng.random() < accept[c]:
                yield constant(c, D.int32), e

    def _elements(self):
        k0, k1 = _key(self._seed)
        rng = random.Random((k0 << 64) | k1)
        if self._initial is not None:
            _, p_orig = _acceptance(self._initial, self._target)
            if p_orig >= 1:
                for e in self._input._iterate():
                    c, e = self._pair(e)
                    yield constant(c, D.int32), e
                return
            if p_orig <= 0:
                yield from self._filtered(rng)
                return
        original = self._input._iterate()
        filtered = self._filtered(random.Random(rng.random()))
        while True:
            p = (
                _acceptance(self._initial, self._target)[1]
                if self._initial is not None
                else min(t for t in self._target if t > 0)
            )
            take_original = rng.random() < p
            source = original if take_original else filtered
            v = next(source, None)
            if v is None:
                return
            yield (constant(self._pair(v)[0], D.int32), v) if take_original else v

    def _spec(self):
        return (TensorSpec((), D.int32), self._input.element_spec)


# -- options -------------------------------------------------------------------------------------


class _OptionGroup:
    _fields: tuple = ()

    def __init__(self):
        object.__setattr__(self, "_set", {})

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._fields:
            raise AttributeError(f"{type(self).__name__} has no option {name!r}; options: {list(self._fields)}")
        return self._set.get(name)

    def __setattr__(self, name, value):
        if name not in self._fields:
            raise AttributeError(f"{type(self).__name__} has no option {name!r}; options: {list(self._fields)}")
        self._set[name] = value

    def _merge(self, other, path: str):
        for k, v in other._set.items():
            if isinstance(v, _OptionGroup):
                mine = self._set.setdefault(k, type(v)())
                mine._merge(v, f"{path}.{k}")
            elif k in self._set and self._set[k] != v:
                raise ValueError(f"Cannot merge incompatible values ({self._set[k]!r} and {v!r}) of option: {path}.{k}")
            else:
                self._set[k] = v

    def __eq__(self, other):
        return type(self) is type(other) and self._set == other._set


class ThreadingOptions(_OptionGroup):
    _fields = ("max_intra_op_parallelism", "private_threadpool_size")


class AutotuneOptions(_OptionGroup):
    _fields = ("enabled", "cpu_budget", "ram_budget", "autotune_algorithm")


class OptimizationOptions(_OptionGroup):
    _fields = (
        "apply_default_optimizations",
        "filter_fusion",
        "map_and_batch_fusion",
        "map_and_filter_fusion",
        "map_fusion",
        "map_parallelization",
        "noop_elimination",
        "parallel_batch",
        "shuffle_and_repeat_fusion",
        "inject_prefetch",
        "seq_interleave_prefetch",
        "filter_parallelization",
    )


class DistributeOptions(_OptionGroup):
    _fields = ("auto_shard_policy", "num_devices")


class Options(_OptionGroup):
    """``tf.data.Options``: recorded and merged as TF does (conflicting values are an error).
    ``deterministic`` and ``threading.private_threadpool_size`` steer parallel ``map``; the rest
    are accepted and have no effect here."""

    _fields = (
        "deterministic",
        "experimental_deterministic",
        "experimental_slack",
        "experimental_external_state_policy",
        "experimental_symbolic_checkpoint",
        "experimental_warm_start",
        "threading",
        "autotune",
        "experimental_optimization",
        "experimental_distribute",
        "experimental_threading",
    )
    _groups = {
        "threading": ThreadingOptions,
        "experimental_threading": ThreadingOptions,
        "autotune": AutotuneOptions,
        "experimental_optimization": OptimizationOptions,
        "experimental_distribute": DistributeOptions,
    }

    def __getattr__(self, name):
        group = type(self)._groups.get(name)
        if group is not None and name not in self._set:
            self._set[name] = group()
        return super().__getattr__(name)

    def merge(self, options) -> "Options":
        out = Options()
        out._merge(self, "options")
        out._merge(options, "options")
        return out


class OptionsDataset(Dataset):
    def __init__(self, input, options):
        if not isinstance(options, Options):
            raise TypeError(f"with_options: expected a tf.data.Options, got {type(options).__name__}")
        self._input, self._options = input, input.options().merge(options)
        _steer_maps(input, self._options)

    def options(self) -> Options:
        return self._options

    def _source(self):
        return self._input._source()

    def _indices(self):
        return self._input._indices()

    def _elements(self):
        return self._input._iterate()

    def _spec(self):
        return self._input.element_spec

    def _card(self) -> int:
        return self._input._card()


def _upstream(dataset):
    seen, stack = set(), [dataset]
    while stack:
        d = stack.pop()
        if id(d) in seen:
            continue
        seen.add(id(d))
        yield d
        for attr in ("_input", "_ds", "_datasets"):
            v = d.__dict__.get(attr)
            if isinstance(v, Dataset):
                stack.append(v)
            elif isinstance(v, (list, tuple)):
                stack += [x for x in v if isinstance(x, Dataset)]


def _steer_maps(dataset, options) -> None:
    """Apply ``deterministic`` / ``threading.private_threadpool_size`` to the parallel maps upstream."""
    from .transforms import MapDataset

    det = options._set.get("deterministic", options._set.get("experimental_deterministic"))
    threading = options._set.get("threading")
    pool = threading._set.get("private_threadpool_size") if threading is not None else None
    for d in _upstream(dataset):
        if isinstance(d, MapDataset):
            if det is not None and d._deterministic is None:
                d._deterministic = bool(det)
            if pool:
                d._pool_size = int(pool)


def options_of(dataset) -> Options:
    """The options in effect: those set by the nearest ``with_options`` upstream, merged."""
    for d in _upstream(dataset):
        if isinstance(d, OptionsDataset):
            return d._options  # it merged everything above it
    return Options()


# -- save / load ---------------------------------------------------------------------------------

SPEC_FILE = "element_spec.json"


def _spec_json(spec):
    if isinstance(spec, TensorSpec):
        return {"shape": spec.shape.as_list() if spec.shape.rank is not None else None, "dtype": spec.dtype.name}
    if isinstance(spec, dict):
        return {"dict": {k: _spec_json(v) for k, v in spec.items()}}
    if isinstance(spec, (tuple, list)):
        return {"tuple": [_spec_json(v) for v in spec]}
    raise TypeError(f"Dataset.save: cannot save elements of spec {spec!r} (tensors, tuples and dicts only)")


def _spec_from_json(j):
    if "dict" in j:
        return {k: _spec_from_json(v) for k, v in j["dict"].items()}
    if "tuple" in j:
        return tuple(_spec_from_json(v) for v in j["tuple"])
    return TensorSpec(j["shape"], D.as_dtype(j["dtype"]))


def save(dataset, path, compression=None, shard_func=None, checkpoint_args=None) -> None:
    """Write every element under ``path`` (``shard_func(element) -> int`` picks the shard file)."""
    from ..io import files as F
    from ..io import tfrecord as R

    if checkpoint_args is not None:
        raise ValueError("Dataset.save: checkpoint_args is not supported")
    spec = dataset.element_spec
    meta = {
        "format": "webtensor-dataset",
        "version": 1,
        "compression": compression or "",
        "element_spec": _spec_json(spec),
    }
    os.makedirs(path, exist_ok=True)
    writers: dict = {}
    options = R.TFRecordOptions(compression or "")
    try:
        for e in dataset._iterate():
            shard = 0 if shard_func is None else _scalar_int(S.call(shard_func, e), "Dataset.save", "shard_func")
            if shard not in writers:
                writers[shard] = R.TFRecordWriter(os.path.join(path, f"{shard:08d}.shard"), options)
            parts = [F.serialize_tensor(t).numpy() for t in nest.flatten(e)]
            writers[shard].write(_frame(parts))
    finally:
        for w in writers.values():
            w.close()
    with open(os.path.join(path, SPEC_FILE), "w") as f:
        json.dump(meta, f)


def _frame(parts: list) -> bytes:
    out = bytearray(len(parts).to_bytes(4, "little"))
    for p in parts:
        out += len(p).to_bytes(8, "little") + p
    return bytes(out)


def _unframe(record: bytes, where: str) -> list:
    if len(record) < 4:
        raise InvalidArgumentError(f"Dataset.load: truncated record in {where}")
    n, pos, parts = int.from_bytes(record[:4], "little"), 4, []
    for _ in range(n):
        if pos + 8 > len(record):
            raise InvalidArgumentError(f"Dataset.load: truncated record in {where}")
        k = int.from_bytes(record[pos : pos + 8], "little")
        if pos + 8 + k > len(record):
            raise InvalidArgumentError(f"Dataset.load: truncated record in {where}")
        parts.append(record[pos + 8 : pos + 8 + k])
        pos += 8 + k
    return parts


class LoadDataset(Dataset):
    def __init__(self, path, element_spec=None, compression=None, reader_func=None):
        meta_path = os.path.join(path, SPEC_FILE)
        if not os.path.exists(meta_path):
            raise NotFoundError(
                f"Dataset.load: {path} holds no saved dataset (no {SPEC_FILE}); it must be written by Dataset.save"
            )
        with open(meta_path) as f:
            meta = json.load(f)
        self._path = path
        self._compression = compression if compression is not None else meta.get("compression", "")
        self._spec_value = element_spec if element_spec is not None else _spec_from_json(meta["element_spec"])
        self._files = sorted(n for n in os.listdir(path) if n.endswith(".shard"))
        self._reader = reader_func

    def _read(self, name):
        from ..io import files as F
        from ..io import tfrecord as R

        full = os.path.join(self._path, name)
        data = R.read_file_bytes(full, self._compression, "Dataset.load")
        leaves = nest.flatten(self._spec_value)
        for record in R.iter_records(data, full, "Dataset.load"):
            parts = _unframe(record, full)
            if len(parts) != len(leaves):
                raise InvalidArgumentError(
                    f"Dataset.load: a record in {full} has {len(parts)} components but the "
                    f"element spec has {len(leaves)}"
                )
            yield nest.pack_sequence_as(self._spec_value, [F.parse_tensor(p, s.dtype) for p, s in zip(parts, leaves)])

    def _elements(self):
        if self._reader is None:
            for name in self._files:
                yield from self._read(name)
            return
        from .more import _ListDataset

        shards = _ListDataset([_ShardDataset(self, n) for n in self._files], None)
        out = self._reader(shards)
        yield from out._iterate()

    def _spec(self):
        return self._spec_value


class _ShardDataset(Dataset):
    def __init__(self, parent, name):
        self._parent, self._name = parent, name

    def _elements(self):
        return self._parent._read(self._name)

    def _spec(self):
        return self._parent._spec_value
