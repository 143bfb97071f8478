"""Every primitive of the backend contract on the GPU against the numpy backend, in one
process, on the same inputs (handles written to both backends).

Tolerances, float32 results (rtol, atol); integer, bool and data-movement results exact:
- BASIC (2e-7 relative: one rounding; 1 ulp): + - * / sqrt, casts to float, selects.
- TRANSCENDENTAL (4e-6, 1e-7): exp/log/sin/... are Cephes-style polynomials in WGSL,
  a few ulp from numpy's libm.
- POW (2e-5, 1e-7): exp(y log x) in float32 loses |y log x| ulp for large results.
- SUM (1e-5 of the sum of |terms|): reductions and scans sum in another order.
- GEMM (1e-5 of the sum of |products|): matmul and convolutions, same reason.
"""
from __future__ import annotations

import itertools

import pytest

np = pytest.importorskip("numpy")

import webtensor as tf  # noqa: E402
from webtensor.backends import base  # noqa: E402

pytestmark = pytest.mark.numpy

BASIC = (2e-7, 0.0)
TRANSCENDENTAL = (4e-6, 1e-7)
POW = (2e-5, 1e-7)
SUM = 1e-5
GEMM = 1e-5

F32 = np.float32
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-30, -1e-30, 1e30, -1e30, 100.0, -100.0,
                    np.inf, -np.inf, np.nan, 88.0, -88.0, 1e-3, 7.25], F32)


def rng(seed=0):
    return np.random.default_rng(seed)


def put(be, a):
    a = np.asarray(a, order="C")
    return be.write(memoryview(a.reshape(-1)).cast("B"), a.shape, tf.as_dtype(a.dtype.name))


def get(be, h, dtype):
    return np.frombuffer(bytes(be.read(h)), np.dtype(dtype.name)).reshape(h.shape)


def run_both(gpu, cpu, fn, *arrays):
    """fn(backend, *handles) on both backends -> (gpu result, numpy result) as arrays."""
    want = np.asarray(fn(cpu, *[put(cpu, a) for a in arrays]))
    h = fn(gpu, *[put(gpu, a) for a in arrays])
    assert tuple(h.shape) == want.shape, f"shape {h.shape} != {want.shape}"
    assert h.dtype.name == want.dtype.name or (h.dtype is tf.int64 and want.dtype == np.int64)
    return get(gpu, h, h.dtype), want


def same(gpu, cpu, fn, *arrays, tol=None, scale=None):
    """Assert the GPU result equals numpy's: exactly (tol None) or within (rtol, atol);
    ``scale`` (an array like the result) makes atol relative to it (sums of |terms|)."""
    got, want = run_both(gpu, cpu, fn, *arrays)
    if tol is None or want.dtype.kind in "iub":
        assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f"), f"\ngot  {got}\nwant {want}"
        return got
    rtol, atol = tol
    if scale is not None:
        atol = atol + rtol * np.asarray(scale, np.float64)
        rtol = 0.0
    ok = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True) | (got == want)
    assert ok.all(), f"\n{(~ok).sum()} differ; first at {np.argwhere(~ok)[0]}: got {got[~ok][:5]} want {want[~ok][:5]}"
    return got


def floats(shape, seed=0, scale=3.0):
    return (rng(seed).standard_normal(shape) * scale).astype(F32)


def ints(shape, seed=0, lo=-50, hi=50, dtype=np.int32):
    return rng(seed).integers(lo, hi, shape).astype(dtype)


def of_dtype(name, shape, seed=0):
    if name == "float32":
        return floats(shape, seed)
    if name == "bool":
        return rng(seed).integers(0, 2, shape).astype(bool)
    if name == "uint32":
        return rng(seed).integers(0, 2**32, shape, dtype=np.uint64).astype(np.uint32)
    return ints(shape, seed, dtype=np.dtype(name))


# -- data movement -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "uint32", "bool"])
@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (0,), (2, 0, 3), (7, 3, 5)])
def test_write_read_round_trip(gpu, cpu, dtype, shape):
    a = of_dtype(dtype, shape)
    got = get(gpu, put(gpu, a), tf.as_dtype(dtype))
    assert got.dtype == a.dtype and np.array_equal(got, a)


def test_int64_keeps_its_host_layout_and_range_limit(gpu):
    a = np.array([-(2**31), -1, 0, 1, 2**31 - 1], np.int64)
    assert np.array_equal(get(gpu, put(gpu, a), tf.int64), a)
    with pytest.raises(OverflowError, match="int32 range"):
        put(gpu, np.array([2**31], np.int64))


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "uint32", "bool"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0, 4), (300, 7)])
def test_full(gpu, cpu, dtype, shape):
    value = {"float32": -2.5, "bool": True, "uint32": 2**32 - 1}.get(dtype, -7)
    dt = tf.as_dtype(dtype)
    same(gpu, cpu, lambda be: be.full(shape, value, dt))


