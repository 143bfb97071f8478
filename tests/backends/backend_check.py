"""Helpers of the backend-primitives suite: handles from numpy arrays, seeded inputs, and the
one comparison (``same``) that takes its tolerance from backend_tables.TOL."""

from __future__ import annotations

import contextlib
import math

import numpy as np

from backend_tables import TOL
from webtensor import dtypes as D

FLOATS = (D.float16, D.float32, D.float64)
INTS = (D.int32, D.int64, D.uint8, D.uint32)
NUMERIC = FLOATS + INTS
SPECIAL = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    -2.5,
    3.0,
    -3.0,
    1e-30,
    -1e-30,
    1e30,
    -1e30,
    100.0,
    -100.0,
    1e4,
    math.inf,
    -math.inf,
    math.nan,
    88.0,
    -88.0,
    1e-3,
    7.25,
]


def ids(d) -> str:
    return d.name


def put(be, a):
    a = np.asarray(a, order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
    return be.write(memoryview(a.reshape(-1)).cast("B"), a.shape, D.as_dtype(a.dtype.name))


def get(be, h) -> np.ndarray:
    if isinstance(h, np.ndarray):  # the numpy backend's handles
        return h
    return np.frombuffer(bytes(be.read(h)), np.dtype(h.dtype.name)).reshape(h.shape)


def _call(be, fn, arrays):
    return fn(be, *[[put(be, x) for x in a] if isinstance(a, list) else put(be, a) for a in arrays])


def run(be, fn, *arrays):
    """fn(be, *handles) with each array (or list of arrays) written to ``be``; results as arrays."""
    out = _call(be, fn, arrays)
    return tuple(get(be, h) for h in out) if isinstance(out, tuple) else get(be, out)


_batches: list = []  # the open one_read() batch, if any


@contextlib.contextmanager
def one_read(be):
    """Inside, ``same`` queues its results, and at the end they come back in one read per dtype
    (flattened and concatenated with the backend's own reshape and concat, both tested here):
    a GPU maps one buffer per test instead of one per case."""
    pending: list = []
    _batches.append(pending)
    try:
        yield
    finally:
        _batches.pop()
    groups: dict = {}
    for item in pending:
        groups.setdefault(item[0].dtype.name, []).append(item)
    for items in groups.values():
        flat = get(be, be.concat([be.reshape(h, (math.prod(h.shape),)) for h, *_ in items], 0))
        at = 0
        for h, want, kind, scale, what in items:
            assert tuple(h.shape) == want.shape, f"{what}: shape {tuple(h.shape)} != {want.shape}"
            close(be, flat[at : at + want.size].reshape(want.shape), want, kind, scale, what)
            at += want.size


def tol(be, dtype, kind: str) -> tuple:
    return TOL[be.name][np.dtype(dtype).name][kind]


def close(be, got, want, kind="basic", scale=None, what=""):
    """``got`` (from ``be``) equals ``want``: exactly for ints, bools and kind "exact", else within
    the table's tolerance for (backend, dtype, kind): |got - want| <= atol + rtol |want|, plus
    rtol_terms * scale for "sum"/"gemm" (``scale``: the sum of |terms| of each result)."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), what
        for g, w in zip(got, want):
            close(be, g, w, kind, scale, what)
        return
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if kind == "exact" or want.dtype.kind != "f":
        assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f"), (
            f"{what}: {_diff(got, want, np.zeros(want.shape, bool) | (got == want))}"
        )
        return
    rtol, atol, *terms = tol(be, want.dtype, kind)
    g, w = got.astype(np.float64), want.astype(np.float64)
    if terms:  # sum, gemm: the error of adding in another order scales with the sum of |terms|
        assert scale is not None, f"{what}: kind {kind!r} needs the sum of |terms| as scale"
        atol = atol + terms[0] * np.asarray(scale, np.float64)
    ok = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True) | (g == w)
    assert ok.all(), f"{what}: {_diff(got, want, ok)}"


def _diff(got, want, ok):
    bad = ~np.asarray(ok)
    if not bad.any():
        return "equal"
    return (
        f"{bad.sum()} of {bad.size} differ; first at {np.argwhere(bad)[0].tolist()}: "
        f"got {got[bad][:5]} want {want[bad][:5]}"
    )


def same(be, ref, fn, *arrays, kind="basic", scale=None):
    """Run ``fn`` on ``be`` and on the numpy reference with the same inputs and compare (inside
    ``one_read``: later, and the result is None)."""
    what = f"{be.name} vs numpy, inputs {[getattr(a, 'shape', 'list') for a in arrays]}"
    want = run(ref, fn, *arrays)
    out = _call(be, fn, arrays)
    if _batches and not isinstance(out, tuple):
        _batches[-1].append((out, np.asarray(want), kind, scale, what))
        return None
    got = tuple(get(be, h) for h in out) if isinstance(out, tuple) else get(be, out)
    close(be, got, want, kind, scale, what)
    return got


def rand(dt, shape, seed=0, lo=-6.0, hi=6.0):
    """Seeded inputs of dtype ``dt``: floats uniform in [lo, hi), ints in [10 lo, 10 hi) (>= 0
    for unsigned), bools fair."""
    r = np.random.default_rng(seed)
    if dt.kind == "f":
        return r.uniform(lo, hi, shape).astype(dt.name)
    if dt is D.bool_:
        return r.integers(0, 2, shape).astype(bool)
    lo = 0 if dt.kind == "u" else int(lo) * 10
    return r.integers(lo, max(int(hi) * 10, lo + 1), shape).astype(dt.name)


def normal(dt, shape, seed=0, scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dt.name)


def with_specials(dt, n=200, seed=0):
    a = rand(dt, (n,), seed)
    if dt.kind == "f":
        with np.errstate(over="ignore"):
            a = np.concatenate([a, np.array(SPECIAL, dt.name)])
    return a


def gemm_scale(a, b, ta, tb):
    """The sum of |products| of each matmul result: the scale of its rounding error."""
    a = np.swapaxes(a, -1, -2) if ta else a
    b = np.swapaxes(b, -1, -2) if tb else b
    return np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64)) + 1e-30


def abs32(a):
    return np.abs(a).astype(np.float32)


def check_conv(be, ref, dt, xs, ws, st, pads, dil, groups):
    """conv2d and both its gradients against numpy, each to the sum of its |products|."""
    x, w = rand(dt, xs, 20, -1, 1), rand(dt, ws, 21, -1, 1)
    y = ref.conv2d(x, w, st, pads, dil, groups)
    dy = rand(dt, y.shape, 22, -1, 1)
    ax, aw, ady = abs32(x), abs32(w), abs32(dy)
    same(
        be,
        ref,
        lambda b, p, q: b.conv2d(p, q, st, pads, dil, groups),
        x,
        w,
        kind="gemm",
        scale=ref.conv2d(ax, aw, st, pads, dil, groups),
    )
    same(
        be,
        ref,
        lambda b, g, q: b.conv2d_input_grad(g, q, xs, st, pads, dil, groups),
        dy,
        w,
        kind="gemm",
        scale=ref.conv2d_input_grad(ady, aw, xs, st, pads, dil, groups),
    )
    same(
        be,
        ref,
        lambda b, p, g: b.conv2d_filter_grad(p, g, ws, st, pads, dil, groups),
        x,
        dy,
        kind="gemm",
        scale=ref.conv2d_filter_grad(ax, ady, ws, st, pads, dil, groups),
    )
