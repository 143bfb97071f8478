"""Every primitive of backends/base.py on the backend under test (``be``: wasm, gpu) against the
numpy backend (``ref``) on the same inputs: every dtype the backend stores, the broadcasting
and layout cases the kernels special-case, and the edge values (NaN, infinities, signed
zeros, empty tensors). Tolerances and known exclusions: backend_tables.py."""

from __future__ import annotations

import itertools
import math

import pytest

np = pytest.importorskip("numpy")

from backend_check import (
    FLOATS,
    INTS,
    NUMERIC,
    SPECIAL,
    abs32,
    check_conv,
    close,
    gemm_scale,
    get,  # noqa: E402
    ids,
    normal,
    one_read,
    put,
    rand,
    run,
    same,
    with_specials,
)
from backend_tables import exclusion  # noqa: E402
from webtensor import dtypes as D  # noqa: E402
from webtensor.backends import base  # noqa: E402
from webtensor.errors import InvalidArgumentError  # noqa: E402

pytestmark = [pytest.mark.numpy, pytest.mark.filterwarnings("ignore::RuntimeWarning")]  # NaN/inf edges
F32 = np.float32


# -- the tables ------------------------------------------------------------------------------


def test_the_exclusions_name_exactly_the_dtypes_the_backend_does_not_store(be):
    """A dtype the backend refuses is skipped by the table, with its reason, and only those."""
    for dt in D.ALL:
        hit = exclusion(be.name, f"test_any[{be.name}-{dt.name}]", lambda: be)
        assert (dt not in be.dtypes) == (hit is not None and hit[1] == "skip"), (dt.name, hit)
        if dt not in be.dtypes:
            with pytest.raises(InvalidArgumentError, match=dt.name):
                put(be, np.zeros(2, dt.name))


# -- data movement ---------------------------------------------------------------------------


@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_write_read_round_trip(be, dt):
    for shape in [(), (1,), (5,), (3, 4), (0,), (2, 0, 3), (7, 3, 5)]:
        a = rand(dt, shape, 1)
        if dt is D.uint32:
            a = np.random.default_rng(1).integers(0, 2**32, shape, dtype=np.uint64).astype(np.uint32)
        got = get(be, put(be, a))
        assert got.dtype == a.dtype and np.array_equal(got, a), shape


@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_full(be, ref, dt):
    with one_read(be):
        value, other = {"f": (-2.5, 0.1), "i": (-7, 5), "u": (200, dt.max), "b": (True, False)}[dt.kind]
        for shape in ((), (3,), (5,), (2, 3), (3, 0), (0, 4), (2, 3, 4), (300, 7)):
            same(be, ref, lambda b: b.full(shape, value, dt))
        same(be, ref, lambda b: b.full((3, 5), other, dt))


def test_float_scalars_beyond_float32_round_to_infinity(be):
    for value, want in ((1e300, np.inf), (-1e300, -np.inf), (3.4e38, F32(3.4e38))):
        assert get(be, be.full((), value, D.float32)) == want
        assert get(be, be.full((3,), value, D.float32)).tolist() == [want] * 3


ARANGE = [
    (0.5, 0.1, 1000),
    (3.0, -0.25, 7),
    (0.5, 0.25, 0),
    (0.5, 0.25, 1),
    (0.5, 0.25, 100),
    (-5, 3, 100),
    (10, -2, 9),
    (4, 7, 50),
    (0, 1, 0),
    (3, 2, 7),
]


@pytest.mark.parametrize("dt", [d for d in D.ALL if d is not D.bool_], ids=ids)
def test_arange(be, ref, dt):
    with one_read(be):
        for start, delta, n in ARANGE:
            if dt.kind != "f" and isinstance(start, float) or dt.kind == "u" and (start < 0 or delta < 0):
                continue
            same(be, ref, lambda b: b.arange(start, delta, n, dt), kind="basic")


