"""The demos' datasets, natively and in the page: the digits split and 2-D toy sets.

The web app's build copies this file beside web/app/py/webapp.py, so the page and
``demos/train_demo_models.py`` read the same data the same way.
"""

from __future__ import annotations

import math
import random
import struct

import webtensor as tf

TOY_SETS = ("moons", "circles", "spiral", "xor")


def toy(kind: str, n: int = 400, noise: float = 0.12, seed: int = 0) -> tuple:
    """A 2-D two-class set: ``n`` points ``[x, y]`` in about [-1.2, 1.2]^2 and 0/1 labels."""
    if kind not in TOY_SETS:
        raise ValueError(f"unknown toy dataset {kind!r}; choose one of {', '.join(TOY_SETS)}")
    rnd = random.Random(seed)
    pts, labels = [], []
    for i in range(n):
        c = i % 2
        if kind == "moons":
            t = rnd.uniform(0, math.pi)
            x, y = (math.cos(t) - 0.5, math.sin(t) - 0.25) if c == 0 else (0.5 - math.cos(t), 0.25 - math.sin(t))
            x, y = 0.8 * x, 0.8 * y
        elif kind == "circles":
            r, t = (0.4 if c == 0 else 1.0), rnd.uniform(0, 2 * math.pi)
            x, y = r * math.cos(t), r * math.sin(t)
        elif kind == "spiral":
            r = rnd.uniform(0.05, 1.0)
            t = 3.5 * r + c * math.pi
            x, y = r * math.cos(t), r * math.sin(t)
        else:
            x, y = rnd.uniform(-1, 1), rnd.uniform(-1, 1)
            c = int(x * y > 0)
        pts.append([x + rnd.gauss(0, noise), y + rnd.gauss(0, noise)])
        labels.append(c)
    return pts, labels


def digits(raw) -> tuple:
    """``(x_train, y_train, x_test, y_test)`` tensors from the digits split file
    (little-endian int32 n_train, n_test; float32 x_train (n_train*64); int32 y_train;
    float32 x_test; int32 y_test), images flattened to 64 values in [0, 1]."""
    raw = memoryview(bytes(raw))
    n_train, n_test = struct.unpack_from("<ii", raw, 0)
    want = 8 + 4 * (n_train * 65 + n_test * 65)
    if len(raw) != want:
        raise ValueError(f"digits file: {len(raw)} bytes, expected {want} for {n_train} + {n_test} images")
    o = 8

    def take(fmt, n, shape):
        nonlocal o
        t = tf.constant(raw[o : o + 4 * n].cast(fmt))
        o += 4 * n
        return tf.reshape(t, shape)

    x_train = take("f", n_train * 64, [n_train, 64])
    y_train = take("i", n_train, [n_train])
    x_test = take("f", n_test * 64, [n_test, 64])
    y_test = take("i", n_test, [n_test])
    return x_train, y_train, x_test, y_test
