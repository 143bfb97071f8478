"""Keras preprocessing utilities and boolean-mask indexing, against hand values."""

import pytest
import webtensor as tf


def test_bool_list_and_tensor_index_act_as_boolean_mask():
    t = tf.constant([[1, 2], [3, 4], [5, 6]])
    assert t[[True, False, True]].numpy().tolist() == [[1, 2], [5, 6]]
    assert t[tf.constant([False, True, False])].numpy().tolist() == [[3, 4]]
    assert t[[0, 2] if False else 1].numpy().tolist() == [3, 4]  # ints still index


def test_numpy_bool_array_index():
    np = pytest.importorskip("numpy")
    t = tf.constant([[1, 2], [3, 4], [5, 6]])
    assert t[np.array([True, False, True])].numpy().tolist() == [[1, 2], [5, 6]]
    assert t[np.array([[True, False], [False, True], [True, True]])].numpy().tolist() == [1, 4, 5, 6]
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):
        t[np.array([True, False])]


def _list(a):
    return a.tolist()


def test_pad_sequences_pre_post_truncate():
    pad = tf.keras.utils.pad_sequences
    seqs = [[1, 2, 3], [4], [5, 6]]
    assert _list(pad(seqs)) == [[1, 2, 3], [0, 0, 4], [0, 5, 6]]
    assert _list(pad(seqs, padding="post")) == [[1, 2, 3], [4, 0, 0], [5, 6, 0]]
    assert _list(pad(seqs, maxlen=2)) == [[2, 3], [0, 4], [5, 6]]
    assert _list(pad(seqs, maxlen=2, truncating="post", value=-1)) == [[1, 2], [-1, 4], [5, 6]]
    assert _list(pad([[0.5], [1.5, 2.5]], dtype="float32", padding="post")) == [[0.5, 0.0], [1.5, 2.5]]
    with pytest.raises(ValueError, match="padding"):
        pad(seqs, padding="middle")


def test_timeseries_dataset_from_array_windows_by_hand():
    ts = tf.keras.utils.timeseries_dataset_from_array
    ds = ts(list(range(10)), list(range(100, 110)), 3, sequence_stride=2, sampling_rate=2, batch_size=2)
    got = [(x.numpy().tolist(), y.numpy().tolist()) for x, y in ds]
    # windows start at 0, 2, 4 (10 - 2 * 2 = 6 starts fit), every 2nd row; target = targets[start]
    assert got == [([[0, 2, 4], [2, 4, 6]], [100, 102]), ([[4, 6, 8]], [104])]
    # Keras's docstring: data[i:i+10] with targets = data shifted by 10
    data = list(range(100))
    first = next(iter(ts(data[:-10], data[10:], sequence_length=10, batch_size=5)))
    assert first[0].numpy().tolist()[0] == list(range(10)) and first[1].numpy().tolist()[0] == 10
    rows = [x.numpy().tolist() for x in ts([[i, -i] for i in range(6)], None, 4, start_index=1, batch_size=None)]
    assert rows == [[[1, -1], [2, -2], [3, -3], [4, -4]], [[2, -2], [3, -3], [4, -4], [5, -5]]]
    shuffled = [y for _, y in ts(list(range(8)), list(range(8)), 2, shuffle=True, seed=3, batch_size=None)]
    assert sorted(int(y) for y in shuffled) == list(range(7))
    with pytest.raises(ValueError, match="sequence_length"):
        ts(data, None, 0)


def _close(t, want, tol=1e-5):
    got = t.numpy().tolist()
    flat_g, flat_w = _flat(got), _flat(want)
    assert len(flat_g) == len(flat_w) and all(abs(a - b) <= tol * max(1, abs(b)) for a, b in zip(flat_g, flat_w)), (
        got,
        want,
    )


def _flat(x):
    return [v for r in x for v in _flat(r)] if isinstance(x, list) else [x]


def test_normalization_adapt_mean_variance_invert():
    L = tf.keras.layers
    data = [[1.0, 10.0], [3.0, 30.0], [5.0, 20.0]]
    n = L.Normalization()
    n.adapt(data)  # mean [3, 20], population variance [8/3, 200/3]
    _close(n(tf.constant([[5.0, 30.0]])), [[2 / (8 / 3) ** 0.5, 10 / (200 / 3) ** 0.5]])
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(data)).batch(2)
    n2 = L.Normalization()
    n2.adapt(ds)  # batches are concatenated: the same statistics
    _close(n2.weights[0], [[3.0, 20.0]])
    _close(n2.weights[1], [[8 / 3, 200 / 3]])
    _close(L.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])(tf.constant([[1.0, 0.0]])), [[0.0, -1.0]])
    _close(L.Normalization(mean=2.0, variance=4.0, invert=True)(tf.constant([[1.0, 0.0]])), [[4.0, 2.0]])
    _close(L.Normalization(mean=0.0, variance=0.0)(tf.constant([[1e-7]])), [[1.0]])  # sqrt(var) floored at 1e-7
    mapped = tf.data.Dataset.from_tensor_slices(tf.constant(data)).batch(3).map(n)
    _close(
        next(iter(mapped)),
        [[-2 / (8 / 3) ** 0.5, -10 / (200 / 3) ** 0.5], [0.0, 10 / (200 / 3) ** 0.5], [2 / (8 / 3) ** 0.5, 0.0]],
    )
    with pytest.raises(ValueError, match="empty"):
        L.Normalization().adapt(tf.zeros((0, 2)))
    with pytest.raises(ValueError, match="both"):
        L.Normalization(mean=1.0)


