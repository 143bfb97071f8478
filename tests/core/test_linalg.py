"""matmul (batched, transposed, broadcast), tensordot, einsum, norms: vs hand-written loops."""

import math

import pytest

import webtensor as tf
from util import assert_close, check_grad


def mm(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]


def T(a):
    return [list(r) for r in zip(*a)]


A = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
B = [[0.5, -1.0], [2.0, 0.25], [-3.0, 1.5]]


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_transposes(ta, tb):
    a = T(A) if ta else A
    b = T(B) if tb else B
    got = tf.matmul(tf.constant(a), tf.constant(b), transpose_a=ta, transpose_b=tb)
    assert_close(got, mm(A, B))
    check_grad(lambda x, y: tf.matmul(x, y, transpose_a=ta, transpose_b=tb), a, b)


def test_batched_matmul_broadcasts_batch_dims():
    a = [[[1.0, 2.0]], [[3.0, 4.0]]]  # [2, 1, 2]
    b = [[[1.0], [1.0]]]  # [1, 2, 1]
    got = tf.linalg.matmul(tf.constant(a), tf.constant(b))
    assert got.shape == (2, 1, 1)
    assert_close(got, [[[3.0]], [[7.0]]])
    check_grad(tf.matmul, a, b)
    x = tf.reshape(tf.range(24, dtype=tf.float32), (2, 3, 4))
    y = tf.reshape(tf.range(8, dtype=tf.float32), (4, 2))
    z = tf.matmul(x, tf.broadcast_to(y, (2, 4, 2)))
    for i in range(2):
        assert_close(z[i], mm(x[i].numpy().tolist(), y.numpy().tolist()))


def test_matmul_int_and_errors():
    assert tf.matmul(tf.constant([[1, 2]]), tf.constant([[3], [4]])).numpy().tolist() == [[11]]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"inner dims 3 != 4"):
        tf.matmul(tf.zeros((2, 3)), tf.zeros((4, 5)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank >= 2"):
        tf.matmul(tf.zeros((3,)), tf.zeros((3, 2)))


def test_tensordot():
    a = tf.reshape(tf.range(24, dtype=tf.float64), (2, 3, 4))
    b = tf.reshape(tf.range(12, dtype=tf.float64), (4, 3))
    got = tf.tensordot(a, b, axes=[[1, 2], [1, 0]])
    al, bl = a.numpy().tolist(), b.numpy().tolist()
    want = [sum(al[i][j][k] * bl[k][j] for j in range(3) for k in range(4)) for i in range(2)]
    assert_close(got, want)
    assert tf.tensordot(a, b, axes=1).shape == (2, 3, 3)
    check_grad(lambda x, y: tf.tensordot(x, y, axes=1), [[1.0, 2.0], [3.0, 4.0]], [[0.5], [2.0]])


@pytest.mark.parametrize(
    "eq,shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
        ("ij,kj->ik", [(2, 3), (4, 3)]),
        ("i,i->", [(3,), (3,)]),
        ("i,j->ij", [(2,), (3,)]),
        ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 4, 2)]),
        ("ij->ji", [(2, 3)]),
        ("ij->j", [(2, 3)]),
        ("ij,jk", [(2, 3), (3, 2)]),
    ],
)
def test_einsum_matches_loops(eq, shapes):
    vals = [tf.reshape(tf.range(math.prod(s), dtype=tf.float64) * 0.5 - 1.0, s) for s in shapes]
    got = tf.einsum(eq, *vals)
    want = _einsum_ref(eq, [v.numpy().tolist() for v in vals], shapes)
    assert_close(got, want)
    check_grad(lambda *xs: tf.einsum(eq, *xs), *[v.numpy().tolist() for v in vals])


def _einsum_ref(eq, vals, shapes):
    """A literal sum over all label assignments."""
    import itertools

    lhs, out = eq.split("->") if "->" in eq else (eq, None)
    specs = lhs.split(",")
    if out is None:
        letters = "".join(specs)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    size = {c: d for s, sh in zip(specs, shapes) for c, d in zip(s, sh)}
    labels = sorted(size)

    def get(v, idx):
        for i in idx:
            v = v[i]
        return v

    def build(prefix):
        if len(prefix) == len(out):
            fixed = dict(zip(out, prefix))
            free = [c for c in labels if c not in fixed]
            total = 0.0
            for combo in itertools.product(*[range(size[c]) for c in free]):
                env = dict(fixed, **dict(zip(free, combo)))
                p = 1.0
                for v, s in zip(vals, specs):
                    p *= get(v, [env[c] for c in s])
                total += p
            return total
        return [build(prefix + [i]) for i in range(size[out[len(prefix)]])]

    return build([])


def test_norms():
    x = tf.constant([[3.0, -4.0], [1.0, 2.0]])
    assert_close(tf.norm(x), math.sqrt(9 + 16 + 1 + 4))
    assert_close(tf.norm(x, axis=1), [5.0, math.sqrt(5.0)])
    assert_close(tf.norm(x, ord=1, axis=1), [7.0, 3.0])
    assert_close(tf.norm(x, ord=math.inf, axis=1), [4.0, 2.0])
    assert_close(tf.norm(x, ord=3, axis=1), [(27 + 64) ** (1 / 3), 9 ** (1 / 3)])
    assert_close(tf.norm(x, ord="fro", axis=[0, 1]), math.sqrt(30))
    assert_close(tf.norm(x, ord=1, axis=[0, 1]), 6.0)  # max column abs sum
    assert_close(tf.norm(x, ord=math.inf, axis=[0, 1]), 7.0)  # max row abs sum
    check_grad(lambda v: tf.norm(v, axis=1), [[3.0, -4.0], [1.0, 2.0]])


def test_clip_by_norm_and_global_norm():
    t = tf.constant([3.0, 4.0])
    assert_close(tf.clip_by_norm(t, 1.0), [0.6, 0.8])
    clipped, g = tf.clip_by_global_norm([t, tf.constant([12.0])], 6.5)
    assert_close(g, 13.0)
    assert_close(clipped[1], [6.0])
