"""Test helpers that need no numpy, so every test module also runs inside the page.

Compare against values derived by hand, with the ``math`` module, or with a
finite-difference gradient; never against the code under test.
"""

from __future__ import annotations

import math
import os

import webtensor as tf


def backend() -> str:
    """Name of the backend new tensors are created on (WEBTENSOR_BACKEND or numpy)."""
    from webtensor import backends

    return backends.default().name


def tolist(x):
    """Tensor / numpy array / HostArray / scalar -> nested Python lists of floats/ints/bools."""
    if hasattr(x, "numpy"):
        x = x.numpy()
    if hasattr(x, "tolist"):
        return x.tolist()
    return x


def _flat(v) -> list:
    if isinstance(v, (list, tuple)):
        out = []
        for e in v:
            out.extend(_flat(e))
        return out
    return [v]


def _shape(v) -> tuple:
    if isinstance(v, (list, tuple)):
        return (len(v),) + (_shape(v[0]) if v else ())
    return ()


def assert_close(actual, expected, rtol: float = 1e-5, atol: float = 1e-6, msg: str = "") -> None:
    """Elementwise |a - e| <= atol + rtol * |e|, same shape; NaNs must match NaNs."""
    a, e = tolist(actual), tolist(expected)
    if _shape(a) != _shape(e):
        raise AssertionError(f"{msg} shape {_shape(a)} != expected {_shape(e)}: {a!r} vs {e!r}")
    fa, fe = _flat(a), _flat(e)
    bad = []
    for i, (x, y) in enumerate(zip(fa, fe)):
        x, y = float(x), float(y)
        if math.isnan(y):
            ok = math.isnan(x)
        elif math.isinf(y):
            ok = x == y
        else:
            ok = abs(x - y) <= atol + rtol * abs(y)
        if not ok:
            bad.append((i, x, y))
    if bad:
        i, x, y = bad[0]
        raise AssertionError(
            f"{msg} {len(bad)}/{len(fa)} elements differ; first at flat index {i}: "
            f"{x!r} vs expected {y!r}\nactual={a!r}\nexpected={e!r}"
        )


def assert_equal(actual, expected, msg: str = "") -> None:
    a, e = tolist(actual), tolist(expected)
    assert a == e, f"{msg} {a!r} != expected {e!r}"


def numeric_grad(f, xs: list, eps: float = 1e-6) -> list:
    """Central differences of sum(f(*xs)) w.r.t. each float64 input (nested lists)."""
    grads = []
    for k, x in enumerate(xs):
        flat = _flat(tolist(x))
        shape = _shape(tolist(x))
        g = []
        for i in range(len(flat)):

            def at(delta):
                v = list(flat)
                v[i] += delta
                args = list(xs)
                args[k] = tf.reshape(tf.constant(v, tf.float64), shape)
                return float(tf.reduce_sum(f(*args)))

            g.append((at(eps) - at(-eps)) / (2 * eps))
        grads.append(_nest(g, shape))
    return grads


def _nest(flat, shape):
    if not shape:
        return flat[0]
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def check_grad(f, *inputs, rtol: float = 1e-5, atol: float = 1e-6, eps: float = 1e-6) -> None:
    """The tape's gradient of sum(f(*inputs)), taken in float32 on the backend under test,
    equals float64 central differences (computed wherever float64 lives, the CPU on the GPU
    backend) within float32 tolerances: ``rtol``/``atol`` are raised to at least 2e-3/2e-4."""
    xs = [tf.constant(x, tf.float32) for x in inputs]
    on = backend()
    for x in xs:
        assert x._be.name == on, f"input lives on {x._be.name}, not the backend under test {on}"
    with tf.GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        y = tf.reduce_sum(f(*xs))
    elsewhere = {o._be.name for node in tape._nodes for o in node.outputs} - {on}
    assert not elsewhere, f"the tape recorded ops on {elsewhere}, not only on {on}"
    got = tape.gradient(y, xs)
    want = numeric_grad(f, [tf.constant(x, tf.float64) for x in inputs], eps)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g is not None, f"gradient for input {i} is None"
        assert g._be.name == on, f"gradient {i} was computed on {g._be.name}, not {on}"
        assert_close(g, w, max(rtol, 2e-3), max(atol, 2e-4), msg=f"grad of input {i}:")


def dtype_twins(make, *build_args):
    """``make(dtype)`` twice, float32 and float64, built alike with the same weights, behind
    one callable that picks by the input's dtype: check_grad's tape then runs the float32
    layer on the backend under test and its finite differences run the float64 twin."""
    twins = {}
    for dt in ("float32", "float64"):
        layer = make(dt)
        layer(*[tf.zeros(s, dt) for s in build_args])
        twins[dt] = layer
    twins["float64"].set_weights([tf.cast(w, tf.float64) for w in twins["float32"].weights])
    return lambda x, *rest: twins[x.dtype.name](x, *[tf.cast(r, x.dtype) for r in rest])


def has_numpy() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


IN_PAGE = os.environ.get("WEBTENSOR_IN_PAGE") == "1"