def test_float_scalars_beyond_float32_round_to_infinity(gpu):
    for value, want in ((1e300, np.inf), (-1e300, -np.inf), (3.4e38, np.float32(3.4e38))):
        assert get(gpu, gpu.full((), value, tf.float32), tf.float32) == want
        assert get(gpu, gpu.full((3,), value, tf.float32), tf.float32).tolist() == [want] * 3


@pytest.mark.parametrize("dtype,start,delta,n", [("float32", 0.5, 0.1, 1000), ("float32", 3.0, -0.25, 7),
                                                 ("int32", -5, 3, 100), ("int64", 10, -2, 9),
                                                 ("uint32", 4, 7, 50), ("int32", 0, 1, 0)])
def test_arange(gpu, cpu, dtype, start, delta, n):
    dt = tf.as_dtype(dtype)
    same(gpu, cpu, lambda be: be.arange(start, delta, n, dt), tol=(1e-7, 1e-7))


@pytest.mark.parametrize("kind", ["uniform", "normal"])
@pytest.mark.parametrize("n", [1, 1000, 70001])
def test_random_matches_the_reference_stream(gpu, cpu, kind, n):
    key = (0x12345678, 0x9ABCDEF0)
    got, want = run_both(gpu, cpu, lambda be: be.random(kind, (n,), tf.float32, key))
    if kind == "uniform":  # (bits >> 8) * 2^-24 is exact: the top 24 bits of every draw agree
        assert np.array_equal(got, want)
        assert all(got[i] == (base.random_u32(i, key) >> 8) * 2.0**-24 for i in (0, n // 2, n - 1))
    else:  # log/cos in float32: a few ulp
        assert np.allclose(got, want, rtol=1e-5, atol=2e-6)


# -- elementwise ------------------------------------------------------------------------------

def _unary_inputs(op):
    a = np.concatenate([SPECIAL, floats(300, 1), floats(100, 2, 0.01), floats(50, 3, 30.0)])
    if op in ("log", "sqrt", "rsqrt", "log1p"):
        a = np.concatenate([a, np.abs(a), np.abs(floats(100, 4, 0.1)) - 1.0 if op == "log1p" else []]).astype(F32)
    return a


@pytest.mark.parametrize("op", [o for o in base.UNARY_OPS if o != "logical_not"])  # bool: below
def test_unary_float32(gpu, cpu, op):
    exact = op in ("neg", "abs", "sign", "floor", "ceil", "round", "isnan", "isfinite")
    tol = None if exact else BASIC if op in ("square", "sqrt", "reciprocal") else TRANSCENDENTAL
    a = _unary_inputs(op)
    if op in ("sin", "cos", "tan"):  # numpy's libm reduces huge angles exactly; WGSL does not
        a = a[np.abs(np.nan_to_num(a, posinf=0, neginf=0)) < 1e4]
    same(gpu, cpu, lambda be, x: be.unary(op, x), a, tol=tol)


@pytest.mark.parametrize("dtype,op", [(d, o) for d in ("int32", "int64", "uint32")
                                      for o in ("neg", "abs", "sign", "square", "reciprocal", "round")]
                         + [("bool", "logical_not")])
def test_unary_ints_and_bools(gpu, cpu, dtype, op):
    a = of_dtype(dtype, (257,))
    if op == "reciprocal" and dtype == "int64":  # 1 / 0 is INT_MIN of the 32-bit storage
        a[a == 0] = 3
    if dtype == "int32":
        a[:4] = [0, 1, -1, -(2**31)]
    same(gpu, cpu, lambda be, x: be.unary(op, x), a)


FLOAT_BINARY = ("add", "sub", "mul", "div", "floordiv", "mod", "pow", "maximum", "minimum", "equal",
                "not_equal", "less", "less_equal", "greater", "greater_equal")


@pytest.mark.parametrize("op", FLOAT_BINARY)
def test_binary_float32_special_values(gpu, cpu, op):
    x, y = (np.array(v, F32) for v in zip(*itertools.product(SPECIAL, SPECIAL)))
    tol = POW if op == "pow" else BASIC
    if op in ("floordiv", "mod"):  # fmod by x - y * trunc(x / y): exact only for small quotients
        keep = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) > 1e6 * np.abs(y)))
        x, y = x[keep], y[keep]
    same(gpu, cpu, lambda be, a, b: be.binary(op, a, b), x, y, tol=tol)


@pytest.mark.parametrize("op", FLOAT_BINARY)
def test_binary_float32_random(gpu, cpu, op):
    x, y = floats(1000, 5), floats(1000, 6)
    if op == "pow":
        x = np.abs(x)
    same(gpu, cpu, lambda be, a, b: be.binary(op, a, b), x, y, tol=POW if op == "pow" else (1e-6, 1e-6))


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint32"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "floordiv", "mod", "pow", "maximum", "minimum",
                                "equal", "not_equal", "less", "less_equal", "greater", "greater_equal"])
