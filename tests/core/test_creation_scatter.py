"""linspace, meshgrid, roll, scatter_nd / tensor_scatter_nd_*, the linalg diagonal family,
band_part, trace, cumulative_logsumexp and the small names: values derived by hand (TF's
documented examples) and gradients by finite differences, on the backend under test."""

import math

import pytest
import webtensor as tf

from tests.util import assert_close, assert_equal, check_grad


def test_linspace_values_dtypes_and_batches():
    assert_close(tf.linspace(10.0, 12.0, 3), [10.0, 11.0, 12.0])
    x = tf.linspace(-2, 2, 5)  # ints divide in float64, as TF (Basic training loops guide)
    assert x.dtype == tf.float64
    assert_close(x, [-2.0, -1.0, 0.0, 1.0, 2.0])
    y = tf.linspace(0.0, 1.0, 4)
    assert y.dtype == tf.float32 and float(y[-1]) == 1.0
    assert_close(y, [0.0, 1 / 3, 2 / 3, 1.0])
    assert_close(
        tf.linspace([0.0, 5.0], [10.0, 40.0], 5, axis=0),
        [[0.0, 5.0], [2.5, 13.75], [5.0, 22.5], [7.5, 31.25], [10.0, 40.0]],
    )
    assert_close(tf.linspace([0.0, 5.0], [10.0, 40.0], 3, axis=-1), [[0.0, 5.0, 10.0], [5.0, 22.5, 40.0]])
    assert_close(tf.linspace(3.0, 7.0, 1), [3.0])
    assert tuple(tf.linspace(3.0, 7.0, 0).shape) == (0,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="linspace.*num"):
        tf.linspace(0.0, 1.0, -1)


def test_linspace_gradient():
    check_grad(
        lambda a, b: tf.linspace(a, b, 4, axis=-1) * tf.constant([1.0, 2.0, 3.0, 4.0], a.dtype), [0.5, -1.0], [2.0, 3.0]
    )


def test_meshgrid_xy_and_ij():
    x, y = tf.meshgrid([1, 2, 3], [4, 5, 6, 7])
    assert_equal(x, [[1, 2, 3]] * 4)
    assert_equal(y, [[4, 4, 4], [5, 5, 5], [6, 6, 6], [7, 7, 7]])
    a, b = tf.meshgrid([1, 2], [3, 4, 5], indexing="ij")
    assert_equal(a, [[1, 1, 1], [2, 2, 2]])
    assert_equal(b, [[3, 4, 5], [3, 4, 5]])
    p, _, r = tf.meshgrid([1, 2], [3], [4, 5, 6])
    assert tuple(p.shape) == (1, 2, 3) and tuple(r.shape) == (1, 2, 3)


def test_roll_values_and_gradient():
    assert_equal(tf.roll([0, 1, 2, 3, 4], shift=2, axis=0), [3, 4, 0, 1, 2])
    t = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert_equal(tf.roll(t, shift=[1, -2], axis=[0, 1]), [[7, 8, 9, 5, 6], [2, 3, 4, 0, 1]])
    assert_equal(tf.roll(t, shift=[2, -3], axis=[1, 1]), [[1, 2, 3, 4, 0], [6, 7, 8, 9, 5]])
    check_grad(lambda x: tf.roll(x, 1, 1) * tf.constant([[1.0, 2.0, 3.0]], x.dtype), [[1.0, 2.0, 3.0]])


def test_scatter_nd_documented_examples():
    assert_equal(tf.scatter_nd([[4], [3], [1], [7]], [9, 10, 11, 12], [8]), [0, 11, 0, 10, 9, 0, 0, 12])
    upd = [[[5, 5, 5, 5], [6, 6, 6, 6], [7, 7, 7, 7], [8, 8, 8, 8]]] * 2
    out = tf.scatter_nd([[0], [2]], upd, [4, 4, 4]).numpy().tolist()
    assert out[0] == upd[0] and out[2] == upd[1] and out[1] == [[0] * 4] * 4
    assert_equal(tf.scatter_nd([[1, 1], [1, 1]], [2.0, 3.0], [2, 2]), [[0.0, 0.0], [0.0, 5.0]])  # duplicates add
    with pytest.raises(tf.errors.InvalidArgumentError, match="scatter_nd.*updates shape"):
        tf.scatter_nd([[0], [1]], [1.0, 2.0, 3.0], [4])


