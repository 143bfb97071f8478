"""What must hold beyond correct numbers: bad handles, mismatched sizes and kernel traps
become Python exceptions naming the op; allocation failure is a clear error; memory
comes back when tensors die."""

import gc
import struct

import pytest

from webtensor import dtypes as D
from webtensor.backends import get
from webtensor.backends.wasm import MEMORY_LIMIT, WasmArray
from webtensor.errors import InternalError, InvalidArgumentError, ResourceExhaustedError


@pytest.fixture
def be():
    return get("wasm")


def f32(be, values, shape=None):
    return be.write(struct.pack(f"<{len(values)}f", *values), shape or (len(values),), D.float32)


def values(be, h):
    return list(struct.unpack(f"<{h.size}f", be.read(h)))


def test_write_with_the_wrong_byte_count_names_the_op(be):
    with pytest.raises(InvalidArgumentError, match=r"write: 8 bytes do not match shape \(3,\) of dtype float32"):
        be.write(bytes(8), (3,), D.float32)


def test_a_foreign_handle_is_refused_naming_the_op(be):
    with pytest.raises(InvalidArgumentError, match="exp: expected a tensor of this wasm backend"):
        be.unary("exp", [1.0, 2.0])
    other = get("numpy").write(struct.pack("<f", 1.0), (1,), D.float32)
    with pytest.raises(InvalidArgumentError, match="add: expected a tensor of this wasm backend, got ndarray"):
        be.binary("add", f32(be, [1.0]), other)


def test_an_out_of_bounds_handle_is_refused_naming_the_op(be):
    owner = f32(be, [1.0, 2.0])
    end = be.memory_stats()["memory_bytes"]
    forged = WasmArray(be, end - 8, (1 << 20,), D.float32, base=owner)  # a view: never freed
    for run, op in (
        (lambda: be.unary("exp", forged), "exp"),
        (lambda: be.reduce("sum", forged, (0,), False), "reduce_sum"),
        (lambda: be.read(forged), "read"),
    ):
        with pytest.raises(InvalidArgumentError, match=f"{op}: tensor handle .* lies outside linear memory"):
            run()


def test_a_kernel_trap_is_an_exception_naming_the_op_and_the_instance_survives(be):
    owner = f32(be, [1.0, 2.0])
    before = be.memory_stats()["bytes_in_use"]
    with pytest.raises(InternalError, match=r"free: WebAssembly kernel trapped \(wt_release: .*unreachable"):
        be._run("free", "wt_release", 64)  # not a live block: the allocator traps on purpose
    assert values(be, be.binary("mul", owner, owner)) == [1.0, 4.0]
    assert be.memory_stats()["bytes_in_use"] == before


def test_bad_gather_index_names_the_op_and_the_index(be):
    x = f32(be, [1.0, 2.0, 3.0])
    idx = be.write(struct.pack("<2q", 1, 7), (2,), D.int64)
    with pytest.raises(InvalidArgumentError, match=r"gather: index 7 is not in \[0, 3\)"):
        be.gather(x, idx, 0)
    neg = be.write(struct.pack("<i", -1), (1,), D.int32)
    with pytest.raises(InvalidArgumentError, match=r"scatter_add: index -1 is not in \[0, 3\)"):
        be.scatter_add(neg, f32(be, [1.0]), (3,), 0)


def test_mismatched_shapes_are_an_error_not_a_wrong_answer(be):
    a, b = f32(be, [1.0] * 6, (2, 3)), f32(be, [1.0] * 4, (2, 2))
    with pytest.raises(InvalidArgumentError, match="add"):
        be.binary("add", a, b)
    with pytest.raises(InvalidArgumentError, match="matmul: inner dimensions differ"):
        be.matmul(a, b, False, False)
    with pytest.raises(InvalidArgumentError, match="reshape: cannot reshape"):
        be.reshape(a, (4,))


