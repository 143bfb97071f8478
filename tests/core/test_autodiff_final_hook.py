"""GradientTape's on_final hook (tf.distribute starts bucket all-reduces from it): each source's
gradient is reported once, as soon as it is final, with the value gradient() returns."""

import pytest

import webtensor as tf


def test_each_source_is_reported_once_when_final_with_the_returned_value():
    """h = w2 (w1 x) + w1 with x = 3, w1 = 2, w2 = 5: dh/dw1 = w2 x + 1 = 16, dh/dw2 = w1 x = 6.
    w1 is read twice; its gradient is final only after its first read (processed last), so w2
    is reported first, w1 next, and the unconnected w3 (None) at the end."""
    w1, w2, w3 = tf.Variable(2.0), tf.Variable(5.0), tf.Variable(7.0)
    x = tf.constant(3.0)
    seen = []
    with tf.GradientTape() as tape:
        h = w2 * (w1 * x) + w1
    tape._on_final = lambda i, g: seen.append((i, None if g is None else float(g)))
    grads = tape.gradient(h, [w1, w2, w3])
    assert [float(g) for g in grads[:2]] == [16.0, 6.0] and grads[2] is None
    assert seen == [(1, 6.0), (0, 16.0), (2, None)]


def test_a_reported_gradient_gets_no_later_contribution():
    """The loss uses w in every layer of a chain; at each report the walk may not have finished,
    yet the reported value must equal the final one (checked against the returned gradients and
    against central differences of the loss)."""
    np = pytest.importorskip("numpy")
    rng = np.random.RandomState(0)
    ws = [tf.Variable(rng.randn(3, 3).astype("float32") * 0.5) for _ in range(3)]
    x = tf.constant(rng.randn(2, 3).astype("float32"))

    def loss_of(values):
        h = x
        for w in values:
            h = tf.tanh(tf.matmul(h, w)) + tf.matmul(h, values[0])  # w0 consumed by every layer
        return tf.reduce_sum(h * h)

    reports = {}
    with tf.GradientTape() as tape:
        loss = loss_of(ws)
    tape._on_final = lambda i, g: reports.setdefault(i, g.numpy().copy())
    grads = tape.gradient(loss, ws)
    assert sorted(reports) == [0, 1, 2]
    for i, g in enumerate(grads):
        np.testing.assert_array_equal(reports[i], g.numpy())
    eps, base = 1e-2, [w.numpy().astype("float64") for w in ws]
    for i in range(3):
        for j, k in ((0, 0), (1, 2)):
            plus, minus = [b.copy() for b in base], [b.copy() for b in base]
            plus[i][j, k] += eps
            minus[i][j, k] -= eps
            fd = (
                float(loss_of([tf.constant(p, "float32") for p in plus]))
                - float(loss_of([tf.constant(m, "float32") for m in minus]))
            ) / (2 * eps)
            assert reports[i][j, k] == pytest.approx(fd, rel=2e-2, abs=2e-3)


def test_without_the_hook_nothing_is_reported_and_jacobian_ignores_it():
    w = tf.Variable([1.0, 2.0])
    calls = []
    with tf.GradientTape(persistent=True) as tape:
        y = w * w
    assert tape.gradient(y, w).numpy().tolist() == [2.0, 4.0]
    tape._on_final = lambda i, g: calls.append(i)
    assert tape.jacobian(y, w).numpy().tolist() == [[2.0, 0.0], [0.0, 4.0]]
    assert calls == []
