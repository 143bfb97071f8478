"""Optimizers: several steps on a fixed quadratic against the update rules of Keras 3
(keras/src/optimizers/*.py), recomputed here in plain Python floats."""

import math

import pytest

import webtensor as tf
from util import assert_close

K = tf.keras
W0 = [1.0, -2.0, 0.5]
C = [0.3, 0.1, -0.4]
STEPS = 5


def grad(w):
    """f(w) = sum((w - c)^2): g = 2 (w - c)."""
    return [2 * (wi - ci) for wi, ci in zip(w, C)]


def run(opt, steps=STEPS):
    v = tf.Variable(W0)
    out = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(v - tf.constant(C)))
        g = tape.gradient(loss, v)
        opt.apply_gradients([(g, v)])
        out.append(v.numpy().tolist())
    return out


def reference(step_fn, steps=STEPS, **state):
    w = list(W0)
    traj = []
    for t in range(1, steps + 1):
        g = grad(w)
        w = [step_fn(i, wi, gi, t, state) for i, (wi, gi) in enumerate(zip(w, g))]
        traj.append(list(w))
    return traj


def sgd_momentum(lr, mu, nesterov):
    def step(i, w, g, t, s):
        m = s.setdefault("m", [0.0] * 3)
        m[i] = mu * m[i] - lr * g
        return w + (mu * m[i] - lr * g if nesterov else m[i])

    return step


def adam(lr, b1=0.9, b2=0.999, eps=1e-7, wd=None, amsgrad=False):
    def step(i, w, g, t, s):
        if wd is not None:
            w = w - w * wd * lr
        m = s.setdefault("m", [0.0] * 3)
        v = s.setdefault("v", [0.0] * 3)
        vh = s.setdefault("vh", [0.0] * 3)
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        m[i] += (g - m[i]) * (1 - b1)
        v[i] += (g * g - v[i]) * (1 - b2)
        vv = v[i]
        if amsgrad:
            vh[i] = max(vh[i], v[i])
            vv = vh[i]
        return w - m[i] * alpha / (math.sqrt(vv) + eps)

    return step


def rmsprop(lr, rho=0.9, mu=0.0, eps=1e-7, centered=False):
    def step(i, w, g, t, s):
        v = s.setdefault("v", [0.0] * 3)
        m = s.setdefault("m", [0.0] * 3)
        a = s.setdefault("a", [0.0] * 3)
        v[i] = rho * v[i] + (1 - rho) * g * g
        if centered:
            a[i] = rho * a[i] + (1 - rho) * g
            denom = v[i] - a[i] ** 2 + eps
        else:
            denom = v[i] + eps
        inc = lr * g / math.sqrt(denom)
        if mu > 0:
            m[i] = mu * m[i] + inc
            return w - m[i]
        return w - inc

    return step


def adagrad(lr, init=0.1, eps=1e-7):
    def step(i, w, g, t, s):
        acc = s.setdefault("acc", [init] * 3)
        acc[i] += g * g
        return w - lr * g / math.sqrt(acc[i] + eps)

    return step


def adadelta(lr, rho=0.95, eps=1e-7):
    def step(i, w, g, t, s):
        eg = s.setdefault("eg", [0.0] * 3)
        ed = s.setdefault("ed", [0.0] * 3)
        eg[i] = rho * eg[i] + (1 - rho) * g * g
        d = -math.sqrt(ed[i] + eps) / math.sqrt(eg[i] + eps) * g
        ed[i] = rho * ed[i] + (1 - rho) * d * d
        return w + lr * d

    return step


def nadam(lr, b1=0.9, b2=0.999, eps=1e-7):
    def step(i, w, g, t, s):
        if s.get("t") != t:  # u_product advances once per step, before the per-variable updates
            s["t"] = t
            s["u"] = s.get("u", 1.0) * b1 * (1 - 0.5 * 0.96**t)
        m = s.setdefault("m", [0.0] * 3)
        v = s.setdefault("v", [0.0] * 3)
        u_t = b1 * (1 - 0.5 * 0.96**t)
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        up, up1 = s["u"], s["u"] * u_t1
        m[i] += (g - m[i]) * (1 - b1)
        v[i] += (g * g - v[i]) * (1 - b2)
        m_hat = u_t1 * m[i] / (1 - up1) + (1 - u_t) * g / (1 - up)
        v_hat = v[i] / (1 - b2**t)
        return w - m_hat * lr / (math.sqrt(v_hat) + eps)

    return step