def test_tensor_scatter_nd_family():
    t = tf.constant([1, 2, 3, 4, 5, 6, 7, 8])
    idx = [[4], [3], [1], [7]]
    assert_equal(tf.tensor_scatter_nd_update(t, idx, [9, 10, 11, 12]), [1, 11, 3, 10, 9, 6, 7, 12])
    assert_equal(tf.tensor_scatter_nd_add(t, idx, [9, 10, 11, 12]), [1, 13, 3, 14, 14, 6, 7, 20])
    assert_equal(tf.tensor_scatter_nd_sub(t, idx, [9, 10, 11, 12]), [1, -9, 3, -6, -4, 6, 7, -4])
    assert_equal(tf.tensor_scatter_nd_max(t, [[4], [3], [3]], [9, 1, 2]), [1, 2, 3, 4, 9, 6, 7, 8])
    assert_equal(tf.tensor_scatter_nd_min(t, [[4], [3], [3]], [9, 1, 2]), [1, 2, 3, 1, 5, 6, 7, 8])
    # the last of duplicate indices wins (TF on CPU applies updates in order)
    assert_equal(tf.tensor_scatter_nd_update(t, [[0], [0]], [50, 60]), [60, 2, 3, 4, 5, 6, 7, 8])
    m = tf.tensor_scatter_nd_update(tf.zeros([2, 3]), [[1]], [[1.0, 2.0, 3.0]])
    assert_equal(m, [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])


def test_scatter_gradients():
    idx = tf.constant([[0, 1], [1, 0], [0, 1]])
    w = [[1.0, 2.0], [3.0, 4.0]]
    check_grad(lambda u: tf.scatter_nd(idx, u, [2, 2]) * tf.constant(w, u.dtype), [1.0, 2.0, 3.0])
    check_grad(
        lambda t, u: tf.tensor_scatter_nd_add(t, idx, u) * tf.constant(w, t.dtype),
        [[1.0, 2.0], [3.0, 4.0]],
        [0.5, -1.0, 2.0],
    )
    check_grad(
        lambda t, u: tf.tensor_scatter_nd_update(t, idx, u) * tf.constant(w, t.dtype),
        [[1.0, 2.0], [3.0, 4.0]],
        [0.5, -1.0, 2.0],
    )
    check_grad(lambda t, u: tf.tensor_scatter_nd_max(t, tf.constant([[0], [1]]), u), [1.0, 5.0, 3.0], [4.0, 2.0])


