"""Issue 12: hostile model files. Each fixture is generated here at a bounded size."""

import json
import os
import struct
import subprocess
import sys
import zlib

import pytest

import webtensor as tf
from webtensor.saving import load_file, safetensors as st, validate


def raw_file(header: dict, data: bytes = b"") -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


# -- 6: linear-time validation, entry cap ------------------------------------------------


def test_many_zero_size_tensors_validate_in_linear_time(monkeypatch):
    """The quadratic part was one search of the whole header per entry (22 s for these
    40,000 tensors): a valid header must not search it at all."""
    n = 40_000
    header = {f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(n)}
    header["__metadata__"] = {f"k{i}": "v" for i in range(n // 2)}
    searches = []
    real = validate._find
    monkeypatch.setattr(validate, "_find", lambda *a, **k: searches.append(a[1]) or real(*a, **k))
    meta, tensors = load_file(raw_file(header))
    assert len(tensors) == n and len(meta) == n // 2
    assert searches == []


def test_entry_count_over_the_cap_is_refused():
    n = validate.MAX_ENTRIES + 1
    header = {"__metadata__": {f"k{i}": "" for i in range(n)}}
    with pytest.raises(ValueError, match="entries, over the 100000"):
        load_file(raw_file(header))


# -- 9: odd exceptions become ValueError naming the file and problem -------------------


def test_lone_surrogate_names_are_value_errors(tmp_path):
    bad = b'{"\\ud800": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    with pytest.raises(ValueError, match="lone surrogate"):
        load_file(struct.pack("<Q", len(bad)) + bad + b"\0" * 4)
    with pytest.raises(ValueError, match="lone surrogate"):
        st.save(tmp_path / "x.safetensors", {"\ud800": tf.constant([1.0])})


def test_huge_integer_offset_is_a_model_file_error(tmp_path):
    bad = b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, ' + b"9" * 5000 + b"]}}"
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", len(bad)) + bad)
    with pytest.raises(ValueError, match=r"huge\.safetensors: invalid model file: header is not valid JSON"):
        load_file(path)


# -- 17: stale temp files of the same target --------------------------------------------


def test_stale_temp_files_of_the_target_are_removed_on_the_next_save(tmp_path):
    target = tmp_path / "m.safetensors"
    stale = tmp_path / ".m.safetensors.abc123.tmp"
    other = tmp_path / ".other.safetensors.abc123.tmp"
    stale.write_bytes(b"x" * 100)
    other.write_bytes(b"y")
    # a temp file a live save holds (locked by another process) must survive
    live = tmp_path / ".m.safetensors.live.tmp"
    live.write_bytes(b"z")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,sys,time\n"
            "f=open(sys.argv[1],'rb'); fcntl.flock(f, fcntl.LOCK_EX)\n"
            "print('locked', flush=True); time.sleep(30)",
            str(live),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        st.save(target, {"a": tf.constant([1.0])})
        assert not stale.exists() and other.exists() and live.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            ".m.safetensors.live.tmp",
            ".other.safetensors.abc123.tmp",
            "m.safetensors",
        ]
    finally:
        holder.kill()
        holder.wait()


# -- 18: the data checksum --------------------------------------------------------------


def test_checksum_is_written_and_a_flipped_data_bit_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    data = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
    st.save(path, {"w": tf.constant([1.0, 2.0, 3.0, 4.0])})
    assert st.read_header(path).metadata["data_crc32"] == f"{zlib.crc32(data):08x}"
    assert load_file(path)[0] == {}  # verified by the reader, not handed back as user metadata
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0x10  # inside the tensor data: structurally still a valid file
    with pytest.raises(ValueError, match="CRC-32 .* damaged"):
        load_file(bytes(blob))
    # a file written without the checksum still loads, with the structural checks only
    st.save(path, {"w": tf.constant([1.0, 2.0, 3.0, 4.0])}, checksum=False)
    meta, t = load_file(path)
    assert "data_crc32" not in st.read_header(path).metadata and t["w"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_a_bad_checksum_value_is_refused():
    header = {"__metadata__": {"data_crc32": "xyz"}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    with pytest.raises(ValueError, match="not 8 lowercase hex digits"):
        load_file(raw_file(header, b"\0" * 4))


# -- 1: HDF5 that reads outside the file ----------------------------------------------


def _import(path):
    from webtensor.io import import_keras

    return import_keras(str(path))


def _hostile_archive(tmp_path, make_kernel):
    from mutate import keras_archive, keras_weights_h5

    h5 = tmp_path / "model.weights.h5"
    keras_weights_h5(h5, make_kernel)
    keras_archive(tmp_path / "m.keras", str(h5))
    return tmp_path / "m.keras"


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.bin"
    path.write_bytes(struct.pack("<12f", *range(12)))  # what the attack would read as the kernel
    return path


def test_external_storage_is_refused_before_reading(tmp_path, secret):
    pytest.importorskip("h5py")
    path = _hostile_archive(tmp_path, lambda v: v.create_dataset("0", (4, 3), "<f4", external=[(str(secret), 0, 48)]))
    with pytest.raises(ValueError, match="external storage is refused"):
        _import(path)


def test_external_and_soft_links_are_refused(tmp_path, secret):
    h5py = pytest.importorskip("h5py")
    import numpy as np

    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("k", data=np.zeros((4, 3), "f4"))

    def external(v):
        v["0"] = h5py.ExternalLink(str(other), "/k")

    def soft(v):
        v.create_dataset("k", data=np.zeros((4, 3), "f4"))
        v["0"] = h5py.SoftLink("/layers/dense/vars/k")

    with pytest.raises(ValueError, match="external link to .*other.h5"):
        _import(_hostile_archive(tmp_path, external))
    with pytest.raises(ValueError, match="is a soft link"):
        _import(_hostile_archive(tmp_path, soft))


def test_virtual_datasets_and_unknown_filters_are_refused(tmp_path, secret):
    h5py = pytest.importorskip("h5py")
    import numpy as np

    src = tmp_path / "src.h5"
    with h5py.File(src, "w") as f:
        f.create_dataset("k", data=np.ones((4, 3), "f4"))

    def virtual(v):
        layout = h5py.VirtualLayout((4, 3), "f4")
        layout[:] = h5py.VirtualSource(str(src), "k", shape=(4, 3))
        v.create_virtual_dataset("0", layout)

    def lzf(v):
        v.create_dataset("0", data=np.ones((4, 3), "f4"), compression="lzf")

    with pytest.raises(ValueError, match="virtual dataset"):
        _import(_hostile_archive(tmp_path, virtual))
    with pytest.raises(ValueError, match="HDF5 filter 32000"):
        _import(_hostile_archive(tmp_path, lzf))


def test_the_plain_archive_and_legacy_h5_import(tmp_path):
    pytest.importorskip("h5py")
    import numpy as np
    from mutate import BIAS, KERNEL, keras_archive, legacy_h5

    x = np.array([[1.0, 2.0, -1.0, 0.5]], "f4")
    want = x @ np.array(KERNEL, "f4") + np.array(BIAS, "f4")
    keras_archive(tmp_path / "a.keras")
    legacy_h5(tmp_path / "b.h5")
    for p in ("a.keras", "b.h5"):
        got = tf.keras.models.load_model(str(tmp_path / p)).predict(x, verbose=0)
        np.testing.assert_allclose(got, want, rtol=1e-6)


# -- 8: zip bombs -------------------------------------------------------------------------


def test_zip_bomb_is_refused_before_decompressing(tmp_path):
    import zipfile

    from mutate import keras_archive

    keras_archive(tmp_path / "ok.keras")
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(tmp_path / "ok.keras") as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("config.json", "metadata.json"):
            z.writestr(name, src.read(name))
        z.writestr("model.weights.h5", b"\0" * (64 << 20))  # 64 MiB of zeros in ~64 KB
    assert os.path.getsize(bomb) < 200_000
    with pytest.raises(ValueError, match="zip bomb"):
        _import(bomb)
    big_meta = tmp_path / "meta.keras"
    keras_archive(big_meta, extra=None)
    with zipfile.ZipFile(tmp_path / "ok.keras") as src, zipfile.ZipFile(big_meta, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("config.json", "model.weights.h5"):
            z.writestr(name, src.read(name))
        z.writestr("metadata.json", b'{"a": "' + b" " * (2 << 20) + b'"}')
    with pytest.raises(ValueError, match="metadata.json declares .* over the 1048576 byte limit"):
        _import(big_meta)


# -- 5: the child process ---------------------------------------------------------------

# a stand-in child that sets its limits as the real one does, then misbehaves
LIMITED = "from webtensor.io import isolated; isolated.apply_env_limits()\n"


def test_a_crashing_or_hanging_importer_is_a_value_error(tmp_path, monkeypatch):
    from mutate import keras_archive
    from webtensor.io import isolated

    path = tmp_path / "a.keras"
    keras_archive(path)
    monkeypatch.setattr(
        isolated,
        "_command",
        lambda *a: [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"],
    )
    with pytest.raises(ValueError, match="died from signal 11"):
        _import(path)
    monkeypatch.setattr(isolated, "_command", lambda *a: [sys.executable, "-c", LIMITED + "while True: pass"])
    with pytest.raises(ValueError, match="ran past 1 s"):
        isolated.read(path, timeout=1)
    # the CPU-time limit holds too (a spin no timeout would catch sooner)
    with pytest.raises(ValueError, match="signal"):
        isolated.read(path, timeout=30, cpu_seconds=1)


def test_memory_limit_applies_to_the_child(tmp_path, monkeypatch):
    from mutate import keras_archive
    from webtensor.io import isolated

    path = tmp_path / "a.keras"
    keras_archive(path)
    monkeypatch.setattr(
        isolated,
        "_command",
        lambda *a: [
            sys.executable,
            "-c",
            LIMITED + "import sys\ntry:\n    bytearray(1 << 30)\nexcept MemoryError:\n    sys.exit(7)",
        ],
    )
    with pytest.raises(ValueError, match="exit 7"):
        isolated.read(path, memory=512 << 20)


# -- 2: the format that validated a file loads it ------------------------------------


def test_a_safetensors_polyglot_starting_with_pk_loads_as_safetensors(tmp_path):
    m = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    m.save(str(tmp_path / "m.safetensors"))
    blob = (tmp_path / "m.safetensors").read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    pk = struct.unpack("<Q", b"PK\x03\x04\0\0\0\0")[0]  # a header length reading as a zip's magic
    poly = struct.pack("<Q", pk) + blob[8 : 8 + n] + b" " * (pk - n) + blob[8 + n :]
    path = tmp_path / "poly.safetensors"
    path.write_bytes(poly)
    assert poly[:4] == b"PK\x03\x04"
    loaded = tf.saving.load_webtensor_model(str(path))
    assert loaded.layers[-1].kernel.numpy().tolist() == m.layers[-1].kernel.numpy().tolist()
    assert tf.keras.models.load_model(str(path)).count_params() == 3
    from mutate import keras_archive

    keras_archive(tmp_path / "k.keras")
    with pytest.raises(ValueError, match="k.keras: invalid model file"):
        tf.saving.load_webtensor_model(str(tmp_path / "k.keras"))


# -- 7: build probes count in the budget ------------------------------------------------


def test_build_probes_of_a_tiny_file_are_refused_past_the_budget(tmp_path):
    d = 8000  # 256 MB per input before the fix: 2.8 GB peak
    a, b = tf.keras.Input((3, 7)), tf.keras.Input((3, 7))
    m = tf.keras.Model([a, b], tf.keras.layers.Add()([a, b]))
    m.save(str(tmp_path / "add.safetensors"))
    blob = (tmp_path / "add.safetensors").read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8 : 8 + n])
    config = header["__metadata__"]["model_config"]
    assert config.count("[null,3,7]") >= 2
    header["__metadata__"]["model_config"] = config.replace("[null,3,7]", f"[null,{d},{d}]")
    path = tmp_path / "big.safetensors"
    path.write_bytes(raw_file(header, blob[8 + n :]))
    assert os.path.getsize(path) < 10_000
    with pytest.raises(ValueError, match="building the model config's layers needs more memory"):
        tf.keras.models.load_model(str(path))


def test_damaged_zips_raise_value_errors_naming_the_file(tmp_path):
    import zipfile

    from mutate import keras_archive

    blob = bytearray(keras_archive(tmp_path / "ok.keras"))
    # compression method 99 in every header: zipfile raises NotImplementedError
    weird = bytearray(blob)
    for sig, at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        i = weird.find(sig)
        while i >= 0:
            weird[i + at : i + at + 2] = struct.pack("<H", 99)
            i = weird.find(sig, i + 4)
    (tmp_path / "method.keras").write_bytes(bytes(weird))
    with pytest.raises(ValueError, match=r"method\.keras: not a readable Keras file: NotImplementedError"):
        _import(tmp_path / "method.keras")
    with zipfile.ZipFile(tmp_path / "ok.keras") as src, zipfile.ZipFile(tmp_path / "utf.keras", "w") as z:
        for name in ("metadata.json", "model.weights.h5"):
            z.writestr(name, src.read(name))
        z.writestr("config.json", b'{"a": "\xff\xfe"}')  # not UTF-8
    with pytest.raises(ValueError, match=r"utf\.keras: .*config\.json is not UTF-8"):
        _import(tmp_path / "utf.keras")


def _with_time_steps(tmp_path, model, t0: int, t: int):
    """``model`` saved, then its config's time dimension t0 rewritten to t (a hostile file)."""
    model.save(str(tmp_path / "small.safetensors"))
    blob = (tmp_path / "small.safetensors").read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8 : 8 + n])
    config = header["__metadata__"]["model_config"]
    assert config.count(f"[null,{t0},3]") >= 2
    header["__metadata__"]["model_config"] = config.replace(f"[null,{t0},3]", f"[null,{t},3]")
    path = tmp_path / "long.safetensors"
    path.write_bytes(raw_file(header, blob[8 + n :]))
    return path


def test_building_a_bidirectional_rnn_never_runs_the_declared_time_steps(tmp_path, monkeypatch):
    from webtensor.keras.layers import rnn

    t = 100_000  # 9.6 s before: the build probes ran both directions over every step, twice
    x = tf.keras.Input((5, 3))
    m = tf.keras.Model(x, tf.keras.layers.Bidirectional(tf.keras.layers.SimpleRNN(4))(x))
    path = _with_time_steps(tmp_path, m, 5, t)
    assert os.path.getsize(path) < 10_000
    steps = []
    real = rnn.SimpleRNNCell._step
    monkeypatch.setattr(rnn.SimpleRNNCell, "_step", lambda self, *a: steps.append(1) or real(self, *a))
    loaded = tf.keras.models.load_model(str(path))
    assert len(steps) == 0
    assert tuple(loaded.outputs[0].shape) == (None, 8)
    assert [w.shape for w in loaded.get_weights()] == [w.shape for w in m.get_weights()]


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_shape_rules_need_no_time_loop(monkeypatch, merge_mode, return_sequences):
    from webtensor.keras.layers import rnn

    steps = []
    real = rnn.LSTMCell._step
    monkeypatch.setattr(rnn.LSTMCell, "_step", lambda self, *a: steps.append(1) or real(self, *a))
    layers = tf.keras.layers
    bu = 4 if merge_mode == "sum" else 2  # a backward layer of its own width, where the merge allows it
    bi = layers.Bidirectional(
        layers.LSTM(4, return_sequences=return_sequences, return_state=True),
        merge_mode=merge_mode,
        backward_layer=layers.LSTM(bu, return_sequences=return_sequences, return_state=True, go_backwards=True),
    )
    out = bi(tf.keras.Input((7, 3)))
    assert len(steps) == 0
    y = (None, 7) if return_sequences else (None,)
    merged = {"concat": [y + (4 + bu,)], "sum": [y + (4,)], None: [y + (4,), y + (bu,)]}[merge_mode]
    states = [(None, 4)] * 2 + [(None, bu)] * 2
    assert [tuple(o.shape) for o in out] == merged + states
    eager = bi(tf.zeros((2, 7, 3)))  # the rule agrees with running the layer
    assert len(steps) == 2 * 7
    assert [tuple(o.shape) for o in eager] == [(2,) + s[1:] for s in merged + states]