def test_normalization_state_saves_and_loads(tmp_path):
    pytest.importorskip("numpy")
    L = tf.keras.layers
    m = tf.keras.Sequential([tf.keras.Input((2,)), L.Normalization(), L.Dense(1)])
    m.layers[0].adapt(tf.constant([[1.0, 10.0], [3.0, 30.0], [5.0, 20.0]]))
    path = str(tmp_path / "m.safetensors")
    m.save(path)
    back = tf.keras.models.load_model(path)
    _close(back.layers[0].weights[0], [[3.0, 20.0]])
    x = tf.constant([[1.0, 2.0]])
    _close(back(x), m(x).numpy().tolist())


def test_discretization_buckets():
    d = tf.keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    out = d(tf.constant([[-1.5, 1.0, 2.0, 0.5, 3.0]]))
    assert out.dtype is tf.int64 and out.numpy().tolist() == [[0, 2, 3, 1, 3]]  # Keras docstring-style
    with pytest.raises(ValueError, match="sorted"):
        tf.keras.layers.Discretization(bin_boundaries=[1.0, 0.0])


KERAS_SCRIPT = """
import json, os
os.environ["KERAS_BACKEND"] = "torch"
import numpy as np
import keras
L = keras.layers
x = np.random.default_rng(7).standard_normal((6, 3)).astype("float32") * 3 + 1
q = np.random.default_rng(8).standard_normal((4, 3)).astype("float32")
n = L.Normalization(); n.adapt(x)
n3 = L.Normalization(axis=None); n3.adapt(x)
inv = L.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25], invert=True)
d = L.Discretization(bin_boundaries=[-0.5, 0.0, 0.7])
img = np.random.default_rng(9).standard_normal((2, 5, 6, 2)).astype("float32")
c = keras.ops.convert_to_numpy
crop = c(L.CenterCrop(3, 3)(img)).tolist()
print(json.dumps({"x": x.tolist(), "q": q.tolist(), "norm": c(n(q)).tolist(),
                  "mean": c(n.mean).tolist(), "var": c(n.variance).tolist(), "norm_all": c(n3(q)).tolist(),
                  "inv": c(inv(q)).tolist(), "disc": c(d(q)).tolist(),
                  "img": img.tolist(), "crop": crop, "flip_inference": c(L.RandomFlip()(img, training=False)).tolist()}))
"""


def test_matches_keras3_on_torch():
    import importlib.util
    import json
    import os
    import subprocess
    import sys

    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("needs keras and torch (the test extra) for the reference run")
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    r = subprocess.run([sys.executable, "-c", KERAS_SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    ref = json.loads(r.stdout.strip().splitlines()[-1])
    L = tf.keras.layers
    q = tf.constant(ref["q"])
    n = L.Normalization()
    n.adapt(tf.constant(ref["x"]))
    _close(n(q), ref["norm"], 1e-4)
    _close(n.weights[0], ref["mean"], 1e-5)
    _close(n.weights[1], ref["var"], 1e-4)
    n3 = L.Normalization(axis=None)
    n3.adapt(tf.constant(ref["x"]))
    _close(n3(q), ref["norm_all"], 1e-4)
    inv = L.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25], invert=True)
    _close(inv(q), ref["inv"], 1e-5)
    d = L.Discretization(bin_boundaries=[-0.5, 0.0, 0.7])
    assert d(q).numpy().tolist() == ref["disc"]
    img = tf.constant(ref["img"])
    _close(L.CenterCrop(3, 3)(img), ref["crop"], 0)
    _close(L.RandomFlip()(img, training=False), ref["flip_inference"], 0)


def test_center_crop_by_hand():
    x = tf.reshape(tf.range(24, dtype=tf.float32), (2, 3, 4, 1))
    out = tf.keras.layers.CenterCrop(1, 2)(x)
    assert out.shape == (2, 1, 2, 1)
    assert out[..., 0].numpy().tolist() == [[[5.0, 6.0]], [[17.0, 18.0]]]  # row 1, columns 1-2
    assert tf.keras.layers.CenterCrop(2, 2)(x[0]).numpy().tolist() == [[[1.0], [2.0]], [[5.0], [6.0]]]
    with pytest.raises(ValueError, match="smaller"):
        tf.keras.layers.CenterCrop(4, 4)(x)


def test_random_flip_training_only():
    x = tf.reshape(tf.range(64 * 2 * 3, dtype=tf.float32), (64, 2, 3, 1))
    rows = x.numpy().tolist()
    f = tf.keras.layers.RandomFlip("horizontal", seed=4)
    assert f(x, training=False).numpy().tolist() == rows  # inference: unchanged
    model = tf.keras.Sequential([tf.keras.Input((2, 3, 1)), f])
    assert model.predict(x, verbose=0).tolist() == rows
    out = f(x, training=True).numpy().tolist()
    flipped = [[[px for px in reversed(r)] for r in img] for img in rows]
    kinds = [o == a or (o == b and "flip") for o, a, b in zip(out, rows, flipped)]
    assert all(kinds) and "flip" in kinds and True in kinds  # each image kept or mirrored; both happen
    v = tf.keras.layers.RandomFlip("vertical", seed=4)(x, training=True).numpy().tolist()
    assert all(o == a or o == a[::-1] for o, a in zip(v, rows))
    with pytest.raises(ValueError, match="mode"):
        tf.keras.layers.RandomFlip("diagonal")
