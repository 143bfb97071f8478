"""Every primitive of the wasm backend against the numpy backend (the reference), over
every dtype it accepts, the broadcasting and layout cases the kernels special-case,
and the edge values (NaN, infinities, signed zeros, empty tensors)."""
import itertools
import math

import pytest

np = pytest.importorskip("numpy")

from webtensor import dtypes as D  # noqa: E402
from webtensor.backends import base  # noqa: E402

pytestmark = [pytest.mark.numpy, pytest.mark.filterwarnings("ignore::RuntimeWarning")]  # NaN/inf edge values
RNG = np.random.default_rng(7)
FLOATS = (D.float16, D.float32, D.float64)
INTS = (D.int32, D.int64, D.uint8, D.uint32)
NUMERIC = FLOATS + INTS
SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 1e-3, 100.0, -100.0, 1e4,
           math.inf, -math.inf, math.nan]


def rand(dt, shape, lo=-6.0, hi=6.0):
    if dt.kind == "f":
        return RNG.uniform(lo, hi, shape).astype(dt.name)
    if dt is D.bool_:
        return RNG.integers(0, 2, shape).astype(bool)
    lo = 0 if dt.kind == "u" else int(lo) * 10
    return RNG.integers(lo, int(hi) * 10, shape).astype(dt.name)


def with_specials(dt, n=200):
    a = rand(dt, (n,))
    if dt.kind == "f":
        a = np.concatenate([a, np.array(SPECIAL, dt.name)])
    return a


# -- elementwise ------------------------------------------------------------------------------
INT_UNARY = {"neg", "abs", "sign", "square", "reciprocal", "round"}
UNARY_CASES = [(op, dt) for op in base.UNARY_OPS for dt in
               ((D.bool_,) if op == "logical_not" else FLOATS + (INTS if op in INT_UNARY else ()))]
LOOSE_F64 = {"tan": 1e-11, "expm1": 1e-12, "log1p": 1e-12, "erf": 1e-12, "sin": 1e-12, "cos": 1e-12}


@pytest.mark.parametrize("op, dt", UNARY_CASES, ids=[f"{o}-{d.name}" for o, d in UNARY_CASES])
def test_unary(pair, op, dt):
    x = with_specials(dt) if dt is not D.bool_ else rand(dt, (50,))
    if dt.kind in "iu" and op == "reciprocal":
        x = np.concatenate([x, np.array([0, 1, 2], dt.name)])
    rtol = LOOSE_F64.get(op) if dt is D.float64 else None
    pair.check("unary", op, x, rtol=rtol)


SHAPES = [((3, 4), (3, 4)), ((3, 4), ()), ((), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)),
          ((2, 1, 3), (1, 4, 1)), ((2, 3, 4), (2, 1, 4)), ((5,), (1,)), ((0, 3), (3,)), ((4,), (3, 4)),
          ((2, 3, 4), (3, 4)), ((300, 7), (7,))]
INT_BINARY = {"add", "sub", "mul", "floordiv", "mod", "pow", "maximum", "minimum", "equal", "not_equal",
              "less", "less_equal", "greater", "greater_equal"}
BINARY_CASES = [(op, dt) for op in base.BINARY_OPS for dt in
                ((D.bool_,) if op in ("logical_and", "logical_or") else
                 FLOATS + (INTS if op in INT_BINARY else ()) +
                 ((D.bool_,) if op in ("equal", "not_equal", "less", "greater") else ()))]


def binary_inputs(op, dt, sx, sy):
    x, y = rand(dt, sx), rand(dt, sy)
    if op == "pow" and dt.kind in "iu":
        y = RNG.integers(0, 5, sy).astype(dt.name)
    if op == "pow" and dt.kind == "f":
        x = np.abs(x) + 0.1 if dt is D.float16 else x
        y = np.round(y) if RNG.random() < 0.5 else y
    return x, y


@pytest.mark.parametrize("op, dt", BINARY_CASES, ids=[f"{o}-{d.name}" for o, d in BINARY_CASES])
def test_binary(pair, op, dt):
    for sx, sy in SHAPES:
        x, y = binary_inputs(op, dt, sx, sy)
        pair.check("binary", op, x, y, rtol=1e-12 if dt is D.float64 and op == "pow" else None)
    if dt.kind == "f":  # every pair of special values, zeros as divisors included
        s = np.array(SPECIAL, dt.name)
        x, y = np.meshgrid(s, s)
        pair.check("binary", op, x, y)


