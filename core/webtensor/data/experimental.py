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
from ..ragged.data import dense_to_ragged_batch  # noqa: F401,E402