def test_binary_ints(gpu, cpu, dtype, op):
    x = of_dtype(dtype, (400,), 7)
    y = of_dtype(dtype, (400,), 8)
    if op == "pow":  # int64 wraps at 32 bits on the GPU: keep results in range
        y = np.abs(y) % (4 if dtype == "int64" else 7)
    if dtype == "int32" and op in ("floordiv", "mod"):
        x[:3], y[:3] = [7, -7, -(2**31)], [0, 0, -1]  # / 0 -> 0 as numpy; INT_MIN / -1 wraps
    same(gpu, cpu, lambda be, a, b: be.binary(op, a, b), x, y)


@pytest.mark.parametrize("op", ["logical_and", "logical_or", "equal", "not_equal"])
def test_binary_bools(gpu, cpu, op):
    x, y = (np.array(v) for v in zip(*itertools.product([False, True], repeat=2)))
    same(gpu, cpu, lambda be, a, b: be.binary(op, a, b), x, y)


BROADCASTS = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), ()), ((), ()), ((0, 3), (1, 3)),
              ((4, 1, 3), (2, 1)), ((1,), (5,)), ((2, 1, 4, 1), (3, 1, 5)), ((6, 5, 4, 3, 2, 1, 2), (1, 2)),
              ((2, 3, 0), (3, 1))]


@pytest.mark.parametrize("xs,ys", BROADCASTS)
def test_binary_broadcasting(gpu, cpu, xs, ys):
    same(gpu, cpu, lambda be, a, b: be.binary("sub", a, b), floats(xs, 1), floats(ys, 2), tol=BASIC)
    same(gpu, cpu, lambda be, a, b: be.binary("less", a, b), ints(xs, 1, -3, 3), ints(ys, 2, -3, 3))


@pytest.mark.parametrize("cs,xs,ys", [((4,), (4,), (4,)), ((3, 1), (1, 4), ()), ((), (2, 2), (2, 1)),
                                      ((2, 1, 3), (1, 4, 1), (4, 3)), ((0, 2), (1, 2), (2,))])
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_where(gpu, cpu, cs, xs, ys, dtype):
    c = rng(3).integers(0, 2, cs).astype(bool)
    same(gpu, cpu, lambda be, k, a, b: be.where(k, a, b), c, of_dtype(dtype, xs, 4), of_dtype(dtype, ys, 5))


@pytest.mark.parametrize("src,dst", [(s, d) for s in ("float32", "int32", "int64", "uint32", "bool")
                                     for d in ("float32", "int32", "int64", "uint32", "bool") if s != d])
def test_cast(gpu, cpu, src, dst):
    if src == "float32":
        # in range (out-of-range float -> int is undefined in C, numpy and TF alike)
        a = np.concatenate([SPECIAL[np.isfinite(SPECIAL) & (np.abs(SPECIAL) < 2**31)], floats(100, 9, 1e4)])
        if dst == "uint32":
            a = a[(a > -(2**31)) & (a < 2**32)]
    else:
        a = of_dtype(src, (300,), 10)
        if src == "uint32" and dst in ("int64",):
            a = a % 2**31
    same(gpu, cpu, lambda be, x: be.cast(x, tf.as_dtype(dst)), a, tol=BASIC)


# -- reductions ----------------------------------------------------------------------------------

REDUCE_CASES = [((7,), (0,)), ((3, 4), (1,)), ((3, 4), (0,)), ((3, 4), (0, 1)), ((2, 3, 4), (0, 2)),
                ((2, 3, 4), (1,)), ((5, 1, 6), (1,)), ((4, 0, 3), (1,)), ((4, 0, 3), (0,)), ((0, 3), (1,)),
                ((2, 3, 4, 5, 6), (0, 2, 4)), ((2, 3, 4, 5, 6), (1, 3)), ((70000, 3), (1,)), ((3, 70000), (0,)),
                ((1, 100000), (1,)), ((100000, 1), (0,)), ((2, 50000), (1,)), ((50000, 2), (0,))]