@pytest.mark.parametrize("op", ["sin", "cos", "tan"])
@pytest.mark.parametrize("dt", (D.float32, D.float64), ids=lambda d: d.name)
def test_trig_of_huge_arguments_is_accurate(pair, op, dt):
    big = [1.6e6, 2.0e6, 1e8, 123456789.0, 1e10, -3e12, 1e22, 5e30, 3.4e38]
    if dt is D.float64:
        big += [1e100, -1e200, 1.7e308, 2.0 ** 1000 * 1.5]
    x = np.array(big + list(RNG.uniform(-1e9, 1e9, 50)), dt.name)
    pair.check("unary", op, x, rtol=1e-12 if dt is D.float64 else None)


def test_integer_division_edges(pair):
    for dt in (D.int32, D.int64):
        lo = np.iinfo(dt.name).min
        x = np.array([7, -7, 7, -7, lo, lo, 5, 0], dt.name)
        y = np.array([2, 2, -2, -2, -1, 1, 0, 0], dt.name)
        for op in ("floordiv", "mod"):
            pair.check("binary", op, x, y)


WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), ()), ((), (2, 3), (2, 3)), ((4,), (2, 4), (1, 4))]


@pytest.mark.parametrize("dt", D.ALL, ids=lambda d: d.name)
def test_where(pair, dt):
    for sc, sx, sy in WHERE_SHAPES:
        pair.check("where", rand(D.bool_, sc), rand(dt, sx), rand(dt, sy))


CAST_VALUES = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 3.5, 255.0, 256.0, 300.7, -129.0, 65504.0, 70000.0,
               1e10, -1e10, 1e20, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("src, dst", list(itertools.product(D.ALL, D.ALL)),
                         ids=[f"{a.name}-{b.name}" for a, b in itertools.product(D.ALL, D.ALL)])
def test_cast(pair, src, dst):
    if src.kind == "f":
        vals = np.array(CAST_VALUES, np.float64)
        if src is D.float16:
            vals = vals[np.isnan(vals) | (np.abs(vals) < 6e4) | np.isinf(vals)]
        if src is D.float32 and dst is D.float16:
            vals = vals[np.isnan(vals) | (np.abs(vals) < 1e20) | np.isinf(vals)]
        if dst is D.uint32:  # NaN, inf and |x| >= 2**31 -> uint32 differ across NumPy builds (UB in C)
            vals = vals[np.abs(vals) < 2**31]
        x = np.concatenate([vals.astype(src.name), rand(src, (20,), -300, 300)])
    elif src is D.bool_:
        x = rand(src, (20,))
    else:
        info = np.iinfo(src.name)
        x = np.concatenate([np.array([info.min, info.max, 0, 1], src.name), rand(src, (20,))])
    with np.errstate(all="ignore"):
        pair.check("cast", x, dst)


@pytest.mark.parametrize("dt", D.ALL, ids=lambda d: d.name)
def test_full(pair, dt):
    value = {"f": -2.5, "i": -7, "u": 200, "b": True}[dt.kind]
    for shape in ((), (5,), (3, 0), (2, 3, 4)):
        pair.check("full", shape, value, dt)


@pytest.mark.parametrize("dt", [d for d in D.ALL if d is not D.bool_], ids=lambda d: d.name)
def test_arange(pair, dt):
    start, delta = (0.5, 0.25) if dt.kind == "f" else (3, 2)
    for n in (0, 1, 7, 100):
        pair.check("arange", start, delta, n, dt)


@pytest.mark.parametrize("kind", ["uniform", "normal"])
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_random(pair, kind, dt):
    for key in ((0, 0), (1234, 0xFFFFFFFF), (0x9E3779B9, 42)):
        pair.check("random", kind, (5, 7), dt, key, rtol=1e-5 if dt is D.float32 else None)


# -- reductions -------------------------------------------------------------------------------
AXES = [(0,), (1,), (2,), (0, 1), (1, 2), (0, 2), (0, 1, 2)]


REDUCE_CASES = [(op, dt) for op in base.REDUCE_OPS for dt in ((D.bool_,) if op in ("any", "all") else NUMERIC)]


@pytest.mark.parametrize("op, dt", REDUCE_CASES, ids=[f"{o}-{d.name}" for o, d in REDUCE_CASES])
def test_reduce(pair, op, dt):
    x = rand(dt, (3, 4, 5), -2, 2) if op == "prod" else rand(dt, (3, 4, 5))
    for axes in AXES:
        for keep in (False, True):
            pair.check("reduce", op, x, axes, keep, rtol=1e-3 if dt is D.float16 else 1e-5)
    empty = rand(dt, (0, 3))
    pair.check("reduce", op, empty, (0,), False)


