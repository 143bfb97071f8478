"""Shape ops, slicing, joining, padding, gather/scatter and creation ops."""

import pytest

import webtensor as tf
from util import assert_close, assert_equal, check_grad, tolist

M = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_reshape_with_minus_one_and_errors():
    x = tf.range(12)
    assert tf.reshape(x, [3, -1]).shape == (3, 4)
    assert tf.reshape(x, (2, 2, -1)).shape == (2, 2, 3)
    assert tolist(tf.reshape(x, [2, 6])[1]) == list(range(6, 12))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"reshape: input of shape \(12,\) has 12 values"):
        tf.reshape(x, [5, -1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="has 12 values, but the requested shape"):
        tf.reshape(x, [5, 3])
    check_grad(lambda a: tf.reshape(a, [3, 2]) * tf.constant([[1.0, 2.0]], a.dtype), M)


def test_transpose_expand_squeeze():
    x = tf.constant(M)
    assert_equal(tf.transpose(x), [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])
    y = tf.reshape(tf.range(24), (2, 3, 4))
    z = tf.transpose(y, perm=[2, 0, 1])
    assert z.shape == (4, 2, 3) and tolist(z[3, 1, 2]) == tolist(y[1, 2, 3])
    assert tf.expand_dims(x, 0).shape == (1, 2, 3) and tf.expand_dims(x, -1).shape == (2, 3, 1)
    assert tf.squeeze(tf.zeros((1, 2, 1, 3))).shape == (2, 3)
    assert tf.squeeze(tf.zeros((1, 2, 1)), axis=[2]).shape == (1, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="squeeze"):
        tf.squeeze(tf.zeros((2, 3)), axis=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="permutation"):
        tf.transpose(x, [0, 0])
    check_grad(lambda a: tf.transpose(a) * tf.constant([[1.0, 2.0]], a.dtype), M)


def test_concat_stack_unstack_split():
    a, b = tf.constant(M), tf.constant([[7.0, 8.0, 9.0]])
    assert_equal(tf.concat([a, b], 0), M + [[7.0, 8.0, 9.0]])
    assert_equal(tf.concat([a, a], axis=-1), [r + r for r in M])
    s = tf.stack([a, a + 10.0], axis=1)
    assert s.shape == (2, 2, 3) and tolist(s[0, 1]) == [11.0, 12.0, 13.0]
    parts = tf.unstack(a, axis=1)
    assert len(parts) == 3 and tolist(parts[2]) == [3.0, 6.0]
    p, q = tf.split(tf.range(10), [3, -1])
    assert tolist(p) == [0, 1, 2] and tolist(q) == list(range(3, 10))
    assert [tolist(t) for t in tf.split(tf.range(6), 3)] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(tf.errors.InvalidArgumentError, match="evenly divisible"):
        tf.split(tf.range(10), 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="must match except in dimension 0"):
        tf.concat([a, tf.zeros((1, 2))], 0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="shapes of all inputs must match"):
        tf.stack([a, b])
    check_grad(
        lambda x, y: tf.concat([x, y * 2.0], 0) * tf.constant([[1.0], [2.0], [3.0]], x.dtype), M, [[7.0, 8.0, 9.0]]
    )
    check_grad(lambda x: tf.stack(tf.unstack(x, axis=1)[::-1], 0), M)
    check_grad(lambda x: tf.split(x, [1, 2], axis=1)[1] * 3.0, M)


def test_tile_pad_broadcast_reverse():
    x = tf.constant([[1, 2], [3, 4]])
    assert_equal(tf.tile(x, [2, 1]), [[1, 2], [3, 4], [1, 2], [3, 4]])
    assert_equal(tf.tile(x, [1, 2]), [[1, 2, 1, 2], [3, 4, 3, 4]])
    assert_equal(tf.pad(x, [[1, 0], [0, 1]]), [[0, 0, 0], [1, 2, 0], [3, 4, 0]])
    assert_equal(tf.pad(x, [[0, 0], [1, 1]], constant_values=9), [[9, 1, 2, 9], [9, 3, 4, 9]])
    r = tf.constant([[1, 2, 3], [4, 5, 6]])
    assert_equal(
        tf.pad(r, [[1, 1], [2, 2]], "REFLECT"),
        [[6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1], [6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1]],
    )
    assert_equal(
        tf.pad(r, [[1, 1], [2, 2]], "SYMMETRIC"),
        [[2, 1, 1, 2, 3, 3, 2], [2, 1, 1, 2, 3, 3, 2], [5, 4, 4, 5, 6, 6, 5], [5, 4, 4, 5, 6, 6, 5]],
    )
    assert_equal(tf.broadcast_to(tf.constant([1, 2]), [2, 2]), [[1, 2], [1, 2]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="broadcast_to"):
        tf.broadcast_to(tf.constant([1, 2, 3]), [2, 2])
    assert_equal(tf.reverse(r, [1]), [[3, 2, 1], [6, 5, 4]])
    check_grad(lambda a: tf.tile(a, [2, 3]), M)
    check_grad(lambda a: tf.pad(a, [[1, 2], [0, 1]]) * 2.0, M)
    check_grad(lambda a: tf.pad(a, [[1, 1], [2, 2]], "REFLECT") * tf.range(7, dtype=a.dtype), M)
    check_grad(lambda a: tf.broadcast_to(a, [4, 2, 3]) * tf.reshape(tf.range(4, dtype=a.dtype), [4, 1, 1]), M)


def test_strided_slice_gradients():
    x = [[float(i * 5 + j) for j in range(5)] for i in range(4)]
    w = lambda y: y * tf.cast(tf.reshape(tf.range(tf.size(y)), y.shape) + 1, y.dtype)  # noqa: E731
    check_grad(lambda a: w(a[1:, ::2]), x)
    check_grad(lambda a: w(a[::-1, 3:0:-2]), x)
    check_grad(lambda a: w(a[-1, ...]), x)
    check_grad(lambda a: w(a[:, None, 1]), x)
    check_grad(lambda a: w(tf.slice(a, [1, 1], [2, -1])), x)


def test_gather_axes_batch_dims_and_gradient():
    p = tf.constant([[0.0, 1.0, 2.0], [10.0, 11.0, 12.0], [20.0, 21.0, 22.0]])
    assert_equal(tf.gather(p, [2, 0]), [[20.0, 21.0, 22.0], [0.0, 1.0, 2.0]])
    assert_equal(tf.gather(p, [[1], [2]], axis=1), [[[1.0], [2.0]], [[11.0], [12.0]], [[21.0], [22.0]]])
    assert_equal(tf.gather(p, [[2, 0], [1, 1], [0, 0]], axis=1, batch_dims=1), [[2.0, 0.0], [11.0, 11.0], [20.0, 20.0]])
    check_grad(lambda a: tf.gather(a, [2, 0, 2]) * 2.0, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    check_grad(lambda a: tf.gather(a, [[1, 1], [0, 1]], axis=1, batch_dims=1), [[1.0, 2.0], [3.0, 4.0]])
    if p.device.endswith("GPU:0"):  # GPUs gather zeros for out-of-range indices, as TF on GPUs
        assert_equal(tf.gather(p, [3, -1]), [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        return
    with pytest.raises(tf.errors.InvalidArgumentError, match="gather"):
        tf.gather(p, [3])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.gather(p, [-1])


def test_gather_nd_and_boolean_mask():
    p = tf.constant([[1, 2], [3, 4]])
    assert_equal(tf.gather_nd(p, [[1, 0], [0, 1]]), [3, 2])
    assert_equal(tf.gather_nd(p, [[1]]), [[3, 4]])
    q = tf.constant([[[1, 2], [5, 6]], [[3, 4], [7, 8]]])
    assert_equal(tf.gather_nd(q, [[1], [0]], batch_dims=1), [[5, 6], [3, 4]])
    if p.device.endswith("GPU:0"):  # out-of-range rows gather zeros on GPUs, as TF on GPUs
        assert_equal(tf.gather_nd(p, [[0, 2], [1, 1], [-1, 0]]), [0, 4, 0])
    else:
        with pytest.raises(tf.errors.InvalidArgumentError, match="gather_nd"):
            tf.gather_nd(p, [[0, 2]])
    check_grad(lambda a: tf.gather_nd(a, [[1, 0], [1, 0], [0, 1]]), [[1.0, 2.0], [3.0, 4.0]])
    assert_equal(tf.boolean_mask(tf.constant([1, 2, 3, 4]), [True, False, True, False]), [1, 3])
    assert_equal(tf.boolean_mask(p, [False, True]), [[3, 4]])
    assert_equal(tf.boolean_mask(p, [[True, False], [False, True]]), [1, 4])
    check_grad(lambda a: tf.boolean_mask(a, tf.constant([True, False, True])), [1.0, 2.0, 3.0])


def test_unsorted_segment_sum():
    data = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert_equal(tf.math.unsorted_segment_sum(data, [1, 0, 1], 3), [[3.0, 4.0], [6.0, 8.0], [0.0, 0.0]])
    check_grad(
        lambda d: tf.math.unsorted_segment_sum(d, tf.constant([1, 0, 1]), 2), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    )


def test_creation_ops():
    assert_equal(tf.zeros([2, 1]), [[0.0], [0.0]])
    assert tf.ones((2,), tf.int32).dtype is tf.int32
    assert_equal(tf.fill([2, 2], 7), [[7, 7], [7, 7]])
    assert_equal(tf.zeros_like(tf.constant([1, 2])), [0, 0])
    assert_equal(tf.ones_like(tf.constant([1.0, 2.0]), dtype=tf.int32), [1, 1])
    assert_equal(tf.eye(2, 3), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert tf.eye(2, batch_shape=[3]).shape == (3, 2, 2)
    assert_equal(tf.range(3, 12, 3), [3, 6, 9])
    assert_equal(tf.range(5, 0, -2), [5, 3, 1])
    assert_close(tf.range(0.0, 1.0, 0.3), [0.0, 0.3, 0.6, 0.9])
    assert tf.range(4, dtype=tf.float64).dtype is tf.float64
    assert_equal(tf.one_hot([0, 2, 5], 3), [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    assert_equal(tf.one_hot([1], 3, on_value=5, off_value=-1), [[-1, 5, -1]])
    assert_equal(tf.one_hot([1, 0], 2, axis=0), [[0.0, 1.0], [1.0, 0.0]])
    assert_equal(tf.shape(tf.zeros((2, 5))), [2, 5])
    assert tolist(tf.size(tf.zeros((2, 5)))) == 10 and tolist(tf.rank(tf.zeros((2, 5)))) == 2
    assert_equal(tf.repeat(tf.constant([1, 2]), 2), [1, 1, 2, 2])
    assert_equal(tf.repeat(tf.constant([[1, 2]]), [1, 2], axis=1), [[1, 2, 2]])


def test_identity_and_stop_gradient():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        a = tf.identity(x) * 3.0
        b = tf.stop_gradient(x) * 3.0 + x
    assert_equal(t.gradient(a, x), [3.0, 3.0])
    assert_equal(t.gradient(b, x), [1.0, 1.0])
