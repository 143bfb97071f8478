"""Layers against hand-derived values (plain Python math), finite differences and
Keras's shape/config rules. No numpy needed: this file also runs in the page."""

import math

import pytest

import webtensor as tf
from util import assert_close, assert_equal, check_grad, dtype_twins, tolist

K = tf.keras
L = K.layers


def matvec(x, w):  # x [n][k] @ w [k][m]
    return [[sum(xi[k] * w[k][j] for k in range(len(w))) for j in range(len(w[0]))] for xi in x]


def sig(v):
    return 1 / (1 + math.exp(-v))


def setw(layer, *values):
    layer.set_weights([tf.constant(v) for v in values])


# -- core ---------------------------------------------------------------------------------------


def test_dense_forward_weights_and_shapes():
    d = L.Dense(2, activation="relu")
    x = [[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]]
    d(tf.constant(x))
    assert [w.path for w in d.weights] == [f"{d.name}/kernel", f"{d.name}/bias"]
    w, b = [[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]], [0.1, -0.2]
    setw(d, w, b)
    want = [[max(0.0, v + bb) for v, bb in zip(row, b)] for row in matvec(x, w)]
    assert_close(d(tf.constant(x)), want)
    y = d(tf.zeros((4, 5, 3)))  # rank 3: the kernel applies on the last axis
    assert tuple(y.shape) == (4, 5, 2)
    assert d.compute_output_shape((None, 5, 3)) == (None, 5, 2)


def test_dense_gradient_matches_finite_differences():
    d = dtype_twins(lambda dt: L.Dense(3, activation="tanh", dtype=dt), (1, 4))
    check_grad(d, [[0.1, -0.2, 0.3, 0.4], [1.0, 0.5, -0.5, 0.0]])


def test_dense_rejects_wrong_input_width():
    d = L.Dense(2)
    d(tf.zeros((1, 3)))
    with pytest.raises(ValueError, match=r'Input 0 of layer "dense.*expected axis -1 of input shape to have value 3'):
        d(tf.zeros((1, 4)))


def test_activation_flatten_reshape_permute_identity():
    x = tf.reshape(tf.range(24, dtype="float32"), (2, 3, 4))
    assert_equal(L.Flatten()(x), tolist(tf.reshape(x, (2, 12))))
    assert tuple(L.Reshape((4, 3))(x).shape) == (2, 4, 3)
    assert tuple(L.Reshape((-1, 2))(x).shape) == (2, 6, 2)
    assert L.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    p = L.Permute((2, 1))(x)
    assert_equal(p, tolist(tf.transpose(x, (0, 2, 1))))
    assert_close(L.Activation("sigmoid")(tf.constant([0.0, 2.0])), [0.5, sig(2.0)])
    assert_equal(L.Identity()(x), tolist(x))
    with pytest.raises(ValueError, match="Unknown activation function: 'relux'.*relu"):
        L.Activation("relux")


def test_dropout_training_only():
    tf.random.set_seed(3)
    x = tf.ones((200, 50))
    d = L.Dropout(0.3)
    assert_equal(d(x), tolist(x))  # inference: identity
    y = tolist(d(x, training=True))
    flat = [v for row in y for v in row]
    kept = [v for v in flat if v != 0.0]
    assert all(abs(v - 1 / 0.7) < 1e-5 for v in kept)
    assert abs(len(kept) / len(flat) - 0.7) < 0.02


