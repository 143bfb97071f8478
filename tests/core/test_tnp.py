"""tf.experimental.numpy against numpy itself (same calls, same dtypes and values)."""

import pytest
import webtensor as tf

from tests.util import assert_close

tnp = tf.experimental.numpy

CALLS = [
    ("asarray", ([1.0, 2.0],)),
    ("asarray", ([1, 2],)),
    ("arange", (5,)),
    ("arange", (0.0, 1.0, 0.25)),
    ("linspace", (0, 1, 5)),
    ("zeros", ((2, 3),)),
    ("ones", (3,)),
    ("eye", (3,)),
    ("full", ((2,), 7)),
    ("mean", ([1, 2, 3, 4],)),
    ("std", ([1.0, 2.0, 4.0],)),
    ("var", ([[1.0, 2.0], [3.0, 5.0]], 0)),
    ("sum", ([[1, 2], [3, 4]], 1)),
    ("prod", ([1, 2, 3],)),
    ("amax", ([[1, 5], [3, 2]], 0)),
    ("argmax", ([[1, 5], [3, 2]],)),
    ("argmin", ([3, 1, 2],)),
    ("cumsum", ([[1, 2], [3, 4]],)),
    ("dot", ([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0])),
    ("matmul", ([1.0, 2.0], [[1.0, 0.0], [2.0, 1.0]])),
    ("outer", ([1, 2], [3, 4, 5])),
    ("inner", ([1.0, 2.0], [3.0, 4.0])),
    ("tensordot", ([[1.0, 2.0]], [[3.0], [4.0]], 1)),
    ("where", ([True, False], [1, 2], [3.5, 4.0])),
    ("clip", ([-1.0, 0.5, 3.0], 0.0, 1.0)),
    ("concatenate", (([1, 2], [3]),)),
    ("stack", (([1, 2], [3, 4]), 1)),
    ("vstack", (([1, 2], [3, 4]),)),
    ("hstack", (([1, 2], [3]),)),
    ("tile", ([1, 2], 2)),
    ("repeat", ([1, 2], 2)),
    ("flip", ([[1, 2], [3, 4]],)),
    ("roll", ([1, 2, 3, 4], 1)),
    ("transpose", ([[1, 2, 3]],)),
    ("swapaxes", ([[[1, 2]]], 0, 2)),
    ("moveaxis", ([[[1, 2, 3]]], 2, 0)),
    ("reshape", ([1, 2, 3, 4], (2, 2))),
    ("ravel", ([[1, 2], [3, 4]],)),
    ("sort", ([3, 1, 2],)),
    ("argsort", ([3, 1, 2],)),
    ("diag", ([1, 2],)),
    ("trace", ([[1, 2], [3, 4]],)),
    ("add", ([1, 2], 1.5)),
    ("true_divide", ([1, 2], [2, 4])),
    ("power", ([2.0, 3.0], 2)),
    ("exp", ([0.0, 1.0],)),
    ("sqrt", ([4, 9],)),
    ("abs", ([-1, 2],)),
    ("around", ([1.256, 2.5], 1)),
    ("isclose", ([1.0, 2.0], [1.0, 2.1])),
    ("count_nonzero", ([0, 1, 2, 0],)),
    ("take", ([[1, 2], [3, 4]], [0, 3])),
    ("atleast_2d", ([1, 2],)),
    ("squeeze", ([[1], [2]],)),
    ("expand_dims", ([1, 2], 0)),
]


@pytest.mark.parametrize("name,args", CALLS, ids=[f"{n}{i}" for i, (n, _) in enumerate(CALLS)])
def test_matches_numpy(name, args):
    np = pytest.importorskip("numpy")
    want = np.asarray(getattr(np, name)(*args))
    got = getattr(tnp, name)(*args)
    assert tuple(got.shape) == want.shape, name
    if want.dtype.kind in "fiub":  # numpy's default dtypes (float64, int64) where we store them
        assert got.dtype.name == want.dtype.name, (name, got.dtype, want.dtype)
    assert_close(got, want.tolist(), rtol=1e-6, atol=1e-9)


def test_promotion_and_behaviour_switch():
    assert tnp.result_type(tnp.int32, tnp.uint8) is tnp.int32
    assert tnp.result_type(tnp.int32, tnp.uint32) is tnp.int64
    assert tnp.result_type(tnp.int32, 1.0) is tnp.float64
    assert tnp.result_type(tnp.float32, 1.0) is tnp.float32  # Python scalars are weak
    tnp.experimental_enable_numpy_behavior(prefer_float32=True)
    try:
        assert tnp.asarray([1.0]).dtype == tf.float32
    finally:
        tnp.experimental_enable_numpy_behavior(prefer_float32=False)
    assert tnp.asarray([1.0]).dtype == tf.float64
    assert tnp.ndarray is tf.Tensor
    assert [t.numpy().tolist() for t in tnp.where(tnp.asarray([0, 3, 0, 5]))] == [[1, 3]]
    assert bool(tnp.array_equal([1, 2], [1, 2])) and not bool(tnp.array_equal([1, 2], [1, 2, 3]))
    assert tnp.eye(3, k=1).numpy().tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
