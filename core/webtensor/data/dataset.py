"""``tf.data.Dataset``: the user-facing class; each method returns a new dataset node.

A node answers four questions: its elements (``_elements``), its ``_spec``, its
``_card``inality, and whether it is a *plan* over a random-access source
(``_source``/``_indices``). Plans let ``batch`` gather whole batches from the
source tensors in one op per component instead of slicing and stacking elements.
"""

from __future__ import annotations

from .. import nest
from ..errors import OutOfRangeError
from . import structure as S

AUTOTUNE = -1
INFINITE = -1
UNKNOWN = -2


class Dataset:
    """A sequence of elements (nested tuples/dicts of Tensors), iterated with Python ``for``."""

    _spec_cache = None

    # -- what a node implements -----------------------------------------------------------
    def _elements(self):
        """A fresh iterator over this node's elements (used when ``_source()`` is None)."""
        raise TypeError(f"{type(self).__name__} has no element iterator")

    def _source(self):
        """The random-access source this node reads by index, or None."""
        return None

    def _indices(self):
        """A fresh iterator over source indices; only called when ``_source()`` is not None."""
        raise TypeError(f"{type(self).__name__} is not an index plan")

    def _spec(self):
        raise TypeError(f"{type(self).__name__} defines no element spec")

    def _card(self) -> int:
        return UNKNOWN

    def _iterate(self):
        src = self._source()
        if src is not None:
            return map(src.element, self._indices())
        return self._elements()

    # -- inspection -----------------------------------------------------------------------
    @property
    def element_spec(self):
        """The structure of TensorSpecs one element has (unknown dims are None)."""
        if self._spec_cache is None:
            self._spec_cache = self._spec()
        return self._spec_cache

    def cardinality(self):
        """Number of elements as a scalar int64 tensor; -1 infinite, -2 unknown."""
        return S.int64_scalar(self._card())

    def __len__(self):
        n = self._card()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self):
        return True  # __len__ may raise; a dataset object is always truthy, as in TF

    def __iter__(self) -> "Iterator":
        return Iterator(self)

    def as_numpy_iterator(self):
        """Elements with numpy arrays for leaves (HostArrays where numpy is missing)."""
        for e in self._iterate():
            yield nest.map_structure(lambda t: t.numpy(), e)

    def __repr__(self):
        return f"<{type(self).__name__} element_spec={self.element_spec}>"

    # -- creation -------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None) -> "Dataset":
        return _src.TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None) -> "Dataset":
        return _src.TensorDataset(tensors)

    @staticmethod
    def range(*args, output_type=None, name=None) -> "Dataset":
        return _src.RangeDataset(*args, output_type=output_type)

    @staticmethod
    def from_generator(
        generator, output_types=None, output_shapes=None, args=None, output_signature=None, name=None
    ) -> "Dataset":
        return _src.GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def zip(*args, datasets=None, name=None) -> "Dataset":
        if datasets is None:
            datasets = args[0] if len(args) == 1 else args
        elif args:
            raise TypeError("zip: give the datasets either positionally or as `datasets=`, not both")
        return _tr.ZipDataset(datasets)

    # -- transformations ------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None) -> "Dataset":
        return _tr.MapDataset(self, map_func, num_parallel_calls, deterministic)

    def filter(self, predicate, name=None) -> "Dataset":
        return _tr.FilterDataset(self, predicate)

    def flat_map(self, map_func, name=None) -> "Dataset":
        return _tr.FlatMapDataset(self, map_func)

    def batch(
        self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None
    ) -> "Dataset":
        return _tr.BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(
        self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None
    ) -> "Dataset":
        return _tr.PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def ragged_batch(self, batch_size, drop_remainder=False, row_splits_dtype=None, name=None) -> "Dataset":
        """Like ``batch``; components whose shapes differ become RaggedTensors (ragged/data.py)."""
        from ..ragged.data import ragged_batch

        return ragged_batch(self, batch_size, drop_remainder, row_splits_dtype or "int64")

    def unbatch(self, name=None) -> "Dataset":
        return _tr.UnbatchDataset(self)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None) -> "Dataset":
        return _tr.ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count=None, name=None) -> "Dataset":
        return _tr.RepeatDataset(self, count)

    def take(self, count, name=None) -> "Dataset":
        return _tr.TakeDataset(self, count)

    def skip(self, count, name=None) -> "Dataset":
        return _tr.SkipDataset(self, count)

    def shard(self, num_shards, index, name=None) -> "Dataset":
        return _tr.ShardDataset(self, num_shards, index)

    def concatenate(self, dataset, name=None) -> "Dataset":
        return _tr.ConcatenateDataset(self, dataset)

    def prefetch(self, buffer_size, name=None) -> "Dataset":
        return _tr.PrefetchDataset(self, buffer_size)

    def cache(self, filename="", name=None) -> "Dataset":
        return _tr.CacheDataset(self, filename)

    def enumerate(self, start=0, name=None) -> "Dataset":
        return _tr.EnumerateDataset(self, start)

    def apply(self, transformation_func) -> "Dataset":
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError(f"apply: `transformation_func` must return a Dataset, got {type(out).__name__}")
        return out

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None) -> "Dataset":
        return _more.WindowDataset(self, size, shift, stride, drop_remainder)

    def interleave(
        self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None, deterministic=None, name=None
    ) -> "Dataset":
        return _more.InterleaveDataset(self, map_func, cycle_length, 1 if block_length is None else block_length)

    def scan(self, initial_state, scan_func, name=None) -> "Dataset":
        return _more.ScanDataset(self, initial_state, scan_func)

    def unique(self, name=None) -> "Dataset":
        return _more.UniqueDataset(self)

    def get_single_element(self, name=None):
        return _more.get_single_element(self)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None) -> "Dataset":
        return _more.list_files(file_pattern, shuffle, seed)

    @staticmethod
    def sample_from_datasets(
        datasets, weights=None, seed=None, stop_on_empty_dataset=False, rerandomize_each_iteration=None, name=None
    ) -> "Dataset":
        return _more.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True, name=None) -> "Dataset":
        return _more.choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)

    @staticmethod
    def random(seed=None, rerandomize_each_iteration=None, name=None) -> "Dataset":
        return _extra.RandomDataset(seed, rerandomize_each_iteration)

    def group_by_window(self, key_func, reduce_func, window_size=None, window_size_func=None, name=None) -> "Dataset":
        return _extra.GroupByWindowDataset(self, key_func, reduce_func, window_size, window_size_func)

    def bucket_by_sequence_length(
        self,
        element_length_func,
        bucket_boundaries,
        bucket_batch_sizes,
        padded_shapes=None,
        padding_values=None,
        pad_to_bucket_boundary=False,
        no_padding=False,
        drop_remainder=False,
        name=None,
    ) -> "Dataset":
        return _extra.bucket_by_sequence_length(
            element_length_func,
            bucket_boundaries,
            bucket_batch_sizes,
            padded_shapes,
            padding_values,
            pad_to_bucket_boundary,
            no_padding,
            drop_remainder,
        )(self)

    def rejection_resample(self, class_func, target_dist, initial_dist=None, seed=None, name=None) -> "Dataset":
        return _extra.RejectionResampleDataset(self, class_func, target_dist, initial_dist, seed)

    def options(self):
        """The ``tf.data.Options`` set upstream with ``with_options`` (merged)."""
        return _extra.options_of(self)

    def with_options(self, options, name=None) -> "Dataset":
        return _extra.OptionsDataset(self, options)

    def save(self, path, compression=None, shard_func=None, checkpoint_args=None) -> None:
        """Write the elements under ``path`` (webtensor's layout; see ``data/extra.py``)."""
        _extra.save(self, path, compression, shard_func, checkpoint_args)

    @staticmethod
    def load(path, element_spec=None, compression=None, reader_func=None, wait=False, name=None) -> "Dataset":
        return _extra.LoadDataset(path, element_spec, compression, reader_func)

    def reduce(self, initial_state, reduce_func):
        """Fold the elements into a state with ``reduce_func(state, element)``: two arguments
        always, a tuple element staying one argument (TF's rule; ``map`` spreads tuples)."""
        state = S.normalize_output(initial_state, "reduce")
        for e in self._iterate():
            state = S.normalize_output(reduce_func(state, e), "reduce")
        return state


class Iterator:
    """``iter(dataset)``: a Python iterator, plus TF's ``get_next`` and ``element_spec``."""

    def __init__(self, dataset: Dataset):
        self._dataset = dataset
        self._it = dataset._iterate()

    element_spec = property(lambda self: self._dataset.element_spec)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def get_next(self):
        try:
            return next(self._it)
        except StopIteration:
            raise OutOfRangeError("End of sequence") from None


from . import sources as _src  # noqa: E402  (the node classes subclass Dataset)
from . import extra as _extra  # noqa: E402
from . import transforms as _tr  # noqa: E402
from . import more as _more  # noqa: E402