@pytest.mark.parametrize("shape,axes", REDUCE_CASES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduce_float32(gpu, cpu, shape, axes, keepdims):
    a = floats(shape, 11)
    for op in ("sum", "max", "min"):
        scale = np.sum(np.abs(a), axis=axes, keepdims=keepdims) if op == "sum" else None
        same(gpu, cpu, lambda be, x: be.reduce(op, x, axes, keepdims), a, tol=(SUM, 1e-6), scale=scale)
    if a.size < 1000:
        p = (1 + 0.1 * np.tanh(a)).astype(F32)
        same(gpu, cpu, lambda be, x: be.reduce("prod", x, axes, keepdims), p, tol=(1e-5, 1e-7))


@pytest.mark.parametrize("shape,axes", REDUCE_CASES[:12])
def test_reduce_ints_and_bools(gpu, cpu, shape, axes):
    for dtype, ops in (("int32", ("sum", "prod", "max", "min")), ("uint32", ("sum", "max", "min")),
                       ("int64", ("sum", "max")), ("bool", ("any", "all"))):
        a = of_dtype(dtype, shape, 12)
        for op in ops:
            if dtype == "int64" and op == "max" and not a.size:
                continue  # the identity is int32's minimum: int64 is 32-bit on the GPU
            same(gpu, cpu, lambda be, x: be.reduce(op, x, axes, False), a)


def test_reduce_nan_and_empty_identities(gpu, cpu):
    a = np.array([[1.0, np.nan, 3.0], [-np.inf, 2.0, 0.0]], F32)
    for op in ("sum", "prod", "max", "min"):
        same(gpu, cpu, lambda be, x: be.reduce(op, x, (1,), False), a, tol=BASIC)
        same(gpu, cpu, lambda be, x: be.reduce(op, x, (0,), True), np.zeros((0, 3), F32), tol=BASIC)
    for dtype in ("int32", "uint32"):
        for op in ("max", "min"):
            same(gpu, cpu, lambda be, x: be.reduce(op, x, (0,), False), np.zeros((0, 2), dtype))


@pytest.mark.parametrize("shape,axis", [((10,), 0), ((4, 7), 1), ((4, 7), 0), ((3, 5, 2), 1), ((1, 9), 1)])
@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("out", ["int32", "int64"])
def test_argreduce(gpu, cpu, shape, axis, op, out):
    a = rng(13).integers(-3, 3, shape).astype(F32)  # many ties: the first occurrence wins
    same(gpu, cpu, lambda be, x: be.argreduce(op, x, axis, tf.as_dtype(out)), a)
    same(gpu, cpu, lambda be, x: be.argreduce(op, x, axis, tf.as_dtype(out)), a.astype(np.int32))
    b = a.copy()
    b.reshape(-1)[::3] = np.nan  # NaN wins, as numpy
    same(gpu, cpu, lambda be, x: be.argreduce(op, x, axis, tf.as_dtype(out)), b)


@pytest.mark.parametrize("shape,axis", [((9,), 0), ((4, 6), 1), ((4, 6), 0), ((2, 3, 4), 1), ((0, 3), 1)])
@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, False), (False, True), (True, True)])
def test_scan(gpu, cpu, shape, axis, exclusive, reverse):
    a = floats(shape, 14)
    scale = np.sum(np.abs(a)) + 1
    same(gpu, cpu, lambda be, x: be.scan("sum", x, axis, exclusive, reverse), a, tol=(SUM, 0), scale=scale)
    same(gpu, cpu, lambda be, x: be.scan("prod", x, axis, exclusive, reverse), (1 + 0.1 * a).astype(F32),
         tol=(1e-5, 1e-6))
    same(gpu, cpu, lambda be, x: be.scan("sum", x, axis, exclusive, reverse), ints(shape, 15))


# -- matmul and convolutions -------------------------------------------------------------------

def _gemm_scale(a, b, ta, tb):
    a = np.swapaxes(a, -1, -2) if ta else a
    b = np.swapaxes(b, -1, -2) if tb else b
    return np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64)) + 1e-30


@pytest.mark.parametrize("ashape,bshape", [((3, 4), (4, 5)), ((1, 1), (1, 1)), ((65, 33), (33, 70)),
                                           ((2, 3, 4), (4, 6)), ((3, 4), (2, 4, 6)), ((2, 1, 5, 3), (4, 3, 2)),
                                           ((0, 4), (4, 3)), ((3, 0), (0, 5)), ((8, 3000), (3000, 5)),
                                           ((130, 70), (70, 129))])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul(gpu, cpu, ashape, bshape, ta, tb):
    a, b = floats(ashape, 16, 1.0), floats(bshape, 17, 1.0)
    if ta:
        a = np.ascontiguousarray(np.swapaxes(a, -1, -2))
    if tb:
        b = np.ascontiguousarray(np.swapaxes(b, -1, -2))
    want_scale = _gemm_scale(a, b, ta, tb)
    same(gpu, cpu, lambda be, x, y: be.matmul(x, y, ta, tb), a, b, tol=(GEMM, 0), scale=want_scale)


def test_matmul_ints(gpu, cpu):
    same(gpu, cpu, lambda be, x, y: be.matmul(x, y, False, True), ints((2, 5, 7), 18), ints((3, 7), 19))


