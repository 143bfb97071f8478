"""Model save/load: one safetensors file round-trips architecture, weights and optimizer
state (bit-for-bit predictions, training resumes identically); the loader rejects
configs and weights that do not match, before allocating what the file cannot justify."""

import json
import os
import struct
import subprocess
import sys

import pytest

import webtensor as tf
from util import assert_equal
from webtensor.saving import safetensors as st, validate

L = tf.keras.layers
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def data(n=48, d=8, classes=3):
    x = tf.random.uniform((n, d))
    y = tf.cast(tf.reduce_sum(x, axis=1) * 1.3, tf.int32) % classes
    return x, y


def mlp(d=8, classes=3):
    return tf.keras.Sequential(
        [
            tf.keras.Input((d,)),
            L.Dense(16, activation="relu"),
            L.Dropout(0.1),
            L.BatchNormalization(),
            L.Dense(classes, activation="softmax"),
        ]
    )


def trained_mlp(steps=3):
    x, y = data()
    m = mlp()
    m.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=steps, batch_size=16, verbose=0, shuffle=False)
    return m, x, y


def values(model) -> list:
    return [w.numpy().tolist() for w in model.weights]


def test_round_trip_is_bit_for_bit_and_training_resumes_the_same(tmp_path):
    m, x, y = trained_mlp()
    path = tmp_path / "mlp.safetensors"
    m.save(str(path))
    back = tf.keras.models.load_model(str(path))
    assert [type(l).__name__ for l in back.layers] == [type(l).__name__ for l in m.layers]
    assert_equal(back.predict(x, verbose=0), m.predict(x, verbose=0))
    assert values(back) == values(m)
    assert [v.numpy().tolist() for v in back.optimizer.variables] == [v.numpy().tolist() for v in m.optimizer.variables]
    for model in (m, back):  # the same dropout masks for both
        tf.random.set_seed(7)
        model.make_train_function(force=True)  # a compiled step's random keys are drawn when it is traced
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    assert values(back) == values(m)


def test_file_is_standard_safetensors_with_webtensor_metadata(tmp_path):
    m, x, _ = trained_mlp(1)
    path = tmp_path / "m.safetensors"
    m.save(str(path))
    blob = path.read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8 : 8 + n])
    meta = header.pop("__metadata__")
    assert meta["format"] == "webtensor" and meta["format_version"] == "1"
    config = json.loads(meta["model_config"])
    assert config["class_name"] == "Sequential"
    assert [l["class_name"] for l in config["config"]["layers"]][-4:] == [
        "Dense",
        "Dropout",
        "BatchNormalization",
        "Dense",
    ]
    assert json.loads(meta["training_config"])["loss"] == "sparse_categorical_crossentropy"
    dense = m.layers[0]
    kernel = header[f"{dense.name}/kernel"]
    assert kernel["dtype"] == "F32" and kernel["shape"] == [8, 16]
    begin, end = kernel["data_offsets"]
    raw = blob[8 + n + begin : 8 + n + end]
    assert list(struct.unpack("<128f", raw)) == [v for row in dense.kernel.numpy().tolist() for v in row]
    assert any(k.startswith("optimizer/") for k in header)


def test_functional_multi_io_shared_layers_round_trip(tmp_path):
    a, b = tf.keras.Input((4,), name="a"), tf.keras.Input((3,), name="b")
    shared = L.Dense(5, name="shared")
    h = L.Concatenate()([shared(a), L.Dense(5)(b)])
    out1 = L.Dense(2, name="out1")(h)
    out2 = shared(L.Dense(4)(h))
    m = tf.keras.Model([a, b], [out1, out2])
    xa, xb = tf.random.normal((6, 4)), tf.random.normal((6, 3))
    path = tmp_path / "f.safetensors"
    m.save(str(path))
    back = tf.keras.models.load_model(str(path))
    for got, want in zip(back.predict([xa, xb], verbose=0), m.predict([xa, xb], verbose=0)):
        assert_equal(got, want)
    assert len(back.weights) == len(m.weights)


