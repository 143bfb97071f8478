"""tf.data.Dataset against TF 2 semantics: values worked out by hand for each transformation,
element specs, cardinalities, seeded shuffling and the errors TF raises."""

import collections

import pytest

import webtensor as tf
from util import assert_close, tolist

Dataset = tf.data.Dataset


def values(ds):
    """Every element as nested Python lists (tuples and dicts kept)."""
    out = []
    for e in ds:
        out.append(tf.nest.map_structure(tolist, e))
    return out


def spec(shape, dtype):
    return tf.TensorSpec(shape, dtype)


# -- sources --------------------------------------------------------------------------------


def test_from_tensor_slices_list_tuple_dict():
    ds = Dataset.from_tensor_slices([[1, 2], [3, 4], [5, 6]])
    assert values(ds) == [[1, 2], [3, 4], [5, 6]]
    assert ds.element_spec == spec([2], tf.int32)
    assert len(ds) == 3

    ds = Dataset.from_tensor_slices(([1.0, 2.0], [[1, 2], [3, 4]]))
    assert values(ds) == [(1.0, [1, 2]), (2.0, [3, 4])]
    assert ds.element_spec == (spec([], tf.float32), spec([2], tf.int32))

    ds = Dataset.from_tensor_slices({"a": [1, 2], "b": ([3.0, 4.0], [5, 6])})
    assert values(ds) == [{"a": 1, "b": (3.0, 5)}, {"a": 2, "b": (4.0, 6)}]
    assert ds.element_spec == {"a": spec([], tf.int32), "b": (spec([], tf.float32), spec([], tf.int32))}


def test_from_tensor_slices_tensors_and_namedtuples():
    Pair = collections.namedtuple("Pair", "x y")
    ds = Dataset.from_tensor_slices(Pair(tf.constant([[1.0], [2.0]]), tf.range(2)))
    elems = list(ds)
    assert isinstance(elems[0], Pair)
    assert tolist(elems[1].x) == [2.0] and tolist(elems[1].y) == 1


@pytest.mark.numpy
def test_from_tensor_slices_keeps_numpy_dtypes_and_as_numpy_iterator():
    import numpy as np

    ds = Dataset.from_tensor_slices((np.arange(6, dtype=np.float64).reshape(3, 2), np.array([1, 2, 3], np.int64)))
    assert ds.element_spec == (spec([2], tf.float64), spec([], tf.int64))
    got = list(ds.as_numpy_iterator())
    assert isinstance(got[0][0], np.ndarray) and got[0][0].dtype == np.float64
    np.testing.assert_array_equal(got[2][0], [4.0, 5.0])
    assert got[2][1] == 3


