"""ops.optim.adam_update: the Adam step Keras's optimizers call, fused or composed."""

import pytest

np = pytest.importorskip("numpy")

import webtensor as tf  # noqa: E402
from webtensor import backends  # noqa: E402
from webtensor.ops import optim  # noqa: E402
from util import assert_close  # noqa: E402

ALPHA, C1, C2, EPS = 0.01, 0.1, 0.001, 1e-7


def _inputs(dtype):
    rng = np.random.default_rng(7)
    w, m, g = (rng.standard_normal((5, 3)).astype(dtype) for _ in range(3))
    v = np.abs(rng.standard_normal((5, 3))).astype(dtype)
    return w, m, v, g


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_update_is_the_adam_step(dtype):
    w, m, v, g = _inputs(dtype)
    got = optim.adam_update(*(tf.constant(a) for a in (w, m, v, g)), ALPHA, C1, C2, EPS)
    w64, m64, v64, g64 = (a.astype(np.float64) for a in (w, m, v, g))
    m2 = m64 + (g64 - m64) * C1
    v2 = v64 + (g64**2 - v64) * C2
    want = (w64 - m2 * ALPHA / (np.sqrt(v2) + EPS), m2, v2)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for a, b in zip(got, want):
        assert a.dtype.name == dtype
        assert_close(a, b, rtol=tol, atol=tol)


def test_fused_and_composed_agree_to_the_bit():
    be = backends.default()
    if "adam_update" not in be.fused:
        pytest.skip(f"{be.name} does not fuse adam_update")
    assert optim.fuses_adam(tf.Variable([1.0]))
    args = [tf.constant(a) for a in _inputs("float32")]
    fused = [t.numpy() for t in optim.adam_update(*args, ALPHA, C1, C2, EPS)]
    saved = be.__dict__.get("fused")
    be.fused = frozenset()
    try:
        assert not optim.fuses_adam(tf.Variable([1.0]))
        composed = [t.numpy() for t in optim.adam_update(*args, ALPHA, C1, C2, EPS)]
    finally:
        if saved is None:
            del be.fused
        else:
            be.fused = saved
    for a, b in zip(fused, composed):
        np.testing.assert_array_equal(a, b)
