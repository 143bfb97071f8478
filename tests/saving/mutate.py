"""A seeded mutator for model files: byte-level damage and header-aware edits.

Shared by tests/saving/test_fuzz_model_files.py (a bounded CI run) and
benchmarks/fuzz_model_files.py (the 10,000-mutation run). The same seed gives
the same mutations, so a failure is reproduced by its seed and index.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import struct

EDGE_INTS = [
    0,
    1,
    -1,
    2,
    7,
    8,
    255,
    256,
    2**31 - 1,
    2**31,
    2**32,
    2**53,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63),
    10**30,
    100 * 1024 * 1024,
    100 * 1024 * 1024 + 1,
]
EDGE_STRINGS = [
    "F32",
    "F16",
    "F64",
    "I32",
    "I64",
    "U8",
    "U32",
    "BOOL",
    "BF16",
    "F8_E4M3",
    "",
    "f32",
    "__metadata__",
    "\x00",
    "../../etc/passwd",
    "\u00e9\u4e2d",
    "x" * 300,
    '{"class_name": "Lambda"}',
    "webtensor",
    "1",
    "2",
]


def split(blob: bytes):
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8 : 8 + n]), blob[8 + n :]


def join(header, data: bytes, length: int | None = None) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def _random_value(rng: random.Random):
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(EDGE_INTS)
    if kind == 1:
        return rng.choice(EDGE_STRINGS)
    if kind == 2:
        return [rng.choice(EDGE_INTS) for _ in range(rng.randrange(4))]
    if kind == 3:
        return None
    if kind == 4:
        return rng.random() * rng.choice([1, 1e10, -1])
    if kind == 5:
        return {}
    if kind == 6:
        return rng.choice([True, False])
    return rng.randrange(-10, 1000)


def _paths(obj, path=()):
    yield path
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, path + (i,))


def _get(obj, path):
    for p in path:
        obj = obj[p]
    return obj


def _mutate_tree(tree, rng: random.Random):
    """Change, delete or add one node anywhere in a JSON tree (in place)."""
    paths = list(_paths(tree))
    path = rng.choice(paths[1:]) if len(paths) > 1 else ()
    if not path:
        return _random_value(rng)
    parent, key = _get(tree, path[:-1]), path[-1]
    op = rng.randrange(4)
    if op == 0:
        parent[key] = _random_value(rng)
    elif op == 1:
        del parent[key]
    elif op == 2 and isinstance(parent, list):
        parent.insert(key, _random_value(rng))
    elif op == 2:
        parent[rng.choice(EDGE_STRINGS)] = _random_value(rng)
    else:
        v = parent[key]
        if isinstance(v, int) and not isinstance(v, bool):
            parent[key] = v + rng.choice([-1, 1, -8, 8, 2**32])
        elif isinstance(v, str):
            parent[key] = v[: rng.randrange(len(v) + 1)]
        else:
            parent[key] = _random_value(rng)
    return tree


def _mutate_metadata(header, rng: random.Random):
    """Edit the JSON inside a metadata string (the model config), keeping it a string."""
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or not meta:
        return _mutate_tree(header, rng)
    configs = [k for k in sorted(meta) if isinstance(meta[k], str) and meta[k].startswith("{")]
    key = rng.choice(configs if configs and rng.random() < 0.85 else sorted(meta, key=str))
    try:
        inner = json.loads(meta[key])
    except (ValueError, TypeError):
        inner = None
    if isinstance(inner, (dict, list)):
        meta[key] = json.dumps(_mutate_tree(inner, rng))
    else:
        meta[key] = rng.choice(EDGE_STRINGS)
    return header


def mutate(blob: bytes, rng: random.Random, config_bias: float = 0.0, binary: bool = False) -> bytes:
    """One random mutation of a valid file; ``config_bias`` is the share of edits aimed
    at the JSON inside the metadata (the model config), the rest spread over all kinds.
    ``binary``: byte-level edits only (a file that is not safetensors: zip, HDF5)."""
    if binary:
        op = rng.randrange(7)
    else:
        op = rng.choice((9, 10)) if rng.random() < config_bias else rng.randrange(12)
    b = bytearray(blob)
    if op == 0:  # flip a bit
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    elif op == 1:  # overwrite a few bytes
        for _ in range(rng.randrange(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif op == 2:  # truncate
        del b[rng.randrange(len(b)) :]
    elif op == 3:  # append junk
        b += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    elif op == 4:  # a strange header length
        b[:8] = struct.pack("<Q", rng.choice(EDGE_INTS + [len(b) - 8, len(b) - 7]) % 2**64)
    elif op == 5:  # cut a range out
        i = rng.randrange(len(b))
        del b[i : i + rng.randrange(1, 32)]
    elif op == 6:  # duplicate a range
        i = rng.randrange(len(b))
        b[i:i] = b[i : i + rng.randrange(1, 32)]
    else:
        header, data = split(blob)
        if op in (7, 8):
            header = _mutate_tree(header, rng)
        elif op in (9, 10):
            header = _mutate_metadata(header, rng)
        else:  # a duplicate key spliced into the JSON text
            names = [k for k in header if k != "__metadata__"] or ["x"]
            k = rng.choice(names)
            h = json.dumps(header)
            h = h[:-1] + f", {json.dumps(k)}: {json.dumps(header.get(k, 1))}}}"
            return struct.pack("<Q", len(h.encode())) + h.encode() + data
        length = None if rng.random() < 0.8 else rng.choice(EDGE_INTS) % 2**64
        return join(header, data, length)
    return bytes(b)


def mutations(blob: bytes, seed: int, count: int, config_bias: float = 0.0):
    """``count`` mutated files (1-3 stacked mutations each), reproducible from seed."""
    rng = random.Random(seed)
    for _ in range(count):
        out = blob
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            try:
                out = mutate(out, rng, config_bias)
            except (ValueError, KeyError, IndexError, struct.error, UnicodeDecodeError):
                out = mutate(blob, rng, config_bias) if out is not blob else out
                break
        yield out


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` in the loader hides it."""


