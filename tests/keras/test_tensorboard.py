"""tf.summary event files, read back with the real ``tensorboard`` package (its legacy
EventAccumulator and the data provider TensorBoard's dashboards use), plus the format's
checksums against published CRC-32C vectors (those also run in the page)."""

import glob
import os
import re
import struct

import pytest

import webtensor as tf
from webtensor.summary.records import crc32c, frame, masked_crc32c


# -- the container format (no tensorboard needed) -------------------------------------------


def test_crc32c_published_vectors():
    # RFC 3720 (iSCSI) appendix B.4 and the usual check value.
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C


def test_record_framing():
    data = b"hello"
    rec = frame(data)
    assert rec[:8] == struct.pack("<Q", 5)
    c = crc32c(rec[:8])
    assert struct.unpack("<I", rec[8:12])[0] == (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert rec[12:17] == data and struct.unpack("<I", rec[17:])[0] == masked_crc32c(data)


def test_histogram_buckets_by_hand():
    # Runs in the page too: TensorBoard's bucketing on our ops, read back without numpy.
    from webtensor.summary.summaries import _buckets

    rows = _buckets(tf.constant([[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0]]), 5)
    edges = [0.0, 1.8, 3.6, 5.4, 7.2, 9.0]
    assert len(rows) == 5
    for i, (lo, hi, n) in enumerate(rows):
        assert abs(lo - edges[i]) < 1e-12 and abs(hi - edges[i + 1]) < 1e-12 and n == 2.0
    assert _buckets(tf.constant([-1, -1]), 2) == [[-1.0, -1.0, 0.0], [-1.0, -1.0, 2.0]]
    assert _buckets([], 2) == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert _buckets([1.0, 2.0], 0) == []


def test_writer_file_name_and_first_record(tmp_path):
    w = tf.summary.create_file_writer(str(tmp_path / "run"))
    name = os.path.basename(w.path)
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\..+\.{os.getpid()}\.\d+\.v2", name), name
    raw = open(w.path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert len(raw) == n + 16 and b"brain.Event:2" in raw[12 : 12 + n]
    other = tf.summary.create_file_writer(str(tmp_path / "run"))
    assert other.path != w.path


def test_no_writer_no_step_and_record_if(tmp_path):
    assert not bool(tf.summary.scalar("x", 1.0, step=0))  # no default writer: nothing written
    w = tf.summary.create_file_writer(str(tmp_path))
    size = os.path.getsize(w.path)
    with w.as_default():
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.scalar("x", 1.0)
        with tf.summary.record_if(False):
            assert not bool(tf.summary.scalar("x", 1.0, step=0))
        with tf.summary.record_if(lambda: True):
            assert bool(tf.summary.scalar("x", 1.0, step=0))
    assert os.path.getsize(w.path) > size  # leaving as_default flushed
    with pytest.raises(ValueError, match="scalar"):
        with w.as_default(step=1):
            tf.summary.scalar("v", tf.constant([1.0, 2.0]))


def test_as_default_restores_only_a_step_it_set(tmp_path):
    w = tf.summary.create_file_writer(str(tmp_path))
    tf.summary.experimental.set_step(5)
    with w.as_default(step=1):
        assert tf.summary.experimental.get_step() == 1
    assert tf.summary.experimental.get_step() == 5
    with w.as_default():
        tf.summary.experimental.set_step(9)
    assert tf.summary.experimental.get_step() == 9
    tf.summary.experimental.set_step(None)
    noop = tf.summary.create_noop_writer()
    with noop.as_default():
        assert not bool(tf.summary.scalar("x", 1.0, step=0))


def test_queue_flushes_after_max_queue_and_on_flush(tmp_path):
    w = tf.summary.create_file_writer(str(tmp_path), max_queue=2)
    size = os.path.getsize(w.path)
    with w.as_default(step=0):
        tf.summary.scalar("a", 1.0)
        tf.summary.scalar("a", 2.0)
        assert os.path.getsize(w.path) == size  # still queued
        tf.summary.scalar("a", 3.0)  # the queue exceeds max_queue
        grown = os.path.getsize(w.path)
        assert grown > size
        tf.summary.scalar("a", 4.0)
        tf.summary.flush()
        assert os.path.getsize(w.path) > grown
    w.close()
    with pytest.raises(RuntimeError, match="closed"):
        w.set_as_default()


# -- read back with TensorBoard -------------------------------------------------------------


def _accumulator(logdir):
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = ea.EventAccumulator(str(logdir), size_guidance={ea.TENSORS: 0})
    acc.Reload()
    return acc


def _arrays(acc, tag):
    from tensorboard.util import tensor_util

    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


def _dashboard(logdir, plugin):
    """What TensorBoard's dashboards read: its data provider over the plugin event multiplexer."""
    pem = pytest.importorskip("tensorboard.backend.event_processing.plugin_event_multiplexer")
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider

    m = pem.EventMultiplexer()
    m.AddRunsFromDirectory(str(logdir))
    m.Reload()
    dp = data_provider.MultiplexerDataProvider(m, str(logdir))
    ctx = context.RequestContext()
    if plugin == "scalars":
        return dp.read_scalars(ctx, experiment_id="", plugin_name=plugin, downsample=1000)
    return dp.read_tensors(ctx, experiment_id="", plugin_name=plugin, downsample=1000)


@pytest.mark.native
def test_scalars_read_back(tmp_path):
    w = tf.summary.create_file_writer(str(tmp_path / "run"))
    step = tf.Variable(0, dtype=tf.int64)
    with w.as_default():
        for i in range(3):
            step.assign(i)
            tf.summary.scalar("loss", 1.0 / (i + 1), step=step)
        tf.summary.experimental.set_step(7)
        tf.summary.scalar("acc", tf.constant(0.75))
        tf.summary.scalar("big", tf.constant(3, tf.int64), step=2**40)
        tf.summary.scalar("neg", 2.5, step=-3)
        tf.summary.scalar("ünï/cödé", 1e39, step=1)
    tf.summary.experimental.set_step(None)
    acc = _accumulator(tmp_path / "run")
    assert acc.file_version == 2.0
    loss = _arrays(acc, "loss")
    assert [s for s, _ in loss] == [0, 1, 2]
    assert [float(v) for _, v in loss] == [1.0, 0.5, struct.unpack("<f", struct.pack("<f", 1 / 3))[0]]
    assert all(v.dtype.name == "float32" and v.shape == () for _, v in loss)
    assert _arrays(acc, "acc") == [(7, 0.75)]
    assert _arrays(acc, "big") == [(2**40, 3.0)]
    assert _arrays(acc, "neg") == [(-3, 2.5)]
    assert _arrays(acc, "ünï/cödé")[0][1] == float("inf")
    assert acc.SummaryMetadata("loss").plugin_data.plugin_name == "scalars"
    board = _dashboard(tmp_path, "scalars")["run"]
    assert [(d.step, d.value) for d in board["acc"]] == [(7, 0.75)]
    assert [d.value for d in board["loss"]] == [float(v) for _, v in loss]


@pytest.mark.native
def test_histogram_buckets_as_tensorboard(tmp_path):
    w = tf.summary.create_file_writer(str(tmp_path / "run"))
    with w.as_default(step=3):
        # 0..9 in 5 buckets of width 1.8: floor(x / 1.8) = 0,0,1,1,2,2,3,3,4,5->4
        tf.summary.histogram("h", tf.constant([float(v) for v in range(10)]), buckets=5)
        tf.summary.histogram("same", tf.Variable([2.0, 2.0, 2.0]), buckets=3)
        tf.summary.histogram("empty", tf.zeros([0]), buckets=2)
        tf.summary.histogram("ints", [[1, 2], [3, 4]], buckets=3, description="some ints")
    acc = _accumulator(tmp_path / "run")
    ((step, h),) = _arrays(acc, "h")
    assert step == 3 and h.dtype.name == "float64" and h.shape == (5, 3)
    edges = [0.0, 1.8, 3.6, 5.4, 7.2, 9.0]
    for i in range(5):
        assert h[i][0] == pytest.approx(edges[i]) and h[i][1] == pytest.approx(edges[i + 1]) and h[i][2] == 2.0
    assert h[4][1] == 9.0
    assert _arrays(acc, "same")[0][1].tolist() == [[2.0, 2.0, 0.0], [2.0, 2.0, 0.0], [2.0, 2.0, 3.0]]
    assert _arrays(acc, "empty")[0][1].tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    # 1..4 in 3 buckets of width 1: floor(x - 1) = 0,1,2,3->2
    assert [r[2] for r in _arrays(acc, "ints")[0][1].tolist()] == [1.0, 1.0, 2.0]
    meta = acc.SummaryMetadata("ints")
    assert meta.plugin_data.plugin_name == "histograms" and meta.summary_description == "some ints"
    board = _dashboard(tmp_path, "histograms")["run"]
    assert board["h"][0].numpy.tolist() == h.tolist()


@pytest.mark.native
def test_text_and_generic_write(tmp_path):
    w = tf.summary.create_file_writer(str(tmp_path / "run"))
    with w.as_default(step=1):
        tf.summary.text("note", "**bold** é")
        tf.summary.text("table", [["a", "b"], ["c", "d"]])
        tf.summary.write("raw", tf.constant([[1, 2, 3]], tf.int32), metadata=b"")
        tf.summary.write("lazy", lambda: tf.constant(2.5, tf.float64))
    acc = _accumulator(tmp_path / "run")
    assert _arrays(acc, "note")[0][1] == "**bold** é".encode()
    assert _arrays(acc, "table")[0][1].tolist() == [[b"a", b"b"], [b"c", b"d"]]
    raw = _arrays(acc, "raw")[0][1]
    assert raw.dtype.name == "int32" and raw.tolist() == [[1, 2, 3]]
    assert _arrays(acc, "lazy")[0][1] == 2.5
    assert acc.SummaryMetadata("note").plugin_data.plugin_name == "text"
    assert _dashboard(tmp_path, "text")["run"]["note"][0].numpy == "**bold** é".encode()


@pytest.mark.native
def test_events_are_tensorflow_protos(tmp_path):
    """Every record decodes as a tensorboard Event proto with TF's fields and nothing else."""
    from tensorboard.backend.event_processing import event_file_loader

    w = tf.summary.create_file_writer(str(tmp_path))
    with w.as_default(step=5):
        tf.summary.scalar("s", 1.0)
    events = list(event_file_loader.EventFileLoader(w.path).Load())
    assert events[0].file_version == "brain.Event:2"
    assert events[0].source_metadata.writer == "tensorflow.core.util.events_writer"
    ev = events[1]
    assert ev.step == 5 and ev.wall_time > 1e9
    (v,) = ev.summary.value
    assert v.tag == "s" and v.tensor.dtype == 1 and len(v.tensor.tensor_shape.dim) == 0
    assert v.tensor.tensor_content == struct.pack("<f", 1.0)
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*"))) == 1


@pytest.mark.native
def test_image_pngs_decode_to_the_pixels(tmp_path):
    import io

    Image = pytest.importorskip("PIL.Image")
    pixels = [
        [[[1.0, 0.5, 0.0], [0.0, 0.0, 0.0]], [[2.0, -1.0, 0.25], [0.0, 0.0, 1.0]]],  # 2x2 RGB
        [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]],
    ]
    w = tf.summary.create_file_writer(str(tmp_path / "run"))
    with w.as_default(step=0):
        tf.summary.image("img", tf.constant(pixels), max_outputs=1)
        tf.summary.image("grey", tf.constant([[[[0], [9]]]], tf.uint8))
    acc = _accumulator(tmp_path / "run")
    t = _arrays(acc, "img")[0][1]
    assert t.tolist()[:2] == [b"2", b"2"] and len(t) == 3  # width, height, then max_outputs PNGs
    # convert_image_dtype: trunc(clip(x * 255.5, 0, 255))
    got = Image.open(io.BytesIO(t[2]))
    assert got.mode == "RGB" and got.size == (2, 2)
    assert [got.getpixel((x, y)) for y in range(2) for x in range(2)] == [
        (255, 127, 0),
        (0, 0, 0),
        (255, 0, 63),
        (0, 0, 255),
    ]
    grey = Image.open(io.BytesIO(_arrays(acc, "grey")[0][1][2]))
    assert grey.mode == "L" and [grey.getpixel((x, 0)) for x in range(2)] == [0, 9]
    assert acc.SummaryMetadata("img").plugin_data.plugin_name == "images"


def test_saturate_cast_clamps_integers():
    # A core fix made for tf.summary.image: narrowing integer casts clamp, as TF's saturate_cast.
    assert tf.saturate_cast(tf.constant([-5, 300, 7]), tf.uint8).numpy().tolist() == [0, 255, 7]
    big = tf.constant([2**32 - 1, 5], tf.uint32)
    assert tf.saturate_cast(big, tf.int32).numpy().tolist() == [2**31 - 1, 5]


# -- the Keras callback, driven hook by hook as fit drives it --------------------------------


class _Layer:
    def __init__(self, name, weights):
        self.name = name
        self.weights = weights


class _Weight:
    """A Keras 3 weight: a variable with a ``path`` naming its layer."""

    def __init__(self, path, value):
        self.path, self.name = path, path.split("/")[-1]
        self._v = tf.Variable(value)

    def _as_tensor(self):
        return self._v.value()


class _Optimizer:
    def __init__(self):
        self.iterations = tf.Variable(0, dtype=tf.int64)
        self.learning_rate = tf.Variable(0.01)


class _Model:
    """The parts of a model the callback reads: layers' weights, the optimizer, to_json."""

    def __init__(self):
        k = _Weight("dense/kernel", [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        self.layers = [_Layer("dense", [k, tf.Variable([0.5, -0.5], name="bias")])]
        self.optimizer = _Optimizer()

    def to_json(self):
        return '{"class_name": "Sequential"}'


def f32(v: float) -> float:
    return struct.unpack("<f", struct.pack("<f", v))[0]


def _fit(cb, model, epochs, batches, val=True):
    """The hook order of Keras's fit, with logs as Keras passes them."""
    cb.set_model(model)
    cb.on_train_begin()
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        for b in range(batches):
            if cb._implements("train"):
                cb.on_train_batch_begin(b)
            model.optimizer.iterations.assign_add(1)
            tf.summary.scalar("from_model", float(b))  # a summary in the model's call: step is the global batch
            if cb._implements("train"):
                cb.on_train_batch_end(b, {"loss": 1.0 / (epoch * batches + b + 1)})
        logs = {"loss": 1.0 / (epoch + 1), "accuracy": 0.5 + 0.1 * epoch}
        if val:
            cb.on_test_begin()
            cb.on_test_end({"loss": 2.0 / (epoch + 1), "accuracy": 0.4 + 0.1 * epoch})
            logs.update(val_loss=2.0 / (epoch + 1), val_accuracy=0.4 + 0.1 * epoch)
        cb.on_epoch_end(epoch, logs)
    cb.on_train_end()


@pytest.mark.native
def test_tensorboard_callback_epoch_scalars_and_histograms(tmp_path):
    from webtensor.keras.callbacks.tensorboard import TensorBoard

    cb = TensorBoard(str(tmp_path), histogram_freq=2)
    assert not cb._implements("train")  # epoch logging needs no per-batch logs from fit
    _fit(cb, _Model(), epochs=3, batches=4)
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, val = _accumulator(tmp_path / "train"), _accumulator(tmp_path / "validation")
    assert [(s, float(v)) for s, v in _arrays(train, "epoch_loss")] == [(0, 1.0), (1, 0.5), (2, f32(1 / 3))]
    assert [(s, float(v)) for s, v in _arrays(train, "epoch_accuracy")] == [(0, 0.5), (1, f32(0.6)), (2, f32(0.7))]
    assert [float(v) for _, v in _arrays(train, "epoch_learning_rate")] == [f32(0.01)] * 3
    assert [(s, float(v)) for s, v in _arrays(val, "epoch_loss")] == [(0, 2.0), (1, 1.0), (2, f32(2 / 3))]
    assert [(s, float(v)) for s, v in _arrays(val, "evaluation_loss_vs_iterations")] == [
        (4, 2.0),
        (8, 1.0),
        (12, f32(2 / 3)),
    ]
    for tag in ("epoch_val_loss", "batch_loss", "from_model"):  # epoch logging sets no default writer
        assert tag not in train.Tags()["tensors"]
    # histograms at epochs 0 and 2 (histogram_freq=2), tagged by weight path (or name)
    hist = _arrays(train, "dense/kernel/histogram")
    assert [s for s, _ in hist] == [0, 2]
    assert sum(r[2] for r in hist[0][1].tolist()) == 6.0 and hist[0][1][0][0] == 1.0 and hist[0][1][-1][1] == 6.0
    assert [s for s, _ in _arrays(train, "bias_0/histogram")] == [0, 2]
    graph = _arrays(train, "keras")
    assert graph[0][0] == 0 and graph[0][1] == b'{"class_name": "Sequential"}'
    assert train.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"


@pytest.mark.native
def test_tensorboard_callback_batch_logging_every_n(tmp_path):
    from webtensor.keras.callbacks.tensorboard import TensorBoard

    cb = TensorBoard(str(tmp_path), update_freq=3, write_graph=False, write_steps_per_second=True)
    assert cb._implements("train")
    _fit(cb, _Model(), epochs=2, batches=4, val=False)
    train = _accumulator(tmp_path / "train")
    # global batches 1..8; every third one is written
    assert [(s, float(v)) for s, v in _arrays(train, "batch_loss")] == [(3, f32(1 / 3)), (6, f32(1 / 6))]
    assert [s for s, _ in _arrays(train, "batch_steps_per_second")] == [3, 6]
    sps = _arrays(train, "epoch_steps_per_second")
    assert [s for s, _ in sps] == [0, 1] and all(float(v) > 0 for _, v in sps)
    assert "keras" not in train.Tags()["tensors"]
    assert not os.path.exists(tmp_path / "validation")
    assert [(s, float(v)) for s, v in _arrays(train, "from_model")] == [(3, 2.0), (6, 1.0)]
    assert tf.summary.experimental.get_step() is None  # restored after training


def test_tensorboard_callback_rejects_what_it_cannot_do():
    from webtensor.keras.callbacks.tensorboard import TensorBoard

    with pytest.raises(ValueError, match="profil"):
        TensorBoard(profile_batch=2)
    with pytest.raises(ValueError, match="embeddings_freq"):
        TensorBoard(embeddings_freq=1)
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(update_freq=0)


@pytest.mark.native
def test_tensorboard_callback_in_fit_logs_the_history(tmp_path):
    L = tf.keras.layers
    model = tf.keras.Sequential([tf.keras.Input(shape=(4,)), L.Dense(5, activation="relu"), L.Dense(3)])
    model.compile(
        optimizer=tf.keras.optimizers.Adam(0.01),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x = [[(i * 7 + j) % 5 / 5.0 for j in range(4)] for i in range(24)]
    y = [i % 3 for i in range(24)]
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(24).batch(8)
    hist = model.fit(
        ds,
        epochs=3,
        verbose=0,
        validation_data=ds.take(1),
        callbacks=[tf.keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)],
    )
    train, val = _accumulator(tmp_path / "train"), _accumulator(tmp_path / "validation")
    for run, prefix in ((train, ""), (val, "val_")):
        for metric in ("loss", "accuracy"):
            got = _arrays(run, "epoch_" + metric)
            assert [s for s, _ in got] == [0, 1, 2]
            assert [float(v) for _, v in got] == [f32(v) for v in hist.history[prefix + metric]]
    assert [float(v) for _, v in _arrays(train, "epoch_learning_rate")] == [f32(0.01)] * 3
    # evaluation after each epoch, at the optimizer's iteration count (3 batches per epoch)
    assert [s for s, _ in _arrays(val, "evaluation_loss_vs_iterations")] == [3, 6, 9]
    for w in model.weights:
        assert [s for s, _ in _arrays(train, w.path + "/histogram")] == [0, 1, 2]
    assert b'"class_name": "Sequential"' in _arrays(train, "keras")[0][1].item()
