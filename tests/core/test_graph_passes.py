"""Graph passes (function/passes.py): CSE, constant folding, elementwise and matmul-epilogue
fusion, the portable fallback, and the kernel counters they are observed with. Runs on
the default backend (--backend=numpy|wasm|gpu); expected values are by hand (math)."""

import math
import struct

import pytest

import webtensor as tf
from webtensor import backends

count = tf.config.experimental.get_kernel_count
reset = tf.config.experimental.reset_kernel_count


def optimized(f, *args):
    return f.get_concrete_function(*args).graph.as_dict(optimized=True)["nodes"]


def compute_nodes(nodes):
    return [n for n in nodes if n["type"] not in ("placeholder", "constant", "full", "arange")]


def ops(node):
    return [ins[1] for ins in node["attrs"]["program"] if ins[0] != "load"]


def close(a, b, tol=1e-6):
    return all(abs(x - y) <= tol * max(1.0, abs(y)) for x, y in zip(a, b))


def test_kernel_count_counts_one_per_primitive_and_resets():
    x = tf.constant([0.5, 1.0, 2.0, 4.0])
    reset()
    assert count() == 0
    tf.exp(x)
    assert count() == 1
    tf.exp(x) * x
    assert count() == 3
    reset()
    assert count() == 0
    with pytest.raises(ValueError):
        tf.config.experimental.get_kernel_count("/TPU:0")


def test_elementwise_chain_is_one_fused_kernel():
    @tf.function
    def f(x, y):
        return tf.exp(x * y + 1.0)

    x, y = tf.constant([0.0, 1.0, -1.0, 0.5]), tf.constant([2.0, 0.5, 1.0, -2.0])
    (node,) = compute_nodes(optimized(f, x, y))
    assert node["type"] == "fused" and ops(node) == ["mul", "add", "exp"]
    f(x, y)
    reset()
    got = f(x, y).numpy().tolist()
    assert count() == 1  # eagerly: mul, add, exp = 3
    assert close(got, [math.exp(a * b + 1) for a, b in zip([0.0, 1.0, -1.0, 0.5], [2.0, 0.5, 1.0, -2.0])])
    one = tf.constant(1.0)
    reset()
    tf.exp(x * y + one)
    assert count() == 3


def test_broadcast_where_cast_reshape_fuse_and_match_hand_values():
    @tf.function
    def f(a, b):
        s = tf.reshape(a, (3, 1)) - b  # [3,1] - [4] -> [3,4]
        m = tf.where(s > 0.0, s, -0.5 * s)  # comparison, where
        return tf.cast(m * 4.0, tf.int32)  # cast toward zero

    a, b = tf.constant([1.0, 2.0, 3.0]), tf.constant([0.0, 1.5, 2.5, 4.0])
    first, rest = compute_nodes(optimized(f, a, b))  # s has three readers: it is kept
    assert first["type"] == rest["type"] == "fused"
    assert ops(first) == ["sub"] and [i[4][1] for i in first["attrs"]["program"][:2]] == [(3, 1), (4,)]
    assert ops(rest) == ["greater", "mul", None, "mul", "int32"]
    want = []
    for p in (1.0, 2.0, 3.0):
        row = []
        for q in (0.0, 1.5, 2.5, 4.0):
            s = p - q
            row.append(int((s if s > 0 else -0.5 * s) * 4.0))
        want.append(row)
    assert f(a, b).numpy().tolist() == want