@contextlib.contextmanager
def hang_guard(seconds: int):
    """Turn a hang into a failure (SIGALRM where it exists; the page has none)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def boom(*_):
        raise Hang(f"loader still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_fuzz(blob: bytes, load, seed: int, count: int, config_bias: float = 0.0) -> dict:
    """Load every mutation; return counts by outcome. Any exception but ValueError fails."""
    outcomes = {"loaded": 0, "ValueError": 0}
    for i, bad in enumerate(mutations(blob, seed, count, config_bias)):
        try:
            with hang_guard(20):
                load(bad)
            outcomes["loaded"] += 1
        except ValueError:
            outcomes["ValueError"] += 1
        except Hang as e:
            raise AssertionError(f"mutation {i} (seed {seed}): {e}: a hang") from e
        except Exception as e:  # noqa: BLE001 - the property under test
            raise AssertionError(
                f"mutation {i} (seed {seed}) raised {type(e).__name__}: {e}\nfile head: {bytes(bad[:200])!r}"
            ) from e
    return outcomes


# -- valid files to start from ------------------------------------------------------


def weights_file(tmp_path) -> bytes:
    import webtensor as tf
    from webtensor.saving import safetensors as st

    path = tmp_path / "w.safetensors"
    st.save(
        path,
        {
            "dense/kernel": tf.reshape(tf.range(12, dtype=tf.float32), (3, 4)),
            "dense/bias": tf.constant([0.5, -0.5, 1.0, 2.0]),
            "half": tf.constant([1.0, 2.0], tf.float16),
            "steps": tf.constant(7, tf.int64),
            "mask": tf.constant([True, False, True]),
        },
        {"format": "webtensor", "format_version": "1", "note": "fuzz"},
    )
    return path.read_bytes()


def model_file(tmp_path) -> bytes:
    """A compiled, trained model with Dense, Conv2D, BatchNormalization and an optimizer."""
    import webtensor as tf

    L = tf.keras.layers
    m = tf.keras.Sequential(
        [
            tf.keras.Input((4, 4, 1)),
            L.Conv2D(2, 3, activation="relu"),
            L.Flatten(),
            L.BatchNormalization(),
            L.Dense(3, activation="softmax"),
        ]
    )
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = tf.random.uniform((8, 4, 4, 1))
    m.fit(x, tf.constant([0, 1, 2, 0, 1, 2, 0, 1]), epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "m.safetensors"
    m.save(str(path))
    return path.read_bytes()


# -- Keras files written with h5py/zipfile (no Keras needed) ---------------------------

KERNEL = [[0.5, -1.0, 0.25], [1.5, 0.0, -0.5], [2.0, 1.0, 0.75], [-0.25, 0.5, 1.0]]
BIAS = [0.1, -0.2, 0.3]


def _dense_config() -> dict:
    import webtensor as tf

    from webtensor.keras import saving as ks

    m = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3, name="dense")], name="seq")
    config = ks.serialize_keras_object(m)
    config.pop("compile_config", None)
    return config


def keras_weights_h5(path, kernel_kwargs=None) -> None:
    """Keras 3 ``model.weights.h5`` layout for the Dense(3) model; ``kernel_kwargs``
    replace the kernel dataset's creation arguments (hostile storage)."""
    import h5py
    import numpy as np

    with h5py.File(path, "w") as f:
        v = f.create_group("layers").create_group("dense").create_group("vars")
        if kernel_kwargs is None:
            v.create_dataset("0", data=np.array(KERNEL, "<f4"), track_times=False)
        else:
            kernel_kwargs(v)
        v.create_dataset("1", data=np.array(BIAS, "<f4"), track_times=False)


