"""Convolution and pooling against literal Python loops; gradients by finite differences."""

import pytest

import webtensor as tf
from util import assert_close, check_grad, tolist


def seq(shape, scale=0.1, offset=0.0):
    n = 1
    for d in shape:
        n *= d
    vals = [((i * 7919) % 23 - 11) * scale + offset for i in range(n)]
    return tf.reshape(tf.constant(vals, tf.float64), shape)


def same_pads(n, k, s, d=1):
    o = -(-n // s)
    total = max((o - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def ref_conv2d(x, w, stride, padding, dil=(1, 1)):
    """Literal NHWC x HWIO convolution (grouped when C is a multiple of the filter depth)."""
    n, h, wd, c = len(x), len(x[0]), len(x[0][0]), len(x[0][0][0])
    kh, kw, cg, o = len(w), len(w[0]), len(w[0][0]), len(w[0][0][0])
    og = o // (c // cg)
    if padding == "SAME":
        ph, pw = same_pads(h, kh, stride[0], dil[0]), same_pads(wd, kw, stride[1], dil[1])
    else:
        ph = pw = (0, 0)
    pt, pl = ph[0], pw[0]
    oh = (h + sum(ph) - (kh - 1) * dil[0] - 1) // stride[0] + 1
    ow = (wd + sum(pw) - (kw - 1) * dil[1] - 1) // stride[1] + 1
    out = [[[[0.0] * o for _ in range(ow)] for _ in range(oh)] for _ in range(n)]
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for oc in range(o):
                    g = oc // og
                    acc = 0.0
                    for a in range(kh):
                        for e in range(kw):
                            r, q = i * stride[0] + a * dil[0] - pt, j * stride[1] + e * dil[1] - pl
                            if 0 <= r < h and 0 <= q < wd:
                                for ci in range(cg):
                                    acc += x[b][r][q][g * cg + ci] * w[a][e][ci][oc]
                    out[b][i][j][oc] = acc
    return out


CASES = [  # x shape, w shape, strides, padding, dilations
    ((2, 5, 5, 3), (3, 3, 3, 4), (1, 1), "SAME", (1, 1)),
    ((1, 6, 7, 2), (3, 2, 2, 3), (2, 2), "VALID", (1, 1)),
    ((1, 7, 7, 2), (3, 3, 2, 2), (2, 1), "SAME", (1, 1)),
    ((1, 7, 6, 1), (2, 3, 1, 2), (1, 1), "VALID", (2, 2)),
    ((1, 4, 4, 4), (1, 1, 4, 3), (1, 1), "VALID", (1, 1)),
    ((1, 5, 5, 4), (3, 3, 2, 4), (1, 1), "SAME", (1, 1)),  # grouped: 2 groups
]


@pytest.mark.parametrize("xs,ws,st,pad,dil", CASES)
def test_conv2d_matches_loops(xs, ws, st, pad, dil):
    x, w = seq(xs), seq(ws, 0.05, 0.01)
    got = tf.nn.conv2d(x, w, strides=list(st), padding=pad, dilations=list(dil))
    assert_close(got, ref_conv2d(tolist(x), tolist(w), st, pad, dil), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("xs,ws,st,pad,dil", CASES[:5])
def test_conv2d_gradients(xs, ws, st, pad, dil):
    check_grad(
        lambda x, w: tf.nn.conv2d(x, w, list(st), pad, dilations=list(dil)) ** 2,
        tolist(seq(xs)),
        tolist(seq(ws, 0.05, 0.01)),
        rtol=1e-5,
        atol=1e-7,
    )


def test_conv2d_float32_and_tf_stride_form():
    x, w = tf.cast(seq((1, 4, 4, 1)), tf.float32), tf.cast(seq((2, 2, 1, 1)), tf.float32)
    a = tf.nn.conv2d(x, w, strides=[1, 2, 2, 1], padding="VALID")
    assert a.dtype is tf.float32 and a.shape == (1, 2, 2, 1)
    assert_close(a, ref_conv2d(tolist(x), tolist(w), (2, 2), "VALID"), rtol=1e-5, atol=1e-6)


def test_conv2d_transpose_is_the_input_gradient():
    x, w = seq((1, 4, 4, 2)), seq((3, 3, 2, 3))
    y = tf.nn.conv2d(x, w, 2, "SAME")
    dy = seq(tuple(y.shape), 0.3)
    with tf.GradientTape() as t:
        t.watch(x)
        out = tf.reduce_sum(tf.nn.conv2d(x, w, 2, "SAME") * dy)
    dx = t.gradient(out, x)
    assert_close(tf.nn.conv2d_transpose(dy, w, (1, 4, 4, 2), 2, "SAME"), dx, rtol=1e-10)
    check_grad(
        lambda a, k: tf.nn.conv2d_transpose(a, k, (1, 5, 5, 2), 2, "VALID") ** 2,
        tolist(seq((1, 2, 2, 3))),
        tolist(seq((3, 3, 2, 3), 0.05)),
    )


def test_depthwise_and_conv1d():
    x, w = seq((1, 5, 5, 2)), seq((3, 3, 2, 2), 0.05)
    got = tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME")
    wl = tolist(w)
    w_grouped = [[[[wl[a][e][c][m] for c in range(2) for m in range(2)]] for e in range(3)] for a in range(3)]
    assert_close(got, ref_conv2d(tolist(x), w_grouped, (1, 1), "SAME"), rtol=1e-10)
    check_grad(lambda a, k: tf.nn.depthwise_conv2d(a, k, [1, 2, 2, 1], "VALID"), tolist(x), wl)
    x1, w1 = seq((2, 7, 3)), seq((3, 3, 2), 0.05)
    y1 = tf.nn.conv1d(x1, w1, stride=2, padding="SAME")
    ref = ref_conv2d([[r] for r in tolist(x1)], [tolist(w1)], (1, 2), "SAME")
    assert_close(y1, [r[0] for r in ref], rtol=1e-10)
    check_grad(lambda a, k: tf.nn.conv1d(a, k, 2, "SAME"), tolist(x1), tolist(w1))


def ref_pool(x, k, s, padding, kind):
    n, h, wd, c = len(x), len(x[0]), len(x[0][0]), len(x[0][0][0])
    ph, pw = (same_pads(h, k[0], s[0]), same_pads(wd, k[1], s[1])) if padding == "SAME" else ((0, 0), (0, 0))
    oh, ow = (h + sum(ph) - k[0]) // s[0] + 1, (wd + sum(pw) - k[1]) // s[1] + 1
    out = []
    for b in range(n):
        rows = []
        for i in range(oh):
            cols = []
            for j in range(ow):
                vals = []
                for ch in range(c):
                    win = [
                        x[b][i * s[0] + a - ph[0]][j * s[1] + e - pw[0]][ch]
                        for a in range(k[0])
                        for e in range(k[1])
                        if 0 <= i * s[0] + a - ph[0] < h and 0 <= j * s[1] + e - pw[0] < wd
                    ]
                    vals.append(max(win) if kind == "max" else sum(win) / len(win))
                cols.append(vals)
            rows.append(cols)
        out.append(rows)
    return out


@pytest.mark.parametrize(
    "k,s,pad",
    [((2, 2), (2, 2), "VALID"), ((3, 3), (2, 2), "SAME"), ((3, 2), (1, 2), "SAME"), ((2, 2), (1, 1), "VALID")],
)
def test_pooling_matches_loops_and_gradients(k, s, pad):
    x = seq((2, 5, 6, 2))
    assert_close(tf.nn.max_pool2d(x, list(k), list(s), pad), ref_pool(tolist(x), k, s, pad, "max"))
    assert_close(tf.nn.avg_pool2d(x, list(k), list(s), pad), ref_pool(tolist(x), k, s, pad, "avg"))
    # distinct values so max-pool's gradient is well defined for finite differences
    distinct = tolist(tf.reshape(tf.range(60, dtype=tf.float64) * 0.37 % 5.0, (1, 5, 6, 2)))
    check_grad(lambda a: tf.nn.max_pool2d(a, list(k), list(s), pad) ** 2, distinct)
    check_grad(lambda a: tf.nn.avg_pool2d(a, list(k), list(s), pad) ** 2, tolist(x))


def test_max_pool_tie_routes_to_first():
    x = tf.constant([[[[1.0], [1.0]], [[1.0], [1.0]]]])
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.nn.max_pool2d(x, 2, 2, "VALID")
    assert tolist(t.gradient(y, x)) == [[[[1.0], [0.0]], [[0.0], [0.0]]]]


def test_pool1d():
    x = tf.reshape(tf.range(8, dtype=tf.float32), (1, 8, 1))
    assert tolist(tf.nn.max_pool1d(x, 2, 2, "VALID")) == [[[1.0], [3.0], [5.0], [7.0]]]
    assert tolist(tf.nn.avg_pool1d(x, 4, 4, "VALID")) == [[[1.5], [5.5]]]


def test_conv_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"conv2d: input depth 3"):
        tf.nn.conv2d(tf.zeros((1, 4, 4, 3)), tf.zeros((3, 3, 2, 4)), 1, "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="padding"):
        tf.nn.conv2d(tf.zeros((1, 4, 4, 1)), tf.zeros((3, 3, 1, 1)), 1, "FULL")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[N,H,W,C\]"):
        tf.nn.conv2d(tf.zeros((4, 4, 1)), tf.zeros((3, 3, 1, 1)), 1, "SAME")


def test_second_derivative_through_conv():
    """d/dw of ||d(loss)/dx||^2 needs conv's gradients to be differentiable themselves."""
    x, w = seq((1, 4, 4, 1)), seq((2, 2, 1, 2), 0.2)

    def gnorm(wv):
        xv = tf.constant(tolist(x), wv.dtype)  # on the backend of wv, not x's CPU float64
        with tf.GradientTape() as inner:
            inner.watch(xv)
            loss = tf.reduce_sum(tf.nn.conv2d(xv, wv, 1, "VALID") ** 2)
        return tf.reduce_sum(inner.gradient(loss, xv) ** 2)

    check_grad(gnorm, tolist(w), rtol=1e-5)