CASES = [
    ("sgd", lambda: K.optimizers.SGD(0.1), lambda i, w, g, t, s: w - 0.1 * g),
    ("sgd_momentum", lambda: K.optimizers.SGD(0.1, momentum=0.9), sgd_momentum(0.1, 0.9, False)),
    ("sgd_nesterov", lambda: K.optimizers.SGD(0.1, momentum=0.9, nesterov=True), sgd_momentum(0.1, 0.9, True)),
    ("adam", lambda: K.optimizers.Adam(0.1), adam(0.1)),
    ("adam_amsgrad", lambda: K.optimizers.Adam(0.1, amsgrad=True), adam(0.1, amsgrad=True)),
    ("adamw", lambda: K.optimizers.AdamW(0.1, weight_decay=0.05), adam(0.1, wd=0.05)),
    ("rmsprop", lambda: K.optimizers.RMSprop(0.05), rmsprop(0.05)),
    (
        "rmsprop_centered_momentum",
        lambda: K.optimizers.RMSprop(0.05, momentum=0.5, centered=True),
        rmsprop(0.05, mu=0.5, centered=True),
    ),
    ("adagrad", lambda: K.optimizers.Adagrad(0.3), adagrad(0.3)),
    ("adadelta", lambda: K.optimizers.Adadelta(1.0), adadelta(1.0)),
    ("nadam", lambda: K.optimizers.Nadam(0.1), nadam(0.1)),
]


@pytest.mark.parametrize("name,make,rule", CASES, ids=[c[0] for c in CASES])
def test_update_rule_matches_keras(name, make, rule):
    assert_close(run(make()), reference(rule), rtol=2e-5, atol=2e-6)


def test_iterations_and_slots():
    opt = K.optimizers.Adam(0.1)
    run(opt, 3)
    assert int(opt.iterations.numpy()) == 3
    names = [v.name for v in opt.variables]
    assert len(names) == 4  # iteration, learning_rate, momentum, velocity
    assert "iteration" in names[0] and "learning_rate" in names[1]


def test_string_names_and_unknown_name():
    m = K.Sequential([K.Input((2,)), K.layers.Dense(1)])
    for name in ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "nadam"):
        m.compile(optimizer=name, loss="mse")
        assert type(m.optimizer).__name__.lower() == name
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamx'.*adam"):
        m.compile(optimizer="adamx", loss="mse")


def test_clipnorm_clipvalue_global_clipnorm():
    # g = 2 (w - c) = [1.4, -4.2, 1.8]; one SGD step with lr = 1 exposes the clipped gradient.
    g = grad(W0)
    norm = math.sqrt(sum(x * x for x in g))
    out = run(K.optimizers.SGD(1.0, clipnorm=1.0), 1)[0]
    assert_close(out, [w - gi / norm for w, gi in zip(W0, g)], rtol=1e-5)
    out = run(K.optimizers.SGD(1.0, clipvalue=1.5), 1)[0]
    assert_close(out, [w - max(-1.5, min(1.5, gi)) for w, gi in zip(W0, g)], rtol=1e-5)
    out = run(K.optimizers.SGD(1.0, global_clipnorm=2.0), 1)[0]
    assert_close(out, [w - gi * 2.0 / norm for w, gi in zip(W0, g)], rtol=1e-5)
    with pytest.raises(ValueError, match="Only one of"):
        K.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_learning_rate_schedules():
    S = K.optimizers.schedules
    ed = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert_close(ed(5), 0.1 * 0.5**0.5, rtol=1e-6)
    assert_close(S.ExponentialDecay(0.1, 10, 0.5, staircase=True)(15), 0.05, rtol=1e-6)
    pc = S.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    assert [float(pc(s)) for s in (0, 2, 3, 4, 5)] == [1.0, 1.0, 0.5, 0.5, pytest.approx(0.1)]
    cd = S.CosineDecay(0.2, decay_steps=10, alpha=0.1)
    assert_close(cd(5), 0.2 * (0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)) + 0.1), rtol=1e-6)
    assert_close(cd(50), 0.2 * 0.1, rtol=1e-6)
    wu = S.CosineDecay(0.0, decay_steps=10, warmup_target=0.4, warmup_steps=4)
    assert_close(wu(2), 0.2, rtol=1e-6)
    # SGD with a schedule: step t uses lr(t) with t counted from 0
    opt = K.optimizers.SGD(S.PiecewiseConstantDecay([0], [1.0, 0.1]))
    out = run(opt, 2)
    w1 = [w - 1.0 * g for w, g in zip(W0, grad(W0))]
    w2 = [w - 0.1 * g for w, g in zip(w1, grad(w1))]
    assert_close(out, [w1, w2], rtol=1e-5)


def test_setting_learning_rate_and_minimize():
    opt = K.optimizers.SGD(0.1)
    opt.learning_rate = 0.5
    assert_close(opt.learning_rate, 0.5)
    v = tf.Variable([3.0])
    opt.minimize(lambda: tf.reduce_sum(v * v), [v])
    assert_close(v, [3.0 - 0.5 * 6.0])
    opt.learning_rate.assign(0.25)  # assigning the variable directly is seen too
    opt.minimize(lambda: tf.reduce_sum(v * 2.0), [v])
    assert_close(v, [0.0 - 0.25 * 2.0])