@pytest.mark.parametrize("dt", FLOATS, ids=ids)
@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_random_matches_the_reference_stream(be, ref, kind, dt):
    long = [((0x12345678, 0x9ABCDEF0), n) for n in (1, 1000, 70001)] if dt is D.float32 else []
    for key, n in [((0, 0), 35), ((1234, 0xFFFFFFFF), 35), ((0x9E3779B9, 42), 35)] + long:
        got = same(
            be, ref, lambda b: b.random(kind, (n,), dt, key), kind="basic" if kind == "uniform" else "transcendental"
        )
        if kind == "uniform":  # (bits >> 8) * 2^-24 is exact: the top 24 bits of every draw agree
            for i in (0, n // 2, n - 1):
                assert got[i] == np.asarray((base.random_u32(i, key) >> 8) * 2.0**-24).astype(dt.name)


# -- elementwise -----------------------------------------------------------------------------

INT_UNARY = ("neg", "abs", "sign", "square", "reciprocal", "round")
EXACT_UNARY = ("neg", "abs", "sign", "floor", "ceil", "round", "isnan", "isfinite", "logical_not")
UNARY_CASES = [
    (op, dt)
    for op in base.UNARY_OPS
    for dt in ((D.bool_,) if op == "logical_not" else FLOATS + (INTS if op in INT_UNARY else ()))
]


def _unary_inputs(op, dt):
    if dt is D.bool_:
        return rand(dt, (50,))
    a = with_specials(dt)
    if dt.kind != "f":
        if dt is D.int32:
            a[:4] = [0, 1, -1, -(2**31)]
        return a[a != 0] if op == "reciprocal" else a  # 1 / 0: test_integer_reciprocal_of_zero
    with np.errstate(all="ignore"):
        a = np.concatenate([a, normal(dt, 300, 1), normal(dt, 100, 2, 0.01), normal(dt, 50, 3, 30.0)])
        if op in ("log", "sqrt", "rsqrt", "log1p"):
            a = np.concatenate([a, np.abs(a), np.abs(normal(dt, 100, 4, 0.1)) - 1]).astype(dt.name)
    if op in ("sin", "cos", "tan"):  # huge angles: test_trig_of_huge_arguments
        a = a[np.abs(np.nan_to_num(a, posinf=0, neginf=0)) < 1e4]
    return a


@pytest.mark.parametrize("op, dt", UNARY_CASES, ids=[f"{o}-{d.name}" for o, d in UNARY_CASES])
def test_unary(be, ref, op, dt):
    kind = "exact" if op in EXACT_UNARY else "basic" if op in ("square", "sqrt", "reciprocal") else "transcendental"
    same(be, ref, lambda b, x: b.unary(op, x), _unary_inputs(op, dt), kind=kind)


@pytest.mark.parametrize("dt", INTS, ids=ids)
def test_integer_reciprocal_of_zero(be, ref, dt):
    same(be, ref, lambda b, x: b.unary("reciprocal", x), np.array([0, 1, 2, 0], dt.name))


@pytest.mark.parametrize("dt", (D.float32, D.float64), ids=ids)
@pytest.mark.parametrize("op", ["sin", "cos", "tan"])
def test_trig_of_huge_arguments(be, ref, op, dt):
    big = [1.6e6, 2.0e6, 1e8, 123456789.0, 1e10, -3e12, 1e22, 5e30, 3.4e38]
    if dt is D.float64:
        big += [1e100, -1e200, 1.7e308, 2.0**1000 * 1.5]
    x = np.array(big + list(np.random.default_rng(5).uniform(-1e9, 1e9, 50)), dt.name)
    same(be, ref, lambda b, a: b.unary(op, a), x, kind="transcendental")


INT_BINARY = (
    "add",
    "sub",
    "mul",
    "floordiv",
    "mod",
    "pow",
    "maximum",
    "minimum",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
)
BINARY_CASES = [
    (op, dt)
    for op in base.BINARY_OPS
    for dt in (
        (D.bool_,)
        if op in ("logical_and", "logical_or")
        else FLOATS
        + (INTS if op in INT_BINARY else ())
        + ((D.bool_,) if op in ("equal", "not_equal", "less", "greater") else ())
    )
]
SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), ()),
    ((), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 1, 3), (1, 4, 1)),
    ((2, 3, 4), (2, 1, 4)),
    ((5,), (1,)),
    ((0, 3), (3,)),
    ((4,), (3, 4)),
    ((2, 3, 4), (3, 4)),
    ((300, 7), (7,)),
    ((1000,), (1000,)),
]


def _binary_kind(op):
    return {"pow": "pow", "floordiv": "mod", "mod": "mod"}.get(op, "basic")


def _binary_inputs(op, dt, sx, sy, seed):
    x, y = rand(dt, sx, seed), rand(dt, sy, seed + 1)
    if op == "pow" and dt.kind in "iu":
        y = np.random.default_rng(seed).integers(0, 5, sy).astype(dt.name)
    if op == "pow" and dt.kind == "f":
        x = np.abs(x) + 0.1 if dt is D.float16 else x
        y = np.round(y) if seed % 2 else y
    return x, y


@pytest.mark.parametrize("op, dt", BINARY_CASES, ids=[f"{o}-{d.name}" for o, d in BINARY_CASES])
def test_binary(be, ref, op, dt):
    with one_read(be):
        for i, (sx, sy) in enumerate(SHAPES):
            x, y = _binary_inputs(op, dt, sx, sy, 10 + 2 * i)
            same(be, ref, lambda b, p, q: b.binary(op, p, q), x, y, kind=_binary_kind(op))


def _special_pairs(dt):
    s = np.array(SPECIAL, np.float64)
    if dt is D.float16:
        s = s[~np.isfinite(s) | (np.abs(s) < 6e4) & ((s == 0) | (np.abs(s) > 1e-4))]
    x, y = (np.asarray(v, dt.name) for v in zip(*itertools.product(s, s)))
    return x, y


@pytest.mark.parametrize(
    "op, dt",
    [c for c in BINARY_CASES if c[1].kind == "f"],
    ids=[f"{o}-{d.name}" for o, d in BINARY_CASES if d.kind == "f"],
)
def test_binary_special_values(be, ref, op, dt):
    """Every pair of special values, zeros as divisors included (huge quotients: below)."""
    x, y = _special_pairs(dt)
    if op in ("floordiv", "mod"):
        keep = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x.astype(float)) > 1e6 * np.abs(y.astype(float))))
        x, y = x[keep], y[keep]
    same(be, ref, lambda b, p, q: b.binary(op, p, q), x, y, kind=_binary_kind(op))


@pytest.mark.parametrize("dt", (D.float32, D.float64), ids=ids)
@pytest.mark.parametrize("op", ["floordiv", "mod"])
def test_floordiv_mod_of_huge_quotients(be, ref, op, dt):
    x, y = _special_pairs(dt)
    keep = np.isfinite(x) & np.isfinite(y) & (np.abs(x.astype(float)) > 1e6 * np.abs(y.astype(float)))
    same(be, ref, lambda b, p, q: b.binary(op, p, q), x[keep], y[keep], kind="mod")


@pytest.mark.parametrize("dt", (D.int32, D.int64), ids=ids)
def test_integer_division_edges(be, ref, dt):
    """Division by zero gives 0 (numpy); x / -1 keeps the sign rules."""
    with one_read(be):
        x = np.array([7, -7, 7, -7, 5, 0, -5, 9], dt.name)
        y = np.array([2, 2, -2, -2, 0, 0, -1, -1], dt.name)
        for op in ("floordiv", "mod"):
            same(be, ref, lambda b, p, q: b.binary(op, p, q), x, y)