def test_diag_family_values():
    assert_equal(tf.linalg.diag([1.0, 2.0]), [[1.0, 0.0], [0.0, 2.0]])
    assert_equal(tf.linalg.diag([1, 2], k=1), [[0, 1, 0], [0, 0, 2], [0, 0, 0]])
    assert_equal(tf.linalg.diag([1, 2], k=-1, padding_value=9), [[9, 9, 9], [1, 9, 9], [9, 2, 9]])
    assert_equal(tf.linalg.diag([1, 2], k=1, num_rows=2), [[0, 1, 0], [0, 0, 2]])
    assert_equal(tf.linalg.diag([[1, 2], [3, 4]]), [[[1, 0], [0, 2]], [[3, 0], [0, 4]]])
    x = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 8, 7, 6]]
    assert_equal(tf.linalg.diag_part(x), [1, 6, 7])
    assert_equal(tf.linalg.diag_part(x, k=1), [2, 7, 6])
    assert_equal(tf.linalg.diag_part(x, k=-1), [5, 8])
    assert_equal(tf.linalg.set_diag(tf.zeros([2, 3], tf.int32), [7, 8]), [[7, 0, 0], [0, 8, 0]])
    assert_equal(tf.linalg.set_diag(tf.zeros([2, 3], tf.int32), [7, 8], k=1), [[0, 7, 0], [0, 0, 8]])
    assert_close(tf.linalg.trace([[[1.0, 2.0], [3.0, 4.0]], [[-1.0, 0.0], [0.0, 7.0]]]), [5.0, 6.0])
    a = [[0, 1, 2, 3], [-1, 0, 1, 2], [-2, -1, 0, 1], [-3, -2, -1, 0]]
    assert_equal(tf.linalg.band_part(a, 1, -1), [[0, 1, 2, 3], [-1, 0, 1, 2], [0, -1, 0, 1], [0, 0, -1, 0]])
    assert_equal(tf.linalg.band_part(a, 2, 1), [[0, 1, 0, 0], [-1, 0, 1, 0], [-2, -1, 0, 1], [0, -2, -1, 0]])
    assert_equal(tf.linalg.band_part(a, 0, 0), [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert_equal(tf.linalg.tensor_diag([1, 2]), [[1, 0], [0, 2]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="set_diag.*diagonal shape"):
        tf.linalg.set_diag(tf.zeros([2, 3]), [1.0, 2.0, 3.0])


def test_diag_family_gradients():
    x = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    w = [[1.0, -2.0, 3.0], [0.5, 2.0, -1.0]]
    check_grad(lambda d: tf.linalg.diag(d, k=1, num_rows=2, num_cols=3) * tf.constant(w, d.dtype), [1.5, -2.0])
    check_grad(lambda a: tf.linalg.diag_part(a, k=1) * tf.constant([2.0, 3.0], a.dtype), x)
    check_grad(lambda a, d: tf.linalg.set_diag(a, d) * tf.constant(w, a.dtype), x, [7.0, 8.0])
    check_grad(lambda a: tf.linalg.band_part(a, 0, 1) * tf.constant(w, a.dtype), x)
    check_grad(lambda a: tf.linalg.trace(a) * tf.linalg.trace(a), [[1.0, 2.0], [3.0, 4.0]])


def test_cumulative_logsumexp():
    x = [0.5, -1.0, 2.0, 30.0]
    want, acc = [], 0.0
    for v in x:
        acc += math.exp(v)
        want.append(math.log(acc))
    assert_close(tf.math.cumulative_logsumexp(tf.constant(x)), want, rtol=1e-5)
    ex = tf.math.cumulative_logsumexp(tf.constant(x), exclusive=True).numpy().tolist()
    assert ex[0] == -math.inf
    assert_close(ex[1:], want[:-1], rtol=1e-5)
    rev = tf.math.cumulative_logsumexp(tf.constant([[0.0, 0.0, 0.0]]), axis=1, reverse=True)
    assert_close(rev, [[math.log(3), math.log(2), 0.0]])
    check_grad(
        lambda a: tf.math.cumulative_logsumexp(a, axis=1) * tf.constant([[1.0, 2.0, 3.0]], a.dtype), [[0.5, -1.0, 2.0]]
    )
    check_grad(
        lambda a: tf.math.cumulative_logsumexp(a, axis=0, exclusive=True, reverse=True)[:-1],
        [[0.5, -1.0], [2.0, 0.0], [1.0, 3.0]],
    )
    # values far apart: each prefix is its own stable logsumexp
    assert_close(
        tf.math.cumulative_logsumexp(tf.constant([-200.0, 0.0, 1.0])), [-200.0, 0.0, math.log(1 + math.e)], rtol=1e-6
    )


def test_cumulative_logsumexp_large_axis_path(monkeypatch):
    from webtensor.ops import creation

    monkeypatch.setattr(creation, "PAIRWISE_LIMIT", 0)
    x = [0.5, -1.0, 2.0, 3.0]
    want, acc = [], 0.0
    for v in x:
        acc += math.exp(v)
        want.append(math.log(acc))
    assert_close(tf.math.cumulative_logsumexp(tf.constant(x)), want, rtol=1e-5)
    check_grad(lambda a: tf.math.cumulative_logsumexp(a) * tf.constant([1.0, 2.0, 3.0, 4.0], a.dtype), x)


def test_small_names():
    assert tf.__version__.startswith("2.") and "webtensor" in tf.__version__
    assert tf.version.VERSION == tf.__version__
    assert tf.losses is tf.keras.losses and tf.metrics is tf.keras.metrics
    assert tf.optimizers is tf.keras.optimizers and tf.initializers is tf.keras.initializers
    t = tf.constant([[1.0, 2.0, 3.0]])
    t.set_shape([None, 3])
    t.set_shape(tf.TensorShape([1, 3]))
    with pytest.raises(ValueError, match="not compatible"):
        t.set_shape([3])
    assert tf.ensure_shape(t, [1, None]) is t
    with pytest.raises(tf.errors.InvalidArgumentError, match="ensure_shape.*\\(1, 3\\)"):
        tf.ensure_shape(t, [2, 3])
    assert tf.get_static_value(t).tolist() == [[1.0, 2.0, 3.0]]

    @tf.function
    def f(x):
        return tf.get_static_value(x) is None

    assert bool(f(t))


def test_guide_code_with_linspace():
    """'Automatic differentiation' and 'Basic training loops' guides, as written there."""
    x = tf.linspace(-10.0, 10.0, 200 + 1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.sigmoid(x)
    dy_dx = tape.gradient(y, x).numpy().tolist()
    for v, g in zip(tf.linspace(-10.0, 10.0, 201).numpy().tolist()[::40], dy_dx[::40]):
        s = 1 / (1 + math.exp(-v))
        assert abs(g - s * (1 - s)) < 1e-6
    x = tf.cast(tf.linspace(-2, 2, 1000), tf.float32)
    assert x.dtype == tf.float32 and tuple(x.shape) == (1000,)
    assert_close([float(x[0]), float(x[999])], [-2.0, 2.0])
