"""tf.RaggedTensor and tf.ragged: values from TF's "Ragged tensors" guide, worked by hand."""

import math

import pytest
import webtensor as tf

DIGITS = [[3, 1, 4, 1], [], [5, 9, 2], [6], []]


def lst(t):
    return (
        t.to_list()
        if isinstance(t, tf.RaggedTensor)
        else t.numpy().tolist()
        if t.shape.rank
        else t.numpy().item()
        if hasattr(t.numpy(), "item")
        else t.numpy()
    )


# -- construction and structure -----------------------------------------------------------------


def test_constant_dtype_shape_and_lists():
    d = tf.ragged.constant(DIGITS)
    assert isinstance(d, tf.RaggedTensor)
    assert d.dtype is tf.int32 and d.shape.as_list() == [5, None] and d.ragged_rank == 1
    assert d.to_list() == DIGITS
    assert d.row_splits.numpy().tolist() == [0, 4, 4, 7, 8, 8] and d.row_splits.dtype is tf.int64
    assert d.row_lengths().numpy().tolist() == [4, 0, 3, 1, 0]
    assert d.values.numpy().tolist() == [3, 1, 4, 1, 5, 9, 2, 6]
    assert lst(d.nrows()) == 5 and d.value_rowids().numpy().tolist() == [0, 0, 0, 0, 2, 2, 2, 3]
    assert d.bounding_shape().numpy().tolist() == [5, 4]
    w = tf.ragged.constant([["So", "long"], ["thanks", "for", "all", "the", "fish"]])
    assert w.dtype is tf.string and w.to_list()[0] == [b"So", b"long"]
    assert repr(tf.ragged.constant([[1, 2], [3]])) == "<tf.RaggedTensor [[1, 2], [3]]>"
    f = tf.ragged.constant([[1.5], []])
    assert f.dtype is tf.float32 and f.to_list() == [[1.5], []]


def test_constant_errors_as_tf():
    with pytest.raises(ValueError):
        tf.ragged.constant(["A", ["B", "C"]])  # multiple nesting depths
    with pytest.raises(ValueError):
        tf.ragged.constant([["one", "two"], [3, 4]])  # multiple types


def test_factories_from_the_guide():
    vals = [3, 1, 4, 1, 5, 9, 2]
    want = [[3, 1, 4, 1], [], [5, 9], [2]]
    assert tf.RaggedTensor.from_value_rowids(vals, [0, 0, 0, 0, 2, 2, 3]).to_list() == want
    assert tf.RaggedTensor.from_row_lengths(vals, [4, 0, 2, 1]).to_list() == want
    assert tf.RaggedTensor.from_row_splits(vals, [0, 4, 4, 6, 7]).to_list() == want
    assert tf.RaggedTensor.from_row_starts(vals, [0, 4, 4, 6]).to_list() == want
    assert tf.RaggedTensor.from_row_limits(vals, [4, 4, 6, 7]).to_list() == want
    assert tf.RaggedTensor.from_value_rowids(vals, [0, 0, 0, 0, 2, 2, 3], nrows=5).to_list() == want + [[]]
    u = tf.RaggedTensor.from_uniform_row_length(tf.range(6), 2)
    assert u.to_list() == [[0, 1], [2, 3], [4, 5]]


def test_nested_row_splits_multiple_ragged_dims():
    rt = tf.RaggedTensor.from_row_splits(
        values=tf.RaggedTensor.from_row_splits(
            values=[10, 11, 12, 13, 14, 15, 16, 17, 18, 19], row_splits=[0, 3, 3, 5, 9, 10]
        ),
        row_splits=[0, 1, 1, 5],
    )
    want = [[[10, 11, 12]], [], [[], [13, 14], [15, 16, 17, 18], [19]]]
    assert rt.to_list() == want and rt.ragged_rank == 2 and rt.shape.as_list() == [3, None, None]
    rt2 = tf.RaggedTensor.from_nested_row_splits(
        [10, 11, 12, 13, 14, 15, 16, 17, 18, 19], ([0, 1, 1, 5], [0, 3, 3, 5, 9, 10])
    )
    assert rt2.to_list() == want
    assert [s.numpy().tolist() for s in rt2.nested_row_splits] == [[0, 1, 1, 5], [0, 3, 3, 5, 9, 10]]
    assert rt2.flat_values.numpy().tolist() == list(range(10, 20))
    assert rt2.bounding_shape().numpy().tolist() == [3, 4, 4]
    assert rt2.row_lengths(axis=2).to_list() == [[3], [], [0, 2, 4, 1]]
    c = tf.ragged.constant([[[1, 2], [3]], [[4, 5]]])
    assert c.ragged_rank == 2 and c.to_list() == [[[1, 2], [3]], [[4, 5]]]


