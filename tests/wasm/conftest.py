"""Both CPU backends in one process: the numpy backend is the reference for the kernels."""

import pytest

np = pytest.importorskip("numpy")

from webtensor import backends, dtypes as D  # noqa: E402


@pytest.fixture(scope="session")
def wasm():
    return backends.get("wasm")


@pytest.fixture(scope="session")
def ref():
    return backends.get("numpy")


class Pair:
    """Runs one primitive on both backends and compares the results."""

    def __init__(self, wasm, ref):
        self.wasm, self.ref = wasm, ref

    def put(self, be, a):
        a = np.ascontiguousarray(a)
        return be.write(memoryview(a.reshape(-1)).cast("B"), a.shape, D.as_dtype(a.dtype.name))

    def get(self, be, h, dtype):
        return np.frombuffer(be.read(h), dtype=dtype.name).reshape(h.shape)

    def run(self, method, *args, dtype=None, **kw):
        """``method`` on both backends with numpy arrays in args turned into handles;
        returns (wasm result, numpy result) as arrays of the output dtype."""
        out = []
        for be in (self.wasm, self.ref):
            hargs = [
                self.put(be, np.asarray(a))
                if isinstance(a, (np.ndarray, np.generic))
                else [self.put(be, x) for x in a]
                if isinstance(a, list) and a and isinstance(a[0], np.ndarray)
                else a
                for a in args
            ]
            h = getattr(be, method)(*hargs, **kw)
            hs = h if isinstance(h, tuple) else (h,)
            got = []
            for r in hs:
                dt = dtype or (r.dtype if be is self.wasm else D.as_dtype(r.dtype.name))
                got.append(self.get(be, r, dt))
            out.append(tuple(got) if isinstance(h, tuple) else got[0])
        return out

    close = staticmethod(lambda *a, **k: close(*a, **k))

    def check(self, method, *args, rtol=None, atol=None, dtype=None, **kw):
        got, want = self.run(method, *args, dtype=dtype, **kw)
        close(got, want, rtol, atol, f"{method}{tuple(getattr(a, 'shape', a) for a in args)}")
        return got


TOL = {"float16": (2e-3, 1e-3), "float32": (2e-6, 1e-6), "float64": (1e-13, 1e-14)}


def close(got, want, rtol=None, atol=None, what=""):
    if isinstance(want, tuple):
        for g, w in zip(got, want):
            close(g, w, rtol, atol, what)
        return
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind == "f":
        r, a = TOL[want.dtype.name]
        np.testing.assert_allclose(
            got.astype(np.float64),
            want.astype(np.float64),
            rtol=rtol or r,
            atol=atol if atol is not None else a,
            equal_nan=True,
            err_msg=what,
        )
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.fixture(scope="session")
def pair(wasm, ref):
    return Pair(wasm, ref)
