"""tf.SparseTensor and tf.sparse: values from TF's "Working with sparse tensors" guide, by hand."""

import pytest
import webtensor as tf


def rows(t):
    return t.numpy().tolist()


def test_components_and_dense_round_trip():
    st1 = tf.sparse.SparseTensor(indices=[[0, 3], [2, 4]], values=[10, 20], dense_shape=[3, 10])
    assert st1.indices.dtype is tf.int64 and st1.dense_shape.dtype is tf.int64
    assert st1.values.dtype is tf.int32 and st1.shape.as_list() == [3, 10] and st1.dtype is tf.int32
    st2 = tf.sparse.from_dense([[1, 0, 0, 8], [0, 0, 0, 0], [0, 0, 3, 0]])
    assert rows(st2.indices) == [[0, 0], [0, 3], [2, 2]] and rows(st2.values) == [1, 8, 3]
    assert rows(tf.sparse.to_dense(st2)) == [[1, 0, 0, 8], [0, 0, 0, 0], [0, 0, 3, 0]]
    assert rows(tf.sparse.to_dense(st1, default_value=-1))[0] == [-1, -1, -1, 10] + [-1] * 6
    s = tf.sparse.from_dense(tf.constant(["", "a", ""]))
    assert rows(s.indices) == [[1]] and rows(tf.sparse.to_dense(s)) == [b"", b"a", b""]
    assert isinstance(tf.SparseTensor, type) and tf.SparseTensor is tf.sparse.SparseTensor