def test_ema_overwrites_with_average():
    opt = K.optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    v = tf.Variable([4.0])
    for _ in range(2):
        opt.minimize(lambda: tf.reduce_sum(v), [v])  # g = 1 each step
    # weights 3 then 2; average: step 0 copies (3), step 1: 0.5*3 + 0.5*2 = 2.5
    opt.finalize_variable_values([v])
    assert_close(v, [2.5])


def test_gradient_accumulation():
    opt = K.optimizers.SGD(1.0, gradient_accumulation_steps=2)
    v = tf.Variable([0.0])
    opt.apply_gradients([(tf.constant([1.0]), v)])
    assert_close(v, [0.0])
    opt.apply_gradients([(tf.constant([3.0]), v)])
    assert_close(v, [-2.0])  # mean of the two gradients


def test_config_roundtrip():
    for opt in (
        K.optimizers.Adam(0.01, beta_1=0.8, clipnorm=1.0),
        K.optimizers.SGD(0.2, momentum=0.5, nesterov=True),
        K.optimizers.RMSprop(centered=True),
        K.optimizers.AdamW(weight_decay=0.1),
        K.optimizers.Adam(K.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)),
    ):
        cfg = K.optimizers.serialize(opt)
        again = K.optimizers.deserialize(cfg)
        assert type(again) is type(opt)
        assert K.optimizers.serialize(again)["config"] == cfg["config"]
    assert cfg["config"]["learning_rate"]["class_name"] == "ExponentialDecay"
    assert K.optimizers.serialize(K.optimizers.Adam())["module"] == "keras.optimizers"


def test_unknown_variable_after_build():
    opt = K.optimizers.SGD(0.1)
    a, b = tf.Variable([1.0]), tf.Variable([2.0])
    opt.apply_gradients([(tf.constant([1.0]), a)])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply_gradients([(tf.constant([1.0]), b)])


@pytest.mark.parametrize("name,make,rule", CASES, ids=[c[0] for c in CASES])
def test_many_variables_update_together_as_one(name, make, rule):
    """Several variables of different shapes (updated as one flat vector) give each one's own
    trajectory; the slot variables read back match a per-variable run."""
    opt = make()
    a, b = tf.Variable([[W0[0], W0[1]]]), tf.Variable([W0[2]])
    c = tf.constant(C)
    for _ in range(STEPS):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(tf.concat([tf.reshape(a, (-1,)), b], 0) - c))
        opt.apply_gradients(zip(tape.gradient(loss, [a, b]), [a, b]))
    want = reference(rule)[-1]
    assert_close(tf.concat([tf.reshape(a, (-1,)), b], 0), want, rtol=2e-5, atol=2e-6)
    single = make()
    run(single)

    def entries(o):  # every slot entry (iteration, learning rate and scalars excluded)
        return sorted(float(x) for v in o.variables[2:] if v.shape.rank for x in tf.reshape(v, (-1,)).numpy().tolist())

    assert_close(entries(opt), entries(single), rtol=2e-5, atol=2e-6)


def test_adamw_exclusions_and_restored_slots():
    opt = K.optimizers.AdamW(0.1, weight_decay=0.5)
    a, b = tf.Variable([1.0, 2.0], name="kernel"), tf.Variable([3.0], name="bias")
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply_gradients([(tf.constant([0.0, 0.0]), a), (tf.constant([0.0]), b)])
    # zero gradients: Adam moves nothing; only decay w -= w * 0.5 * 0.1 on the kernel
    assert_close(a, [0.95, 1.9])
    assert_close(b, [3.0])
    m = K.optimizers.Adam(0.1)
    x, y = tf.Variable([1.0]), tf.Variable([2.0, 3.0])
    m.apply_gradients([(tf.constant([1.0]), x), (tf.constant([1.0, 1.0]), y)])
    for v in m.variables[2:]:
        v.assign(tf.zeros_like(v))  # reset the slots from outside (as loading a file does)
    before = x.numpy().tolist()
    m.apply_gradients([(tf.constant([1.0]), x), (tf.constant([1.0, 1.0]), y)])
    # fresh slots at step 2: m = 0.1, v = 0.001, alpha = 0.1 sqrt(1 - .999^2) / (1 - .9^2)
    alpha = 0.1 * math.sqrt(1 - 0.999**2) / (1 - 0.9**2)
    assert_close(x, [before[0] - 0.1 * alpha / (math.sqrt(0.001) + 1e-7)], rtol=1e-5)