def test_save_weights_and_load_weights(tmp_path):
    m, x, _ = trained_mlp(1)
    path = tmp_path / "w.safetensors"
    m.save_weights(str(path))
    fresh = mlp()
    fresh.load_weights(str(path))
    assert values(fresh) == values(m)
    with pytest.raises(ValueError, match="no model config"):
        tf.keras.models.load_model(str(path))
    other = tf.keras.Sequential([tf.keras.Input((8,)), L.Dense(7)])
    with pytest.raises(ValueError, match="byte offset"):
        other.load_weights(str(path))


def test_load_weights_is_all_or_nothing(tmp_path):
    """A stream cut short (a broken download) leaves every weight as it was."""
    import io

    m, _, _ = trained_mlp(1)
    path = tmp_path / "w.safetensors"
    m.save_weights(str(path))
    fresh = mlp()
    before = values(fresh)
    cut = io.BytesIO(path.read_bytes()[:-4])  # no fileno: a stream of unknown length, as an HTTP body
    with pytest.raises(ValueError, match="truncated file"):
        fresh.load_weights(cut)
    assert values(fresh) == before


def test_without_optimizer_and_without_compile(tmp_path):
    m, x, _ = trained_mlp(1)
    path = tmp_path / "no_opt.safetensors"
    m.save(str(path), include_optimizer=False)
    header = st.read_header(path)
    assert not any(k.startswith("optimizer/") for k in header.tensors)
    assert "training_config" not in header.metadata
    with_opt = tmp_path / "opt.safetensors"
    m.save(str(with_opt))
    back = tf.keras.models.load_model(str(with_opt), compile=False)
    assert_equal(back.predict(x, verbose=0), m.predict(x, verbose=0))


def test_load_from_bytes_and_float16(tmp_path):
    m, x, _ = trained_mlp(1)
    p32, p16 = tmp_path / "m32.safetensors", tmp_path / "m16.safetensors"
    m.save(str(p32), include_optimizer=False)
    tf.saving.save_model(m, str(p16), include_optimizer=False, weights_dtype="float16")
    back = tf.keras.models.load_model(p32.read_bytes())
    assert_equal(back.predict(x, verbose=0), m.predict(x, verbose=0))
    h16 = st.read_header(p16)
    assert {e.dtype.name for e in h16.tensors.values()} == {"float16"}
    data32 = st.read_header(p32).data_size
    assert h16.data_size * 2 == data32
    half = tf.keras.models.load_model(str(p16))
    assert all(w.dtype is tf.float32 for w in half.weights)
    got, want = half.predict(x, verbose=0).tolist(), m.predict(x, verbose=0).tolist()
    assert max(abs(g - w) for gr, wr in zip(got, want) for g, w in zip(gr, wr)) < 5e-3


@pytest.mark.native
def test_load_model_from_url_sync_and_async(tmp_path):
    import asyncio
    import functools
    import http.server
    import threading

    m, x, _ = trained_mlp(1)
    m.save(str(tmp_path / "m.safetensors"))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/m.safetensors"
        assert_equal(tf.keras.models.load_model(url).predict(x, verbose=0), m.predict(x, verbose=0))
        back = asyncio.run(tf.saving.load_model_async(url))
        assert_equal(back.predict(x, verbose=0), m.predict(x, verbose=0))
    finally:
        srv.shutdown()
        srv.server_close()


# -- model-level rejections ---------------------------------------------------------------


def edited(path, out, edit_meta=None, edit_header=None):
    blob = path.read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    header, data = json.loads(blob[8 : 8 + n]), blob[8 + n :]
    if edit_meta:
        config = json.loads(header["__metadata__"]["model_config"])
        edit_meta(config)
        header["__metadata__"]["model_config"] = json.dumps(config)
    if edit_header:
        edit_header(header)
    h = json.dumps(header).encode()
    out.write_bytes(struct.pack("<Q", len(h)) + h + data)
    return out


@pytest.fixture
def saved(tmp_path):
    m = mlp()
    path = tmp_path / "m.safetensors"
    m.save(str(path))
    return path


def test_rejects_unknown_layer_by_name(saved, tmp_path):
    def rename(c):
        c["config"]["layers"][1]["class_name"] = "TotallyCustom"

    bad = edited(saved, tmp_path / "bad.safetensors", rename)
    with pytest.raises(ValueError, match=r"unknown layer class 'TotallyCustom'.*byte offset"):
        tf.keras.models.load_model(str(bad))


