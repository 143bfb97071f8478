"""HostArray, what ``.numpy()`` returns in the page (no numpy): numpy's common methods,
and a rank-0 HostArray that behaves as numpy's scalar. Built directly, so it is tested
natively as well; expected values are worked by hand."""

import array

import pytest

import webtensor as tf
from webtensor import host


def make(vals, shape, dtype=tf.float32):
    code = {"f": "f", "i": "i", "b": "B"}[dtype.kind]
    return host.HostArray(array.array(code, vals), shape, dtype)


def test_rank0_is_scalar_like():
    s = make([2.5], ())
    assert s.item() == 2.5 and float(s) == 2.5 and s.tolist() == 2.5 and s.shape == () and s.ndim == 0
    assert s == 2.5 and s != 3.0 and s < 3 and s >= 2.5 and not s > 2.5
    assert s + 1 == 3.5 and 1 + s == 3.5 and s * 2 == 5.0 and 5 / s == 2.0 and -s == -2.5 and abs(-s) == 2.5
    assert f"{s:.2f}" == "2.50" and round(s) == 2 and {s: 1}[2.5] == 1
    i = make([3], (), tf.int32)
    assert int(i) == 3 and [10, 20, 30, 40][i] == 40 and i // 2 == 1 and i % 2 == 1 and 2**i == 8
    with pytest.raises(TypeError, match="integer"):
        [1, 2][s]


def test_rank0_from_a_tensor_when_numpy_is_missing(monkeypatch):
    monkeypatch.setattr(host, "numpy_module", lambda: None)
    v = tf.constant(7.0).numpy()
    assert isinstance(v, host.HostArray) and v.item() == 7.0 and v.shape == ()
    assert tf.constant(v).shape == () and float(tf.constant(v)) == 7.0


def test_reductions_along_axes():
    a = make([1, 5, 2, 7, 0, 3], (2, 3))
    assert a.argmax() == 3 and a.argmax(axis=1).tolist() == [1, 0] and a.argmax(axis=0).tolist() == [1, 0, 1]
    assert a.argmin(axis=-1).tolist() == [0, 1]
    assert a.sum() == 18 and a.sum(axis=0).tolist() == [8, 5, 5] and a.max(axis=1).tolist() == [5, 7]
    assert a.min() == 0 and a.mean(axis=1).tolist() == [8 / 3, 10 / 3]
    ints = make([1, 2], (2,), tf.int32)
    assert ints.mean() == 1.5 and ints.mean().dtype is tf.float64
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        a.sum(axis=2)


def test_methods_shared_with_ndarray_and_rank_errors():
    a = make([1, 2, 3, 4], (2, 2))
    assert a.reshape(4).tolist() == [1, 2, 3, 4] and a.reshape(-1, 1).shape == (4, 1)
    assert a.astype("int32").tolist() == [[1, 2], [3, 4]] and a[1, 0] == 3 and a[0].tolist() == [1, 2]
    with pytest.raises(TypeError, match="rank-0"):
        a + 1
    with pytest.raises(ValueError, match="size 1"):
        float(a)
