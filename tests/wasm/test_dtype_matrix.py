"""Dtype dispatch matrix (issue 12, item 13): every fused kernel and every primitive that
takes an index/label operand, on the wasm and GPU backends, for every dtype it accepts,
against numpy formulas. The wasm fused sparse_softmax_xent read uint8 labels as int32 bytes
(NaN losses on keras.datasets labels); the GPU stored uint8 raw. A dtype a backend does not
store must be a clear error, never raw bytes."""

import pytest

np = pytest.importorskip("numpy")

from webtensor import backends, dtypes as D  # noqa: E402
from webtensor.errors import InvalidArgumentError  # noqa: E402

pytestmark = [pytest.mark.numpy]
INDEX_DTYPES = (D.int32, D.int64, D.uint8, D.uint32)
FLOATS = (D.float16, D.float32, D.float64)
TOL = {D.float16: 2e-3, D.float32: 1e-5, D.float64: 1e-12}
RNG = np.random.default_rng(12)


def _backend(name):
    try:
        return backends.get(name)
    except Exception as e:  # no wgpu / no adapter
        pytest.skip(f"no {name} backend here: {e}")


@pytest.fixture(scope="module", params=["wasm", "gpu"])
def be(request):
    return _backend(request.param)


def put(be, a, dt):
    a = np.ascontiguousarray(np.asarray(a, dt.name))
    return be.write(memoryview(a.reshape(-1)).cast("B"), a.shape, dt)


def get(be, h, dt):
    return np.frombuffer(be.read(h), dtype=dt.name).reshape(h.shape)


def _needs(be, *dts):
    missing = [d.name for d in dts if d not in be.dtypes]
    if missing:
        with pytest.raises(InvalidArgumentError, match=missing[0]):  # refused, not stored raw
            put(be, [1], D.as_dtype(missing[0]))
        pytest.skip(f"{be.name} does not store {missing}")


def _close(got, want, dt):
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=TOL[dt], atol=TOL[dt])