def test_uniform_inner_dims_with_ragged_rank():
    rt = tf.RaggedTensor.from_row_splits(
        values=[[1, 3], [0, 0], [1, 3], [5, 3], [3, 3], [1, 2]], row_splits=[0, 3, 4, 6]
    )
    assert rt.shape.as_list() == [3, None, 2] and rt.ragged_rank == 1
    assert rt.flat_values.shape == (6, 2)
    x = tf.ragged.constant([[[1, 2], [3, 4], [5, 6]], [[7, 8]]], ragged_rank=1)
    assert x.shape.as_list() == [2, None, 2] and x.flat_values.shape == (4, 2)


def test_mismatched_row_partitions_are_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="from_row_lengths.*sum to 6.*7 values"):
        tf.RaggedTensor.from_row_lengths([3, 1, 4, 1, 5, 9, 2], [4, 0, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="from_row_splits.*last row split"):
        tf.RaggedTensor.from_row_splits([1, 2, 3], [0, 1, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="ascending"):
        tf.RaggedTensor.from_row_splits([1, 2, 3], [0, 2, 1, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="value_rowids"):
        tf.RaggedTensor.from_value_rowids([1, 2, 3], [0, 2, 1])


# -- dense <-> ragged ----------------------------------------------------------------------------


def test_to_tensor_padding_and_shape():
    s = tf.ragged.constant([["Hi"], ["Welcome", "to", "the", "fair"], ["Have", "fun"]])
    t = s.to_tensor(default_value="", shape=[None, 10])
    assert t.shape == (3, 10)
    assert t.numpy().tolist()[2] == [b"Have", b"fun"] + [b""] * 8
    d = tf.ragged.constant(DIGITS).to_tensor()
    assert d.numpy().tolist() == [[3, 1, 4, 1], [0, 0, 0, 0], [5, 9, 2, 0], [6, 0, 0, 0], [0, 0, 0, 0]]
    assert tf.ragged.constant([[1, 2], [3]]).to_tensor(default_value=-1, shape=[3, 1]).numpy().tolist() == [
        [1],
        [3],
        [-1],
    ]
    deep = tf.ragged.constant([[[1], [2, 3]], [[4]]]).to_tensor()
    assert deep.numpy().tolist() == [[[1, 0], [2, 3]], [[4, 0], [0, 0]]]


def test_from_tensor_padding_and_lengths():
    x = [[1, 3, -1, -1], [2, -1, -1, -1], [4, 5, 8, 9]]
    assert tf.RaggedTensor.from_tensor(x, padding=-1).to_list() == [[1, 3], [2], [4, 5, 8, 9]]
    assert tf.RaggedTensor.from_tensor(x, lengths=[1, 0, 3]).to_list() == [[1], [], [4, 5, 8]]
    assert tf.RaggedTensor.from_tensor(x).to_list() == x
    r2 = tf.RaggedTensor.from_tensor(tf.reshape(tf.range(8), (2, 2, 2)), ragged_rank=2)
    assert r2.ragged_rank == 2 and r2.to_list() == [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]


def test_ragged_to_sparse_and_back():
    s = tf.ragged.constant([["John"], ["a", "big", "dog"]]).to_sparse()
    assert s.indices.numpy().tolist() == [[0, 0], [1, 0], [1, 1], [1, 2]]
    assert s.dense_shape.numpy().tolist() == [2, 3]
    st = tf.SparseTensor(indices=[[0, 0], [2, 0], [2, 1]], values=["a", "b", "c"], dense_shape=[3, 3])
    assert tf.RaggedTensor.from_sparse(st).to_list() == [[b"a"], [], [b"b", b"c"]]


@pytest.mark.numpy
def test_numpy_is_an_object_array_of_rows():
    rt = tf.ragged.constant([[1, 2], [3, 4, 5], [6], [], [7]])
    n = rt.numpy()
    assert n.dtype == object and len(n) == 5
    assert n[1].tolist() == [3, 4, 5] and n[3].tolist() == []


# -- indexing ------------------------------------------------------------------------------------


def test_indexing_2d_from_the_guide():
    q = tf.ragged.constant(
        [["Who", "is", "George", "Washington"], ["What", "is", "the", "weather", "tomorrow"], ["Goodnight"]]
    )
    assert q[1].numpy().tolist() == [b"What", b"is", b"the", b"weather", b"tomorrow"]
    assert q[1, 2].numpy() == b"the"
    assert q[1:].to_list() == [[b"What", b"is", b"the", b"weather", b"tomorrow"], [b"Goodnight"]]
    assert q[:, :3].to_list() == [[b"Who", b"is", b"George"], [b"What", b"is", b"the"], [b"Goodnight"]]
    assert q[:, -2:].to_list() == [[b"George", b"Washington"], [b"weather", b"tomorrow"], [b"Goodnight"]]
    d = tf.ragged.constant(DIGITS)
    assert d[::-1].to_list() == DIGITS[::-1] and d[::2].to_list() == DIGITS[::2]
    assert d[:, ::-1].to_list() == [r[::-1] for r in DIGITS]
    assert d[..., 1:].to_list() == [r[1:] for r in DIGITS]
    assert d[tf.newaxis].to_list() == [DIGITS]


def test_indexing_3d_and_errors():
    rt = tf.ragged.constant([[[1, 2, 3], [4]], [[5], [], [6]], [[7]], [[8, 9], [10]]])
    assert rt[1].to_list() == [[5], [], [6]]
    assert rt[3, 0].numpy().tolist() == [8, 9]
    assert rt[:, 1:3].to_list() == [[[4]], [[], [6]], [], [[10]]]
    assert rt[:, -1:].to_list() == [[[4]], [[6]], [[7]], [[10]]]
    with pytest.raises(ValueError, match="Cannot index into an inner ragged dimension"):
        rt[:, 0]
    with pytest.raises(ValueError, match="Cannot index into an inner ragged dimension"):
        rt[:, :, 0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        rt[5]
    with pytest.raises(IndexError, match="Too many indices"):
        tf.ragged.constant(DIGITS)[0, 0, 0]
    x = tf.ragged.constant([[[1, 2], [3, 4], [5, 6]], [[7, 8]]], ragged_rank=1)
    assert x[:, :, 1].to_list() == [[2, 4, 6], [8]]


# -- elementwise math and broadcasting -------------------------------------------------------------


def test_elementwise_through_the_ops():
    d = tf.ragged.constant(DIGITS)
    plus3 = [[v + 3 for v in r] for r in DIGITS]
    assert tf.add(d, 3).to_list() == plus3 and (d + 3).to_list() == plus3 and (3 + d).to_list() == plus3
    other = tf.ragged.constant([[1, 2, 3, 4], [], [5, 6, 7], [8], []])
    assert (d + other).to_list() == [[4, 3, 7, 5], [], [10, 15, 9], [14], []]
    assert tf.ragged.map_flat_values(lambda x: x * 2 + 1, d).to_list() == [[2 * v + 1 for v in r] for r in DIGITS]
    f = tf.ragged.constant([[1.0, 4.0], [9.0]])
    assert tf.sqrt(f).to_list() == [[1.0, 2.0], [3.0]]
    assert tf.math.square(d).to_list() == [[v * v for v in r] for r in DIGITS]
    assert (-d).to_list() == [[-v for v in r] for r in DIGITS]
    assert tf.cast(d, tf.float32).dtype is tf.float32
    assert (d > 2).to_list() == [[v > 2 for v in r] for r in DIGITS]
    assert (d / 2).dtype is tf.float64  # int / int -> float64 as TF


def test_broadcasting_dense_into_ragged():
    x = tf.ragged.constant([[10, 87, 12], [19, 53], [12, 32]])
    assert (x + [[1000], [2000], [3000]]).to_list() == [[1010, 1087, 1012], [2019, 2053], [3012, 3032]]
    x3 = tf.ragged.constant([[[1, 2], [3, 4], [5, 6]], [[7, 8]]], ragged_rank=1)
    assert (x3 + tf.constant([[10]])).to_list() == [[[11, 12], [13, 14], [15, 16]], [[17, 18]]]
    x4 = tf.ragged.constant([[[[1], [2]], [], [[3]], [[4]]], [[[5], [6]], [[7]]]], ragged_rank=2)
    assert (x4 + tf.constant([10, 20, 30])).to_list() == [
        [[[11, 21, 31], [12, 22, 32]], [], [[13, 23, 33]], [[14, 24, 34]]],
        [[[15, 25, 35], [16, 26, 36]], [[17, 27, 37]]],
    ]


def test_broadcast_errors_name_the_row_lengths():
    x = tf.ragged.constant([[1, 2], [3, 4, 5, 6], [7]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="add"):
        x + tf.constant([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    a = tf.ragged.constant([[1, 2, 3], [4], [5, 6]])
    b = tf.ragged.constant([[10, 20], [30, 40], [50]])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"row lengths \[3, 1, 2\] and \[2, 2, 1\]"):
        a + b
    c = tf.ragged.constant([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10]]], ragged_rank=1)
    e = tf.ragged.constant([[[1, 2, 0], [3, 4, 0], [5, 6, 0]], [[7, 8, 0], [9, 10, 0]]], ragged_rank=1)
    with pytest.raises(tf.errors.InvalidArgumentError):
        c + e


# -- reductions ---------------------------------------------------------------------------------------


def test_reductions_over_ragged_axes():
    d = tf.ragged.constant(DIGITS)
    m = tf.reduce_mean(d, axis=1)
    assert m.dtype is tf.float64  # TF: int32 mean through truediv
    got = m.numpy().tolist()
    assert got[0] == 2.25 and math.isnan(got[1]) and abs(got[2] - 16 / 3) < 1e-12 and got[3] == 6.0
    assert math.isnan(got[4])
    assert tf.reduce_sum(d, axis=1).numpy().tolist() == [9, 0, 16, 6, 0]
    assert tf.reduce_sum(d, axis=0).numpy().tolist() == [14, 10, 6, 1]
    assert tf.reduce_max(d, axis=1).numpy().tolist() == [4, -(2**31), 9, 6, -(2**31)]
    assert tf.reduce_min(d, axis=0).numpy().tolist() == [3, 1, 2, 1]
    assert lst(tf.reduce_sum(d)) == 31
    f = tf.ragged.constant([[1.0], []])
    assert tf.reduce_max(f, axis=1).numpy().tolist() == [1.0, float("-inf")]
    b = tf.ragged.constant([[True, False], [], [False]])
    assert tf.reduce_any(b, axis=1).numpy().tolist() == [True, False, False]
    assert tf.reduce_all(b, axis=1).numpy().tolist() == [False, True, False]
    assert tf.reduce_sum(d, axis=1, keepdims=True).shape == (5, 1)


def test_reduce_innermost_axis_of_deeper_ragged():
    rt = tf.ragged.constant([[[1, 2], [3]], [[4, 5, 6]]])
    assert tf.reduce_max(rt, axis=-1).to_list() == [[2, 3], [6]]
    x3 = tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    assert tf.reduce_sum(x3, axis=2).to_list() == [[3, 7], [11]]
    assert tf.reduce_sum(x3, axis=1).numpy().tolist() == [[4, 6], [5, 6]]


# -- structural ops --------------------------------------------------------------------------------------


def test_concat_stack_gather_boolean_mask():
    d = tf.ragged.constant(DIGITS)
    assert tf.concat([d, [[5, 3]]], axis=0).to_list() == DIGITS + [[5, 3]]
    x = tf.ragged.constant([["John"], ["a", "big", "dog"], ["my", "cat"]])
    y = tf.ragged.constant([["fell", "asleep"], ["barked"], ["is", "fuzzy"]])
    assert tf.concat([x, y], axis=1).to_list() == [
        [b"John", b"fell", b"asleep"],
        [b"a", b"big", b"dog", b"barked"],
        [b"my", b"cat", b"is", b"fuzzy"],
    ]
    marker = tf.fill([x.nrows(), 1], "#")
    padded = tf.concat([marker, x, marker], axis=1)
    assert padded.to_list()[0] == [b"#", b"John", b"#"]
    bigrams = tf.strings.join([padded[:, :-1], padded[:, 1:]], separator="+")
    assert bigrams.to_list()[0] == [b"#+John", b"John+#"]
    a = tf.ragged.constant([[1, 2], [3]])
    b = tf.ragged.constant([[4], [5, 6]])
    assert tf.stack([a, b], axis=0).to_list() == [[[1, 2], [3]], [[4], [5, 6]]]
    assert tf.stack([a, b], axis=1).to_list() == [[[1, 2], [4]], [[3], [5, 6]]]
    assert tf.gather(d, [2, 0]).to_list() == [[5, 9, 2], [3, 1, 4, 1]]
    assert tf.gather(d, [[2], [3]]).to_list() == [[[5, 9, 2]], [[6]]]
    table = tf.constant([10, 20, 30, 40])
    assert tf.gather(table, tf.ragged.constant([[0, 3], [2]])).to_list() == [[10, 40], [30]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
        tf.gather(d, [7])
    assert tf.boolean_mask(d, [True, False, True, False, False]).to_list() == [[3, 1, 4, 1], [5, 9, 2]]
    assert tf.boolean_mask(d, d > 2).to_list() == [[3, 4], [], [5, 9], [6], []]
    assert tf.ragged.boolean_mask([[1, 2, 3], [4, 5, 6]], [[True, False, True], [False, True, True]]).to_list() == [
        [1, 3],
        [5, 6],
    ]


def test_merge_dims_and_with_values():
    rt = tf.ragged.constant([[[1, 2], [3]], [[4, 5, 6]]])
    assert rt.merge_dims(0, 1).to_list() == [[1, 2], [3], [4, 5, 6]]
    assert rt.merge_dims(1, 2).to_list() == [[1, 2, 3], [4, 5, 6]]
    assert rt.merge_dims(0, -1).numpy().tolist() == [1, 2, 3, 4, 5, 6]
    x3 = tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    assert x3.merge_dims(1, 2).to_list() == [[1, 2, 3, 4], [5, 6]]
    d = tf.ragged.constant(DIGITS)
    assert d.with_values(d.values * 10).to_list() == [[v * 10 for v in r] for r in DIGITS]
    assert d.with_row_splits_dtype(tf.int32).row_splits.dtype is tf.int32


def test_ragged_range():
    assert tf.ragged.range([3, 5, 2]).to_list() == [[0, 1, 2], [0, 1, 2, 3, 4], [0, 1]]
    assert tf.ragged.range([0, 5, 8], [3, 3, 12]).to_list() == [[0, 1, 2], [], [8, 9, 10, 11]]
    assert tf.ragged.range([0, 5, 8], [3, 3, 12], 2).to_list() == [[0, 2], [], [8, 10]]
    r = tf.ragged.range(tf.constant([2, 1], tf.int64))
    assert r.dtype is tf.int64 and r.to_list() == [[0, 1], [0]]


def test_spec():
    s = tf.RaggedTensorSpec(shape=[None, None], dtype=tf.int32)
    assert s.ragged_rank == 1 and s.is_compatible_with(tf.ragged.constant([[1, 2], [3]]))
    assert not s.is_compatible_with(tf.ragged.constant([[1.0]]))
    assert tf.RaggedTensorSpec.from_value(tf.ragged.constant([[[1]], []])).ragged_rank == 2


# -- gradients -----------------------------------------------------------------------------------------


def test_gradients_flow_to_flat_values():
    v = tf.Variable([1.0, 2.0, 3.0, 4.0])
    with tf.GradientTape() as tape:
        rt = tf.RaggedTensor.from_row_lengths(v, [3, 1])
        y = tf.reduce_sum(tf.reduce_mean(rt * rt, axis=1))
    g = tape.gradient(y, v)
    # mean of row 0 = (1+4+9)/3 -> d/dv = 2v/3; row 1 = 16 -> 2v
    assert [round(x, 5) for x in g.numpy().tolist()] == [round(2 / 3, 5), round(4 / 3, 5), 2.0, 8.0]
    w = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        dense = tf.RaggedTensor.from_row_splits(w, [0, 2, 3]).to_tensor()
        z = tf.reduce_sum(dense * tf.constant([[1.0, 10.0], [100.0, 1000.0]]))
    assert tape.gradient(z, w).numpy().tolist() == [1.0, 10.0, 100.0]


# -- tf.function -----------------------------------------------------------------------------------------


def test_tf_function_traces_ragged_as_components():
    @tf.function
    def increment(x):
        return x + 1

    rt = tf.ragged.constant([[1, 2], [3], [4, 5, 6]])
    assert increment(rt).to_list() == [[2, 3], [4], [5, 6, 7]]
    assert increment(tf.ragged.constant([[10, 20], [30], [40, 50, 60]])).to_list() == [[11, 21], [31], [41, 51, 61]]
    assert increment.experimental_get_tracing_count() == 1  # same row structure: the values are placeholders
    assert increment(tf.ragged.constant([[1], [2, 3]])).to_list() == [[2], [3, 4]]
    cf = increment.get_concrete_function(rt)
    assert cf(rt).to_list() == [[2, 3], [4], [5, 6, 7]]
    (spec,), _ = cf.structured_input_signature
    assert isinstance(spec, tf.RaggedTensorSpec) and spec.dtype is tf.int32 and spec.ragged_rank == 1
    assert isinstance(cf.structured_outputs, tf.RaggedTensor)

    @tf.function(input_signature=[tf.RaggedTensorSpec(shape=[None, None], dtype=tf.int32)])
    def max_and_min(x):
        return tf.math.reduce_max(x, axis=-1), tf.math.reduce_min(x, axis=-1)

    mx, mn = max_and_min(rt)
    assert mx.numpy().tolist() == [2, 3, 6] and mn.numpy().tolist() == [1, 3, 4]
    with pytest.raises(TypeError, match="input_signature"):
        max_and_min(tf.ragged.constant([[1.0]]))

    @tf.function
    def make_palindrome(x, axis):
        return tf.concat([x, tf.reverse(x, [axis])], axis)

    assert make_palindrome(tf.constant([[1, 2], [3, 4], [5, 6]]), axis=1).numpy().tolist() == [
        [1, 2, 2, 1],
        [3, 4, 4, 3],
        [5, 6, 6, 5],
    ]


def test_tf_function_gradient_through_ragged_argument():
    @tf.function
    def energy(x):
        return tf.reduce_sum(tf.reduce_sum(x * x, axis=1) * tf.constant([1.0, 10.0]))

    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = energy(tf.RaggedTensor.from_row_lengths(v, [2, 1]))
    assert y.numpy() == 1 + 4 + 90
    assert tape.gradient(y, v).numpy().tolist() == [2.0, 4.0, 60.0]


# -- tf.data ---------------------------------------------------------------------------------------------


def _features():
    return {
        "colors": tf.ragged.constant([["red", "blue"], ["orange"], ["black", "yellow"], ["green"]]),
        "lengths": tf.ragged.constant([[7], [], [1, 3], [3, 5, 2]], dtype=tf.int64),
    }


def test_dataset_of_ragged_slices_batch_unbatch():
    ds = tf.data.Dataset.from_tensor_slices(_features())
    rows = [(e["colors"].numpy().tolist(), e["lengths"].numpy().tolist()) for e in ds]
    assert rows == [
        ([b"red", b"blue"], [7]),
        ([b"orange"], []),
        ([b"black", b"yellow"], [1, 3]),
        ([b"green"], [3, 5, 2]),
    ]
    batches = list(ds.batch(2))
    assert isinstance(batches[0]["lengths"], tf.RaggedTensor)
    assert batches[0]["colors"].to_list() == [[b"red", b"blue"], [b"orange"]]
    assert batches[1]["lengths"].to_list() == [[1, 3], [3, 5, 2]]
    again = [e["lengths"].numpy().tolist() for e in ds.batch(2).unbatch()]
    assert again == [[7], [], [1, 3], [3, 5, 2]]
    nested = list(tf.data.Dataset.from_tensors(tf.ragged.constant([[1], [2, 3]])).repeat(2).batch(2))
    assert nested[0].to_list() == [[[1], [2, 3]], [[1], [2, 3]]] and nested[0].ragged_rank == 2


def test_dense_to_ragged_batch_and_ragged_batch():
    ds = tf.data.Dataset.from_tensor_slices([1, 5, 3, 2, 8]).map(tf.range)
    got = [b.to_list() for b in ds.apply(tf.data.experimental.dense_to_ragged_batch(2))]
    assert got == [[[0], [0, 1, 2, 3, 4]], [[0, 1, 2], [0, 1]], [[0, 1, 2, 3, 4, 5, 6, 7]]]
    got2 = [b.to_list() for b in ds.ragged_batch(2, drop_remainder=True)]
    assert got2 == got[:2]
    spec = ds.ragged_batch(2).element_spec
    assert isinstance(spec, tf.RaggedTensorSpec) and spec.ragged_rank == 1
    fixed = tf.data.Dataset.from_tensor_slices([[1, 2], [3, 4], [5, 6]]).ragged_batch(2)
    assert [tuple(b.shape) for b in fixed] == [(2, 2), (1, 2)]  # fully known shapes batch as usual
    with pytest.raises(TypeError, match="padded_batch.*ragged_batch"):
        tf.data.Dataset.from_tensor_slices(_features()).batch(1).padded_batch(2)
    padded = list(tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[1], [2, 3], [4, 5, 6]])).padded_batch(2))
    assert [p.numpy().tolist() for p in padded] == [[[1, 0], [2, 3]], [[4, 5, 6]]]


def test_dataset_map_making_ragged():
    ds = tf.data.Dataset.from_tensor_slices(_features())

    def transform_lengths(features):
        return {
            "mean_length": tf.math.reduce_mean(features["lengths"]),
            "length_ranges": tf.ragged.range(features["lengths"]),
        }

    out = [e["length_ranges"].to_list() for e in ds.map(transform_lengths)]
    assert out == [[[0, 1, 2, 3, 4, 5, 6]], [], [[0], [0, 1, 2]], [[0, 1, 2], [0, 1, 2, 3, 4], [0, 1]]]


def test_tile_reverse_and_the_guides_embedding_pipeline():
    d = tf.ragged.constant(DIGITS)
    assert tf.tile(d, [1, 2]).to_list() == [r * 2 for r in DIGITS]
    assert tf.tile(d, [2, 1]).to_list() == DIGITS * 2
    assert tf.reverse(d, [1]).to_list() == [r[::-1] for r in DIGITS]
    assert tf.reverse(d, [0]).to_list() == DIGITS[::-1]
    queries = tf.ragged.constant([["Who", "is", "Dan", "Smith"], ["Pause"], ["Will", "it", "rain", "later", "today"]])
    table = tf.reshape(tf.range(64 * 2, dtype=tf.float32), (64, 2))
    words = tf.nn.embedding_lookup(table, tf.strings.to_hash_bucket_fast(queries, 64))
    assert isinstance(words, tf.RaggedTensor) and words.shape.as_list() == [3, None, 2]
    marker = tf.fill([queries.nrows(), 1], "#")
    padded = tf.concat([marker, queries, marker], axis=1)
    bigrams = tf.strings.join([padded[:, :-1], padded[:, 1:]], separator="+")
    assert bigrams.to_list()[1] == [b"#+Pause", b"Pause+#"]
    pairs = tf.nn.embedding_lookup(table, tf.strings.to_hash_bucket_fast(bigrams, 64))
    both = tf.concat([words, pairs], axis=1)
    avg = tf.reduce_mean(both, axis=1)
    assert avg.shape == (3, 2)
    for row, got in zip(both.to_list(), avg.numpy().tolist()):
        want = [sum(v[k] for v in row) / len(row) for k in range(2)]
        assert [round(x, 4) for x in got] == [round(x, 4) for x in want]


def test_ragged_stack_of_dense_rows_and_ragged():
    assert tf.ragged.stack([tf.constant([1, 2]), tf.constant([3])]).to_list() == [[1, 2], [3]]
    assert tf.ragged.stack([tf.ragged.constant([[1], [2, 3]]), tf.ragged.constant([[4]])]).to_list() == [
        [[1], [2, 3]],
        [[4]],
    ]


def test_constant_rows_from_tensors_and_string_ops_by_keyword():
    rt = tf.ragged.constant([tf.constant([1, 2]), tf.constant([3])])
    assert rt.to_list() == [[1, 2], [3]] and rt.dtype is tf.int32
    nums = tf.strings.to_number(string_tensor=tf.ragged.constant([["1", "2"], ["3"]]))
    assert nums.to_list() == [[1.0, 2.0], [3.0]] and nums.dtype is tf.float32


def test_reduce_outer_ragged_axes_of_two_ragged_dims():
    rt = tf.ragged.constant([[[1, 2], [3]], [], [[4, 5, 6], [7], [8, 9]]])
    assert tf.reduce_sum(rt, axis=1).to_list() == [[4, 2], [], [19, 14, 6]]  # [1,2]+[3]; [4,5,6]+[7]+[8,9]
    assert tf.reduce_max(rt, axis=1).to_list() == [[3, 2], [], [8, 9, 6]]
    assert tf.reduce_sum(rt, axis=0).to_list() == [[5, 7, 6], [10], [8, 9]]  # position j across rows
    assert tf.reduce_mean(tf.cast(rt, tf.float32), axis=0).to_list() == [[2.5, 3.5, 6.0], [5.0], [8.0, 9.0]]
    assert tf.reduce_sum(rt, axis=[1, 2]).numpy().tolist() == [6, 0, 39]


def test_where_with_ragged_operands():
    d = tf.ragged.constant(DIGITS)
    assert tf.where(d > 2, d, 0).to_list() == [[v if v > 2 else 0 for v in r] for r in DIGITS]
    assert tf.where(d > 2, d, d * 10).to_list() == [[v if v > 2 else v * 10 for v in r] for r in DIGITS]


def test_from_generator_with_ragged_signature():
    def gen():
        yield tf.ragged.constant([[1, 2], [3]])
        yield [[4]]  # nested lists become RaggedTensors of the signature

    sig = tf.RaggedTensorSpec(shape=[None, None], dtype=tf.int32)
    ds = tf.data.Dataset.from_generator(gen, output_signature=sig)
    assert ds.element_spec == sig
    assert [e.to_list() for e in ds] == [[[1, 2], [3]], [[4]]]
    assert next(iter(ds.batch(2))).to_list() == [[[1, 2], [3]], [[4]]]

    def bad():
        yield [[1.5]]

    with pytest.raises(tf.errors.InvalidArgumentError, match="from_generator"):
        list(tf.data.Dataset.from_generator(bad, output_signature=sig))


def test_map_fn_over_ragged_rows():
    d = tf.ragged.constant(DIGITS)
    assert tf.map_fn(tf.math.square, d).to_list() == [[v * v for v in r] for r in DIGITS]
    sums = tf.map_fn(tf.reduce_sum, d, fn_output_signature=tf.int32)
    assert sums.numpy().tolist() == [9, 0, 16, 6, 0]
    spec = tf.RaggedTensorSpec(shape=[None], dtype=tf.int32, ragged_rank=0)
    assert tf.map_fn(tf.range, tf.constant([1, 3, 2]), fn_output_signature=spec).to_list() == [[0], [0, 1, 2], [0, 1]]


def test_ragged_ops_inside_tf_function():
    @tf.function
    def f(rt):
        return (
            tf.reduce_mean(rt, axis=1),
            rt.to_tensor(),
            tf.concat([rt, rt], axis=1)[:, 1:],
            rt[1],
            tf.gather(rt, [2, 0]),
        )

    mean, dense, cat, row, picked = f(tf.ragged.constant([[1.0, 2.0], [3.0], [4.0, 5.0, 6.0]]))
    assert mean.numpy().tolist() == [1.5, 3.0, 5.0]
    assert dense.numpy().tolist() == [[1.0, 2.0, 0.0], [3.0, 0.0, 0.0], [4.0, 5.0, 6.0]]
    assert cat.to_list() == [[2.0, 1.0, 2.0], [3.0], [5.0, 6.0, 4.0, 5.0, 6.0]]
    assert row.numpy().tolist() == [3.0] and picked.to_list() == [[4.0, 5.0, 6.0], [1.0, 2.0]]


def test_add_n_of_ragged():
    d = tf.ragged.constant(DIGITS)
    assert tf.add_n([d, d, d]).to_list() == [[3 * v for v in r] for r in DIGITS]


def test_like_size_rank():
    d = tf.ragged.constant(DIGITS)
    assert tf.zeros_like(d).to_list() == [[0] * len(r) for r in DIGITS]
    o = tf.ones_like(d, dtype=tf.float32)
    assert o.dtype is tf.float32 and o.to_list() == [[1.0] * len(r) for r in DIGITS]
    assert lst(tf.size(d)) == 8 and lst(tf.rank(d)) == 2
    st = tf.SparseTensor([[0, 0]], [5], [2, 3])
    assert lst(tf.size(st)) == 6 and lst(tf.rank(st)) == 2


def test_one_hot_of_ragged_ids():
    h = tf.one_hot(tf.ragged.constant([[0, 2], [1]]), 3)
    assert h.to_list() == [[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [[0.0, 1.0, 0.0]]]