@pytest.mark.parametrize("dt", (D.int32, D.int64), ids=ids)
def test_integer_extremes_divide_and_wrap(be, ref, dt):
    """The dtype's minimum over -1 wraps (INT_MIN / -1), and over 1 stays."""
    lo = np.iinfo(dt.name).min
    x, y = np.array([lo, lo, lo], dt.name), np.array([-1, 1, 0], dt.name)
    for op in ("floordiv", "mod"):
        same(be, ref, lambda b, p, q: b.binary(op, p, q), x, y)


def test_bool_truth_tables(be, ref):
    with one_read(be):
        x, y = (np.array(v) for v in zip(*itertools.product([False, True], repeat=2)))
        for op in ("logical_and", "logical_or", "equal", "not_equal", "less", "greater"):
            same(be, ref, lambda b, p, q: b.binary(op, p, q), x, y)


BROADCASTS = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((), ()),
    ((0, 3), (1, 3)),
    ((4, 1, 3), (2, 1)),
    ((1,), (5,)),
    ((2, 1, 4, 1), (3, 1, 5)),
    ((6, 5, 4, 3, 2, 1, 2), (1, 2)),
    ((2, 3, 0), (3, 1)),
]


def test_binary_broadcasting(be, ref):
    with one_read(be):
        for xs, ys in BROADCASTS:
            same(be, ref, lambda b, p, q: b.binary("sub", p, q), normal(D.float32, xs, 1), normal(D.float32, ys, 2))
            same(
                be,
                ref,
                lambda b, p, q: b.binary("less", p, q),
                rand(D.int32, xs, 1, -0.3, 0.3),
                rand(D.int32, ys, 2, -0.3, 0.3),
            )


WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), ()), ((), (2, 3), (2, 3)), ((4,), (2, 4), (1, 4))]
WHERE_MORE = [((4,), (4,), (4,)), ((), (2, 2), (2, 1)), ((2, 1, 3), (1, 4, 1), (4, 3)), ((0, 2), (1, 2), (2,))]
MORE = (D.float32, D.int32, D.bool_)  # the dtypes that run the extra layout cases


@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_where(be, ref, dt):
    with one_read(be):
        for i, (sc, sx, sy) in enumerate(WHERE_SHAPES + (WHERE_MORE if dt in MORE else [])):
            same(
                be,
                ref,
                lambda b, c, p, q: b.where(c, p, q),
                rand(D.bool_, sc, i),
                rand(dt, sx, 20 + i),
                rand(dt, sy, 40 + i),
            )


CAST_VALUES = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.5,
    -2.5,
    3.5,
    7.25,
    1e-3,
    1e-30,
    255.0,
    256.0,
    300.7,
    -129.0,
    65504.0,
    70000.0,
    1e10,
    -1e10,
    1e20,
    1e30,
    math.inf,
    -math.inf,
    math.nan,
]
CASTS = list(itertools.product(D.ALL, D.ALL))


def _in_range(vals, src, dst):
    """Float values whose cast to dst is defined (out-of-range float -> int is undefined
    behaviour in C, numpy and TF alike: test_cast_out_of_range_floats)."""
    with np.errstate(over="ignore"):
        v = vals.astype(src.name).astype(np.float64)
    if dst.kind in "iu":  # int64 beyond int32's range: test_int64_beyond_int32_from_float
        hi = 2**31 if dst is D.int64 else dst.max + 1
        v = v[np.isfinite(v) & (v > max(dst.min, -hi) - 1) & (v < hi)]
    if dst is D.float16:
        v = v[~np.isfinite(v) | (np.abs(v) < 65520)]
    return v.astype(src.name)


@pytest.mark.parametrize("src, dst", CASTS, ids=[f"{a.name}-{b.name}" for a, b in CASTS])
def test_cast(be, ref, src, dst):
    if src.kind == "f":
        x = np.concatenate(
            [
                _in_range(np.array(CAST_VALUES), src, dst),
                rand(src, (20,), 3, -300, 300),
                normal(src, 100, 9, 1e4 if src is not D.float16 else 100),
            ]
        )
        x = _in_range(x.astype(np.float64), src, dst)
    else:
        x = rand(src, (300,), 10)
    same(be, ref, lambda b, a: b.cast(a, dst), x)


@pytest.mark.parametrize("src", (D.float32, D.float64), ids=ids)
def test_int64_beyond_int32_from_float(be, ref, src):
    same(be, ref, lambda b, a: b.cast(a, D.int64), np.array([1e10, -1e10, 3e9, -3e9, 2.0**40], src.name))


INT_CASTS = [(s, d) for s, d in CASTS if s.kind in "iu"]


