"""Keras import: files made by real Keras 3 (torch backend) in this test run; our
predictions on the imported models are compared with Keras's own."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

import webtensor as tf
from util import assert_close

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ["mlp", "cnn", "conv_misc", "sequence", "attention", "nested"]


@pytest.fixture(scope="session")
def keras_dir(tmp_path_factory):
    """One subprocess of real Keras writes every fixture (.keras, .h5, .weights.h5, .npz)."""
    import importlib.util

    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("keras and torch (the test extra) are not installed")
    out = tmp_path_factory.mktemp("keras")
    env = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    r = subprocess.run(
        [sys.executable, os.path.join(HERE, "keras_fixtures.py"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def fixture(keras_dir, name):
    import numpy as np

    data = np.load(keras_dir / f"{name}.npz")
    xs = [data[k] for k in sorted(data.files) if k.startswith("x")]
    ys = [data[k] for k in sorted(data.files) if k.startswith("y")]
    return xs, ys


def predict(model, xs):
    out = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    return out if isinstance(out, (list, tuple)) else [out]


def check_predictions(model, keras_dir, name, rtol=2e-4, atol=2e-5):
    xs, ys = fixture(keras_dir, name)
    got = predict(model, xs)
    assert len(got) == len(ys)
    for g, y in zip(got, ys):
        assert_close(g, y, rtol=rtol, atol=atol, msg=f"{name}:")


@pytest.mark.native
@pytest.mark.numpy
@pytest.mark.parametrize("name", MODELS)
def test_import_keras_archive_predicts_as_keras(keras_dir, name):
    model = tf.io.import_keras(keras_dir / f"{name}.keras")
    check_predictions(model, keras_dir, name)


@pytest.mark.native
@pytest.mark.numpy
@pytest.mark.parametrize("name", MODELS)
def test_import_legacy_h5_model_predicts_as_keras(keras_dir, name):
    model = tf.io.import_keras(keras_dir / f"{name}.h5")
    check_predictions(model, keras_dir, name)


@pytest.mark.parametrize("suffix", [".h5", ".weights.h5"])
@pytest.mark.native
@pytest.mark.numpy
def test_keras_weights_files_load_into_the_same_architecture(keras_dir, suffix):
    for name in ("cnn", "sequence"):
        model = tf.io.import_keras(keras_dir / f"{name}.keras")
        for w in model.weights:
            w.assign(tf.zeros_like(w))
        model.load_weights(str(keras_dir / f"{name}{suffix}"))
        check_predictions(model, keras_dir, name)


@pytest.mark.native
@pytest.mark.numpy
def test_imported_model_exports_and_reloads(keras_dir, tmp_path):
    model = tf.io.import_keras(keras_dir / "conv_misc.keras")
    out = tmp_path / "conv_misc.safetensors"
    model.save(str(out))
    back = tf.keras.models.load_model(str(out))
    check_predictions(back, keras_dir, "conv_misc")
    assert [type(l).__name__ for l in back.layers] == [type(l).__name__ for l in model.layers]


@pytest.mark.native
@pytest.mark.numpy
def test_load_model_reads_keras_archives_too(keras_dir):
    check_predictions(tf.keras.models.load_model(str(keras_dir / "mlp.keras")), keras_dir, "mlp")


@pytest.mark.native
@pytest.mark.numpy
def test_cli_export_and_float16(keras_dir, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(os.path.dirname(HERE)), "core"))
    f32, f16 = tmp_path / "m32.safetensors", tmp_path / "m16.safetensors"
    for out, extra in ((f32, []), (f16, ["--float16"])):
        r = subprocess.run(
            [sys.executable, "-m", "webtensor", "export", str(keras_dir / "sequence.keras"), str(out)] + extra,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr
        assert "wrote" in r.stdout
    check_predictions(tf.keras.models.load_model(str(f32)), keras_dir, "sequence")
    # float16 weights: half the tensor bytes (the config JSON is the same), predictions
    # within half-precision error
    from webtensor.saving import safetensors as st

    assert st.read_header(f16).data_size * 2 == st.read_header(f32).data_size
    check_predictions(tf.keras.models.load_model(str(f16)), keras_dir, "sequence", rtol=2e-2, atol=2e-2)
    r = subprocess.run(
        [sys.executable, "-m", "webtensor", "inspect", str(f16)], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert "Bidirectional" in r.stdout and "float16" in r.stdout and "format webtensor version 1" in r.stdout


def rewrite_config(src, dst, edit):
    with zipfile.ZipFile(src) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    config = json.loads(parts["config.json"])
    edit(config)
    parts["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)


@pytest.mark.native
@pytest.mark.numpy
def test_unknown_and_lambda_layers_are_refused_by_name(keras_dir, tmp_path):
    def rename(config):
        config["config"]["layers"][1]["class_name"] = "FancyDense"

    bad = tmp_path / "fancy.keras"
    rewrite_config(keras_dir / "mlp.keras", bad, rename)
    with pytest.raises(ValueError, match="unknown layer class 'FancyDense'"):
        tf.io.import_keras(bad)

    def to_lambda(config):
        config["config"]["layers"][1] = {
            "module": "keras.layers",
            "class_name": "Lambda",
            "config": {
                "name": "evil",
                "function": {
                    "class_name": "__lambda__",
                    "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMEAAAAfABTAKkBTqkAKQHaAXhyAQAAAHIBAAAA"},
                },
            },
            "registered_name": None,
        }

    bad = tmp_path / "lambda.keras"
    rewrite_config(keras_dir / "mlp.keras", bad, to_lambda)
    with pytest.raises(ValueError, match="Python lambda.*disallowed by default"):  # Lambda exists; its code is refused
        tf.io.import_keras(bad)


@pytest.mark.native
@pytest.mark.numpy
def test_weights_of_the_wrong_shape_are_refused(keras_dir, tmp_path):
    def widen(config):
        config["config"]["layers"][1]["config"]["units"] = 33

    bad = tmp_path / "wide.keras"
    rewrite_config(keras_dir / "mlp.keras", bad, widen)
    with pytest.raises(ValueError, match="dense.*shape"):
        tf.io.import_keras(bad)


def test_global_average_pooling_1d_mask_averages_unmasked_steps():
    """Keras 3 passes ``mask`` to GlobalAveragePooling1D (its configs carry it): the mean
    over unmasked steps. By hand: steps (1,2),(3,4) kept, (5,6) masked -> (2, 3)."""
    x = tf.constant([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[1.0, 1.0], [2.0, 2.0], [6.0, 0.0]]])
    p = tf.keras.layers.GlobalAveragePooling1D()
    assert_close(p(x, mask=tf.constant([[True, True, False], [True, False, True]])), [[2.0, 3.0], [3.5, 0.5]])
    assert_close(p(x), [[3.0, 4.0], [3.0, 1.0]])


@pytest.mark.native
@pytest.mark.numpy
def test_hdf5_dataset_declaring_more_than_the_file_holds_is_refused(tmp_path):
    """A chunked HDF5 dataset can declare a terabyte in a few kilobytes: never read it."""
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "bomb.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = ["dense"]
        g = f.create_group("dense")
        g.attrs["weight_names"] = ["dense/kernel"]
        g.create_dataset("dense/kernel", shape=(2**38,), dtype="f4", chunks=(1024,))
    assert os.path.getsize(path) < 100_000
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2, name="dense")])
    with pytest.raises(ValueError, match="declares 1099511627776 bytes, more than the file can hold"):
        model.load_weights(str(path))
    (tmp_path / "junk.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(ValueError, match="not a readable Keras file"):
        model.load_weights(str(tmp_path / "junk.h5"))
