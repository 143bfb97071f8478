"""sort/argsort/searchsorted/unique/bincount/confusion_matrix/histogram_fixed_width, the
segment reductions and embedding_lookup: TF's documented examples, hand-derived values,
numpy where it exists (imported inside the test) and finite-difference gradients."""

import pytest
import webtensor as tf
from webtensor.ops import sorting

from tests.util import assert_close, assert_equal, check_grad

DATA = [[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0], [5.0, 6.0, 7.0, 8.0]]


@pytest.fixture(params=["device", "host"])
def ranking(request, monkeypatch):
    """Run argsort's pairwise-comparison path and its host path for big inputs."""
    if request.param == "host":
        monkeypatch.setattr(sorting, "DEVICE_LIMIT", 0)
    return request.param


def test_sort_and_argsort(ranking):
    x = tf.constant([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, -1.0, 5.0]])
    assert_equal(tf.argsort(x), [[1, 3, 2, 0], [2, 0, 1, 3]])  # ties keep their order
    assert_equal(tf.argsort(x, direction="DESCENDING"), [[0, 2, 1, 3], [1, 3, 0, 2]])
    assert_equal(tf.sort(x), [[1.0, 1.0, 2.0, 3.0], [-1.0, 0.0, 5.0, 5.0]])
    assert_equal(tf.sort(x, axis=0), [[0.0, 1.0, -1.0, 1.0], [3.0, 5.0, 2.0, 5.0]])
    assert_equal(
        tf.sort([1, 10, 26.7, 2.8, 6.7, 0.3], direction="DESCENDING"), tf.constant([26.7, 10, 6.7, 2.8, 1, 0.3])
    )
    assert_equal(tf.sort(tf.constant([3, -7, 0], tf.int64)), [-7, 0, 3])
    assert tf.argsort(x).dtype == tf.int32


def test_sort_against_numpy(ranking):
    np = pytest.importorskip("numpy")
    v = np.random.default_rng(0).normal(size=(3, 17)).astype("float32")
    assert_equal(tf.sort(v, axis=-1), np.sort(v, axis=-1))
    assert_equal(tf.argsort(v, axis=0), np.argsort(v, axis=0, kind="stable"))


def test_sort_gradient(ranking):
    w = [[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]]
    check_grad(lambda x: tf.sort(x) * tf.constant(w, x.dtype), [[0.3, -1.2, 2.5], [4.0, 1.0, -2.0]])
    check_grad(
        lambda x: tf.sort(x, direction="DESCENDING", axis=0) * tf.constant(w, x.dtype),
        [[0.3, -1.2, 2.5], [4.0, 1.0, -2.0]],
    )


def test_searchsorted():
    seq = [[0.0, 3.0, 9.0, 9.0, 10.0], [1.0, 2.0, 3.0, 4.0, 5.0]]
    vals = [[2.0, 4.0, 9.0], [0.0, 2.0, 6.0]]
    assert_equal(tf.searchsorted(seq, vals), [[1, 2, 2], [0, 1, 5]])
    assert_equal(tf.searchsorted(seq, vals, side="right"), [[1, 2, 4], [0, 2, 5]])
    assert tf.searchsorted(seq, vals, out_type=tf.int64).dtype == tf.int64
    with pytest.raises(tf.errors.InvalidArgumentError, match="searchsorted"):
        tf.searchsorted([[1.0, 2.0]], [1.0])


def test_unique_and_counts():
    y, idx = tf.unique([1, 1, 2, 4, 4, 4, 7, 8, 8])
    assert_equal(y, [1, 2, 4, 7, 8])
    assert_equal(idx, [0, 0, 1, 2, 2, 2, 3, 4, 4])
    y, idx, count = tf.unique_with_counts(tf.constant([3.5, -1.0, 3.5, 0.0]))
    assert_equal(y, [3.5, -1.0, 0.0])
    assert_equal(idx, [0, 1, 0, 2])
    assert_equal(count, [2, 1, 1])
    assert tf.unique([5], out_idx=tf.int64)[1].dtype == tf.int64