@pytest.mark.parametrize("src, dst", INT_CASTS, ids=[f"{a.name}-{b.name}" for a, b in INT_CASTS])
def test_cast_integer_extremes(be, ref, src, dst):
    with one_read(be):
        info = np.iinfo(src.name)
        same(be, ref, lambda b, a: b.cast(a, dst), np.array([info.min, info.max, 0, 1, info.max // 2], src.name))


OUT_OF_RANGE = [(s, d) for s in FLOATS for d in (D.int32, D.int64, D.uint8)]


@pytest.mark.parametrize("src, dst", OUT_OF_RANGE, ids=[f"{a.name}-{b.name}" for a, b in OUT_OF_RANGE])
def test_cast_out_of_range_floats(be, ref, src, dst):
    """Undefined in C and TF: the backends follow numpy's results on x86 (integer indefinite)."""
    vals = [1e10, -1e10, 1e20, 3e9, -3e9, 300.0, -300.0] if src is not D.float16 else [300.0, -300.0, 65504.0]
    x = np.array(vals + [math.inf, -math.inf, math.nan], src.name)
    x = x[~np.isin(x, _in_range(x.astype(np.float64), src, dst))]
    with np.errstate(all="ignore"):
        same(be, ref, lambda b, a: b.cast(a, dst), x)


# -- reductions ------------------------------------------------------------------------------

AXES = [(0,), (1,), (2,), (0, 1), (1, 2), (0, 2), (0, 1, 2)]
REDUCE_CASES = [(op, dt) for op in base.REDUCE_OPS for dt in ((D.bool_,) if op in ("any", "all") else NUMERIC)]
_RED_KIND = {"sum": "sum", "prod": "prod"}


def _sum_scale(op, x, axes, keep):
    return np.sum(np.abs(x.astype(np.float64)), axis=axes, keepdims=keep) if op == "sum" else None


@pytest.mark.parametrize("op, dt", REDUCE_CASES, ids=[f"{o}-{d.name}" for o, d in REDUCE_CASES])
def test_reduce(be, ref, op, dt):
    with one_read(be):
        x = rand(dt, (3, 4, 5), 11, -2, 2) if op == "prod" else rand(dt, (3, 4, 5), 11)
        for axes in AXES:
            for keep in (False, True):
                same(
                    be,
                    ref,
                    lambda b, a: b.reduce(op, a, axes, keep),
                    x,
                    kind=_RED_KIND.get(op, "exact"),
                    scale=_sum_scale(op, x, axes, keep),
                )


@pytest.mark.parametrize("op, dt", REDUCE_CASES, ids=[f"{o}-{d.name}" for o, d in REDUCE_CASES])
def test_reduce_empty_gives_the_identity(be, ref, op, dt):
    with one_read(be):
        for shape, axes, keep in (((0, 3), (0,), False), ((0, 3), (0,), True), ((4, 0, 3), (1,), False)):
            same(be, ref, lambda b, a: b.reduce(op, a, axes, keep), rand(dt, shape), kind="exact")


SHAPES_AXES = [
    ((7,), (0,)),
    ((3, 4), (1,)),
    ((3, 4), (0,)),
    ((3, 4), (0, 1)),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (1,)),
    ((5, 1, 6), (1,)),
    ((4, 0, 3), (1,)),
    ((4, 0, 3), (0,)),
    ((0, 3), (1,)),
    ((2, 3, 4, 5, 6), (0, 2, 4)),
    ((2, 3, 4, 5, 6), (1, 3)),
    ((70000, 3), (1,)),
    ((3, 70000), (0,)),
    ((1, 100000), (1,)),
    ((100000, 1), (0,)),
    ((2, 50000), (1,)),
    ((50000, 2), (0,)),
]


def test_reduce_layouts_float32(be, ref):
    """The shapes the kernels special-case: inner/outer axes, unit and empty axes, long rows."""
    with one_read(be):
        for (shape, axes), keep in itertools.product(SHAPES_AXES, (False, True)):
            a = normal(D.float32, shape, 11)
            for op in ("sum", "max", "min"):
                same(
                    be,
                    ref,
                    lambda b, x: b.reduce(op, x, axes, keep),
                    a,
                    kind="sum" if op == "sum" else "exact",
                    scale=_sum_scale(op, a, axes, keep),
                )
            if a.size < 1000:
                p = (1 + 0.1 * np.tanh(a)).astype(F32)
                same(be, ref, lambda b, x: b.reduce("prod", x, axes, keep), p, kind="prod")


def test_reduce_layouts_ints_and_bools(be, ref):
    with one_read(be):
        for shape, axes in SHAPES_AXES[:12]:
            for dt, ops in (
                (D.int32, ("sum", "prod", "max", "min")),
                (D.uint32, ("sum", "max", "min")),
                (D.int64, ("sum", "max")),
                (D.bool_, ("any", "all")),
            ):
                a = rand(dt, shape, 12, -5, 5)
                for op in ops:
                    if not (dt is D.int64 and op == "max" and not a.size):  # test_reduce_empty_gives_the_identity
                        same(be, ref, lambda b, x: b.reduce(op, x, axes, False), a)


def test_long_float32_sum_is_accurate(be):
    """Against the exact (float64) sum, not numpy's: 100,003 terms within 2e-7."""
    x = np.random.default_rng(13).uniform(0, 1, (3, 100_003)).astype(F32)
    exact = x.astype(np.float64).sum(axis=1)
    np.testing.assert_allclose(run(be, lambda b, a: b.reduce("sum", a, (1,), False), x), exact, rtol=2e-7)
    np.testing.assert_allclose(run(be, lambda b, a: b.reduce("sum", a, (0,), False), x.T.copy()), exact, rtol=2e-7)


@pytest.mark.parametrize("dt", (D.float16,), ids=ids)
def test_reduce_long_float16(be, ref, dt):
    """float16 sums accumulate in float32 and round once: long rows stay within one rounding."""
    with one_read(be):
        for shape, axes in (((7, 9), (1,)), ((7, 9), (0,)), ((3, 5000), (1,)), ((2000, 3), (0, 1))):
            a = rand(dt, shape, 70, -1, 1)
            for op in ("sum", "max"):
                same(
                    be,
                    ref,
                    lambda b, x: b.reduce(op, x, axes, False),
                    a,
                    kind="sum" if op == "sum" else "exact",
                    scale=_sum_scale(op, a, axes, False),
                )
            same(be, ref, lambda b, x: b.argreduce("argmax", x, len(shape) - 1, D.int64), a)


@pytest.mark.parametrize("dt", FLOATS, ids=ids)
def test_reduce_nan_and_empty_identities(be, ref, dt):
    with one_read(be):
        a = np.array([[1.0, np.nan, 3.0], [-np.inf, 2.0, 0.0], [1.0, 2.0, -np.inf]], dt.name)
        for op in ("sum", "prod", "max", "min"):
            same(be, ref, lambda b, x: b.reduce(op, x, (1,), False), a)
            same(be, ref, lambda b, x: b.reduce(op, x, (0,), True), np.zeros((0, 3), dt.name))
        for idt in (D.int32, D.uint32):
            for op in ("max", "min"):
                same(be, ref, lambda b, x: b.reduce(op, x, (0,), False), np.zeros((0, 2), idt.name))


ARG_SHAPES = [((4, 6, 5), 0), ((4, 6, 5), 1), ((4, 6, 5), 2)]
ARG_SHAPES_MORE = [((10,), 0), ((4, 7), 1), ((4, 7), 0), ((3, 5, 2), 1), ((1, 9), 1)]  # float32, int32


@pytest.mark.parametrize("dt", FLOATS + INTS + (D.bool_,), ids=ids)
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argreduce(be, ref, op, dt):
    """Small ranges, so many ties: the first occurrence wins; NaN wins, as numpy."""
    with one_read(be):
        shapes = ARG_SHAPES + (ARG_SHAPES_MORE if dt in (D.float32, D.int32) else [])
        for out, (i, (shape, axis)) in itertools.product((D.int32, D.int64), enumerate(shapes)):
            a = rand(dt, shape, 14 + i, -0.3, 0.3) if dt.kind in "iu" else rand(dt, shape, 14 + i, -2, 2)
            if dt.kind == "f":
                a = np.round(a)
            same(be, ref, lambda b, x: b.argreduce(op, x, axis, out), a)
            if dt.kind == "f":
                a.reshape(-1)[::3] = np.nan
                same(be, ref, lambda b, x: b.argreduce(op, x, axis, out), a)
        if dt.kind == "f":
            x = np.array([[1.0, math.nan, 5.0, math.nan], [2.0, 2.0, 1.0, 1.0]], dt.name)
            same(be, ref, lambda b, a: b.argreduce(op, a, 1, D.int64), x)


SCAN_SHAPES = [((3, 4, 5), 0), ((3, 4, 5), 1), ((3, 4, 5), 2)]
SCAN_MORE = [((9,), 0), ((4, 6), 1), ((4, 6), 0), ((2, 3, 4), 1), ((0, 3), 1)]  # float32, int32


@pytest.mark.parametrize("dt", NUMERIC, ids=ids)
@pytest.mark.parametrize("op", base.SCAN_OPS)
def test_scan(be, ref, op, dt):
    with one_read(be):
        for i, (shape, axis) in enumerate(SCAN_SHAPES + (SCAN_MORE if dt in MORE else [])):
            lo, hi = (0.5, 1.5) if op == "prod" and dt.kind == "f" else (-0.2, 0.2)
            x = rand(dt, shape, 15 + i, lo, hi)
            if dt.kind == "f" and op == "sum":
                x = rand(dt, shape, 15 + i, -3, 3)
            scale = np.sum(np.abs(x.astype(np.float64))) + 1 if op == "sum" else None
            for exclusive, reverse in itertools.product((False, True), repeat=2):
                same(
                    be,
                    ref,
                    lambda b, a: b.scan(op, a, axis, exclusive, reverse),
                    x,
                    kind="sum" if op == "sum" else "prod",
                    scale=scale,
                )


# -- matmul and convolutions ------------------------------------------------------------------


def _t(shape, t):
    return shape[:-2] + (shape[-1], shape[-2]) if t else shape


MATMUL_F32 = [
    (_t(a, ta), _t(b, tb), ta, tb)
    for a, b in [
        ((3, 4), (4, 5)),
        ((1, 1), (1, 1)),
        ((65, 33), (33, 70)),
        ((2, 3, 4), (4, 6)),
        ((3, 4), (2, 4, 6)),
        ((2, 1, 5, 3), (4, 3, 2)),
        ((0, 4), (4, 3)),
        ((3, 0), (0, 5)),
        ((8, 3000), (3000, 5)),
        ((130, 70), (70, 129)),
    ]
    for ta, tb in itertools.product((False, True), repeat=2)
]
MATMUL = [  # every dtype (the large ones float32 only)
    ((5, 7), (7, 3), False, False),
    ((7, 5), (7, 3), True, False),
    ((5, 7), (3, 7), False, True),
    ((7, 5), (3, 7), True, True),
    ((2, 5, 7), (7, 3), False, False),
    ((2, 5, 7), (2, 7, 3), False, False),
    ((1, 5, 7), (3, 7, 4), False, False),
    ((2, 1, 5, 7), (3, 7, 4), False, False),
    ((2, 7, 5), (2, 3, 7), True, True),
    ((3, 7), (4, 7, 2), False, False),
    ((0, 4), (4, 3), False, False),
    ((4, 0), (0, 3), False, False),
    ((65, 130), (130, 67), False, False),
    ((300, 600), (600, 500), False, False),
    ((70, 300), (530, 300), False, True),
]


@pytest.mark.parametrize("dt", (D.float32, D.float64, D.float16, D.int32, D.int64), ids=ids)
def test_matmul(be, ref, dt):
    """Transposes, broadcast batch dims, empty K and M, tile edges; more (and large) cases in float32."""
    with one_read(be):
        for sa, sb, ta, tb in MATMUL + (MATMUL_F32 if dt is D.float32 else []):
            if dt is not D.float32 and sa[0] >= 300:
                continue
            lo = -0.5 if dt.kind in "iu" else -1
            a, b = rand(dt, sa, 16, lo, -lo), rand(dt, sb, 17, lo, -lo)
            same(be, ref, lambda k, x, y: k.matmul(x, y, ta, tb), a, b, kind="gemm", scale=gemm_scale(a, b, ta, tb))


CONVS_F32 = [  # x shape, w shape, strides, pads, dilations, groups
    ((2, 5, 5, 3), (3, 3, 3, 4), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((1, 7, 6, 2), (3, 2, 2, 5), (2, 2), ((0, 1), (1, 0)), (1, 1), 1),
    ((2, 8, 8, 4), (3, 3, 2, 6), (1, 1), ((2, 2), (2, 2)), (2, 2), 2),
    ((1, 6, 6, 4), (3, 3, 1, 8), (2, 1), ((1, 1), (0, 0)), (1, 1), 4),
    ((3, 4, 4, 2), (1, 1, 2, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    ((2, 9, 9, 1), (3, 3, 1, 16), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((64, 8, 8, 16), (3, 3, 16, 32), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
]
CONVS = [  # every float dtype
    ((2, 7, 6, 3), (3, 3, 3, 4), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((2, 7, 6, 3), (3, 3, 3, 4), (2, 2), ((0, 1), (1, 0)), (1, 1), 1),
    ((1, 9, 8, 2), (3, 2, 2, 5), (1, 2), ((2, 2), (0, 1)), (2, 1), 1),
    ((2, 6, 6, 4), (3, 3, 2, 6), (1, 1), ((1, 1), (1, 1)), (1, 1), 2),
    ((2, 5, 4, 6), (1, 1, 6, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    ((2, 5, 4, 6), (1, 1, 6, 3), (2, 2), ((0, 0), (0, 0)), (1, 1), 1),
    ((3, 10, 10, 16), (5, 5, 16, 32), (1, 1), ((2, 2), (2, 2)), (1, 1), 1),
    ((2, 6, 5, 4), (3, 3, 1, 8), (1, 1), ((1, 1), (1, 1)), (1, 1), 4),  # depthwise, multiplier 2
]


@pytest.mark.parametrize("dt", FLOATS, ids=ids)
def test_conv2d_and_both_gradients(be, ref, dt):
    """Strides, asymmetric pads, dilations, groups, depthwise; more (and a large) case in float32."""
    with one_read(be):
        for case in CONVS + (CONVS_F32 if dt is D.float32 else []):
            check_conv(be, ref, dt, *case)


POOLS = [
    ((2, 6, 6, 3), (2, 2), (2, 2), ((0, 0), (0, 0))),
    ((1, 7, 5, 2), (3, 3), (2, 1), ((1, 1), (1, 1))),
    ((2, 5, 5, 4), (3, 2), (1, 2), ((0, 1), (1, 0))),
]
POOLS_TIES = [
    ((2, 6, 6, 3), (2, 2), (2, 2), ((0, 0), (0, 0))),
    ((1, 5, 7, 2), (3, 3), (1, 2), ((1, 1), (1, 1))),
    ((2, 7, 7, 1), (3, 2), (2, 3), ((1, 0), (0, 1))),
    ((1, 4, 4, 2), (4, 4), (1, 1), ((0, 0), (0, 0))),
]


@pytest.mark.parametrize("dt", FLOATS, ids=ids)
@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool2d_and_gradient(be, ref, op, dt):
    """Random inputs, and (float32) small integers: ties go to the first maximum."""
    with one_read(be):
        cases = [(c, rand(dt, c[0], 23 + i)) for i, c in enumerate(POOLS)]
        if dt is D.float32:
            cases += [(c, np.round(rand(dt, c[0], 30 + i, -4, 4))) for i, c in enumerate(POOLS_TIES)]
        for i, ((xs, k, st, pads), x) in enumerate(cases):
            y = ref.pool2d(op, x, k, st, pads)
            dy = rand(dt, y.shape, 24 + i, -1, 1)
            same(
                be,
                ref,
                lambda b, a: b.pool2d(op, a, k, st, pads),
                x,
                kind="exact" if op == "max" else "sum",
                scale=ref.pool2d("avg", np.abs(x), k, st, pads),
            )
            same(
                be,
                ref,
                lambda b, a, g: b.pool2d_grad(op, a, g, k, st, pads),
                x,
                dy,
                kind="sum",
                scale=ref.pool2d_grad("avg", np.ones_like(x), abs32(dy).astype(dt.name), k, st, pads) * 4 + 1,
            )


@pytest.mark.parametrize("dt", INTS, ids=ids)
def test_integer_max_pool(be, ref, dt):
    with one_read(be):
        for i, (xs, k, st, pads) in enumerate(POOLS + (POOLS_TIES if dt is D.int32 else [])):
            same(be, ref, lambda b, a: b.pool2d("max", a, k, st, pads), rand(dt, xs, 25 + i))


def test_max_pool_ties_go_to_the_first_maximum(be, ref):
    x = np.zeros((1, 4, 4, 1), F32)
    dy = np.arange(4, dtype=F32).reshape(1, 2, 2, 1) + 1
    got = same(be, ref, lambda b, a, g: b.pool2d_grad("max", a, g, (2, 2), (2, 2), ((0, 0), (0, 0))), x, dy)
    assert got[0, ::2, ::2, 0].tolist() == [[1, 2], [3, 4]]


# -- indexing -------------------------------------------------------------------------------

GATHERS = [((4, 5, 3), 0, (2, 3)), ((4, 5, 3), 1, (2, 3)), ((4, 5, 3), 2, (2, 3))]
GATHERS_MORE = [((5, 3), 0, (4,)), ((5, 3), 1, (2, 2)), ((2, 3, 4), 1, ()), ((4,), 0, (0,)), ((3, 4), 0, (6,))]


@pytest.mark.parametrize("idt", (D.int32, D.int64), ids=ids)
@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_gather(be, ref, dt, idt):
    with one_read(be):
        for i, (xs, axis, ishape) in enumerate(GATHERS + (GATHERS_MORE if dt in MORE else [])):
            idx = np.random.default_rng(26 + i).integers(0, xs[axis], ishape).astype(idt.name)
            same(be, ref, lambda b, x, j: b.gather(x, j, axis), rand(dt, xs, 27 + i), idx)


def test_gather_out_of_range(be):
    """base.py: CPU backends raise, GPU backends write 0 (as TF on each device)."""
    x = put(be, np.arange(6, dtype=F32).reshape(3, 2))
    idx = put(be, np.array([2, 3, -1, 0], np.int32))
    if be.device_type == "GPU":
        assert get(be, be.gather(x, idx, 0)).tolist() == [[4, 5], [0, 0], [0, 0], [0, 1]]
    else:
        with pytest.raises((IndexError, ValueError), match="index 3"):
            be.gather(x, idx, 0)


SCATTERS = [((4, 5, 3), 0, (2, 3)), ((4, 5, 3), 1, (2, 3)), ((4, 5, 3), 2, (2, 3))]
SCATTERS_MORE = [((5, 3), 0, (8,)), ((3, 6), 1, (4, 2)), ((2, 4, 3), 1, (9,))]


@pytest.mark.parametrize("idt", (D.int32, D.int64), ids=ids)
@pytest.mark.parametrize("dt", NUMERIC, ids=ids)
def test_scatter_add(be, ref, dt, idt):
    """Repeated indices accumulate."""
    with one_read(be):
        for i, (shape, axis, ishape) in enumerate(SCATTERS + (SCATTERS_MORE if dt in MORE else [])):
            idx = np.random.default_rng(28 + i).integers(0, shape[axis], ishape).astype(idt.name)
            u = rand(dt, shape[:axis] + ishape + shape[axis + 1 :], 29 + i)
            same(
                be,
                ref,
                lambda b, j, v: b.scatter_add(j, v, shape, axis),
                idx,
                u,
                kind="sum",
                scale=np.abs(ref.scatter_add(idx, np.abs(u).astype(dt.name), shape, axis).astype(np.float64)) + 1,
            )


# -- data movement without arithmetic -----------------------------------------------------------

TRANSPOSES = [((40, 37), (1, 0))] + [((3, 4, 5), p) for p in itertools.permutations(range(3))]
TRANSPOSES_MORE = [
    ((2, 3), (1, 0)),
    ((2, 3, 4), (2, 0, 1)),
    ((1, 5, 1, 3), (3, 1, 0, 2)),
    ((2, 3, 4, 5, 2), (4, 2, 0, 3, 1)),
    ((0, 3), (1, 0)),
]  # float32, int64, bool


@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_transpose(be, ref, dt):
    with one_read(be):
        more = TRANSPOSES_MORE if dt in (D.float32, D.int64, D.bool_) else []
        for i, (shape, perm) in enumerate(TRANSPOSES + more):
            same(be, ref, lambda b, x: b.transpose(x, perm), rand(dt, shape, 31 + i))


SLICES_MORE = [
    ((10,), (2,), (3,), (2,)),
    ((10,), (9,), (4,), (-3,)),
    ((4, 5), (1, 4), (3, 5), (1, -1)),
    ((4, 5), (0, 0), (0, 5), (1, 1)),
    ((3, 4, 5), (2, 1, 0), (2, 2, 3), (-1, 2, 2)),
]  # float32
SLICES = [
    ((3, 4, 5), (0, 0, 0), (3, 4, 5), (1, 1, 1)),
    ((3, 4, 5), (1, 0, 0), (2, 4, 5), (1, 1, 1)),
    ((3, 4, 5), (0, 1, 2), (3, 2, 3), (1, 1, 1)),
    ((3, 4, 5), (2, 3, 4), (3, 2, 2), (-1, -2, -3)),
    ((3, 4, 5), (0, 0, 1), (2, 2, 2), (2, 3, 2)),
    ((3, 4, 5), (1, 0, 0), (0, 4, 5), (1, 1, 1)),
]


@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_slice(be, ref, dt):
    with one_read(be):
        for i, (shape, begin, size, strides) in enumerate(SLICES + (SLICES_MORE if dt is D.float32 else [])):
            same(be, ref, lambda b, x: b.slice(x, begin, size, strides), rand(dt, shape, 32 + i))


@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_broadcast_to(be, ref, dt):
    with one_read(be):
        more = [((3,), (2, 3)), ((3, 1), (3, 4)), ((), (2, 2)), ((1, 2, 1), (3, 2, 4)), ((1,), (0,))]  # int32
        for i, (shape, out) in enumerate([((3, 1, 5), (2, 3, 4, 5)), ((), (2, 3))] + (more if dt is D.int32 else [])):
            same(be, ref, lambda b, x: b.broadcast_to(x, out), rand(dt, shape, 33 + i))


@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_concat(be, ref, dt):
    with one_read(be):
        cases = [([(3, 4, 5)[:a] + (n,) + (3, 4, 5)[a + 1 :] for n in (1, 3, 0, 2)], a) for a in range(3)]
        if dt is D.float32:
            cases += [
                ([(2, 3), (4, 3)], 0),
                ([(2, 3), (2, 1), (2, 0), (2, 2)], 1),
                ([(2, 1, 3), (2, 2, 3)], 1),
                ([(0, 2), (0, 2)], 0),
            ]
        for shapes, axis in cases:
            same(be, ref, lambda b, *xs: b.concat(list(xs), axis), *[rand(dt, s, 34 + i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_pad(be, ref, dt):
    with one_read(be):
        value = {"f": -1.5, "i": -3, "u": 9, "b": True}[dt.kind]
        more = [
            ((3,), ((1, 2),)),
            ((2, 3), ((0, 1), (2, 0))),
            ((0, 2), ((1, 1), (0, 0))),
            ((2, 2, 2), ((1, 1), (0, 0), (1, 0))),
        ]  # float32, bool
        for i, (shape, pads) in enumerate(
            [((3, 4, 5), ((1, 0), (0, 2), (1, 1)))] + (more if dt in (D.float32, D.bool_) else [])
        ):
            same(be, ref, lambda b, x: b.pad(x, pads, value), rand(dt, shape, 40 + i))


@pytest.mark.parametrize("dt", D.ALL, ids=ids)
def test_reshape_shares_the_storage(be, ref, dt):
    x = rand(dt, (3, 4, 5), 42)
    same(be, ref, lambda b, a: b.reshape(a, (5, 12)), x)
    h = put(be, x)
    r = be.reshape(h, (6, 10))
    assert r.shape == (6, 10)
    storage = (lambda t: t.buf) if hasattr(h, "buf") else (lambda t: t.ptr)
    assert storage(r) is storage(h) or storage(r) == storage(h)


# -- fused kernels: equal to the composition they replace ----------------------------------------

SOFTMAX = [
    ((4, 10), 1),
    ((3, 5, 7), 1),
    ((2, 300), 1),
    ((6,), 0),
    ((3, 0), 1),
    ((4, 6, 9), 0),
    ((4, 6, 9), 1),
    ((4, 6, 9), 2),
]


@pytest.mark.parametrize("dt", FLOATS, ids=ids)
def test_fused_softmax_equals_the_composition(be, dt):
    for i, (shape, axis) in enumerate(SOFTMAX):
        x = rand(dt, shape, 43 + i, -20, 20)
        if x.ndim == 3:
            x[0, 0, :] = 1000.0
        x64 = x.astype(np.float64)
        e = np.exp(x64 - x64.max(axis=axis, keepdims=True)) if x.size else x64
        want = (e / e.sum(axis=axis, keepdims=True) if x.size else x64).astype(dt.name)
        close(be, run(be, lambda b, a: b.softmax(a, axis), x), want, "transcendental")


@pytest.mark.parametrize("ldt", (D.int32, D.int64), ids=ids)
@pytest.mark.parametrize("dt", FLOATS, ids=ids)
def test_fused_sparse_softmax_xent(be, dt, ldt):
    """loss = logsumexp(x) - x[label], grad = softmax(x) - onehot(label)."""
    x = rand(dt, (8, 7), 44, -10, 10)
    lab = np.array([0, 6, 3, 1, 2, 5, 4, 6], ldt.name)
    loss, grad = run(be, lambda b, a, j: b.sparse_softmax_xent(a, j), x, lab)
    x64 = x.astype(np.float64)
    lse = np.log(np.exp(x64 - x64.max(1, keepdims=True)).sum(1)) + x64.max(1)
    close(be, loss, (lse - x64[np.arange(8), lab]).astype(dt.name), "sum", scale=np.abs(lse) + 1)
    close(be, grad, (np.exp(x64 - lse[:, None]) - np.eye(7)[lab]).astype(dt.name), "sum", scale=1.0)


@pytest.mark.parametrize("dt", FLOATS, ids=ids)
def test_fused_sparse_softmax_xent_out_of_range_labels(be, ref, dt):
    """Labels outside [0, classes) give a NaN loss (TF's GPU kernel; its CPU kernel raises)."""
    x, lab = rand(dt, (4, 7), 45, -10, 10), np.array([0, 7, -1, 3], np.int32)
    loss, grad = same(
        be,
        ref,
        lambda b, a, j: b.sparse_softmax_xent(a, j),
        x,
        lab,
        kind="sum",
        scale=float(np.abs(x.astype(np.float64)).max()) + 1,
    )
    assert np.isnan(loss[1:3]).all() and not np.isnan(loss[[0, 3]]).any()


@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("dt", FLOATS, ids=ids)
def test_fused_bias_activation(be, dt, act):
    x, b = rand(dt, (6, 5), 45), rand(dt, (5,), 46)
    got = run(be, lambda k, p, q: k.bias_act(p, q, act), x, b)
    v = (x + b).astype(np.float64)
    want = {"linear": v, "relu": np.maximum(v, 0), "sigmoid": 1 / (1 + np.exp(-v)), "tanh": np.tanh(v)}[act]
    close(be, got, want.astype(dt.name), "transcendental")


ADAM = (0.01 * math.sqrt(1 - 0.999**3) / (1 - 0.9**3), 0.1, 0.001, 1e-7)


@pytest.mark.parametrize("shape", [(7,), (33, 65), (3, 3, 16, 32), ()])
@pytest.mark.parametrize("dt", FLOATS, ids=ids)
def test_fused_adam_step_equals_the_reference(be, ref, dt, shape):
    w, m, g = rand(dt, shape, 47), rand(dt, shape, 48, -0.1, 0.1), rand(dt, shape, 49)
    v = np.abs(rand(dt, shape, 50, -0.1, 0.1))
    same(be, ref, lambda b, *h: b.adam_update(*h, *ADAM), w, m, v, g, kind="transcendental")


@pytest.mark.parametrize("dt", (D.float32, D.float64), ids=ids)
def test_fused_adam_step_is_bit_identical_to_the_composition(be, dt):
    """On one backend the fused step equals the primitives it replaces, to the bit."""
    w, m, v, g = (rand(dt, (33, 7), 51 + i) for i in range(4))
    v = np.abs(v)
    alpha, c1, c2, eps = ADAM
    got = run(be, lambda b, *h: b.adam_update(*h, alpha, c1, c2, eps), w, m, v, g)
    H, S, b = (lambda a: put(be, a)), (lambda c: be.full((), c, dt)), be.binary  # noqa: E731
    m1 = b("add", H(m), b("mul", b("sub", H(g), H(m)), S(c1)))
    v1 = b("add", H(v), b("mul", b("sub", b("mul", H(g), H(g)), H(v)), S(c2)))
    w1 = b("sub", H(w), b("div", b("mul", m1, S(alpha)), b("add", be.unary("sqrt", v1), S(eps))))
    for a, e in zip(got, (w1, m1, v1)):
        np.testing.assert_array_equal(a, get(be, e))
