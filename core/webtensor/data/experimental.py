"""``tf.data.experimental``: the constants and helpers Keras code reaches for."""

from .dataset import AUTOTUNE, INFINITE as INFINITE_CARDINALITY, UNKNOWN as UNKNOWN_CARDINALITY  # noqa: F401


def cardinality(dataset):
    """``dataset.cardinality()``: a scalar int64 tensor; -1 infinite, -2 unknown."""
    return dataset.cardinality()


def assert_cardinality(expected_cardinality):
    """For ``dataset.apply``: a dataset that reports ``expected_cardinality`` elements and raises
    ``FailedPreconditionError`` if iteration finds a different number."""
    from .transforms import AssertCardinalityDataset

    return lambda dataset: AssertCardinalityDataset(dataset, expected_cardinality)


from .csv import CsvDataset, make_csv_dataset  # noqa: F401,E402
from .more import Counter, choose_from_datasets, get_single_element, sample_from_datasets  # noqa: F401,E402
from .extra import (  # noqa: F401,E402
    AutotuneOptions,
    DistributeOptions,
    OptimizationOptions,
    ThreadingOptions,
    bucket_by_sequence_length,
)


def group_by_window(key_func, reduce_func, window_size=None, window_size_func=None):
    return lambda dataset: dataset.group_by_window(key_func, reduce_func, window_size, window_size_func)


def rejection_resample(class_func, target_dist, initial_dist=None, seed=None):
    return lambda dataset: dataset.rejection_resample(class_func, target_dist, initial_dist, seed)


def save(dataset, path, compression=None, shard_func=None, checkpoint_args=None):
    dataset.save(path, compression, shard_func, checkpoint_args)


def load(path, element_spec=None, compression=None, reader_func=None):
    from .dataset import Dataset

    return Dataset.load(path, element_spec, compression, reader_func)


from ..ragged.data import dense_to_ragged_batch  # noqa: F401,E402