CONVS = [  # x shape, w shape, strides, pads, dilations, groups
    ((2, 5, 5, 3), (3, 3, 3, 4), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((1, 7, 6, 2), (3, 2, 2, 5), (2, 2), ((0, 1), (1, 0)), (1, 1), 1),
    ((2, 8, 8, 4), (3, 3, 2, 6), (1, 1), ((2, 2), (2, 2)), (2, 2), 2),
    ((1, 6, 6, 4), (3, 3, 1, 8), (2, 1), ((1, 1), (0, 0)), (1, 1), 4),
    ((3, 4, 4, 2), (1, 1, 2, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    ((2, 9, 9, 1), (3, 3, 1, 16), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((64, 8, 8, 16), (3, 3, 16, 32), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
]


def _conv_scale(cpu, x, w, st, pads, dil, groups, what, dy=None):
    ax, aw = np.abs(x).astype(F32), np.abs(w).astype(F32)
    if what == "fwd":
        return cpu.conv2d(ax, aw, st, pads, dil, groups)
    if what == "dx":
        return cpu.conv2d_input_grad(np.abs(dy), aw, x.shape, st, pads, dil, groups)
    return cpu.conv2d_filter_grad(ax, np.abs(dy), w.shape, st, pads, dil, groups)


@pytest.mark.parametrize("xs,ws,st,pads,dil,groups", CONVS)
def test_conv2d_and_both_gradients(gpu, cpu, xs, ws, st, pads, dil, groups):
    x, w = floats(xs, 20, 1.0), floats(ws, 21, 1.0)
    y = cpu.conv2d(x, w, st, pads, dil, groups)
    dy = floats(y.shape, 22, 1.0)
    same(gpu, cpu, lambda be, a, b: be.conv2d(a, b, st, pads, dil, groups), x, w, tol=(GEMM, 1e-6),
         scale=_conv_scale(cpu, x, w, st, pads, dil, groups, "fwd"))
    same(gpu, cpu, lambda be, g, b: be.conv2d_input_grad(g, b, xs, st, pads, dil, groups), dy, w,
         tol=(GEMM, 1e-6), scale=_conv_scale(cpu, x, w, st, pads, dil, groups, "dx", dy))
    same(gpu, cpu, lambda be, a, g: be.conv2d_filter_grad(a, g, ws, st, pads, dil, groups), x, dy,
         tol=(GEMM, 1e-6), scale=_conv_scale(cpu, x, w, st, pads, dil, groups, "dw", dy))


@pytest.mark.parametrize("xs,k,st,pads", [((2, 6, 6, 3), (2, 2), (2, 2), ((0, 0), (0, 0))),
                                          ((1, 5, 7, 2), (3, 3), (1, 2), ((1, 1), (1, 1))),
                                          ((2, 7, 7, 1), (3, 2), (2, 3), ((1, 0), (0, 1))),
                                          ((1, 4, 4, 2), (4, 4), (1, 1), ((0, 0), (0, 0)))])
@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool2d_and_gradient(gpu, cpu, xs, k, st, pads, op):
    x = rng(23).integers(-4, 4, xs).astype(F32)  # ties: max routes to the first maximum
    y = cpu.pool2d(op, x, k, st, pads)
    dy = floats(y.shape, 24, 1.0)
    same(gpu, cpu, lambda be, a: be.pool2d(op, a, k, st, pads), x, tol=BASIC)
    same(gpu, cpu, lambda be, a, g: be.pool2d_grad(op, a, g, k, st, pads), x, dy, tol=(1e-6, 1e-6))
    same(gpu, cpu, lambda be, a: be.pool2d("max", a, k, st, pads), x.astype(np.int32))


# -- indexing --------------------------------------------------------------------------------

@pytest.mark.parametrize("xs,axis,ishape", [((5, 3), 0, (4,)), ((5, 3), 1, (2, 2)), ((2, 3, 4), 1, ()),
                                            ((4,), 0, (0,)), ((3, 4), 0, (6,))])
@pytest.mark.parametrize("itype", ["int32", "int64"])
def test_gather(gpu, cpu, xs, axis, ishape, itype):
    idx = rng(25).integers(0, xs[axis], ishape).astype(itype)
    same(gpu, cpu, lambda be, x, i: be.gather(x, i, axis), floats(xs, 26), idx)
    same(gpu, cpu, lambda be, x, i: be.gather(x, i, axis), ints(xs, 27), idx)


def test_gather_out_of_range_gives_zeros_on_gpu(gpu):
    x = put(gpu, np.arange(6, dtype=F32).reshape(3, 2))
    got = get(gpu, gpu.gather(x, put(gpu, np.array([2, 3, -1, 0], np.int32)), 0), tf.float32)
    assert got.tolist() == [[4, 5], [0, 0], [0, 0], [0, 1]]


@pytest.mark.parametrize("shape,axis,ishape", [((5, 3), 0, (8,)), ((3, 6), 1, (4, 2)), ((2, 4, 3), 1, (9,))])
def test_scatter_add(gpu, cpu, shape, axis, ishape):
    idx = rng(28).integers(0, shape[axis], ishape).astype(np.int32)  # repeated indices accumulate
    ushape = shape[:axis] + ishape + shape[axis + 1:]
    u = floats(ushape, 29)
    same(gpu, cpu, lambda be, i, v: be.scatter_add(i, v, shape, axis), idx, u, tol=(1e-6, 1e-6))
    same(gpu, cpu, lambda be, i, v: be.scatter_add(i, v, shape, axis), idx, ints(ushape, 30))


# -- data movement without arithmetic -----------------------------------------------------------

@pytest.mark.parametrize("shape,perm", [((2, 3), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((1, 5, 1, 3), (3, 1, 0, 2)),
                                        ((2, 3, 4, 5, 2), (4, 2, 0, 3, 1)), ((0, 3), (1, 0))])
def test_transpose(gpu, cpu, shape, perm):
    for dtype in ("float32", "int64", "bool"):
        same(gpu, cpu, lambda be, x: be.transpose(x, perm), of_dtype(dtype, shape, 31))


@pytest.mark.parametrize("shape,begin,size,strides", [((10,), (2,), (3,), (2,)), ((10,), (9,), (4,), (-3,)),
                                                      ((4, 5), (1, 4), (3, 5), (1, -1)), ((4, 5), (0, 0), (0, 5), (1, 1)),
                                                      ((3, 4, 5), (2, 1, 0), (2, 2, 3), (-1, 2, 2))])
def test_slice(gpu, cpu, shape, begin, size, strides):
    same(gpu, cpu, lambda be, x: be.slice(x, begin, size, strides), floats(shape, 32))


@pytest.mark.parametrize("shape,out", [((3,), (2, 3)), ((3, 1), (3, 4)), ((), (2, 2)), ((1, 2, 1), (3, 2, 4)),
                                       ((1,), (0,))])
def test_broadcast_to(gpu, cpu, shape, out):
    same(gpu, cpu, lambda be, x: be.broadcast_to(x, out), of_dtype("int32", shape, 33))


@pytest.mark.parametrize("shapes,axis", [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 0), (2, 2)], 1),
                                         ([(2, 1, 3), (2, 2, 3)], 1), ([(0, 2), (0, 2)], 0)])
def test_concat(gpu, cpu, shapes, axis):
    arrays = [floats(s, 34 + i) for i, s in enumerate(shapes)]
    same(gpu, cpu, lambda be, *xs: be.concat(list(xs), axis), *arrays)


@pytest.mark.parametrize("shape,pads", [((3,), ((1, 2),)), ((2, 3), ((0, 1), (2, 0))), ((0, 2), ((1, 1), (0, 0))),
                                        ((2, 2, 2), ((1, 1), (0, 0), (1, 0)))])
def test_pad(gpu, cpu, shape, pads):
    same(gpu, cpu, lambda be, x: be.pad(x, pads, -1.5), floats(shape, 40))
    same(gpu, cpu, lambda be, x: be.pad(x, pads, True), of_dtype("bool", shape, 41))


def test_reshape_shares_the_buffer(gpu):
    h = put(gpu, floats((2, 6), 42))
    r = gpu.reshape(h, (3, 4))
    assert r.shape == (3, 4) and r.buf is h.buf


# -- fused kernels -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((4, 10), 1), ((3, 5, 7), 1), ((2, 300), 1), ((6,), 0), ((3, 0), 1)])
def test_fused_softmax_equals_the_composition(gpu, shape, axis):
    a = floats(shape, 43)
    got = get(gpu, gpu.softmax(put(gpu, a), axis), tf.float32)
    e = np.exp(a.astype(np.float64) - a.max(axis=axis, keepdims=True)) if a.size else a
    want = e / e.sum(axis=axis, keepdims=True) if a.size else a
    assert np.allclose(got, want, rtol=1e-6, atol=1e-7)


def test_fused_sparse_softmax_xent(gpu):
    a = floats((5, 7), 44).astype(np.float64)
    lab = np.array([0, 6, 3, 7, -1], np.int32)  # the last two are out of range: NaN
    loss, grad = gpu.sparse_softmax_xent(put(gpu, a.astype(F32)), put(gpu, lab))
    lse = np.log(np.exp(a - a.max(1, keepdims=True)).sum(1)) + a.max(1)
    got_loss, got_grad = get(gpu, loss, tf.float32), get(gpu, grad, tf.float32)
    assert np.allclose(got_loss[:3], lse[:3] - a[np.arange(3), lab[:3]], rtol=1e-6, atol=1e-6)
    p = np.exp(a - lse[:, None])
    p[np.arange(3), lab[:3]] -= 1
    assert np.allclose(got_grad[:3], p[:3], atol=1e-6)
    assert np.isnan(got_loss[3:]).all() and np.isnan(got_grad[3:]).all()


@pytest.mark.parametrize("shape", [(7,), (33, 65), (3, 3, 16, 32), ()])
def test_fused_adam_step(gpu, cpu, shape):
    w, m, g = floats(shape, 47), floats(shape, 48, 0.1), floats(shape, 49)
    v = np.abs(floats(shape, 50, 0.1))
    got = gpu.adam_update(*(put(gpu, a) for a in (w, m, v, g)), 0.01, 0.1, 0.001, 1e-7)
    want = cpu.adam_update(w, m, v, g, 0.01, 0.1, 0.001, 1e-7)
    for h, ref in zip(got, want):
        assert np.allclose(get(gpu, h, tf.float32), ref, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh"])
def test_fused_bias_activation(gpu, act):
    x, b = floats((6, 5), 45), floats((5,), 46)
    got = get(gpu, gpu.bias_act(put(gpu, x), put(gpu, b), act), tf.float32)
    v = (x + b).astype(np.float64)
    want = {"linear": v, "relu": np.maximum(v, 0), "sigmoid": 1 / (1 + np.exp(-v)), "tanh": np.tanh(v)}[act]
    assert np.allclose(got, want, rtol=2e-6, atol=1e-7)


# -- limits -----------------------------------------------------------------------------------

def test_more_workgroups_than_one_grid_dimension(gpu, cpu):
    """65535 workgroups of 256 is the x limit; larger tensors spread over y."""
    n = 65535 * 256 + 1000
    a = np.linspace(-3, 3, n, dtype=F32)
    got = get(gpu, gpu.unary("neg", put(gpu, a)), tf.float32)
    assert got[0] == 3 and got[-1] == -3 and np.array_equal(got, -a)
    total = get(gpu, gpu.reduce("sum", put(gpu, np.ones(n, F32)), (0,), False), tf.float32)
    assert total == n
    rows = get(gpu, gpu.reduce("max", put(gpu, np.arange(70000 * 2, dtype=F32).reshape(70000, 2)), (1,), False),
               tf.float32)
    assert np.array_equal(rows, np.arange(1, 140000, 2, dtype=F32))


def test_a_buffer_larger_than_the_adapter_allows_is_a_clear_error(gpu):
    n = gpu.pool.max_buffer // 4 + 1
    with pytest.raises(tf.errors.ResourceExhaustedError, match="maxBufferSize"):
        gpu.full((n,), 1.0, tf.float32)
    with tf.device("/CPU:0"):
        assert float(tf.reduce_sum(tf.ones([10]))) == 10.0  # and nothing else is disturbed


def test_a_binding_larger_than_the_adapter_allows_is_a_clear_error(gpu):
    limit = gpu._max_binding
    n = limit // 4 + 16
    if n * 4 > gpu.dev.limits.get("maxBufferSize", 0):
        pytest.skip("the adapter's maxBufferSize is no larger than its binding limit")
    big = gpu._new((n,), tf.float32)
    with pytest.raises(tf.errors.ResourceExhaustedError, match="maxStorageBufferBindingSize"):
        gpu.unary("neg", big)


# -- the workgroup-memory kernels (tiled GEMM, tree reductions) -----------------------------------

@pytest.fixture
def gpu_tiled(gpu, monkeypatch):
    """The kernels a hardware GPU runs, forced on whatever adapter is here (lavapipe in CI
    runs the workgroup-memory-free variants by default)."""
    monkeypatch.setattr(gpu, "workgroup_kernels", True)
    return gpu


@pytest.mark.parametrize("ashape,bshape,ta,tb", [((65, 33), (33, 70), False, False), ((2, 3, 40), (40, 6), True, False),
                                                 ((8, 3000), (3000, 5), False, True), ((130, 70), (70, 129), True, True)])
def test_tiled_matmul(gpu_tiled, cpu, ashape, bshape, ta, tb):
    test_matmul(gpu_tiled, cpu, ashape, bshape, ta, tb)


@pytest.mark.parametrize("case", [0, 2, 3, 6])
def test_tiled_convolutions(gpu_tiled, cpu, case):
    test_conv2d_and_both_gradients(gpu_tiled, cpu, *CONVS[case])


@pytest.mark.parametrize("shape,axes", [((3, 700), (1,)), ((2, 300, 5), (1, 2)), ((1, 100000), (1,))])
def test_tree_reductions(gpu_tiled, cpu, shape, axes):
    test_reduce_float32(gpu_tiled, cpu, shape, axes, False)


@pytest.mark.parametrize("tiled", [False, True])
def test_grids_past_the_workgroup_limit_split_or_loop(gpu, cpu, monkeypatch, tiled):
    """With the per-dimension limit made tiny, every kind of launch must spread over y,
    loop over elements, or split into several dispatches, and still agree with numpy."""
    monkeypatch.setattr(gpu, "_max_groups", 7)
    monkeypatch.setattr(gpu, "_max_items", 20)
    monkeypatch.setattr(gpu, "workgroup_kernels", tiled)
    a = floats((300, 257), 50)
    same(gpu, cpu, lambda be, x: be.unary("exp", x), a, tol=TRANSCENDENTAL)
    same(gpu, cpu, lambda be, x: be.reduce("sum", x, (1,), False), a, tol=(SUM, 1e-6),
         scale=np.abs(a).sum(1))
    same(gpu, cpu, lambda be, x: be.reduce("max", x, (0,), False), a)
    same(gpu, cpu, lambda be, x: be.softmax(x, 1) if be is gpu else np.exp(x - x.max(1, keepdims=True))
         / np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True), a[:100], tol=(1e-6, 1e-7))
    b, c = floats((20, 130, 9), 51, 1.0), floats((9, 40), 52, 1.0)  # 20 batches x 5 row tiles
    same(gpu, cpu, lambda be, x, y: be.matmul(x, y, False, False), b, c, tol=(GEMM, 0),
         scale=_gemm_scale(b, c, False, False))


# -- float16 (where the adapter has shader-f16: stored as half, computed in float32) -------------

F16 = (2e-3, 1e-4)  # one float16 rounding (2^-10 relative), a few ulp more for exp/log


@pytest.fixture
def gpu16(gpu):
    if tf.float16 not in gpu.dtypes:
        pytest.skip(f"the adapter {gpu.adapter_name!r} has no shader-f16; float16 stays on the CPU")
    return gpu


def halves(shape, seed=0, scale=3.0):
    return floats(shape, seed, scale).astype(np.float16)


def test_float16_round_trip_and_scalars(gpu16, cpu):
    for shape in [(), (1,), (3,), (5, 7), (0, 2)]:
        a = halves(shape, 60)
        assert np.array_equal(get(gpu16, put(gpu16, a), tf.float16), a)
    same(gpu16, cpu, lambda be: be.full((3, 5), 0.1, tf.float16))
    same(gpu16, cpu, lambda be: be.full((), -2.5, tf.float16))
    same(gpu16, cpu, lambda be, x: be.binary("mul", x, be.full((), 1.5, tf.float16)), halves((9,), 61))


@pytest.mark.parametrize("op", ["neg", "abs", "square", "sqrt", "exp", "log", "tanh", "sigmoid", "floor", "round",
                                "isnan"])
def test_float16_unary(gpu16, cpu, op):
    a = halves((200,), 62)
    if op in ("sqrt", "log"):
        a = np.abs(a) + np.float16(0.01)
    same(gpu16, cpu, lambda be, x: be.unary(op, x), a, tol=F16)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "less", "pow"])
def test_float16_binary_with_broadcasting(gpu16, cpu, op):
    x, y = halves((4, 1, 6), 63), halves((3, 1), 64)
    if op == "pow":
        x = np.abs(x)
    same(gpu16, cpu, lambda be, a, b: be.binary(op, a, b), x, y, tol=F16)


def test_float16_casts_where_and_copies(gpu16, cpu):
    a = halves((3, 4), 65)
    for dst in (tf.float32, tf.int32, tf.bool):
        same(gpu16, cpu, lambda be, x: be.cast(x, dst), a)
    same(gpu16, cpu, lambda be, x: be.cast(x, tf.float16), floats((3, 4), 66))
    c = rng(67).integers(0, 2, (3, 4)).astype(bool)
    same(gpu16, cpu, lambda be, k, x, y: be.where(k, x, y), c, a, halves((4,), 68))
    same(gpu16, cpu, lambda be, x: be.transpose(x, (1, 0)), a)
    same(gpu16, cpu, lambda be, x: be.pad(x, ((1, 0), (0, 2)), 0.5), a)
    same(gpu16, cpu, lambda be, x, y: be.concat([x, y], 1), a, halves((3, 1), 69))
    same(gpu16, cpu, lambda be, x: be.gather(x, put(be, np.array([2, 0], np.int32)), 0), a)


@pytest.mark.parametrize("shape,axes", [((7, 9), (1,)), ((7, 9), (0,)), ((3, 5000), (1,)), ((2000, 3), (0, 1))])
def test_float16_reductions(gpu16, cpu, shape, axes):
    a = halves(shape, 70, 1.0)
    for op in ("sum", "max"):
        same(gpu16, cpu, lambda be, x: be.reduce(op, x, axes, False), a, tol=F16,
             scale=np.abs(a.astype(np.float32)).sum(axis=axes) * 1e-3 if op == "sum" else None)
    same(gpu16, cpu, lambda be, x: be.argreduce("argmax", x, 1 if len(shape) > 1 else 0, tf.int64), a)


def test_float16_matmul_conv_softmax(gpu16, cpu):
    a, b = halves((33, 40), 71, 1.0), halves((40, 20), 72, 1.0)
    got = get(gpu16, gpu16.matmul(put(gpu16, a), put(gpu16, b), False, False), tf.float16)
    want = a.astype(np.float32) @ b.astype(np.float32)  # float32 accumulation, one rounding
    assert np.allclose(got, want, rtol=2e-3, atol=2e-3 * np.abs(a.astype(np.float32)) @ np.abs(b.astype(np.float32)))
    x, w = halves((2, 5, 5, 3), 73, 1.0), halves((3, 3, 3, 4), 74, 1.0)
    got = get(gpu16, gpu16.conv2d(put(gpu16, x), put(gpu16, w), (1, 1), ((1, 1), (1, 1)), (1, 1), 1), tf.float16)
    want = cpu.conv2d(x.astype(np.float32), w.astype(np.float32), (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    assert np.allclose(got, want, rtol=2e-3, atol=1e-2)
    s = halves((4, 10), 75)
    got = get(gpu16, gpu16.softmax(put(gpu16, s), 1), tf.float16)
    e = np.exp(s.astype(np.float64) - s.max(1, keepdims=True))
    assert np.allclose(got, e / e.sum(1, keepdims=True), rtol=2e-3, atol=1e-4)


def test_float16_tensors_live_on_the_gpu_when_it_has_f16(gpu16):
    with tf.device("/GPU:0"):
        h = tf.constant([1.0, 2.5, -3.0], tf.float16)
        y = tf.nn.relu(h * 2.0) + tf.cast(tf.constant([1, 2, 3]), tf.float16)
    assert h.device.endswith("GPU:0") and y.dtype is tf.float16
    assert y.numpy().tolist() == [3.0, 7.0, 3.0]