def test_bad_indices_are_invalid_argument():
    oob = tf.SparseTensor(indices=[[0, 0], [3, 1]], values=[1, 2], dense_shape=[3, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[3, 1\] is out of bounds"):
        tf.sparse.to_dense(oob)
    unordered = tf.SparseTensor(indices=[[1, 0], [0, 1]], values=[1, 2], dense_shape=[3, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of order.*tf.sparse.reorder"):
        tf.sparse.to_dense(unordered)
    assert rows(tf.sparse.to_dense(tf.sparse.reorder(unordered))) == [[0, 2, 0], [1, 0, 0], [0, 0, 0]]
    assert rows(tf.sparse.reorder(unordered).indices) == [[0, 1], [1, 0]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="repeated"):
        tf.sparse.to_dense(tf.SparseTensor([[0, 0], [0, 0]], [1, 2], [2, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="values"):
        tf.SparseTensor([[0, 0]], [1, 2], [2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        tf.sparse.sparse_dense_matmul(oob, tf.ones((3, 1), tf.int32))


def test_add_sparse_and_dense():
    st_a = tf.SparseTensor(indices=[[0, 2], [3, 4]], values=[31, 2], dense_shape=[4, 10])
    st_b = tf.SparseTensor(indices=[[0, 2], [3, 0]], values=[56, 38], dense_shape=[4, 10])
    s = tf.sparse.add(st_a, st_b)
    assert rows(s.indices) == [[0, 2], [3, 0], [3, 4]] and rows(s.values) == [87, 38, 2]
    d = tf.sparse.add(st_a, tf.ones((4, 10), tf.int32))
    assert d.shape == (4, 10) and rows(d)[0][2] == 32 and rows(d)[1][0] == 1
    small = tf.sparse.add(
        tf.SparseTensor([[0], [1]], [0.5, 2.0], [2]), tf.SparseTensor([[0]], [-0.25], [2]), threshold=0.3
    )
    assert rows(small.indices) == [[1]] and rows(small.values) == [2.0]


def test_sparse_dense_matmul_and_gradients():
    st_c = tf.SparseTensor(indices=([0, 1], [1, 0], [1, 1]), values=[13, 15, 17], dense_shape=(2, 2))
    assert rows(tf.sparse.sparse_dense_matmul(st_c, tf.constant([[4], [6]]))) == [[78], [162]]
    a = tf.SparseTensor(indices=[[0, 3], [2, 4]], values=[15, 25], dense_shape=[3, 10])
    b = tf.sparse.to_dense(tf.sparse.transpose(a))
    assert rows(tf.sparse.sparse_dense_matmul(a, b)) == [[225, 0, 0], [0, 0, 0], [0, 0, 625]]
    assert rows(tf.sparse.sparse_dense_matmul(a, tf.transpose(b), adjoint_b=True)) == [
        [225, 0, 0],
        [0, 0, 0],
        [0, 0, 625],
    ]
    vals = tf.Variable([2.0, 3.0])
    dense = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape() as tape:
        sp = tf.SparseTensor([[0, 0], [1, 2]], vals, [2, 3])  # [[2, 0, 0], [0, 0, 3]]
        y = tf.reduce_sum(tf.sparse.sparse_dense_matmul(sp, dense) * tf.constant([[1.0, 10.0], [100.0, 1000.0]]))
    gv, gd = tape.gradient(y, [vals, dense])
    # y = 2*(1*1 + 2*10) + 3*(5*100 + 6*1000): dy/dvals = [21, 6500]
    assert rows(gv) == [21.0, 6500.0]
    assert rows(gd) == [[2.0, 20.0], [0.0, 0.0], [300.0, 3000.0]]
    dense_at_sparse = tf.sparse.sparse_dense_matmul(tf.constant([[1, 2]]), tf.SparseTensor([[1, 0]], [5], [2, 3]))
    assert rows(dense_at_sparse) == [[10, 0, 0]]


def test_concat_and_slice_from_the_guide():
    a = tf.SparseTensor(indices=[[2, 4], [3, 3], [3, 4], [4, 3], [4, 4], [5, 4]], values=[1] * 6, dense_shape=[8, 5])
    b = tf.SparseTensor(
        indices=[
            [0, 2],
            [1, 1],
            [1, 3],
            [2, 0],
            [2, 4],
            [2, 5],
            [3, 5],
            [4, 5],
            [5, 0],
            [5, 4],
            [5, 5],
            [6, 1],
            [6, 3],
            [7, 2],
        ],
        values=[1] * 14,
        dense_shape=[8, 6],
    )
    c = tf.SparseTensor(indices=[[3, 0], [4, 0]], values=[1, 1], dense_shape=[8, 6])
    joined = tf.sparse.concat(axis=1, sp_inputs=[a, b, c])
    assert joined.shape.as_list() == [8, 17]
    dense = rows(tf.sparse.to_dense(joined))
    assert dense[3] == [0, 0, 0, 1, 1] + [0, 0, 0, 0, 0, 1] + [1, 0, 0, 0, 0, 0]
    assert rows(joined.indices) == sorted(rows(joined.indices))
    sb = tf.sparse.slice(joined, start=[0, 5], size=[8, 6])
    assert rows(tf.sparse.to_dense(sb)) == rows(tf.sparse.to_dense(b))
    sc = tf.sparse.slice(joined, start=[0, 11], size=[8, 6])
    assert sc.shape.as_list() == [8, 6] and rows(tf.sparse.to_dense(sc)) == rows(tf.sparse.to_dense(c))


def test_reshape_reduce_retain_indicator():
    st = tf.SparseTensor([[0, 0], [0, 2], [1, 1]], [1, 2, 3], [2, 3])
    r = tf.sparse.reshape(st, [3, -1])
    assert r.shape.as_list() == [3, 2] and rows(r.indices) == [[0, 0], [1, 0], [2, 0]]
    assert rows(tf.sparse.to_dense(r)) == [[1, 0], [2, 0], [3, 0]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="reshape"):
        tf.sparse.reshape(st, [4, 2])
    assert tf.sparse.reduce_sum(st).numpy() == 6
    assert rows(tf.sparse.reduce_sum(st, 0)) == [1, 3, 2]
    assert rows(tf.sparse.reduce_sum(st, 1, keepdims=True)) == [[3], [3]]
    assert tf.sparse.reduce_max(st).numpy() == 3
    assert rows(tf.sparse.reduce_max(st, 0)) == [1, 3, 2] and rows(tf.sparse.reduce_max(st, 1)) == [2, 3]
    y = tf.SparseTensor([[0, 0], [1, 0], [1, 1]], [-7, 4, 3], [3, 2])
    assert rows(tf.sparse.reduce_max(y, 1)) == [-7, 4, 0]  # implicit zeros are ignored (TF's doc example)
    assert tf.sparse.reduce_max(tf.sparse.from_dense([-5, 0, -3])).numpy() == -3
    kept = tf.sparse.retain(st, [True, False, True])
    assert rows(kept.indices) == [[0, 0], [1, 1]] and rows(kept.values) == [1, 3]
    ids = tf.SparseTensor([[0, 0], [0, 1], [2, 0]], [0, 3, 2], [3, 2])
    assert rows(tf.sparse.to_indicator(ids, 4)) == [
        [True, False, False, True],
        [False] * 4,
        [False, False, True, False],
    ]


def test_elementwise_with_scalar_and_dense():
    st2 = tf.sparse.from_dense([[1, 0, 0, 8], [0, 0, 0, 0], [0, 0, 3, 0]])
    assert rows((st2 * 2).values) == [2, 16, 6]
    dense = tf.constant([[10, 20, 30, 40], [1, 1, 1, 1], [5, 6, 7, 8]])
    assert rows((st2 * dense).values) == [10, 320, 21]
    f = tf.SparseTensor([[0], [2]], [3.0, -4.0], [3])
    assert rows((f / 2.0).values) == [1.5, -2.0]
    assert rows(tf.abs(f).values) == [3.0, 4.0] and rows(tf.math.negative(f).values) == [-3.0, 4.0]
    assert rows(tf.sparse.to_dense(tf.sparse.map_values(tf.add, st2, 5))) == [[6, 0, 0, 13], [0, 0, 0, 0], [0, 0, 8, 0]]
    with pytest.raises(TypeError):
        tf.exp(f)  # exp(0) != 0: not defined on a SparseTensor
    assert tf.SparseTensorSpec([None, 3], tf.int32).is_compatible_with(st2.with_values(st2.values)) is False
    assert tf.SparseTensorSpec([None, 4], tf.int32).is_compatible_with(st2)


def test_tf_function_takes_sparse_arguments():
    @tf.function
    def f(x, y):
        return tf.sparse.sparse_dense_matmul(x, y)

    a = tf.SparseTensor(indices=[[0, 3], [2, 4]], values=[15, 25], dense_shape=[3, 10])
    b = tf.sparse.to_dense(tf.sparse.transpose(a))
    assert rows(f(a, b)) == [[225, 0, 0], [0, 0, 0], [0, 0, 625]]
    a2 = tf.SparseTensor(indices=[[0, 3], [2, 4]], values=[1, 2], dense_shape=[3, 10])
    assert rows(f(a2, b)) == [[15, 0, 0], [0, 0, 0], [0, 0, 50]]
    assert f.experimental_get_tracing_count() == 1

    @tf.function
    def double(x):
        return x * 2

    out = double(a)
    assert isinstance(out, tf.SparseTensor) and rows(out.values) == [30, 50] and rows(out.indices) == [[0, 3], [2, 4]]


def test_dataset_of_sparse_slices_batch_unbatch_map():
    sparse_data = tf.SparseTensor(
        indices=[(0, 0), (0, 1), (0, 2), (4, 3), (5, 0), (5, 1)], values=[1] * 6, dense_shape=(6, 4)
    )
    ds = tf.data.Dataset.from_tensor_slices(sparse_data)
    assert ds.element_spec == tf.SparseTensorSpec([4], tf.int32)
    els = list(ds)
    assert len(els) == 6 and rows(els[0].indices) == [[0], [1], [2]] and rows(els[0].dense_shape) == [4]
    assert rows(els[1].indices) == [] and rows(els[4].indices) == [[3]]
    batches = list(ds.batch(2))
    assert rows(batches[2].indices) == [[0, 3], [1, 0], [1, 1]] and rows(batches[2].dense_shape) == [2, 4]
    back = list(ds.batch(2).unbatch())
    assert [rows(e.indices) for e in back] == [rows(e.indices) for e in els]
    doubled = next(iter(ds.map(lambda x: x * 2)))
    assert rows(doubled.values) == [2, 2, 2]


def test_to_dense_default_value_keeps_value_gradients():
    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        d = tf.sparse.to_dense(tf.SparseTensor([[0, 0], [1, 1]], v, [2, 2]), default_value=5.0)
        y = tf.reduce_sum(d * tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    assert rows(d) == [[1.0, 5.0], [5.0, 2.0]]
    assert rows(tape.gradient(y, v)) == [1.0, 4.0]


def test_embedding_lookup_sparse_combiners_and_gradient():
    params = tf.Variable([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    ids = tf.SparseTensor([[0, 0], [0, 1], [2, 0]], tf.constant([0, 2, 1], tf.int64), [3, 2])
    w = tf.SparseTensor([[0, 0], [0, 1], [2, 0]], [1.0, 3.0, 2.0], [3, 2])
    with tf.GradientTape() as tape:
        mean = tf.nn.embedding_lookup_sparse(params, ids, w, combiner="mean")
        y = tf.reduce_sum(mean)
    # row 0: (1*[1, 0] + 3*[2, 2]) / 4; row 1 is empty; row 2: 2*[0, 1] / 2
    assert rows(mean) == [[1.75, 1.5], [0.0, 0.0], [0.0, 1.0]]
    assert rows(tape.gradient(y, params)) == [[0.25, 0.25], [1.0, 1.0], [0.75, 0.75]]
    assert rows(tf.nn.embedding_lookup_sparse(params, ids, None, combiner="sum")) == [
        [3.0, 2.0],
        [0.0, 0.0],
        [0.0, 1.0],
    ]
    sq = rows(tf.nn.embedding_lookup_sparse(params, ids, w, combiner="sqrtn"))[0]
    assert [round(v, 5) for v in sq] == [round(7 / 10**0.5, 5), round(6 / 10**0.5, 5)]


def test_expand_dims_eye_fill_empty_rows_maximum_split():
    st = tf.SparseTensor([[0, 0], [0, 2], [2, 1]], [1, 2, 3], [4, 3])
    e = tf.sparse.expand_dims(st, 0)
    assert rows(e.indices) == [[0, 0, 0], [0, 0, 2], [0, 2, 1]] and rows(e.dense_shape) == [1, 4, 3]
    assert rows(tf.sparse.to_dense(tf.sparse.eye(2, 3))) == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    filled, empty = tf.sparse.fill_empty_rows(st, -1)
    assert rows(tf.sparse.to_dense(filled)) == [[1, 0, 2], [-1, 0, 0], [0, 3, 0], [-1, 0, 0]]
    assert rows(empty) == [False, True, False, True]
    zero = tf.SparseTensor([[0]], [0], [7])  # TF's doc example
    one = tf.SparseTensor([[1]], [1], [7])
    mx = tf.sparse.maximum(zero, one)
    assert rows(mx.indices) == [[0], [1]] and rows(mx.values) == [0, 1]
    a = tf.SparseTensor([[0], [2]], [1, -5], [3])
    b = tf.SparseTensor([[1], [2]], [-2, 4], [3])
    assert rows(tf.sparse.minimum(a, b).values) == [0, -2, -5]  # implicit zeros take part
    parts = tf.sparse.split(sp_input=st, num_split=2, axis=1)
    assert [rows(tf.sparse.to_dense(p)) for p in parts] == [[[1, 0], [0, 0], [0, 3], [0, 0]], [[2], [0], [0], [0]]]
