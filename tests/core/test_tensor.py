"""Tensors, Variables, conversion, operators and indexing (TF 2 semantics)."""

import os
import subprocess
import sys

import pytest

import webtensor as tf
from util import assert_close, has_numpy, tolist


def test_constant_infers_tf_default_dtypes():
    assert tf.constant(1.0).dtype is tf.float32
    assert tf.constant(1).dtype is tf.int32
    assert tf.constant(True).dtype is tf.bool
    assert tf.constant([1, 2.5]).dtype is tf.float32
    assert tf.constant(2**40).dtype is tf.int64
    assert tf.constant([[1, 2], [3, 4]], dtype=tf.float64).dtype is tf.float64


def test_shape_rank_and_tensorshape():
    a = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert a.shape == (2, 3) and a.shape == [2, 3]
    assert a.shape.as_list() == [2, 3]
    assert a.ndim == 2 and len(a) == 2
    assert a.shape[0] == 2 and a.shape.rank == 2
    assert tf.TensorShape([None, 3]).is_compatible_with([5, 3])
    assert not tf.TensorShape([2, 3]).is_compatible_with([3, 3])
    assert tf.TensorShape([None, 3]).as_list() == [None, 3]
    assert str(tf.TensorShape([2])) == "(2,)"


def test_numpy_roundtrip_and_scalars():
    a = tf.constant([[1.5, 2.0], [3.0, 4.0]])
    assert tolist(a) == [[1.5, 2.0], [3.0, 4.0]]
    s = tf.constant(3.0).numpy()
    assert float(s) == 3.0
    assert int(tf.constant(7)) == 7 and float(tf.constant(2.5)) == 2.5
    assert bool(tf.constant(True)) is True
    assert a.tolist() == [[1.5, 2.0], [3.0, 4.0]]


@pytest.mark.numpy
def test_numpy_interop():
    import numpy as np

    arr = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = tf.constant(arr)
    assert t.dtype is tf.float64
    assert isinstance(t.numpy(), np.ndarray) and t.numpy().dtype == np.float64
    assert np.asarray(t).tolist() == arr.tolist()
    assert tf.constant(arr, dtype=tf.float32).dtype is tf.float32
    assert tf.constant(np.float32(2.0)).dtype is tf.float32
    # a non-contiguous view converts correctly
    assert tolist(tf.constant(arr.T)) == arr.T.tolist()
    # numpy on the left defers to the tensor (__array_priority__)
    r = np.ones(3, np.float32) + tf.constant([1.0, 2.0, 3.0])
    assert isinstance(r, tf.Tensor) and tolist(r) == [2.0, 3.0, 4.0]


def test_buffer_protocol_input():
    import array

    t = tf.constant(array.array("f", [1.0, 2.0, 3.0]))
    assert t.dtype is tf.float32 and tolist(t) == [1.0, 2.0, 3.0]
    t = tf.constant(memoryview(array.array("i", [4, 5])))
    assert t.dtype is tf.int32 and tolist(t) == [4, 5]