def test_bincount_and_confusion_matrix_and_histogram():
    assert_equal(tf.math.bincount([1, 1, 2, 5]), [0, 2, 1, 0, 0, 1])
    assert_equal(tf.math.bincount([1, 1, 2, 5], minlength=8), [0, 2, 1, 0, 0, 1, 0, 0])
    assert_equal(tf.math.bincount([1, 1, 2, 5], maxlength=2), [0, 2])
    assert_close(tf.math.bincount([1, 1, 2], weights=[0.5, 1.0, 2.0]), [0.0, 1.5, 2.0])
    assert_equal(tf.math.bincount([[1, 1], [2, 0]], axis=-1), [[0, 2, 0], [1, 0, 1]])
    assert_equal(tf.math.bincount([[1, 1], [2, 0]], axis=-1, binary_output=True), [[0, 1, 0], [1, 0, 1]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="bincount.*non-negative"):
        tf.math.bincount([1, -1])
    cm = tf.math.confusion_matrix([1, 2, 4], [2, 2, 4])
    want = [[0] * 5 for _ in range(5)]
    want[1][2] = want[2][2] = want[4][4] = 1
    assert_equal(cm, want)
    assert_close(
        tf.math.confusion_matrix([0, 1, 1], [0, 0, 1], num_classes=3, weights=[1.0, 2.0, 0.5], dtype=tf.float32),
        [[1.0, 0.0, 0.0], [2.0, 0.5, 0.0], [0.0, 0.0, 0.0]],
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes"):
        tf.math.confusion_matrix([0, 3], [0, 1], num_classes=3)
    assert_equal(tf.histogram_fixed_width([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0], [0.0, 5.0], nbins=5), [2, 1, 1, 0, 2])


def test_unsorted_segment_reductions():
    d = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, -8.0]])
    ids = [0, 2, 0, -1]  # a negative id drops its row, as TF
    inf = float("inf")
    assert_equal(tf.math.unsorted_segment_sum(d, ids, 3), [[6.0, 8.0], [0.0, 0.0], [3.0, 4.0]])
    assert_equal(tf.math.unsorted_segment_max(d, ids, 3), [[5.0, 6.0], [-inf, -inf], [3.0, 4.0]])
    assert_equal(tf.math.unsorted_segment_min(d, ids, 3), [[1.0, 2.0], [inf, inf], [3.0, 4.0]])
    assert_equal(tf.math.unsorted_segment_prod(d, ids, 3), [[5.0, 12.0], [1.0, 1.0], [3.0, 4.0]])
    assert_equal(tf.math.unsorted_segment_mean(d, ids, 3), [[3.0, 4.0], [0.0, 0.0], [3.0, 4.0]])
    assert_close(tf.math.unsorted_segment_sqrt_n(d, ids, 3), [[6.0 / 2**0.5, 8.0 / 2**0.5], [0.0, 0.0], [3.0, 4.0]])
    i32 = tf.int32
    assert_equal(tf.math.unsorted_segment_max(tf.constant([1, 2], i32), [1, 1], 2), [i32.min, 2])
    if d._be.device_type == "CPU":  # TF on CPU rejects ids >= num_segments; on GPUs it drops them
        with pytest.raises(tf.errors.InvalidArgumentError, match="unsorted_segment_max.*3"):
            tf.math.unsorted_segment_max(d, [0, 1, 3, 0], 3)
    else:
        assert_equal(tf.math.unsorted_segment_max(d, [0, 1, 3, 0], 3), [[7.0, 2.0], [3.0, 4.0], [-inf, -inf]])


def test_sorted_segment_reductions():
    c = tf.constant(DATA)
    assert_equal(tf.math.segment_sum(c, [0, 0, 1]), [[5.0, 5.0, 5.0, 5.0], [5.0, 6.0, 7.0, 8.0]])
    assert_equal(tf.math.segment_max(c, [0, 0, 1]), [[4.0, 3.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    assert_equal(tf.math.segment_min(c, [0, 0, 1]), [[1.0, 2.0, 2.0, 1.0], [5.0, 6.0, 7.0, 8.0]])
    assert_equal(tf.math.segment_prod(c, [0, 0, 1]), [[4.0, 6.0, 6.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    assert_equal(tf.math.segment_mean(c, [0, 0, 1]), [[2.5, 2.5, 2.5, 2.5], [5.0, 6.0, 7.0, 8.0]])
    assert_equal(tf.math.segment_max([1, 5, 2], [0, 0, 2]), [5, 0, 2])  # empty segment: 0 (TF)
    with pytest.raises(tf.errors.InvalidArgumentError, match="segment_sum.*sorted"):
        tf.math.segment_sum(c, [1, 0, 1])


def test_segment_gradients():
    ids = tf.constant([0, 1, 0, 1])
    x = [[1.0, -2.0], [3.0, 0.5], [2.0, 4.0], [-1.0, 3.0]]
    w = [[1.0, 2.0], [-3.0, 0.5]]
    for f in (
        tf.math.unsorted_segment_sum,
        tf.math.unsorted_segment_max,
        tf.math.unsorted_segment_min,
        tf.math.unsorted_segment_prod,
        tf.math.unsorted_segment_mean,
    ):
        check_grad(lambda a, f=f: f(a, ids, 2) * tf.constant(w, a.dtype), x)
    check_grad(lambda a: tf.math.segment_max(a, [0, 0, 1, 1]) * tf.constant(w, a.dtype), x)


def test_embedding_lookup():
    p = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert_equal(tf.nn.embedding_lookup(p, [[2, 0]]), [[[5.0, 6.0], [1.0, 2.0]]])
    assert_equal(tf.nn.embedding_lookup([p[:2], p[2:]], [2, 1]), [[5.0, 6.0], [3.0, 4.0]])
    assert_close(tf.nn.embedding_lookup([[3.0, 4.0], [0.1, 0.0]], [0, 1], max_norm=1.0), [[0.6, 0.8], [0.1, 0.0]])
    if p._be.device_type == "CPU":  # out-of-range ids: an error on CPU, zeros on GPUs (as TF)
        with pytest.raises(tf.errors.InvalidArgumentError, match="embedding_lookup"):
            tf.nn.embedding_lookup(p, [3])
    else:
        assert_equal(tf.nn.embedding_lookup(p, [3]), [[0.0, 0.0]])
    check_grad(
        lambda a: tf.nn.embedding_lookup(a, tf.constant([2, 0, 2])) * tf.constant([[1.0, 2.0]] * 3, a.dtype),
        [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
    )
