"""Linear regression from scratch: fit y = 3x + 2 with GradientTape (the classic first lesson).

Runs unchanged natively and in the page.
"""

import webtensor as tf


def fit(steps: int = 200, lr: float = 0.1, seed: int = 0):
    tf.random.set_seed(seed)
    x = tf.random.uniform([256, 1], -1.0, 1.0)
    y = 3.0 * x + 2.0 + tf.random.normal([256, 1], stddev=0.05)
    w, b = tf.Variable(0.0, name="W"), tf.Variable(0.0, name="b")
    for step in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(w * x + b - y))
        dw, db = tape.gradient(loss, [w, b])
        w.assign_sub(lr * dw)
        b.assign_sub(lr * db)
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:3d}  loss {float(loss):.5f}  W {float(w):.4f}  b {float(b):.4f}")
    return float(w), float(b)


if __name__ == "__main__":
    w, b = fit()
    print(f"fitted: y = {w:.3f} x + {b:.3f}   (true: y = 3x + 2)")