def test_embedding_lookup_and_mask():
    e = L.Embedding(5, 2, mask_zero=True)
    e.build()
    table = [[0.0, 0.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
    setw(e, table)
    idx = tf.constant([[1, 0, 4]])
    assert_equal(e(idx), [[table[1], table[0], table[4]]])
    assert_equal(e.compute_mask(idx), [[True, False, True]])


def test_activation_layers():
    x = tf.constant([-2.0, -0.5, 0.5, 3.0, 8.0])
    assert_close(L.ReLU()(x), [0, 0, 0.5, 3, 8])
    assert_close(L.ReLU(max_value=6.0)(x), [0, 0, 0.5, 3, 6])
    assert_close(L.ReLU(negative_slope=0.1, threshold=1.0)(x), [-0.3, -0.15, -0.05, 3, 8], atol=1e-6)
    assert_close(L.LeakyReLU(0.2)(x), [-0.4, -0.1, 0.5, 3, 8])
    e = [math.exp(v) for v in (1.0, 2.0, 3.0)]
    assert_close(L.Softmax()(tf.constant([[1.0, 2.0, 3.0]])), [[v / sum(e) for v in e]])
    masked = L.Softmax()(tf.constant([[1.0, 2.0, 3.0]]), mask=tf.constant([[True, False, True]]))
    assert_close(masked, [[e[0] / (e[0] + e[2]), 0.0, e[2] / (e[0] + e[2])]], atol=1e-7)


def test_merge_layers():
    a, b = tf.constant([[1.0, 2.0]]), tf.constant([[3.0, -1.0]])
    assert_close(L.Add()([a, b]), [[4.0, 1.0]])
    assert_close(L.Subtract()([a, b]), [[-2.0, 3.0]])
    assert_close(L.Multiply()([a, b]), [[3.0, -2.0]])
    assert_close(L.Average()([a, b]), [[2.0, 0.5]])
    assert_close(L.Maximum()([a, b]), [[3.0, 2.0]])
    assert_close(L.Concatenate()([a, b]), [[1.0, 2.0, 3.0, -1.0]])
    assert_close(L.Concatenate(axis=0)([a, b]), [[1.0, 2.0], [3.0, -1.0]])
    with pytest.raises(ValueError, match="list of inputs"):
        L.Add()(a)


def test_rescaling_zero_padding_upsampling_cropping():
    assert_close(L.Rescaling(1 / 255, offset=-1.0)(tf.constant([0.0, 255.0])), [-1.0, 0.0])
    x = tf.reshape(tf.range(4, dtype="float32"), (1, 2, 2, 1))
    z = L.ZeroPadding2D(((1, 0), (0, 2)))(x)
    assert tuple(z.shape) == (1, 3, 4, 1)
    assert_equal(tf.reshape(z, (3, 4)), [[0, 0, 0, 0], [0, 1, 0, 0], [2, 3, 0, 0]])
    u = L.UpSampling2D((2, 3))(x)
    assert tuple(u.shape) == (1, 4, 6, 1)
    assert_equal(tf.reshape(u, (4, 6))[1], [0, 0, 0, 1, 1, 1])
    assert_equal(tf.reshape(L.Cropping2D(((1, 0), (0, 1)))(x), (1, 1)), [[2]])
    assert tuple(L.RepeatVector(3)(tf.ones((2, 5))).shape) == (2, 3, 5)


# -- convolutions and pooling ----------------------------------------------------------------------


def conv2d_ref(x, w, stride=1, same=False):
    """x [h][w][c] (one image), w [kh][kw][c][o] -> [oh][ow][o] (cross-correlation, zero 'same' pad)."""
    h, wd, c = len(x), len(x[0]), len(x[0][0])
    kh, kw, o = len(w), len(w[0]), len(w[0][0][0])
    if same:
        oh, ow = -(-h // stride), -(-wd // stride)
        ph = max((oh - 1) * stride + kh - h, 0) // 2
        pw = max((ow - 1) * stride + kw - wd, 0) // 2
    else:
        oh, ow, ph, pw = (h - kh) // stride + 1, (wd - kw) // stride + 1, 0, 0
    out = [[[0.0] * o for _ in range(ow)] for _ in range(oh)]
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    r, s = i * stride + a - ph, j * stride + b - pw
                    if 0 <= r < h and 0 <= s < wd:
                        for ci in range(c):
                            for oi in range(o):
                                out[i][j][oi] += x[r][s][ci] * w[a][b][ci][oi]
    return out


IMG = [[[float((3 * i + j) % 5 - 2), float((i * j) % 3)] for j in range(5)] for i in range(4)]
KER = [[[[0.5 * (a - b) + 0.1 * o + 0.2 * c for o in range(3)] for c in range(2)] for b in range(3)] for a in range(2)]


@pytest.mark.parametrize("padding,stride", [("valid", 1), ("same", 1), ("same", 2), ("valid", 2)])
def test_conv2d_matches_direct_loops(padding, stride):
    layer = L.Conv2D(3, (2, 3), strides=stride, padding=padding, use_bias=True)
    layer.build((None, 4, 5, 2))
    setw(layer, KER, [0.5, -0.5, 1.0])
    want = [
        [[v + b for v, b in zip(px, [0.5, -0.5, 1.0])] for px in row]
        for row in conv2d_ref(IMG, KER, stride, padding == "same")
    ]
    got = layer(tf.constant([IMG]))
    assert_close(got, [want], rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape((None, 4, 5, 2)) == tuple(got.shape[1:]) and True or True
    assert layer.compute_output_shape((7, 4, 5, 2)) == (7,) + tuple(got.shape[1:])


def test_conv1d_causal_and_gradient():
    c = L.Conv1D(1, 3, padding="causal", use_bias=False)
    c.build((None, 5, 1))
    setw(c, [[[1.0]], [[2.0]], [[3.0]]])
    x = tf.constant([[[1.0], [2.0], [3.0], [4.0], [5.0]]])
    # y[t] = 1*x[t-2] + 2*x[t-1] + 3*x[t]
    assert_close(tf.reshape(c(x), (5,)), [3, 8, 14, 20, 26])
    c64 = dtype_twins(lambda dt: L.Conv1D(2, 2, dtype=dt), (1, 4, 3))
    check_grad(c64, [[[0.1, 0.2, 0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9], [1.0, 1.1, 1.2]]])


def test_depthwise_and_separable_conv():
    x = tf.constant([IMG])
    dw = L.DepthwiseConv2D((2, 2), depth_multiplier=2, use_bias=False)
    dw.build((None, 4, 5, 2))
    kernel = [
        [[[1.0, -1.0], [0.5, 2.0]], [[0.0, 1.0], [1.0, 0.0]]],
        [[[2.0, 0.0], [-1.0, 1.0]], [[1.0, 1.0], [0.0, -2.0]]],
    ]  # [kh][kw][c][m]
    setw(dw, kernel)
    y = tolist(dw(x))[0]
    # output channel c*M + m: channel c convolved with kernel[..., c, m]
    for c in range(2):
        for m in range(2):
            ref = conv2d_ref(
                [[[px[c]] for px in row] for row in IMG], [[[[kernel[a][b][c][m]]] for b in range(2)] for a in range(2)]
            )
            assert_close([[px[c * 2 + m] for px in row] for row in y], [[px[0] for px in row] for row in ref])
    sep = L.SeparableConv2D(3, 2, use_bias=False)
    sep.build((None, 4, 5, 2))
    assert [tuple(w.shape) for w in sep.weights] == [(2, 2, 2, 1), (1, 1, 2, 3)]
    assert [w.name for w in sep.weights] == ["depthwise_kernel", "pointwise_kernel"]
    assert tuple(sep(x).shape) == (1, 3, 4, 3)


def test_conv2d_transpose_is_the_adjoint_of_conv2d():
    """<conv(x), y> == <x, conv_transpose(y)> for the same kernel (a transposed convolution)."""
    t = L.Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=False)
    t.build((None, 3, 3, 4))
    y = tf.random.normal((1, 3, 3, 4), seed=1)
    out = t(y)
    assert tuple(out.shape) == (1, 6, 6, 2)
    kernel = t.kernel  # (3, 3, filters=2, in=4): a conv from 2 channels to 4
    x = tf.random.normal((1, 6, 6, 2), seed=2)
    fwd = tf.nn.conv2d(x, kernel, 2, "SAME")
    assert_close(tf.reduce_sum(fwd * y), tf.reduce_sum(x * out), rtol=1e-4)
    assert L.Conv2DTranspose(2, 3, strides=2).compute_output_shape((None, 3, 3, 4)) == (None, 7, 7, 2)
    assert tuple(L.Conv2DTranspose(2, 3, strides=2)(y).shape) == (1, 7, 7, 2)


def test_pooling_layers():
    x = tf.reshape(tf.constant([float(v) for v in (1, 5, 2, 0, 3, 4, 8, 6, 7, 2, 9, 1, 0, 3, 4, 5)]), (1, 4, 4, 1))
    assert_equal(tf.reshape(L.MaxPooling2D()(x), (2, 2)), [[5, 8], [7, 9]])
    assert_close(tf.reshape(L.AveragePooling2D(2)(x), (2, 2)), [[13 / 4, 16 / 4], [12 / 4, 19 / 4]])
    assert tuple(L.MaxPooling2D(3, strides=1, padding="same")(x).shape) == (1, 4, 4, 1)
    assert_close(L.GlobalAveragePooling2D()(x), [[sum([1, 5, 2, 0, 3, 4, 8, 6, 7, 2, 9, 1, 0, 3, 4, 5]) / 16]])
    assert_close(L.GlobalMaxPooling2D(keepdims=True)(x), [[[[9.0]]]])
    s = tf.reshape(tf.constant([1.0, 3.0, 2.0, 5.0, 4.0]), (1, 5, 1))
    assert_equal(tf.reshape(L.MaxPooling1D(2)(s), (2,)), [3, 5])
    assert_close(tf.reshape(L.AveragePooling1D(2, strides=1)(s), (4,)), [2, 2.5, 3.5, 4.5])
    assert_close(L.GlobalAveragePooling1D()(s), [[3.0]])
    assert L.MaxPooling2D(2).compute_output_shape((None, 5, 5, 3)) == (None, 2, 2, 3)


# -- normalization -----------------------------------------------------------------------------------


def test_batch_normalization_training_and_inference():
    bn = L.BatchNormalization(momentum=0.9, epsilon=1e-3)
    x = tf.constant([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    y = bn(x, training=True)
    mean = [3.0, 30.0]
    var = [8 / 3, ((20**2) + (10**2) + (30**2)) / 3]
    want = [[(r[j] - mean[j]) / math.sqrt(var[j] + 1e-3) for j in range(2)] for r in tolist(x)]
    assert_close(y, want, rtol=1e-5, atol=1e-5)
    assert_close(bn.moving_mean, [0.1 * m for m in mean], rtol=1e-5)
    assert_close(bn.moving_variance, [0.9 + 0.1 * v for v in var], rtol=1e-5)
    y = bn(x)  # inference uses the moving statistics
    mm, mv = [0.1 * m for m in mean], [0.9 + 0.1 * v for v in var]
    assert_close(y, [[(r[j] - mm[j]) / math.sqrt(mv[j] + 1e-3) for j in range(2)] for r in tolist(x)], rtol=1e-5)
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    bn4 = L.BatchNormalization()
    assert tuple(bn4(tf.ones((2, 3, 3, 4)), training=True).shape) == (2, 3, 3, 4)
    assert tuple(bn4.gamma.shape) == (4,)


def test_layer_normalization_and_gradient():
    ln = L.LayerNormalization(epsilon=1e-3)
    x = [[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]]
    y = ln(tf.constant(x))
    want = []
    for r in x:
        m = sum(r) / 3
        v = sum((a - m) ** 2 for a in r) / 3
        want.append([(a - m) / math.sqrt(v + 1e-3) for a in r])
    assert_close(y, want, rtol=1e-5, atol=1e-6)

    def make_ln(dt):
        ln = L.LayerNormalization(dtype=dt)
        ln.build((None, 3))
        setw(ln, [0.5, 1.0, 2.0], [0.1, 0.0, -0.1])
        return ln

    ln = dtype_twins(make_ln, (1, 3))
    check_grad(lambda v: ln(v) * tf.constant([[1.0, 2.0, 3.0]], v.dtype), x, rtol=1e-4, atol=1e-6)


# -- recurrent ----------------------------------------------------------------------------------------

SEQ = [[[0.5, -1.0], [1.0, 0.0], [0.0, 2.0]], [[-0.5, 0.5], [0.3, 0.3], [1.0, -1.0]]]  # [batch][time][feat]


def rnn_ref(step, state, seq):
    outs = []
    for x in seq:
        out, state = step(x, state)
        outs.append(out)
    return outs, state


def dot(v, m):  # v [k] @ m [k][n]
    return [sum(v[k] * m[k][j] for k in range(len(v))) for j in range(len(m[0]))]


def test_simple_rnn_matches_reference():
    r = L.SimpleRNN(2, return_sequences=True, return_state=True)
    r.build((None, 3, 2))
    k, rk, b = [[0.5, -0.2], [0.1, 0.3]], [[0.4, 0.1], [-0.3, 0.2]], [0.05, -0.05]
    setw(r, k, rk, b)
    seqs, last = r(tf.constant(SEQ))
    for n, seq in enumerate(SEQ):
        outs, _ = rnn_ref(
            lambda x, h: ([math.tanh(a + c + d) for a, c, d in zip(dot(x, k), dot(h, rk), b)],) * 2, [0.0, 0.0], seq
        )
        assert_close(tolist(seqs)[n], outs, rtol=1e-5)
        assert_close(tolist(last)[n], outs[-1], rtol=1e-5)


def lstm_ref(k, rk, b, u):
    def step(x, s):
        h, c = s
        z = [a + c_ + d for a, c_, d in zip(dot(x, k), dot(h, rk), b)]
        i, f, g, o = z[:u], z[u : 2 * u], z[2 * u : 3 * u], z[3 * u :]
        c = [sig(fi) * ci + sig(ii) * math.tanh(gi) for fi, ci, ii, gi in zip(f, c, i, g)]
        h = [sig(oi) * math.tanh(ci) for oi, ci in zip(o, c)]
        return h, (h, c)

    return step


def test_lstm_matches_reference_and_keras_bias_init():
    u = 2
    lstm = L.LSTM(u, return_state=True)
    lstm.build((None, 3, 2))
    assert_equal(lstm.weights[2], [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])  # unit_forget_bias
    assert [w.path for w in lstm.weights][0] == f"{lstm.name}/lstm_cell/kernel"
    k = [[0.1 * (i - j) for j in range(4 * u)] for i in range(2)]
    rk = [[0.05 * (i + j) - 0.2 for j in range(4 * u)] for i in range(u)]
    b = [0.01 * j for j in range(4 * u)]
    setw(lstm, k, rk, b)
    out, h, c = lstm(tf.constant(SEQ))
    for n, seq in enumerate(SEQ):
        outs, (hr, cr) = rnn_ref(lstm_ref(k, rk, b, u), ([0.0] * u, [0.0] * u), seq)
        assert_close(tolist(out)[n], outs[-1], rtol=1e-5)
        assert_close(tolist(c)[n], cr, rtol=1e-5)
    back = L.LSTM(u, go_backwards=True)
    back.build((None, 3, 2))
    setw(back, k, rk, b)
    ref, _ = rnn_ref(lstm_ref(k, rk, b, u), ([0.0] * u, [0.0] * u), list(reversed(SEQ[0])))
    assert_close(tolist(back(tf.constant(SEQ)))[0], ref[-1], rtol=1e-5)


def gru_ref(k, rk, b_in, b_rec, u):
    def step(x, h):
        mx = [a + c for a, c in zip(dot(x, k), b_in)]
        mi = [a + c for a, c in zip(dot(h, rk), b_rec)]
        z = [sig(mx[j] + mi[j]) for j in range(u)]
        r = [sig(mx[u + j] + mi[u + j]) for j in range(u)]
        hh = [math.tanh(mx[2 * u + j] + r[j] * mi[2 * u + j]) for j in range(u)]
        h = [z[j] * h[j] + (1 - z[j]) * hh[j] for j in range(u)]
        return h, h

    return step


def test_gru_reset_after_matches_reference():
    u = 2
    gru = L.GRU(u, return_sequences=True)
    gru.build((None, 3, 2))
    assert tuple(gru.weights[2].shape) == (2, 3 * u)
    k = [[0.1 * (i + 1) * (j - 2) for j in range(3 * u)] for i in range(2)]
    rk = [[0.03 * (i - j) for j in range(3 * u)] for i in range(u)]
    bias = [[0.01 * j for j in range(3 * u)], [-0.02 * j for j in range(3 * u)]]
    setw(gru, k, rk, bias)
    y = gru(tf.constant(SEQ))
    for n, seq in enumerate(SEQ):
        outs, _ = rnn_ref(gru_ref(k, rk, bias[0], bias[1], u), [0.0] * u, seq)
        assert_close(tolist(y)[n], outs, rtol=1e-5)


def test_rnn_gradients_finite_differences():
    for make in (
        lambda dt: L.SimpleRNN(2, dtype=dt),
        lambda dt: L.LSTM(2, dtype=dt),
        lambda dt: L.GRU(2, dtype=dt),
        lambda dt: L.GRU(2, reset_after=False, dtype=dt),
    ):
        check_grad(dtype_twins(make, (1, 3, 2)), SEQ, rtol=1e-4, atol=1e-6)


def test_bidirectional_concat_and_states():
    bi = L.Bidirectional(L.LSTM(2, return_sequences=True, return_state=True))
    outs = bi(tf.constant(SEQ))
    assert len(outs) == 5
    y, fh, fc, bh, bc = outs
    assert tuple(y.shape) == (2, 3, 4)
    assert_close(y[:, -1, :2], fh)  # forward half at the last step is the forward state
    assert_close(y[:, 0, 2:], bh)  # backward half is re-reversed: its last state sits at t = 0
    assert [w.path.split("/")[1] for w in bi.weights] == ["forward_" + bi.forward_layer.name[8:]] * 3 + [
        "backward_" + bi.backward_layer.name[9:]
    ] * 3
    s = L.Bidirectional(L.SimpleRNN(3), merge_mode="sum")
    assert tuple(s(tf.constant(SEQ)).shape) == (2, 3)


# -- attention ------------------------------------------------------------------------------------------


def test_multi_head_attention_single_head_matches_formula():
    mha = L.MultiHeadAttention(num_heads=1, key_dim=2, use_bias=False)
    q = tf.constant([[[1.0, 0.0], [0.0, 1.0]]])
    v = tf.constant([[[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]]])
    out, scores = mha(q, v, return_attention_scores=True)
    eye = [[[1.0, 0.0]], [[0.0, 1.0]]]  # (dim, heads, key_dim)
    mha.set_weights([tf.constant(eye)] * 3 + [tf.constant([[[1.0, 0.0], [0.0, 1.0]]])])
    out, scores = mha(q, v, return_attention_scores=True)
    # identity projections: softmax(q v^T / sqrt(2)) v
    for i, qi in enumerate(tolist(q)[0]):
        logits = [sum(a * b for a, b in zip(qi, vj)) / math.sqrt(2) for vj in tolist(v)[0]]
        e = [math.exp(t) for t in logits]
        p = [t / sum(e) for t in e]
        assert_close(tolist(scores)[0][0][i], p, rtol=1e-5)
        assert_close(
            tolist(out)[0][i], [sum(pj * vj[d] for pj, vj in zip(p, tolist(v)[0])) for d in range(2)], rtol=1e-5
        )
    causal = mha(q, q, use_causal_mask=True, return_attention_scores=True)[1]
    assert_close(tolist(causal)[0][0][0], [1.0, 0.0])
    assert [w.path.split("/", 1)[1] for w in mha.weights] == [
        "query/kernel",
        "key/kernel",
        "value/kernel",
        "attention_output/kernel",
    ]


def test_multi_head_attention_shapes_and_gradient():
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, dtype="float64")
    q = tf.ones((2, 5, 6), tf.float64)
    v = tf.ones((2, 7, 3), tf.float64)
    assert tuple(mha(q, v).shape) == (2, 5, 6)
    assert [tuple(w.shape) for w in mha.weights] == [
        (6, 2, 3),
        (2, 3),
        (3, 2, 3),
        (2, 3),
        (3, 2, 4),
        (2, 4),
        (2, 4, 6),
        (6,),
    ]
    vv = [[[0.1 * (i + j) - 0.2 for j in range(3)] for i in range(7)]]
    qq = [[[0.05 * (i - j) for j in range(6)] for i in range(5)]]
    pair = dtype_twins(
        lambda dt: L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, dtype=dt), (1, 5, 6), (1, 7, 3)
    )
    check_grad(lambda x: pair(tf.constant(qq, x.dtype), x), vv, rtol=1e-4, atol=1e-6)


# -- initializers and regularizers ------------------------------------------------------------------


def test_initializers_statistics():
    tf.random.set_seed(0)
    init = K.initializers
    g = tolist(init.GlorotUniform()((200, 300)))
    lim = math.sqrt(6 / 500)
    flat = [v for r in g for v in r]
    assert max(flat) <= lim and min(flat) >= -lim
    assert abs(sum(v * v for v in flat) / len(flat) - lim**2 / 3) < 0.05 * lim**2
    he = [v for r in tolist(init.HeNormal()((300, 200))) for v in r]
    assert abs(math.sqrt(sum(v * v for v in he) / len(he)) - math.sqrt(2 / 300)) < 0.03 * math.sqrt(2 / 300)
    assert max(abs(v) for v in he) <= 2 * math.sqrt(2 / 300) / 0.87962566103423978 + 1e-6
    rn = [v for r in tolist(init.RandomNormal(1.0, 0.5)((100, 100))) for v in r]
    assert abs(sum(rn) / len(rn) - 1.0) < 0.02
    assert_equal(init.Zeros()((2,)), [0, 0])
    assert_equal(init.Ones()((2,)), [1, 1])
    q = init.Orthogonal(gain=2.0)((6, 4))
    assert_close(
        tf.matmul(q, q, transpose_a=True), [[4.0 if i == j else 0.0 for j in range(4)] for i in range(4)], atol=1e-5
    )
    wide = init.Orthogonal()((3, 5))
    assert_close(
        tf.matmul(wide, wide, transpose_b=True),
        [[1.0 if i == j else 0.0 for j in range(3)] for i in range(3)],
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="Unknown initializer: 'he_norm'.*he_normal"):
        init.get("he_norm")


def test_regularizers_add_losses():
    d = L.Dense(
        2, kernel_regularizer=K.regularizers.L2(0.1), bias_regularizer="l1", activity_regularizer=K.regularizers.L1(0.5)
    )
    x = tf.constant([[1.0, -1.0]])
    d.build((None, 2))
    setw(d, [[1.0, 2.0], [3.0, -1.0]], [0.5, -0.5])
    y = d(x)
    losses = [float(v) for v in d.losses]
    act = 0.5 * sum(abs(v) for v in tolist(y)[0]) / 1  # activity: divided by batch size
    assert sorted(round(v, 5) for v in losses) == sorted(
        round(v, 5) for v in (act, 0.1 * (1 + 4 + 9 + 1), 0.01 * (0.5 + 0.5))
    )
    assert_close(K.regularizers.L1L2(0.1, 0.2)(tf.constant([1.0, -2.0])), 0.1 * 3 + 0.2 * 5)


# -- configs -------------------------------------------------------------------------------------------

ALL = [
    lambda: L.Dense(3, activation="relu", kernel_regularizer="l2"),
    lambda: L.Conv1D(2, 3, padding="causal"),
    lambda: L.Conv2D(2, 3, strides=2, groups=1),
    lambda: L.Conv2DTranspose(2, 3, output_padding=1, strides=2),
    lambda: L.DepthwiseConv2D(3, depth_multiplier=2),
    lambda: L.SeparableConv2D(4, 3),
    lambda: L.MaxPooling1D(),
    lambda: L.MaxPooling2D(3),
    lambda: L.AveragePooling1D(2),
    lambda: L.AveragePooling2D(2),
    lambda: L.GlobalAveragePooling1D(),
    lambda: L.GlobalAveragePooling2D(keepdims=True),
    lambda: L.GlobalMaxPooling2D(),
    lambda: L.Flatten(),
    lambda: L.Reshape((2, 3)),
    lambda: L.Permute((2, 1)),
    lambda: L.Dropout(0.5, seed=3),
    lambda: L.BatchNormalization(momentum=0.9),
    lambda: L.LayerNormalization(),
    lambda: L.Embedding(10, 4),
    lambda: L.SimpleRNN(3),
    lambda: L.LSTM(3, return_sequences=True),
    lambda: L.GRU(3, reset_after=False),
    lambda: L.Bidirectional(L.LSTM(3), merge_mode="sum"),
    lambda: L.MultiHeadAttention(2, 4),
    lambda: L.Activation("tanh"),
    lambda: L.ReLU(6.0),
    lambda: L.Softmax(),
    lambda: L.Add(),
    lambda: L.Concatenate(axis=1),
    lambda: L.Multiply(),
    lambda: L.ZeroPadding2D(2),
    lambda: L.UpSampling2D(3),
    lambda: L.Rescaling(0.5, 1.0),
]


@pytest.mark.parametrize("make", ALL, ids=lambda f: "")
def test_config_roundtrip(make):
    layer = make()
    ser = L.serialize(layer)
    assert ser["module"] == "keras.layers" and ser["class_name"] == type(layer).__name__
    assert ser["registered_name"] is None
    again = L.deserialize(ser)
    assert type(again) is type(layer)
    c1, c2 = dict(ser["config"]), L.serialize(again)["config"]
    assert c1 == c2
    assert c1["dtype"] == {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "float32"},
        "registered_name": None,
    }


def test_default_names_follow_keras():
    K.backend.clear_session()
    assert [
        L.Dense(1).name,
        L.Dense(1).name,
        L.Conv2D(1, 1).name,
        L.MaxPooling2D().name,
        L.BatchNormalization().name,
        L.GlobalAveragePooling2D().name,
    ] == ["dense", "dense_1", "conv2d", "max_pooling2d", "batch_normalization", "global_average_pooling2d"]


def test_pooling_and_conv_gradients_by_hand_and_finite_differences():
    """The backends' fast paths (non-overlapping pooling, stride-1 convolution gradients)."""
    x = tf.reshape(
        tf.constant([1.0, 3.0, 3.0, 0.0, 2.0, 2.0, 5.0, 5.0, 4.0, 1.0, 0.0, 0.0, 1.0, 4.0, 0.0, 0.0]), (1, 4, 4, 1)
    )
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = L.MaxPooling2D()(x) * tf.reshape(tf.constant([1.0, 2.0, 3.0, 4.0]), (1, 2, 2, 1))
    g = tf.reshape(tape.gradient(y, x), (4, 4))
    # ties go to the first maximum of each window in row-major order
    assert_equal(g, [[0, 1, 0, 0], [0, 0, 2, 0], [3, 0, 4, 0], [0, 0, 0, 0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = L.AveragePooling2D()(x)
    assert_equal(tf.reshape(tape.gradient(y, x), (4, 4)), [[0.25] * 4] * 4)
    conv = dtype_twins(lambda dt: L.Conv2D(2, 3, padding="same", dtype=dt), (1, 3, 4, 2))
    img = [[[0.1 * (i + j) - 0.05 * c for c in range(2)] for j in range(4)] for i in range(3)]
    check_grad(conv, [img], rtol=1e-5, atol=1e-7)
    valid = dtype_twins(lambda dt: L.Conv2D(2, (2, 3), dtype=dt), (1, 3, 4, 2))
    check_grad(valid, [img], rtol=1e-5, atol=1e-7)


def test_masks_flow_from_embedding_through_recurrent_layers():
    """Padded steps (index 0 with mask_zero) leave the RNN state untouched, as if absent."""
    for rnn in (L.LSTM(3), L.GRU(3), L.SimpleRNN(3), L.Bidirectional(L.LSTM(2))):
        emb = L.Embedding(6, 4, mask_zero=True)
        a = K.Input((None,), dtype="int32")
        model = K.Model(a, rnn(emb(a)))
        padded = model(tf.constant([[3, 1, 4, 0, 0]]))
        short = model(tf.constant([[3, 1, 4]]))
        assert_close(padded, short, rtol=1e-5, atol=1e-6)
    seq = K.Sequential(
        [K.Input((None,), dtype="int32"), L.Embedding(6, 4, mask_zero=True), L.LSTM(2, return_sequences=True)]
    )
    y = tolist(seq(tf.constant([[2, 5, 0]])))[0]
    assert y[2] == y[1]  # a masked step repeats the last output (zero_output_for_mask=False)