def keras_archive(path, weights_path=None, extra=None) -> bytes:
    """A Keras 3 ``.keras`` zip: config.json, metadata.json, model.weights.h5."""
    import zipfile

    weights_path = weights_path or str(path) + ".weights.h5"
    if not __import__("os").path.exists(weights_path):
        keras_weights_h5(weights_path)
    parts = {
        "config.json": json.dumps(_dense_config()),
        "metadata.json": json.dumps({"keras_version": "3.5.0"}),
        "model.weights.h5": open(weights_path, "rb").read(),
        **(extra or {}),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(_fixed_time(name), data)
    return open(path, "rb").read()


def legacy_h5(path) -> bytes:
    """A Keras 2 style ``model.save('x.h5')`` file for the Dense(3) model."""
    import h5py
    import numpy as np

    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(_dense_config())
        f.attrs["keras_version"] = "2.15.0"
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = [b"dense"]
        g = mw.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        g.create_dataset("dense/kernel:0", data=np.array(KERNEL, "<f4"), track_times=False)
        g.create_dataset("dense/bias:0", data=np.array(BIAS, "<f4"), track_times=False)
    return open(path, "rb").read()


def keras_mutations(archive: bytes, seed: int, count: int):
    """Mutated ``.keras`` archives: a third damage the zip's bytes, a third the HDF5
    weights inside (re-zipped, so h5py parses them), a third the config JSON."""
    import io
    import zipfile

    rng = random.Random(seed)
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    for _ in range(count):
        kind = rng.randrange(3)
        if kind == 0:
            yield mutate(archive, rng, binary=True)
            continue
        parts = dict(members)
        if kind == 1:
            parts["model.weights.h5"] = mutate(parts["model.weights.h5"], rng, binary=True)
        else:
            parts["config.json"] = json.dumps(_mutate_tree(json.loads(parts["config.json"]), rng)).encode()
        buf = io.BytesIO()
        method = rng.choice((zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED))
        with zipfile.ZipFile(buf, "w") as z:
            for name, data in parts.items():
                z.writestr(_fixed_time(name, method), data)
        yield buf.getvalue()


def _fixed_time(name: str, method=None):
    """A zip member dated 2020-01-01 (deflated by default): the same bytes on every run."""
    import zipfile

    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED if method is None else method
    return info


def h5_mutations(blob: bytes, seed: int, count: int):
    """Byte-level damage to an HDF5 file, 1-3 edits each."""
    rng = random.Random(seed)
    for _ in range(count):
        out = blob
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            out = mutate(out, rng, binary=True) if out else blob
        yield out or blob


def run_file_fuzz(files, load, suffix: str, tmp_path, seed: int = 0) -> dict:
    """Write each mutated file to ``tmp_path/f<suffix>`` and load it by path: only
    ``ValueError`` (or a load) may come out; anything else, or a hang, fails."""
    outcomes = {"loaded": 0, "ValueError": 0}
    path = tmp_path / f"f{suffix}"
    for i, bad in enumerate(files):
        path.write_bytes(bad)
        try:
            with hang_guard(60):
                load(str(path))
            outcomes["loaded"] += 1
        except ValueError:
            outcomes["ValueError"] += 1
        except Hang as e:
            raise AssertionError(f"{suffix} mutation {i} (seed {seed}): {e}: a hang") from e
        except Exception as e:  # noqa: BLE001 - the property under test
            raise AssertionError(f"{suffix} mutation {i} (seed {seed}) raised {type(e).__name__}: {e}") from e
    return outcomes