def test_convert_to_tensor_and_hint():
    t = tf.convert_to_tensor([1, 2], dtype_hint=tf.float32)
    assert t.dtype is tf.float32
    t = tf.convert_to_tensor([1.5], dtype_hint=tf.int32)
    assert t.dtype is tf.float32
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.convert_to_tensor(tf.constant(1.0), dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant(2.5, dtype=tf.int32)


def test_variable_assign_and_attributes():
    v = tf.Variable([1.0, 2.0], name="w")
    assert v.name == "w:0" and v.trainable
    v.assign([3.0, 4.0])
    assert tolist(v) == [3.0, 4.0]
    v.assign_add([1.0, 1.0])
    v.assign_sub(tf.constant([0.5, 0.5]))
    assert_close(v, [3.5, 4.5])
    with pytest.raises(ValueError, match="Shape mismatch"):
        v.assign([1.0, 2.0, 3.0])
    u = tf.Variable(1, trainable=False)
    assert u.dtype is tf.int32 and not u.trainable
    assert isinstance(v + 1.0, tf.Tensor)
    assert not isinstance(v, tf.Tensor)  # as in TF 2
    assert v.shape == (2,) and v.dtype is tf.float32
    assert "tf.Variable 'w:0'" in repr(v)


def test_operators():
    a = tf.constant([6.0, -7.0])
    b = tf.constant([4.0, 2.0])
    assert tolist(a + b) == [10.0, -5.0]
    assert tolist(a - b) == [2.0, -9.0]
    assert tolist(a * b) == [24.0, -14.0]
    assert tolist(a / b) == [1.5, -3.5]
    assert tolist(a // b) == [1.0, -4.0]
    assert tolist(a % b) == [2.0, 1.0]  # floor mod: sign of the divisor
    assert tolist(b**2) == [16.0, 4.0]
    assert tolist(-a) == [-6.0, 7.0] and tolist(abs(a)) == [6.0, 7.0]
    assert tolist(2.0 - a) == [-4.0, 9.0] and tolist(1.0 / b) == [0.25, 0.5]
    assert tolist(a < b) == [False, True] and tolist(a >= b) == [True, False]
    assert tolist(a == 6.0) == [True, False] and tolist(a != 6.0) == [False, True]
    m = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert tolist(m @ m) == [[7.0, 10.0], [15.0, 22.0]]
    t, f = tf.constant([True, False]), tf.constant([True, True])
    assert tolist(t & f) == [True, False] and tolist(t | f) == [True, True]
    assert tolist(~t) == [False, True] and tolist(t ^ f) == [False, True]


def test_integer_semantics():
    a, b = tf.constant([7, -7]), tf.constant([2, 2])
    assert tolist(a // b) == [3, -4] and tolist(a % b) == [1, 1]
    q = a / b
    assert q.dtype is tf.float64 and tolist(q) == [3.5, -3.5]
    assert (tf.constant(3) + 2).dtype is tf.int32


def test_dtype_mixing_is_an_error():
    with pytest.raises(tf.errors.InvalidArgumentError, match="float32.*int32"):
        tf.constant([1.0]) + tf.constant([1])
    with pytest.raises(TypeError):
        tf.constant([1, 2]) + 0.5
    assert issubclass(tf.errors.InvalidArgumentError, ValueError)


def test_getitem_basic_indexing():
    x = tf.reshape(tf.range(24), (2, 3, 4))
    ref = [[[i * 12 + j * 4 + k for k in range(4)] for j in range(3)] for i in range(2)]
    assert tolist(x[1]) == ref[1]
    assert tolist(x[-1, -1]) == ref[-1][-1]
    assert tolist(x[:, 1]) == [r[1] for r in ref]
    assert tolist(x[0, ::2, 1::2]) == [row[1::2] for row in ref[0][::2]]
    assert tolist(x[0, ::-1, ::-2]) == [row[::-2] for row in ref[0][::-1]]
    assert tolist(x[..., 0]) == [[row[0] for row in m] for m in ref]
    assert x[tf.newaxis, ..., None].shape == (1, 2, 3, 4, 1)
    assert x[:, tf.newaxis, 1].shape == (2, 1, 4)
    assert tolist(x[0, 1, 2]) == 6
    assert tolist(x[tf.constant(1), 0, 0]) == 12
    assert tolist(x[5:10]) == []
    assert x[1:1].shape == (0, 3, 4)


def test_getitem_errors():
    x = tf.zeros((2, 3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        x[2]
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds"):
        x[0, -4]
    with pytest.raises(tf.errors.InvalidArgumentError):
        x[0, 0, 0]
    with pytest.raises(TypeError, match="valid indices"):
        x[[0, 1]]


def test_iteration_and_len():
    x = tf.constant([[1, 2], [3, 4]])
    assert [tolist(r) for r in x] == [[1, 2], [3, 4]]
    with pytest.raises(TypeError):
        iter(tf.constant(1.0))
    with pytest.raises(ValueError):
        bool(tf.constant([True, False]))


def test_repr_and_str():
    assert repr(tf.constant(3.0)) == "<tf.Tensor: shape=(), dtype=float32, numpy=3.0>"
    assert str(tf.constant([1, 2])).startswith("tf.Tensor([1")
    assert "shape=(2,)" in str(tf.constant([1, 2]))


def test_non_numeric_input_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot convert"):
        tf.constant({"a": 1})  # (a str is a tf.string tensor: tests/core/test_strings.py)
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot convert"):
        tf.constant([1.0, "x"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-rectangular"):
        tf.constant([[1.0, 2.0], [3.0]])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.add(tf.constant(1.0), None)


def test_hashing_uses_ref():
    t = tf.constant(1.0)
    with pytest.raises(TypeError):
        hash(t)
    d = {t.ref(): 1}
    assert d[t.ref()] == 1 and t.ref().deref() is t


@pytest.mark.native
def test_import_without_numpy_then_clear_error():
    """The core imports with numpy blocked; creating a tensor names the missing backend."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'numpy' or name.startswith('numpy.'):\n"
        "            raise ImportError('numpy is blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import webtensor as tf\n"
        "assert 'numpy' not in sys.modules\n"
        "s = tf.TensorShape([2, 3]); d = tf.float32\n"
        "try:\n"
        "    tf.constant(1.0)\n"
        "except RuntimeError as e:\n"
        "    print('ERROR:', e)\n"
    )
    env = dict(os.environ)
    env.pop("WEBTENSOR_BACKEND", None)
    core = os.path.join(os.path.dirname(__file__), "..", "..", "core")
    env["PYTHONPATH"] = os.path.abspath(core) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ERROR: no backend available: install numpy or run where WebGPU exists" in out.stdout


@pytest.mark.skipif(not has_numpy(), reason="compares with numpy's own array")
def test_array_protocol():
    import numpy as np

    assert np.array(tf.constant([[1, 2]])).shape == (1, 2)


def test_host_array_is_numpy_free_and_round_trips():
    """What .numpy() returns where numpy is missing (the page)."""
    from webtensor import host

    def as_host(t):
        return host.HostArray(host.unpack_array(t._be.read(t._h), t.dtype), tuple(t.shape), t.dtype)

    h = as_host(tf.constant([[1.5, 2.0], [3.0, 4.0]]))
    assert h.tolist() == [[1.5, 2.0], [3.0, 4.0]] and h.shape == (2, 2) and h.ndim == 2
    assert h[1].tolist() == [3.0, 4.0] and h[1, 0] == 3.0 and h[-1][-1] == 4.0
    assert [r.tolist() for r in h] == [[1.5, 2.0], [3.0, 4.0]]
    assert h.reshape(-1).tolist() == [1.5, 2.0, 3.0, 4.0]
    back = tf.constant(h)
    assert back.dtype is tf.float32 and tolist(back) == [[1.5, 2.0], [3.0, 4.0]]
    b = as_host(tf.constant([True, False]))
    assert b.tolist() == [True, False] and b[0] is True and tolist(tf.constant(b)) == [True, False]
    f16 = as_host(tf.constant([0.5, 1.5], tf.float16))
    assert f16.tolist() == [0.5, 1.5] and tf.constant(f16).dtype is tf.float16
    with pytest.raises(IndexError):
        h[2]