@pytest.mark.parametrize("lab_dt", INDEX_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_sparse_softmax_xent(be, dt, lab_dt):
    _needs(be, dt, lab_dt)
    x = RNG.normal(size=(5, 7)).astype(dt.name)
    lab = np.array([0, 6, 3, 1, 6], lab_dt.name)
    loss, grad = be.sparse_softmax_xent(put(be, x, dt), put(be, lab, lab_dt))
    x64 = x.astype(np.float64)
    lse = np.log(np.exp(x64 - x64.max(-1, keepdims=True)).sum(-1)) + x64.max(-1)
    want_loss = lse - x64[np.arange(5), lab.astype(np.intp)]
    want_grad = np.exp(x64 - lse[:, None]) - np.eye(7)[lab.astype(np.intp)]
    _close(get(be, loss, dt), want_loss, dt)
    _close(get(be, grad, dt), want_grad, dt)


@pytest.mark.parametrize("idx_dt", INDEX_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("dt", (D.float32, D.int32, D.uint8, D.float64), ids=lambda d: d.name)
def test_gather(be, dt, idx_dt):
    _needs(be, dt, idx_dt)
    x = np.arange(24).reshape(4, 6).astype(dt.name)
    idx = np.array([[5, 0], [2, 2], [1, 4]], idx_dt.name)
    out = be.gather(put(be, x, dt), put(be, idx, idx_dt), 1)
    np.testing.assert_array_equal(get(be, out, dt), np.take(x, idx.astype(np.intp), axis=1))


@pytest.mark.parametrize("idx_dt", INDEX_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("dt", (D.float32, D.int32, D.float64), ids=lambda d: d.name)
def test_scatter_add(be, dt, idx_dt):
    _needs(be, dt, idx_dt)
    idx = np.array([3, 0, 3, 1], idx_dt.name)
    upd = np.arange(8).reshape(4, 2).astype(dt.name)
    out = be.scatter_add(put(be, idx, idx_dt), put(be, upd, dt), (5, 2), 0)
    want = np.zeros((5, 2), dt.name)
    np.add.at(want, idx.astype(np.intp), upd)
    np.testing.assert_array_equal(get(be, out, dt), want)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_softmax(be, dt):
    _needs(be, dt)
    x = RNG.normal(size=(3, 4, 5)).astype(dt.name)
    x64 = x.astype(np.float64)
    for axis in (0, 1, 2):
        e = np.exp(x64 - x64.max(axis, keepdims=True))
        _close(get(be, be.softmax(put(be, x, dt), axis), dt), e / e.sum(axis, keepdims=True), dt)


@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_bias_act(be, dt, act):
    if "bias_act" not in be.fused:
        pytest.skip(f"{be.name} has no fused bias_act")
    _needs(be, dt)
    x, b = RNG.normal(size=(4, 6)).astype(dt.name), RNG.normal(size=(6,)).astype(dt.name)
    z = x.astype(np.float64) + b.astype(np.float64)
    want = {"linear": z, "relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z)), "tanh": np.tanh(z)}[act]
    _close(get(be, be.bias_act(put(be, x, dt), put(be, b, dt), act), dt), want, dt)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_adam_update(be, dt):
    _needs(be, dt)
    w, m, g = (RNG.normal(size=(9,)).astype(dt.name) for _ in range(3))
    v = RNG.uniform(0.1, 1.0, size=(9,)).astype(dt.name)
    alpha, c1, c2, eps = 0.01, 0.1, 0.001, 1e-7
    try:
        outs = be.adam_update(*(put(be, a, dt) for a in (w, m, v, g)), alpha, c1, c2, eps)
    except InvalidArgumentError as e:  # a kernel limited to some dtypes says so by name
        assert dt.name in str(e)
        return
    w64, m64, v64, g64 = (a.astype(np.float64) for a in (w, m, v, g))
    m2 = m64 + c1 * (g64 - m64)
    v2 = v64 + c2 * (g64 * g64 - v64)
    want = (w64 - alpha * m2 / (np.sqrt(v2) + eps), m2, v2)
    for h, ref in zip(outs, want):
        _close(get(be, h, dt), ref, dt)


@pytest.mark.parametrize("dst", D.ALL, ids=lambda d: d.name)
@pytest.mark.parametrize("src", D.ALL, ids=lambda d: d.name)
def test_cast_every_pair(be, src, dst):
    _needs(be, src, dst)
    vals = [0, 1, 2, 7, 100] if src.kind in "ub" or dst.kind == "u" else [0, 1, -2, 7, -100]
    a = np.array(vals if src.kind != "b" else [0, 1, 1, 0, 1]).astype(src.name)
    np.testing.assert_array_equal(get(be, be.cast(put(be, a, src), dst), dst), a.astype(dst.name))


def _f16_cases():
    from webtensor.backends import base

    rng = np.random.default_rng(16)
    x = rng.uniform(0.2, 2.0, (3, 4)).astype(np.float16)
    y = rng.uniform(0.2, 2.0, (3, 4)).astype(np.float16)
    img = (np.arange(50).reshape(1, 5, 5, 2) % 7 / 4).astype(np.float16)
    f, i32, b = D.float16, D.int32, D.bool_
    cases = {
        f"unary_{op}": lambda be, op=op: be.unary(op, put(be, x, f)) for op in base.UNARY_OPS if op != "logical_not"
    }
    cases.update(
        {
            f"binary_{op}": lambda be, op=op: be.binary(op, put(be, x, f), put(be, y, f))
            for op in base.BINARY_OPS
            if not op.startswith("logical")
        }
    )
    cases.update(
        {
            f"reduce_{op}": lambda be, op=op: be.reduce(op, put(be, x, f), (1,), False)
            for op in ("sum", "prod", "max", "min")
        }
    )
    cases.update(
        {
            "argmax": lambda be: be.argreduce("argmax", put(be, x, f), 1, i32),
            "cumsum": lambda be: be.scan("sum", put(be, x, f), 1, False, True),
            "matmul": lambda be: be.matmul(put(be, x, f), put(be, y, f), False, True),
            "transpose": lambda be: be.transpose(put(be, x, f), (1, 0)),
            "concat": lambda be: be.concat([put(be, x, f), put(be, y, f)], 1),
            "pad": lambda be: be.pad(put(be, x, f), ((1, 0), (0, 2)), 0.5),
            "slice": lambda be: be.slice(put(be, x, f), (1, 0), (2, 2), (1, 2)),
            "broadcast_to": lambda be: be.broadcast_to(put(be, x[:1], f), (3, 4)),
            "where": lambda be: be.where(put(be, x > 1, b), put(be, x, f), put(be, y, f)),
            "conv2d": lambda be: be.conv2d(
                put(be, img, f), put(be, np.full((3, 3, 2, 2), 0.25), f), (1, 1), ((1, 1), (1, 1)), (1, 1), 1
            ),
            "avg_pool": lambda be: be.pool2d("avg", put(be, img, f), (2, 2), (1, 1), ((0, 0), (0, 0))),
            "max_pool": lambda be: be.pool2d("max", put(be, img, f), (2, 2), (2, 2), ((0, 1), (0, 1))),
            "full": lambda be: be.full((3,), 1.5, f),
            "arange": lambda be: be.arange(0.5, 0.25, 5, f),
        }
    )
    return cases


F16_CASES = _f16_cases()


@pytest.mark.parametrize("case", sorted(F16_CASES))
def test_float16_primitives_against_numpy(be, case):
    """float16 is computed in float32 and rounded (base.py): the GPU's f16 path was untested."""
    _needs(be, D.float16)
    ref = backends.get("numpy")
    h = F16_CASES[case](be)
    got, want = get(be, h, h.dtype), np.asarray(F16_CASES[case](ref))
    assert got.shape == want.shape and got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=4e-3, atol=4e-3, equal_nan=True)
