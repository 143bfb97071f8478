"""The issue's fusion case, shared by tests/wasm and tests/gpu: a Dense+relu -> Dense ->
sparse softmax cross-entropy train step (tape inside a tf.function, SGD by assign_sub),
run eagerly and compiled from the same initial weights on one backend."""

import webtensor as tf
from webtensor import backends

SHAPES = [(16, 32), (32,), (32, 10), (10,)]


def _weights():
    tf.random.set_seed(7)
    return [tf.Variable(tf.random.normal(s) * 0.1) for s in SHAPES]


def step(vs, x, y, lr=0.1):
    w1, b1, w2, b2 = vs
    with tf.GradientTape() as tape:
        h = tf.nn.relu(tf.matmul(x, w1) + b1)
        logits = tf.matmul(h, w2) + b2
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    for v, g in zip(vs, tape.gradient(loss, vs)):
        v.assign_sub(lr * g)
    return loss


def run(name: str, steps: int = 3) -> dict:
    """Kernel counts of one eager and one compiled step (after warm-up), and both losses
    and final weights as lists."""
    backends.set_default(name)
    try:
        tf.random.set_seed(3)
        x = tf.random.normal((32, 16))
        y = tf.random.uniform((32,), maxval=10, dtype=tf.int32)
        eager_vs, graph_vs = _weights(), _weights()
        compiled = tf.function(lambda a, b: step(graph_vs, a, b))
        counts, losses = {}, {"eager": [], "compiled": []}
        for i in range(steps):
            for kind, fn in (("eager", lambda: step(eager_vs, x, y)), ("compiled", lambda: compiled(x, y))):
                tf.config.experimental.reset_kernel_count(name)
                loss = fn()
                counts[kind] = tf.config.experimental.get_kernel_count(name)
                losses[kind].append(float(loss))
        return {
            "counts": counts,
            "losses": losses,
            "eager": [v.numpy().tolist() for v in eager_vs],
            "compiled": [v.numpy().tolist() for v in graph_vs],
        }
    finally:
        backends.set_default(None)


def flat(v):
    if isinstance(v, list):
        for e in v:
            yield from flat(e)
    else:
        yield v