def test_long_float32_sum_is_accurate(pair):
    x = RNG.uniform(0, 1, (3, 100_003)).astype(np.float32)
    got, _ = pair.run("reduce", "sum", x, (1,), False)
    exact = x.astype(np.float64).sum(axis=1)
    np.testing.assert_allclose(got, exact, rtol=2e-7)
    got, _ = pair.run("reduce", "sum", x.T.copy(), (0,), False)
    np.testing.assert_allclose(got, exact, rtol=2e-7)


def test_reduce_nan_propagates(pair):
    x = np.array([[1.0, math.nan, 3.0], [1.0, 2.0, -math.inf]], np.float32)
    for op in ("max", "min", "sum"):
        pair.check("reduce", op, x, (1,), False)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dt", FLOATS + INTS + (D.bool_,), ids=lambda d: d.name)
def test_argreduce(pair, op, dt):
    x = rand(dt, (4, 6, 5), -2, 2)  # small range: ties, first occurrence wins
    for axis in range(3):
        for out in (D.int32, D.int64):
            pair.check("argreduce", op, x, axis, out)
    if dt.kind == "f":
        x = np.array([[1.0, math.nan, 5.0, math.nan], [2.0, 2.0, 1.0, 1.0]], dt.name)
        pair.check("argreduce", op, x, 1, D.int64)


@pytest.mark.parametrize("op", base.SCAN_OPS)
@pytest.mark.parametrize("dt", NUMERIC, ids=lambda d: d.name)
def test_scan(pair, op, dt):
    x = rand(dt, (3, 4, 5), 0.5, 1.5) if op == "prod" and dt.kind == "f" else rand(dt, (3, 4, 5), -2, 2)
    for axis in range(3):
        for exclusive, reverse in itertools.product((False, True), repeat=2):
            pair.check("scan", op, x, axis, exclusive, reverse,
                       rtol=5e-3 if dt is D.float16 else 1e-6)


# -- linear algebra -----------------------------------------------------------------------------
MATMUL = [((5, 7), (7, 3), False, False), ((7, 5), (7, 3), True, False), ((5, 7), (3, 7), False, True),
          ((7, 5), (3, 7), True, True), ((2, 5, 7), (7, 3), False, False), ((2, 5, 7), (2, 7, 3), False, False),
          ((1, 5, 7), (3, 7, 4), False, False), ((2, 1, 5, 7), (3, 7, 4), False, False),
          ((2, 7, 5), (2, 3, 7), True, True), ((3, 7), (4, 7, 2), False, False), ((0, 4), (4, 3), False, False),
          ((4, 0), (0, 3), False, False), ((65, 130), (130, 67), False, False),
          ((300, 600), (600, 500), False, False), ((70, 300), (530, 300), False, True)]


@pytest.mark.parametrize("dt", (D.float32, D.float64, D.float16, D.int32, D.int64), ids=lambda d: d.name)
def test_matmul(pair, dt):
    for sa, sb, ta, tb in MATMUL:
        if dt is not D.float32 and sa[0] >= 300:
            continue
        a, b = rand(dt, sa, -1, 1), rand(dt, sb, -1, 1)
        k = sa[-2] if ta else sa[-1]
        pair.check("matmul", a, b, transpose_a=ta, transpose_b=tb,
                   rtol=2e-5 if dt is D.float32 else 1e-2 if dt is D.float16 else None,
                   atol=1e-5 * max(k, 1) ** 0.5 if dt is D.float32 else 2e-2 if dt is D.float16 else None)


