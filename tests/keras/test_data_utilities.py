"""keras.utils image/text_dataset_from_directory, get_file, keras.datasets (from a cache we
write), split_dataset; tf.image.decode_png against Pillow's encoder."""

import gzip
import io
import os
import random
import tarfile
import zipfile

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

import webtensor as tf

pytestmark = [pytest.mark.native, pytest.mark.numpy]
PIL = pytest.importorskip("PIL.Image")


def _png(arr, mode=None, interlace=0) -> bytes:
    b = io.BytesIO()
    PIL.fromarray(arr, mode).save(b, format="PNG", interlace=interlace)
    return b.getvalue()


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "1", "I;16"])
@pytest.mark.parametrize("interlace", [0, 1])
def test_decode_png_matches_pillow(mode, interlace):
    rng = np.random.default_rng(len(mode) + interlace)
    if mode == "P":
        im = PIL.fromarray(rng.integers(0, 255, (5, 7, 3)).astype("uint8")).convert("P", colors=6)
        want = np.array(im.convert("RGB"))
    elif mode == "1":
        im = PIL.fromarray(rng.integers(0, 2, (9, 13)).astype(bool))
        want = np.array(im).astype("uint8")[..., None] * 255
    elif mode == "I;16":
        im = PIL.fromarray(rng.integers(0, 65535, (4, 6)).astype("uint16"))
        want = np.array(im)[..., None]
    else:
        c = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
        im = PIL.fromarray(rng.integers(0, 255, (6, 5, c) if c > 1 else (6, 5)).astype("uint8"), mode)
        want = np.array(im).reshape(6, 5, c)
    b = io.BytesIO()
    im.save(b, format="PNG", interlace=interlace)
    got = tf.image.decode_png(b.getvalue(), dtype="uint16" if mode == "I;16" else tf.uint8).numpy()
    np.testing.assert_array_equal(got, want)


def test_decode_png_channels_and_bad_files():
    rgb = np.arange(2 * 3 * 3, dtype="uint8").reshape(2, 3, 3) * 10
    data = _png(rgb)
    rgba = tf.image.decode_png(data, channels=4).numpy()
    np.testing.assert_array_equal(rgba[..., :3], rgb)
    assert (rgba[..., 3] == 255).all()
    gray = tf.image.decode_png(_png(rgb[..., 0]), channels=3).numpy()
    np.testing.assert_array_equal(gray, np.repeat(rgb[..., :1], 3, axis=2))
    with pytest.raises(tf.errors.InvalidArgumentError, match="signature"):
        tf.image.decode_png(b"not a png")
    for cut in (10, 30, len(data) - 5):
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.image.decode_png(data[:cut])
    bad = bytearray(data)
    bad[40] ^= 0xFF
    with pytest.raises(tf.errors.InvalidArgumentError, match="CRC"):
        tf.image.decode_png(bytes(bad))
    with pytest.raises(tf.errors.InvalidArgumentError, match="JPEG"):
        tf.image.decode_image(b"\xff\xd8\xff\xe0rest")


@pytest.fixture
def image_dir(tmp_path):
    rng = np.random.default_rng(0)
    images = {}
    for cls, n in (("cat", 4), ("dog", 6)):
        os.makedirs(tmp_path / cls / "sub")
        for i in range(n):
            arr = rng.integers(0, 255, (5 + i, 8, 3)).astype("uint8")
            rel = os.path.join(cls, "sub" if i == 0 else "", f"{i}.png")
            (tmp_path / rel).write_bytes(_png(arr))
            images[str(tmp_path / rel)] = arr
    (tmp_path / "cat" / "notes.txt").write_text("ignored")
    return tmp_path, images


def test_image_dataset_from_directory(image_dir, capsys):
    root, images = image_dir
    ds = tf.keras.utils.image_dataset_from_directory(str(root), image_size=(4, 4), batch_size=3, shuffle=False)
    assert "Found 10 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["cat", "dog"]
    # Keras's order without shuffling: classes sorted, files sorted while walking each class folder
    assert [os.path.relpath(p, root) for p in ds.file_paths][:4] == [
        "cat/1.png",
        "cat/2.png",
        "cat/3.png",
        "cat/sub/0.png",
    ]
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.shape == (10, 4, 4, 3) and x.dtype == np.float32 and y.tolist() == [0] * 4 + [1] * 6
    want = tf.image.resize(images[ds.file_paths[0]].astype("float32"), (4, 4)).numpy()
    np.testing.assert_allclose(x[0], want, rtol=1e-6)


def test_image_dataset_split_shuffle_and_modes(image_dir):
    root, _ = image_dir
    train, val = tf.keras.utils.image_dataset_from_directory(
        str(root),
        image_size=(3, 3),
        batch_size=None,
        validation_split=0.3,
        subset="both",
        seed=5,
        label_mode="categorical",
        color_mode="grayscale",
        verbose=False,
    )
    assert len(train.file_paths) == 7 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    unshuffled = tf.keras.utils.image_dataset_from_directory(str(root), shuffle=False, verbose=False).file_paths
    np.random.RandomState(5).shuffle(unshuffled)  # Keras: one global numpy shuffle by seed, then the split
    assert train.file_paths + val.file_paths == unshuffled
    x, y = next(iter(train))
    assert x.shape == (3, 3, 1) and y.shape == (2,) and y.dtype is tf.float32
    with pytest.raises(ValueError, match="seed"):
        tf.keras.utils.image_dataset_from_directory(str(root), validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="exactly 2"):
        tf.keras.utils.image_dataset_from_directory(str(root), label_mode="binary", class_names=["cat"])
    with pytest.raises(ValueError, match="color_mode"):
        tf.keras.utils.image_dataset_from_directory(str(root), color_mode="cmyk")
    os.makedirs(root / "empty" / "none")
    with pytest.raises(ValueError, match="No images found"):
        tf.keras.utils.image_dataset_from_directory(str(root / "empty"), verbose=False)