def test_integer_and_float64_programs():
    @tf.function
    def g(x, y):
        return (x // y) * 3 + x % y

    x, y = tf.constant([7, -7, 9, 1]), tf.constant([2, 2, -4, 5])
    assert g(x, y).numpy().tolist() == [(a // b) * 3 + a % b for a, b in zip([7, -7, 9, 1], [2, 2, -4, 5])]

    @tf.function
    def h(x):
        return tf.sqrt(x * x + 1.0) - x

    v = tf.constant([0.0, 3.0, -2.0], dtype=tf.float64)
    assert close(h(v).numpy().tolist(), [math.sqrt(t * t + 1) - t for t in (0.0, 3.0, -2.0)], 1e-12)


def test_cse_merges_equal_nodes():
    @tf.function
    def f(x):
        return tf.exp(x) + tf.exp(x)

    x = tf.constant([0.0, 1.0])
    (node,) = compute_nodes(optimized(f, x))
    assert ops(node) == ["exp", "add"]
    assert close(f(x).numpy().tolist(), [2.0, 2 * math.e])


def test_constant_folding():
    @tf.function
    def f(x):
        return x * (tf.constant(2.0) * tf.constant(3.0))

    x = tf.constant([1.0, -1.5])
    nodes = optimized(f, x)
    (node,) = compute_nodes(nodes)
    assert node["type"] == "binary"  # 2 * 3 folded: one multiply is left
    consts = [n for n in nodes if n["type"] == "constant"]
    assert [bytes.fromhex(n["attrs"]["value"]) for n in consts] == [struct.pack("<f", 6.0)]
    assert f(x).numpy().tolist() == [6.0, -9.0]


def test_matmul_epilogue_is_one_kernel():
    @tf.function
    def dense(x, w, b):
        return tf.nn.relu(tf.matmul(x, w) + b)

    x = tf.constant([[1.0, 2.0], [-1.0, 0.5]])
    w = tf.constant([[0.5, -1.0, 2.0], [1.0, 0.25, -0.5]])
    b = tf.constant([0.1, 0.2, -3.0])
    (node,) = compute_nodes(optimized(dense, x, w, b))
    assert node["type"] == "fused" and node["attrs"]["anchor"] == ("matmul", False, False)
    assert len(node["inputs"]) == 4  # x, w, then the program's b and the 0 of relu
    dense(x, w, b)
    reset()
    got = dense(x, w, b).numpy().tolist()
    assert count() == 1  # eagerly: matmul, add, maximum = 3
    xs, ws, bs = [[1.0, 2.0], [-1.0, 0.5]], [[0.5, -1.0, 2.0], [1.0, 0.25, -0.5]], [0.1, 0.2, -3.0]
    want = [[max(0.0, sum(xs[i][k] * ws[k][j] for k in range(2)) + bs[j]) for j in range(3)] for i in range(2)]
    for r, wr in zip(got, want):
        assert close(r, wr)


class NoFusion:
    """The default backend without its fused kernels (a backend that never had them)."""

    def __init__(self, be):
        self._be = be
        self.fused = be.fused - {"elementwise", "matmul_epilogue", "elementwise_many", "elementwise_into"}

    def __getattr__(self, name):
        return getattr(self._be, name)


def test_fallback_runs_the_program_as_primitives():
    """A backend without the fused kernels runs each fused node op by op: same values."""
    from webtensor.function.graph import Program
    from webtensor.tensor import wrap

    def f(a, b, w):
        c = tf.where(tf.reshape(a, (2, 1)) > b, tf.sigmoid(b), tf.cast(a[0] > 0.0, tf.float32) * b)
        return tf.nn.relu(tf.matmul(c, w) - 0.5), tf.exp(a) * 2.0, tf.tanh(b) + 1.0

    a, b, w = tf.constant([0.25, 3.0]), tf.constant([0.0, 1.0, 2.0]), tf.constant([[1.0], [-1.0], [0.5]])
    cf = tf.function(f).get_concrete_function(a, b, w)
    be = backends.default()
    fused, plain = Program(cf.graph, be), Program(cf.graph, NoFusion(be))
    assert any(n.type == "fused" for n in fused.nodes)
    assert any("programs" in n.attrs for n in fused.nodes)
    args = [t._h for t in (a, b, w)]
    reset()
    h1 = fused.run(args)
    n_fused = count()
    reset()
    h2 = plain.run(args)
    n_plain = count()
    want = [t.numpy().tolist() for t in f(a, b, w)]
    for x1, x2, wv in zip(h1, h2, want):
        g1, g2 = (wrap(h, tf.float32, be).numpy().tolist() for h in (x1, x2))
        assert (
            all(close(r1, r2) and close(r1, q) for r1, r2, q in zip(g1, g2, wv))
            if isinstance(wv[0], list)
            else close(g1, g2) and close(g1, wv)
        )
    assert n_fused < n_plain


def test_in_place_reuse_keeps_values():
    """Temporaries are reused once dead (numpy: in place): an operand read twice, and a
    where whose branches are both temporaries, still give the hand values."""

    @tf.function
    def f(x):
        y = tf.exp(x) + 1.0
        z = tf.where(x > 0.0, tf.sin(x), tf.exp(-x) * 2.0)
        return y * y - z

    xs = [-1.0, 0.0, 0.5, 2.0]
    (node,) = compute_nodes(optimized(f, tf.constant(xs)))
    assert node["type"] == "fused"
    want = [(math.exp(t) + 1) ** 2 - (math.sin(t) if t > 0 else 2 * math.exp(-t)) for t in xs]
    assert close(f(tf.constant(xs)).numpy().tolist(), want)


def _flat(v):
    if isinstance(v, list):
        for e in v:
            yield from _flat(e)
    else:
        yield v


@pytest.mark.parametrize("trial", range(30))
def test_random_elementwise_graphs_match_eager(trial):
    """Random chains of unary/binary/where/cast ops over broadcasting inputs: the fused
    replay equals the unfused eager ops (to float32 rounding: a GPU compiler may fuse a
    multiply-add)."""
    import random

    unary = [
        tf.exp,
        tf.tanh,
        tf.sigmoid,
        tf.abs,
        tf.square,
        tf.negative,
        tf.sin,
        tf.floor,
        lambda x: tf.sqrt(tf.abs(x)),
    ]
    binary = [tf.add, tf.subtract, tf.multiply, tf.maximum, tf.minimum, lambda a, b: a / (tf.abs(b) + 1.0)]
    rnd = random.Random(trial)
    out = rnd.choice([(3, 4), (2, 3, 4)])
    shapes = [out] + [
        s
        for s in rnd.sample([(3, 4), (4,), (3, 1), (1, 4), (), (2, 3, 4), (2, 1, 4)], 3)
        if len(s) <= len(out) and all(a in (1, b) for a, b in zip(s[::-1], out[::-1]))
    ]
    tf.random.set_seed(trial)
    args = [tf.random.normal(s) for s in shapes]

    def f(*xs):
        r = random.Random(trial)
        vals = list(xs)
        for _ in range(r.randint(2, 8)):
            u = r.random()
            if u < 0.35:
                vals.append(r.choice(unary)(r.choice(vals)))
            elif u < 0.8:
                vals.append(r.choice(binary)(r.choice(vals), r.choice(vals)))
            elif u < 0.9:
                a, b = r.choice(vals), r.choice(vals)
                vals.append(tf.where(a > b, a, b * 2.0))
            else:
                vals.append(tf.cast(tf.cast(r.choice(vals) * 3.0, tf.int32), tf.float32))
        return vals[-1] + tf.zeros(out), vals[-2]

    want = [t.numpy().tolist() for t in f(*args)]
    got = [t.numpy().tolist() for t in tf.function(f, autograph=False)(*args)]
    for w, g in zip(want, got):
        for a, b in zip(_flat(w), _flat(g)):
            assert a == b or (a != a and b != b) or abs(a - b) <= 1e-5 * max(1.0, abs(a)), (trial, a, b)


def test_independent_elementwise_nodes_share_one_kernel():
    @tf.function
    def f(x, y):
        return tf.exp(x) * 2.0, tf.tanh(y) + 1.0

    x, y = tf.constant([0.0, 1.0]), tf.constant([0.5, -0.5, 2.0])
    (node,) = compute_nodes(optimized(f, x, y))
    assert node["type"] == "fused" and [ops({"attrs": {"program": p}}) for p in node["attrs"]["programs"]] == [
        ["exp", "mul"],
        ["tanh", "add"],
    ]
    f(x, y)
    reset()
    a, b = f(x, y)
    assert count() == 1
    assert close(a.numpy().tolist(), [2.0, 2 * math.e])
    assert close(b.numpy().tolist(), [math.tanh(t) + 1 for t in (0.5, -0.5, 2.0)])


def test_deferred_updates_keep_variable_order():
    """Elementwise updates wait to be merged, and so do their assignments, but never past
    a read of the same variable."""
    v, w = tf.Variable([1.0, 2.0]), tf.Variable([10.0])

    @tf.function
    def f(x):
        v.assign(v * 2.0)
        w.assign(w - x)
        seen = v + 1.0  # reads v after its assignment
        v.assign(v * 3.0)
        return seen

    assert f(tf.constant([1.0])).numpy().tolist() == [3.0, 5.0]
    assert v.numpy().tolist() == [6.0, 12.0] and w.numpy().tolist() == [9.0]
    assert f(tf.constant([2.0])).numpy().tolist() == [13.0, 25.0]
    assert v.numpy().tolist() == [36.0, 72.0] and w.numpy().tolist() == [7.0]


def test_dying_input_becomes_the_output_only_when_nothing_else_holds_it(monkeypatch):
    """In-place reuse: a fused node may write into an input that dies there, unless a view
    of it is still alive (then the view must keep its values)."""
    from webtensor.backends import base

    seen = []
    take = base.take_donation

    def probe(box, hs, pos):
        h, sole = take(box, hs, pos)
        seen.append(sole)
        return h, sole

    monkeypatch.setattr(base, "take_donation", probe)

    @tf.function
    def f(x):
        t = tf.reduce_sum(x, axis=1, keepdims=True)  # a fresh buffer that dies in the fused node
        return tf.exp(t * 0.5) + 1.0

    @tf.function
    def g(x):
        t = tf.reduce_sum(x, axis=1, keepdims=True)
        return tf.reshape(t, (-1,)), tf.exp(t * 0.5) + 1.0  # the reshape may view t

    x = tf.constant([[1.0, 2.0], [3.0, -4.0]])
    want = [[math.exp(1.5) + 1], [math.exp(-0.5) + 1]]
    assert close(f(x).numpy().tolist()[0], want[0]) and close(f(x).numpy().tolist()[1], want[1])
    donates = "elementwise_into" in backends.default().fused
    assert seen == ([True, True] if donates else [])
    seen.clear()
    view, y = g(x)
    assert view.numpy().tolist() == [3.0, -1.0]
    assert close([r[0] for r in y.numpy().tolist()], [w[0] for w in want])
    assert all(s is False for s in seen) if donates else seen == []


def test_fusion_respects_the_backend_broadcast_load_limit():
    """On a backend with a limit (wasm: passes.BROADCAST_LOAD_MAX_ELEMENTS) no fused node
    larger than it broadcasts a non-scalar operand: ``relu(x @ w + b)`` with a bias row
    keeps matmul, add and maximum apart, while ``relu(x * y) * 0.5`` (same-shape and scalar
    loads) still fuses. At the limit, and on numpy (no limit), the bias joins the GEMM."""
    from webtensor.function.passes import BROADCAST_LOAD_MAX_ELEMENTS, optimize

    def kinds(g, backend):
        nodes = optimize(g, backend=backend)[0]
        return [(n.type, "anchor" in n.attrs) for n in nodes if n.type not in ("placeholder", "full", "constant")]

    limit = BROADCAST_LOAD_MAX_ELEMENTS["wasm"]
    for rows, joined in ((limit // 64, True), (limit // 64 + 1, False)):
        x, w, b = tf.zeros((rows, 8)), tf.zeros((8, 64)), tf.zeros((64,))
        g = tf.function(lambda x, w, b: tf.nn.relu(x @ w + b)).get_concrete_function(x, w, b).graph
        want = [("fused", True)] if joined else [("matmul", False), ("binary", False), ("binary", False)]
        assert kinds(g, "wasm") == want
        assert kinds(g, "numpy") == [("fused", True)]
        y = tf.zeros((rows, 64))
        g = tf.function(lambda x, y: tf.nn.relu(x * y) * 0.5).get_concrete_function(y, y).graph
        assert kinds(g, "wasm") == [("fused", False)]
