"""The digits MLP and CNN, trained and timed inside the page (Pyodide); TF.js builds the
same models in tfjs.html. Run through ``await run(...)`` by bench_page.py."""

import array
import time

import webtensor as tf


async def load_digits(url: str = "/data/digits_split.bin"):
    """The shipped digits split (format in build/make_digits.py) as float32/int32 tensors."""
    from pyodide.http import pyfetch

    raw = await (await pyfetch(url)).bytes()
    n_train, n_test = array.array("i", raw[:8])
    off = 8

    def take(code, n):
        nonlocal off
        a = array.array(code, raw[off : off + 4 * n])
        off += 4 * n
        return a

    x_train, y_train = take("f", n_train * 64), take("i", n_train)
    x_test, y_test = take("f", n_test * 64), take("i", n_test)
    return (
        tf.reshape(tf.constant(x_train), [n_train, 64]),
        tf.constant(y_train),
        tf.reshape(tf.constant(x_test), [n_test, 64]),
        tf.constant(y_test),
    )


def mlp():
    """benchmarks/digits_fit.py's MLP (the one native benchmarks and Keras run)."""
    return tf.keras.Sequential(
        [
            tf.keras.Input((64,)),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dropout(0.1),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )


def cnn():
    """benchmarks/digits_fit.py's CNN, with a softmax output (TF.js has no from_logits)."""
    L = tf.keras.layers
    return tf.keras.Sequential(
        [
            tf.keras.Input((8, 8, 1)),
            L.Conv2D(16, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Conv2D(32, 3, padding="same", activation="relu"),
            L.Flatten(),
            L.Dense(64, activation="relu"),
            L.Dense(10, activation="softmax"),
        ]
    )


def train_and_predict(make, shape, data, epochs: int, repeats: int) -> dict:
    x, y, xt, yt = data
    x, xt = tf.reshape(x, [-1, *shape]), tf.reshape(xt, [-1, *shape])
    tf.random.set_seed(0)
    model = make()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=32, shuffle=True, verbose=0)
    fit_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        labels = tf.argmax(model.predict_on_batch(xt), axis=-1, output_type=tf.int32).numpy().tolist()
        times.append((time.perf_counter() - t) * 1000)
    acc = sum(int(a == b) for a, b in zip(labels, yt.numpy().tolist())) / len(labels)
    times = sorted(times[1:])  # the first call compiles/warms kernels
    return {"fit_s": fit_s, "predict_ms": times[len(times) // 2], "accuracy": acc}


async def first_prediction() -> int:
    """Build the MLP and classify one test digit (what a page shows first)."""
    _, _, xt, _ = await load_digits()
    return int(tf.argmax(mlp()(xt[:1]), axis=-1).numpy()[0])


async def run(mlp_epochs: int = 30, cnn_epochs: int = 20, repeats: int = 5, models=("mlp", "cnn")) -> dict:
    data = await load_digits()
    out = {}
    if "mlp" in models:
        out["mlp"] = train_and_predict(mlp, (64,), data, mlp_epochs, repeats)
    if "cnn" in models:
        out["cnn"] = train_and_predict(cnn, (8, 8, 1), data, cnn_epochs, repeats)
    return out