def test_text_dataset_from_directory(tmp_path):
    for cls, texts in (("neg", ["bad", "awful film"]), ("pos", ["good", "great", "fine"])):
        os.makedirs(tmp_path / cls)
        for i, t in enumerate(texts):
            (tmp_path / cls / f"{i}.txt").write_text(t)
    ds = tf.keras.utils.text_dataset_from_directory(
        str(tmp_path), batch_size=2, shuffle=False, max_length=4, label_mode="binary", verbose=False
    )
    texts, labels = [], []
    for x, y in ds:
        texts += x.numpy().tolist()
        labels += y.numpy().ravel().tolist()
    assert texts == [b"bad", b"awfu", b"good", b"grea", b"fine"] and labels == [0, 0, 1, 1, 1]


def test_get_file_cache_local_origin_and_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    src = tmp_path / "data.csv"
    src.write_text("a,b\n1,2\n")
    path = tf.keras.utils.get_file(origin=str(src))
    assert path == str(tmp_path / "home" / "datasets" / "data.csv") and open(path).read() == "a,b\n1,2\n"
    assert tf.keras.utils.get_file("data.csv", origin="https://example.invalid/data.csv") == path  # cached
    with pytest.raises(FileNotFoundError, match="downloads are not available.*save it as"):
        tf.keras.utils.get_file("other.csv", origin="https://example.invalid/other.csv")
    with pytest.raises(FileNotFoundError, match="hash"):
        tf.keras.utils.get_file("data.csv", origin="https://example.invalid/data.csv", file_hash="0" * 64)
    arch = tmp_path / "arch.tar.gz"
    with tarfile.open(arch, "w:gz") as t:
        t.add(src, arcname="inner/data.csv")
    out = tf.keras.utils.get_file("arch.tar.gz", origin=str(arch), extract=True)
    assert open(os.path.join(out, "inner", "data.csv")).read().startswith("a,b")
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        tf.keras.utils.get_file("a/b.csv", origin="x")


def test_datasets_read_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    d = tmp_path / "datasets"
    os.makedirs(d / "fashion-mnist")
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, (6, 28, 28)).astype("uint8")
    y = np.arange(6, dtype="uint8")
    np.savez(d / "mnist.npz", x_train=x[:4], y_train=y[:4], x_test=x[4:], y_test=y[4:])
    (xt, yt), (xv, yv) = tf.keras.datasets.mnist.load_data()
    np.testing.assert_array_equal(xt, x[:4])
    np.testing.assert_array_equal(yv, y[4:])
    for name, arr, off in (
        ("train-labels-idx1-ubyte.gz", y[:4], 8),
        ("train-images-idx3-ubyte.gz", x[:4], 16),
        ("t10k-labels-idx1-ubyte.gz", y[4:], 8),
        ("t10k-images-idx3-ubyte.gz", x[4:], 16),
    ):
        with gzip.open(d / "fashion-mnist" / name, "wb") as f:
            f.write(b"\0" * off + arr.tobytes())
    (xt, yt), _ = tf.keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(xt, x[:4])
    seqs = np.empty(3, dtype=object)
    seqs[:] = [[1, 2], [3, 4, 5], [6]]
    np.savez(d / "reuters.npz", x=seqs, y=np.array([0, 1, 2]))
    (rx, ry), (tx, ty) = tf.keras.datasets.reuters.load_data(test_split=1 / 3)
    order = np.arange(3)
    np.random.RandomState(113).shuffle(order)
    shifted = [[1] + [w + 3 for w in [[1, 2], [3, 4, 5], [6]][i]] for i in order]
    top = max(max(s) for s in shifted)  # Keras: num_words=None is the largest index, itself out of range
    want = [[w if w < top else 2 for w in s] for s in shifted]
    assert [list(s) for s in rx] == want[:2] and [list(s) for s in tx] == want[2:]
    with pytest.raises(FileNotFoundError, match="cifar-10"):
        tf.keras.datasets.cifar10.load_data()


def test_restricted_unpickler_refuses_code(tmp_path, monkeypatch):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    os.makedirs(tmp_path / "datasets")
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    with zipfile.ZipFile(tmp_path / "datasets" / "imdb.npz", "w") as z:
        z.writestr("x_train.npy", b"\x93NUMPY\x01\x00" + buf.getvalue()[8:] + pickle.dumps(Evil()))
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        tf.keras.datasets.imdb.load_data()


def test_split_dataset_keras_order():
    x = np.arange(10, dtype="float32")
    left, right = tf.keras.utils.split_dataset((x, x * 2), left_size=0.8, shuffle=True, seed=3)
    order = list(range(10))
    random.seed(3)
    random.shuffle(order)  # Keras 3: random.seed(seed); random.shuffle(samples)
    assert [int(a) for a, _ in left.as_numpy_iterator()] == order[:8]
    assert [int(a) for a, _ in right.as_numpy_iterator()] == order[8:]
    left, right = tf.keras.utils.split_dataset(tf.data.Dataset.range(7).batch(3), right_size=2)
    assert [b.tolist() for b in left.as_numpy_iterator()] == [[0, 1, 2], [3, 4]]
    assert [b.tolist() for b in right.as_numpy_iterator()] == [[5, 6]]
    with pytest.raises(ValueError, match="At least one"):
        tf.keras.utils.split_dataset(x)
    with pytest.raises(ValueError, match="left_size"):
        tf.keras.utils.split_dataset(x, left_size=10)