# -- convolution and pooling ---------------------------------------------------------------------
CONV = [  # x shape, w shape, strides, pads, dilations, groups
    ((2, 7, 6, 3), (3, 3, 3, 4), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((2, 7, 6, 3), (3, 3, 3, 4), (2, 2), ((0, 1), (1, 0)), (1, 1), 1),
    ((1, 9, 8, 2), (3, 2, 2, 5), (1, 2), ((2, 2), (0, 1)), (2, 1), 1),
    ((2, 6, 6, 4), (3, 3, 2, 6), (1, 1), ((1, 1), (1, 1)), (1, 1), 2),
    ((2, 5, 4, 6), (1, 1, 6, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    ((2, 5, 4, 6), (1, 1, 6, 3), (2, 2), ((0, 0), (0, 0)), (1, 1), 1),
    ((3, 10, 10, 16), (5, 5, 16, 32), (1, 1), ((2, 2), (2, 2)), (1, 1), 1),
    ((2, 6, 5, 4), (3, 3, 1, 8), (1, 1), ((1, 1), (1, 1)), (1, 1), 4),  # depthwise, multiplier 2
]


@pytest.mark.parametrize("dt", (D.float32, D.float64, D.float16), ids=lambda d: d.name)
@pytest.mark.parametrize("case", CONV, ids=[str(i) for i in range(len(CONV))])
def test_conv2d_and_gradients(pair, dt, case):
    xs, ws, st, pads, dil, groups = case
    x, w = rand(dt, xs, -1, 1), rand(dt, ws, -1, 1)
    tol = {D.float32: {"rtol": 1e-4, "atol": 1e-4}, D.float16: {"rtol": 2e-2, "atol": 5e-2},
           D.float64: {"rtol": 1e-11, "atol": 1e-11}}[dt]  # sums of up to 800 terms of size ~10
    y, _ = pair.run("conv2d", x, w, strides=st, pads=pads, dilations=dil, groups=groups)
    pair.check("conv2d", x, w, strides=st, pads=pads, dilations=dil, groups=groups, **tol)
    dy = rand(dt, y.shape, -1, 1)
    pair.check("conv2d_input_grad", dy, w, x_shape=xs, strides=st, pads=pads, dilations=dil, groups=groups, **tol)
    pair.check("conv2d_filter_grad", x, dy, w_shape=ws, strides=st, pads=pads, dilations=dil, groups=groups, **tol)


POOL = [((2, 6, 6, 3), (2, 2), (2, 2), ((0, 0), (0, 0))), ((1, 7, 5, 2), (3, 3), (2, 1), ((1, 1), (1, 1))),
        ((2, 5, 5, 4), (3, 2), (1, 2), ((0, 1), (1, 0)))]


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("dt", (D.float32, D.float64, D.float16), ids=lambda d: d.name)
def test_pool2d_and_gradient(pair, op, dt):
    for xs, k, st, pads in POOL:
        x = rand(dt, xs)
        y, _ = pair.run("pool2d", op, x, k, st, pads)
        pair.check("pool2d", op, x, k, st, pads)
        # float16: we sum overlapping windows in float32 and round once, NumPy rounds each add
        pair.check("pool2d_grad", op, x, rand(dt, y.shape), k, st, pads, atol=1e-2 if dt is D.float16 else None)


@pytest.mark.parametrize("dt", INTS, ids=lambda d: d.name)
def test_integer_max_pool(pair, dt):
    for xs, k, st, pads in POOL:
        pair.check("pool2d", "max", rand(dt, xs), k, st, pads)


def test_max_pool_ties_go_to_the_first_maximum(pair):
    x = np.zeros((1, 4, 4, 1), np.float32)
    dy = np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1) + 1
    got = pair.check("pool2d_grad", "max", x, dy, (2, 2), (2, 2), ((0, 0), (0, 0)))
    assert got[0, ::2, ::2, 0].tolist() == [[1, 2], [3, 4]]


# -- indexing ------------------------------------------------------------------------------------
@pytest.mark.parametrize("idt", (D.int32, D.int64), ids=lambda d: d.name)
@pytest.mark.parametrize("dt", D.ALL, ids=lambda d: d.name)
def test_gather_and_scatter_add(pair, dt, idt):
    x = rand(dt, (4, 5, 3))
    for axis in range(3):
        idx = RNG.integers(0, x.shape[axis], (2, 3)).astype(idt.name)
        pair.check("gather", x, idx, axis=axis)
        shape = x.shape[:axis] + idx.shape + x.shape[axis + 1:]
        if dt is not D.bool_:
            pair.check("scatter_add", idx, rand(dt, shape), shape=x.shape, axis=axis,
                       rtol=5e-3 if dt is D.float16 else None)


# -- movement -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", D.ALL, ids=lambda d: d.name)
def test_movement(pair, dt):
    x = rand(dt, (3, 4, 5))
    pair.check("reshape", x, (5, 12))
    for perm in itertools.permutations(range(3)):
        pair.check("transpose", x, perm)
    big = rand(dt, (40, 37))
    pair.check("transpose", big, (1, 0))
    for begin, size, strides in [((0, 0, 0), (3, 4, 5), (1, 1, 1)), ((1, 0, 0), (2, 4, 5), (1, 1, 1)),
                                 ((0, 1, 2), (3, 2, 3), (1, 1, 1)), ((2, 3, 4), (3, 2, 2), (-1, -2, -3)),
                                 ((0, 0, 1), (2, 2, 2), (2, 3, 2)), ((1, 0, 0), (0, 4, 5), (1, 1, 1))]:
        pair.check("slice", x, begin, size, strides)
    for axis in range(3):
        parts = [rand(dt, x.shape[:axis] + (n,) + x.shape[axis + 1:]) for n in (1, 3, 0, 2)]
        pair.check("concat", parts, axis)
    value = {"f": 1.5, "i": -3, "u": 9, "b": True}[dt.kind]
    pair.check("pad", x, ((1, 0), (0, 2), (1, 1)), value)
    pair.check("broadcast_to", rand(dt, (3, 1, 5)), (2, 3, 4, 5))
    pair.check("broadcast_to", rand(dt, ()), (2, 3))


# -- fused kernels: equal to the composition -----------------------------------------------------
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_fused_softmax_equals_composition(wasm, ref, pair, dt):
    x = rand(dt, (4, 6, 9), -20, 20)
    x[0, 0, :] = 1000.0
    for axis in range(3):
        got = pair.get(wasm, wasm.softmax(pair.put(wasm, x), axis), dt)
        xr = x.astype(np.float64)
        e = np.exp(xr - xr.max(axis=axis, keepdims=True))
        pair.close(got, (e / e.sum(axis=axis, keepdims=True)).astype(dt.name), atol=1e-6)


@pytest.mark.parametrize("ldt", (D.int32, D.int64), ids=lambda d: d.name)
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_fused_sparse_softmax_xent_equals_composition(wasm, pair, dt, ldt):
    x = rand(dt, (8, 10), -10, 10)
    lab = RNG.integers(0, 10, (8,)).astype(ldt.name)
    loss, grad = wasm.sparse_softmax_xent(pair.put(wasm, x), pair.put(wasm, lab))
    xr = x.astype(np.float64)
    lse = np.log(np.exp(xr - xr.max(1, keepdims=True)).sum(1)) + xr.max(1)
    p = np.exp(xr - lse[:, None])
    hot = np.eye(10)[lab]
    pair.close(pair.get(wasm, loss, dt), (lse - xr[np.arange(8), lab]).astype(dt.name), atol=1e-5)
    pair.close(pair.get(wasm, grad, dt), (p - hot).astype(dt.name), atol=1e-6)


@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_fused_bias_act_equals_composition(wasm, pair, dt, act):
    x, b = rand(dt, (5, 7)), rand(dt, (7,))
    got = pair.get(wasm, wasm.bias_act(pair.put(wasm, x), pair.put(wasm, b), act), dt)
    v = (x + b).astype(np.float64)
    want = {"linear": v, "relu": np.maximum(v, 0), "sigmoid": 1 / (1 + np.exp(-v)), "tanh": np.tanh(v)}[act]
    pair.close(got, want.astype(dt.name), atol=1e-6)


@pytest.mark.parametrize("dt", (D.float32, D.float64), ids=lambda d: d.name)
def test_fused_adam_update_is_bit_identical_to_the_composition(wasm, pair, dt):
    w, m, v, g = (rand(dt, (33, 7)) for _ in range(4))
    v = np.abs(v)
    alpha, c1, c2, eps = 0.01 * math.sqrt(1 - 0.999 ** 3) / (1 - 0.9 ** 3), 0.1, 0.001, 1e-7
    got = [pair.get(wasm, h, dt) for h in wasm.adam_update(*(pair.put(wasm, a) for a in (w, m, v, g)),
                                                               alpha, c1, c2, eps)]
    H = lambda a: pair.put(wasm, a)  # noqa: E731
    S = lambda c: wasm.full((), c, dt)  # noqa: E731
    b = wasm.binary
    m1 = b("add", H(m), b("mul", b("sub", H(g), H(m)), S(c1)))
    v1 = b("add", H(v), b("mul", b("sub", b("mul", H(g), H(g)), H(v)), S(c2)))
    w1 = b("sub", H(w), b("div", b("mul", m1, S(alpha)), b("add", wasm.unary("sqrt", v1), S(eps))))
    for a, e in zip(got, (w1, m1, v1)):
        np.testing.assert_array_equal(a, pair.get(wasm, e, dt))