def test_rejects_missing_and_extra_weights(saved, tmp_path):
    name = [k for k in st.read_header(saved).tensors if k.endswith("/bias")][0]

    def drop(h):
        e = h.pop(name)
        assert e  # offsets now leave a hole: re-pack the data so only the weight is missing

    blob = saved.read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    header, data = json.loads(blob[8 : 8 + n]), blob[8 + n :]
    b, e = header[name]["data_offsets"]
    del header[name]
    for k, v in header.items():
        if k != "__metadata__" and v["data_offsets"][0] >= e:
            v["data_offsets"] = [v["data_offsets"][0] - (e - b), v["data_offsets"][1] - (e - b)]
    h = json.dumps(header).encode()
    bad = tmp_path / "missing.safetensors"
    bad.write_bytes(struct.pack("<Q", len(h)) + h + data[:b] + data[e:])
    with pytest.raises(ValueError, match=f"missing weight '{name}'"):
        tf.keras.models.load_model(str(bad))

    def widen(c):
        c["config"]["layers"][1]["config"]["units"] = 17

    bad = edited(saved, tmp_path / "wide.safetensors", widen)
    with pytest.raises(ValueError, match=r"shape \[8, 16\] in the file but the model needs \[8, 17\]"):
        tf.keras.models.load_model(str(bad))


def test_config_asking_for_huge_weights_is_refused_before_allocating(saved, tmp_path):
    def huge(c):
        c["config"]["layers"][1]["config"]["units"] = 10**9

    bad = edited(saved, tmp_path / "huge.safetensors", huge)
    with pytest.raises(ValueError, match="more weights than the file holds"):
        tf.keras.models.load_model(str(bad))


def test_rejects_bad_metadata(saved, tmp_path):
    def version(h):
        h["__metadata__"]["format_version"] = "99"

    bad = edited(saved, tmp_path / "v.safetensors", edit_header=version)
    with pytest.raises(ValueError, match="format_version '99' is not supported"):
        tf.keras.models.load_model(str(bad))

    def broken(h):
        h["__metadata__"]["model_config"] = '{"class_name": "Sequential", "config": {'

    bad = edited(saved, tmp_path / "j.safetensors", edit_header=broken)
    with pytest.raises(ValueError, match=r"model_config.*not valid JSON"):
        tf.keras.models.load_model(str(bad))


def test_metadata_never_becomes_a_path(saved, tmp_path):
    """A name or config string that looks like a path is only data: nothing is written."""

    def evil(c):
        c["config"]["name"] = "../../evil"
        c["config"]["layers"][1]["config"]["name"] = "/tmp/evil_layer"

    bad = edited(saved, tmp_path / "evil.safetensors", evil)
    before = set(os.listdir(tmp_path))
    try:
        tf.keras.models.load_model(str(bad))
    except ValueError:
        pass
    assert set(os.listdir(tmp_path)) == before
    assert not os.path.exists("/tmp/evil_layer")


def test_inspect_lists_layers_tensors_and_metadata(tmp_path):
    m, _, _ = trained_mlp(1)
    path = tmp_path / "m.safetensors"
    m.save(str(path))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "core"))
    r = subprocess.run(
        [sys.executable, "-m", "webtensor", "inspect", str(path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "format webtensor version 1" in out and "Sequential" in out and "BatchNormalization" in out
    assert f"{m.layers[0].name}/kernel" in out and "[8, 16]" in out and "optimizer/0" in out
    weights = sum(int(tf.size(w)) for w in m.weights)
    assert f"{weights:,} weight values" in out
    r = subprocess.run(
        [sys.executable, "-m", "webtensor", "inspect", str(tmp_path / "nope")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "error:" in r.stderr


def test_header_parse_matches_hand_decoding(saved):
    """validate.parse_header agrees with a plain json.loads of the same bytes."""
    blob = saved.read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    raw = json.loads(blob[8 : 8 + n])
    h = validate.parse_header(blob[8 : 8 + n], len(blob))
    assert sorted(h.tensors) == sorted(k for k in raw if k != "__metadata__")
    for k, e in h.tensors.items():
        assert [e.begin, e.end] == raw[k]["data_offsets"] and list(e.shape) == raw[k]["shape"]