def test_from_tensor_slices_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"same size in dimension 0.*\(3,\).*\(2,\)"):
        Dataset.from_tensor_slices(([1, 2, 3], [1, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 1"):
        Dataset.from_tensor_slices(5)
    with pytest.raises(TypeError, match="None"):
        Dataset.from_tensor_slices(([1, 2], None))


def test_from_tensors_is_one_element():
    ds = Dataset.from_tensors(([1, 2, 3], 7))
    assert values(ds) == [([1, 2, 3], 7)]
    assert ds.element_spec == (spec([3], tf.int32), spec([], tf.int32))
    assert values(ds.repeat(3).batch(2)) == [([[1, 2, 3], [1, 2, 3]], [7, 7]), ([[1, 2, 3]], [7])]


def test_range_forms_and_dtype():
    assert values(Dataset.range(4)) == [0, 1, 2, 3]
    assert values(Dataset.range(2, 9, 3)) == [2, 5, 8]
    assert values(Dataset.range(5, 1, -2)) == [5, 3]
    assert Dataset.range(3).element_spec == spec([], tf.int64)
    assert Dataset.range(3, output_type=tf.int32).element_spec == spec([], tf.int32)
    assert len(Dataset.range(2, 9, 3)) == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match="step"):
        Dataset.range(0, 5, 0)


def test_from_generator_signature_types_and_args():
    def gen(n):
        for i in range(int(n)):
            yield i, [float(i)] * i

    sig = (tf.TensorSpec((), tf.int32), tf.TensorSpec((None,), tf.float32))
    ds = Dataset.from_generator(gen, output_signature=sig, args=(3,))
    assert values(ds) == [(0, []), (1, [1.0]), (2, [2.0, 2.0])]
    assert values(ds) == values(ds)  # the generator is called afresh each pass
    assert ds.element_spec == sig
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY

    ds = Dataset.from_generator(lambda: iter([[1, 2], [3, 4]]), output_types=tf.float32, output_shapes=[2])
    assert values(ds) == [[1.0, 2.0], [3.0, 4.0]]
    assert ds.element_spec == spec([2], tf.float32)


def test_from_generator_errors():
    ds = Dataset.from_generator(lambda: iter([[1, 2, 3]]), output_signature=tf.TensorSpec((2,), tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \(3,\) where an element of shape \(2,\)"):
        list(ds)
    ds = Dataset.from_generator(lambda: iter([1]), output_signature=(tf.TensorSpec((), tf.int32),) * 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="did not match the expected structure"):
        list(ds)
    ds = Dataset.from_generator(lambda: iter([1.5]), output_signature=tf.TensorSpec((), tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected type was int32"):
        list(ds)
    with pytest.raises(TypeError, match="output_signature"):
        Dataset.from_generator(lambda: iter([1]))
    with pytest.raises(TypeError, match="callable"):
        Dataset.from_generator([1, 2], output_signature=tf.TensorSpec((), tf.int32))


# -- batching -------------------------------------------------------------------------------


def test_batch_remainder_and_specs():
    ds = Dataset.from_tensor_slices(([[0], [1], [2], [3], [4]], [10, 11, 12, 13, 14]))
    b = ds.batch(2)
    assert values(b) == [([[0], [1]], [10, 11]), ([[2], [3]], [12, 13]), ([[4]], [14])]
    assert b.element_spec == (spec([None, 1], tf.int32), spec([None], tf.int32))
    assert len(b) == 3
    d = ds.batch(2, drop_remainder=True)
    assert values(d) == [([[0], [1]], [10, 11]), ([[2], [3]], [12, 13])]
    assert d.element_spec == (spec([2, 1], tf.int32), spec([2], tf.int32))
    assert len(d) == 2


def test_batch_of_computed_elements_stacks():
    ds = Dataset.range(5).map(lambda x: {"v": x * 2, "w": tf.fill([2], x)}).batch(3)
    assert values(ds) == [{"v": [0, 2, 4], "w": [[0, 0], [1, 1], [2, 2]]}, {"v": [6, 8], "w": [[3, 3], [4, 4]]}]
    bad = Dataset.range(3).map(lambda x: tf.fill([x], 1.0)).batch(3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"different shapes in component 0.*\[0\].*\[1\]"):
        list(bad)


def test_batch_then_unbatch_round_trip():
    ds = Dataset.from_tensor_slices(([1, 2, 3, 4, 5], [[1.0], [2.0], [3.0], [4.0], [5.0]]))
    again = ds.batch(2).unbatch()
    assert values(again) == values(ds)
    assert again.element_spec == ds.element_spec
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 1"):
        Dataset.range(3).unbatch()


def test_padded_batch_pads_to_the_longest_or_to_given_shapes():
    ds = Dataset.range(1, 5).map(lambda x: tf.fill([x], x))
    assert values(ds.padded_batch(2)) == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    assert ds.padded_batch(2).element_spec == spec([None, None], tf.int64)
    fixed = ds.padded_batch(3, padded_shapes=[5], padding_values=tf.constant(-1, tf.int64), drop_remainder=True)
    assert values(fixed) == [[[1, -1, -1, -1, -1], [2, 2, -1, -1, -1], [3, 3, 3, -1, -1]]]
    assert fixed.element_spec == spec([3, 5], tf.int64) and len(fixed) == 1
    pairs = Dataset.range(1, 3).map(lambda x: {"a": tf.fill([x], 1.5), "n": x})
    out = pairs.padded_batch(2, padded_shapes={"a": [None], "n": []}, padding_values={"a": 9.0, "n": 0})
    assert values(out) == [{"a": [[1.5, 9.0], [1.5, 1.5]], "n": [1, 2]}]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \(3,\) to the smaller shape \(2,\)"):
        list(ds.padded_batch(4, padded_shapes=[2]))


def test_batch_size_must_be_positive():
    with pytest.raises(tf.errors.InvalidArgumentError, match="greater than zero"):
        Dataset.range(3).batch(0)


# -- order ----------------------------------------------------------------------------------


def test_shuffle_is_a_permutation_that_keeps_pairs_together():
    x = list(range(40))
    ds = Dataset.from_tensor_slices((x, [10 * v for v in x])).shuffle(40).batch(7)
    seen = []
    for a, b in ds:
        a, b = tolist(a), tolist(b)
        assert b == [10 * v for v in a]
        seen += a
    assert sorted(seen) == x and seen != x


def test_shuffle_seeding_and_reshuffle_each_iteration():
    tf.random.set_seed(7)
    ds = Dataset.range(30).shuffle(30)
    first, second = values(ds), values(ds)
    assert first != second  # a new order each pass (reshuffle_each_iteration defaults to True)
    tf.random.set_seed(7)
    ds = Dataset.range(30).shuffle(30)
    assert values(ds) == first and values(ds) == second  # set_seed reproduces the whole run
    fixed = Dataset.range(30).shuffle(30, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)
    a, b = Dataset.range(30).shuffle(30, seed=1), Dataset.range(30).shuffle(30, seed=2)
    assert values(a) != values(b)


def test_shuffle_buffer_bounds_how_early_an_element_can_appear():
    # With a buffer of k, element j is only read after j - k + 1 outputs have been produced.
    assert values(Dataset.range(10).shuffle(1)) == list(range(10))
    out = values(Dataset.range(50).shuffle(4))
    assert sorted(out) == list(range(50))
    for pos, j in enumerate(out):
        assert pos >= j - 3


def test_shuffle_buffer_must_be_positive():
    with pytest.raises(tf.errors.InvalidArgumentError, match="greater than zero"):
        Dataset.range(3).shuffle(0)


def test_repeat_take_skip_and_cardinality():
    ds = Dataset.range(3)
    assert values(ds.repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert values(ds.repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert values(ds.take(0).repeat()) == []  # repeating an empty dataset ends
    assert values(ds.skip(1)) == [1, 2] and values(ds.skip(-1)) == []
    assert values(ds.take(-1)) == [0, 1, 2] and values(ds.take(10)) == [0, 1, 2]
    assert int(ds.repeat().cardinality()) == tf.data.INFINITE_CARDINALITY
    assert int(ds.repeat(4).cardinality()) == 12
    assert int(ds.repeat().take(5).cardinality()) == 5
    assert int(ds.skip(2).cardinality()) == 1
    assert int(ds.repeat().skip(-1).cardinality()) == tf.data.INFINITE_CARDINALITY
    unknown = ds.filter(lambda x: x > 0)
    assert int(Dataset.zip((unknown, ds.take(0))).cardinality()) == tf.data.UNKNOWN_CARDINALITY  # TF: unknown wins
    assert int(tf.data.experimental.cardinality(ds.filter(lambda x: x > 0))) == tf.data.UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="infinite"):
        len(ds.repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(ds.filter(lambda x: x > 0))
    assert bool(ds.repeat())


def test_repeat_before_batch_spans_epochs():
    assert values(Dataset.range(3).repeat(2).batch(4)) == [[0, 1, 2, 0], [1, 2]]


def test_shard():
    ds = Dataset.range(10).shard(3, 1)
    assert values(ds) == [1, 4, 7] and len(ds) == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match="index"):
        Dataset.range(3).shard(2, 2)


def test_assert_cardinality():
    gen = Dataset.from_generator(lambda: iter(range(3)), output_signature=tf.TensorSpec((), tf.int32))
    ok = gen.apply(tf.data.experimental.assert_cardinality(3))
    assert len(ok) == 3 and values(ok) == [0, 1, 2]
    with pytest.raises(
        tf.errors.FailedPreconditionError, match="expected to contain 2 elements but contained at least 3"
    ):
        list(gen.apply(tf.data.experimental.assert_cardinality(2)))
    with pytest.raises(tf.errors.FailedPreconditionError, match="expected to contain 5 elements but contained only 3"):
        list(gen.apply(tf.data.experimental.assert_cardinality(5)))


def test_prefetch_and_autotune_pass_elements_through():
    ds = Dataset.range(4).prefetch(tf.data.AUTOTUNE)
    assert values(ds) == [0, 1, 2, 3] and len(ds) == 4
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE == -1
    with pytest.raises(tf.errors.InvalidArgumentError, match="buffer_size"):
        Dataset.range(4).prefetch(-5)


# -- element-wise functions -----------------------------------------------------------------


def test_map_spreads_tuples_not_dicts_and_converts_results():
    ds = Dataset.from_tensor_slices(([1, 2], [10, 20])).map(lambda a, b: a + b)
    assert values(ds) == [11, 22]
    ds = Dataset.from_tensor_slices({"a": [1, 2]}).map(lambda d: d["a"] * 3)
    assert values(ds) == [3, 6]
    ds = Dataset.range(2).map(lambda x: [x, 1.5])  # a returned list is a tuple, as in TF
    assert values(ds) == [(0, 1.5), (1, 1.5)]
    assert ds.element_spec == (spec([], tf.int64), spec([], tf.float32))


def test_map_element_spec_marks_input_dependent_dims_unknown():
    ds = Dataset.range(5).map(lambda x: (tf.fill([x], 1.0), tf.zeros([3])))
    assert ds.element_spec == (spec([None], tf.float32), spec([3], tf.float32))
    batched = Dataset.range(7).batch(3).map(lambda x: tf.cast(x, tf.float32) * 2.0)
    assert batched.element_spec == spec([None], tf.float32)


def test_filter_and_filter_then_batch():
    ds = Dataset.range(10).filter(lambda x: x % 3 == 0)
    assert values(ds) == [0, 3, 6, 9]
    assert values(ds.batch(3)) == [[0, 3, 6], [9]]
    pairs = Dataset.from_tensor_slices(([1, 2, 3, 4], [5, 6, 7, 8])).filter(lambda a, b: a + b > 7)
    assert values(pairs.batch(8)) == [([2, 3, 4], [6, 7, 8])]
    with pytest.raises(tf.errors.InvalidArgumentError, match="scalar boolean"):
        list(Dataset.range(3).filter(lambda x: x))


def test_flat_map_and_enumerate_and_zip_and_concatenate():
    fm = Dataset.range(3).flat_map(lambda x: Dataset.range(x))
    assert values(fm) == [0, 0, 1]
    assert fm.element_spec == spec([], tf.int64)

    en = Dataset.from_tensor_slices([7, 8]).enumerate(start=5)
    assert values(en) == [(5, 7), (6, 8)]
    assert en.element_spec == (spec([], tf.int64), spec([], tf.int32))

    z = Dataset.zip((Dataset.range(3), Dataset.range(10, 20)))
    assert values(z) == [(0, 10), (1, 11), (2, 12)] and len(z) == 3
    assert values(Dataset.zip(Dataset.range(2), Dataset.range(5, 7))) == [(0, 5), (1, 6)]
    zd = Dataset.zip({"a": Dataset.range(2), "b": Dataset.range(2).map(lambda x: x * 2)})
    assert values(zd) == [{"a": 0, "b": 0}, {"a": 1, "b": 2}]
    assert values(Dataset.zip((Dataset.range(5), Dataset.range(5))).shuffle(5).batch(5).map(lambda a, b: a - b)) == [
        [0, 0, 0, 0, 0]
    ]
    with pytest.raises(TypeError, match="list"):
        Dataset.zip([Dataset.range(2), Dataset.range(2)])

    c = Dataset.range(2).concatenate(Dataset.range(5, 7))
    assert values(c) == [0, 1, 5, 6] and len(c) == 4
    with pytest.raises(TypeError, match="incompatible"):
        Dataset.range(2).concatenate(Dataset.from_tensor_slices([1.0]))
    mixed = Dataset.from_tensors([1, 2]).concatenate(Dataset.from_tensors([3]))
    assert mixed.element_spec == spec([None], tf.int32)


def test_reduce_and_apply():
    total = Dataset.range(5).reduce(tf.constant(0, tf.int64), lambda s, x: s + x)
    assert tolist(total) == 10
    assert values(Dataset.range(6).apply(lambda d: d.skip(4))) == [4, 5]


# -- cache ----------------------------------------------------------------------------------


def test_cache_replays_the_first_full_pass():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2

    ds = Dataset.range(4).map(f).cache()
    list(ds.take(2))  # a partial pass is not kept
    assert values(ds) == [0, 2, 4, 6]
    n = len(calls)
    assert values(ds) == [0, 2, 4, 6] and len(calls) == n
    shuffled = Dataset.range(20).shuffle(20).cache()
    assert values(shuffled) == values(shuffled)  # the cached order is replayed


@pytest.mark.native
def test_cache_to_file_is_read_by_a_new_pipeline(tmp_path):
    calls = []

    def f(x):
        calls.append(1)
        return {"x": tf.cast(x, tf.float32) / 2.0, "y": x}

    path = str(tmp_path / "c")
    first = values(Dataset.range(3).map(f).cache(path))
    assert first == [{"x": 0.0, "y": 0}, {"x": 0.5, "y": 1}, {"x": 1.0, "y": 2}]
    n = len(calls)
    assert values(Dataset.range(3).map(f).cache(path)) == first
    assert len(calls) == n + 2  # only the two stand-in calls that learn the spec


# -- iteration API --------------------------------------------------------------------------


def test_iterator_get_next_and_out_of_range():
    it = iter(Dataset.range(2))
    assert it.element_spec == spec([], tf.int64)
    assert tolist(it.get_next()) == 0 and tolist(next(it)) == 1
    with pytest.raises(tf.errors.OutOfRangeError):
        it.get_next()
    with pytest.raises(StopIteration):
        next(it)


def test_for_loop_yields_tensors():
    for x, y in Dataset.from_tensor_slices(([1.5, 2.5], [1, 2])).batch(2):
        assert tf.is_tensor(x) and tf.is_tensor(y)
        assert_close(x, [1.5, 2.5])
        assert x.dtype is tf.float32 and y.dtype is tf.int32


# -- in Keras's fit/evaluate/predict --------------------------------------------------------


def _linear_model():
    m = tf.keras.Sequential(
        [tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    m.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
    return m


def test_predict_and_evaluate_take_datasets():
    x = [[1.0, 2.0, 3.0], [0.5, 0.5, 0.5], [-1.0, 0.0, 4.0], [2.0, 2.0, 2.0], [0.0, 0.0, 1.0]]
    y = [[6.0], [1.0], [3.0], [0.0], [1.0]]
    m = _linear_model()
    out = m.predict(Dataset.from_tensor_slices(x).batch(2), verbose=0)  # x only: the kernel is ones
    assert_close(out, [[6.0], [1.5], [3.0], [6.0], [1.0]])
    # mse over all samples: (0 + 0.25 + 0 + 36 + 0) / 5
    loss = m.evaluate(Dataset.from_tensor_slices((x, y)).batch(2), verbose=0)
    assert_close(loss, 36.25 / 5, rtol=1e-6)


def test_fit_on_a_dataset_matches_fit_on_the_same_batches_as_arrays():
    x = [[float(i), float(i % 3), 1.0] for i in range(8)]
    y = [[0.1 * i] for i in range(8)]
    a, b = _linear_model(), _linear_model()
    ha = a.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    hb = b.fit(Dataset.from_tensor_slices((x, y)).batch(4), epochs=3, verbose=0)
    assert_close(hb.history["loss"], ha.history["loss"], rtol=1e-6)
    assert_close(b.get_weights()[0], a.get_weights()[0], rtol=1e-6)
    # one SGD step on the first batch by hand: w <- w - lr * 2/4 * X^T (Xw - y)
    c = _linear_model()
    c.fit(Dataset.from_tensor_slices((x[:4], y[:4])).batch(4), epochs=1, verbose=0)
    resid = [sum(r) - t[0] for r, t in zip(x[:4], y[:4])]
    want = [[1.0 - 0.1 * 0.5 * sum(x[k][j] * resid[k] for k in range(4))] for j in range(3)]
    assert_close(c.get_weights()[0], want, rtol=1e-5)


def test_pad_with_a_tensor_constant_value():
    # A core fix made for padded_batch: without numpy a scalar's .numpy() is a Python number.
    got = tf.pad(tf.constant([1, 2]), [[1, 2]], constant_values=tf.constant(-1))
    assert tolist(got) == [-1, 1, 2, -1, -1]