def test_an_allocation_too_large_for_linear_memory_is_a_clear_error(be):
    with pytest.raises(
        ResourceExhaustedError,
        match=r"fill: out of WebAssembly memory allocating 4294967296 bytes"
        r".*limit is 2 GiB",
    ):
        be.full((1 << 30,), 0.0, D.float32)
    with pytest.raises(ResourceExhaustedError, match="matmul: out of WebAssembly memory"):
        big = be.full((1 << 15, 1), 1.0, D.float32)
        be.matmul(big, be.full((1, 1 << 15), 1.0, D.float32), False, False)


def test_growing_past_the_limit_fails_cleanly_and_memory_is_reusable(be):
    chunk = 700 << 20
    held = []
    with pytest.raises(ResourceExhaustedError, match=r"concat: out of WebAssembly memory allocating"):
        for _ in range(MEMORY_LIMIT // chunk + 1):
            held.append(be._alloc(chunk, "concat"))  # untouched pages: cheap
    assert len(held) == MEMORY_LIMIT // chunk - 1 or len(held) == MEMORY_LIMIT // chunk
    for p in held:
        be._release(p)
    be._flush()
    again = be._alloc(chunk, "concat")  # the freed space is found again
    be._release(again)
    assert values(be, be.binary("add", f32(be, [1.0]), f32(be, [2.0]))) == [3.0]


def test_freed_tensors_return_their_memory(be):
    gc.collect()
    before = be.memory_stats()["bytes_in_use"]
    x = f32(be, [float(i) for i in range(10_000)])
    y = be.unary("exp", x)
    v = be.reshape(y, (100, 100))  # a view keeps its base alive
    del y
    assert be.memory_stats()["bytes_in_use"] >= before + 2 * 40_000
    del x, v
    assert be.memory_stats()["bytes_in_use"] == before


def test_a_training_like_loop_does_not_grow_the_heap(be):
    def step(w):
        x = be.random("normal", (64, 32), D.float32, (1, 2))
        h = be.binary("maximum", be.matmul(x, w, False, False), be.full((), 0.0, D.float32))
        g = be.matmul(x, h, True, False)
        return be.binary("sub", w, be.binary("mul", g, be.full((), 1e-3, D.float32)))

    w = be.random("normal", (32, 32), D.float32, (3, 4))
    for _ in range(100):
        w = step(w)
    heap = be.memory_stats()["heap_bytes"]
    for _ in range(300):  # a leak would add ~36 KiB a step; reuse keeps the extent flat
        w = step(w)
    assert be.memory_stats()["heap_bytes"] <= heap + 320 * 1024


def test_threads_get_correct_answers(be):
    """Ops write a params block and then call a kernel; concurrent threads must not mix them."""
    import threading

    np = pytest.importorskip("numpy")
    failures = []

    def put(a):
        a = np.ascontiguousarray(a, np.float32)
        return be.write(memoryview(a.reshape(-1)).cast("B"), a.shape, D.float32)

    def got(h):
        return np.frombuffer(be.read(h), np.float32).reshape(h.shape)

    def work(seed, shape_a, shape_b):
        r = np.random.default_rng(seed)
        try:
            for _ in range(150):
                a, b = r.normal(size=shape_a).astype(np.float32), r.normal(size=shape_b).astype(np.float32)
                a2, b2 = a.reshape(-1, shape_a[-1]), r.normal(size=(shape_a[-1], 3)).astype(np.float32)
                s = got(be.binary("add", put(a), put(b)))
                m = got(be.matmul(put(a2), put(b2), False, False))
                if not (np.allclose(s, a + b) and np.allclose(m, a2 @ b2, rtol=1e-4, atol=1e-4)):
                    failures.append(f"seed {seed}: wrong answer")
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append(f"seed {seed}: {e!r}")

    threads = [
        threading.Thread(target=work, args=(i, sa, sb))
        for i, (sa, sb) in enumerate([((3, 1, 4), (5, 4)), ((2, 6), (6,)), ((4, 1), (1, 4)), ((5, 2, 3), (2, 3))])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
