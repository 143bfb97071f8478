"""tf.data: group_by_window, bucket_by_sequence_length, Dataset.random, rejection_resample,
Options/with_options, save/load, and the background threads of prefetch / parallel map."""

import threading

import pytest

np = pytest.importorskip("numpy")  # the page has no numpy: there the module skips

import webtensor as tf


def _lists(ds):
    return [x.numpy().tolist() for x in ds]


def test_group_by_window_tf_doc_and_order():
    ds = tf.data.Dataset.range(10).group_by_window(lambda x: x % 2, lambda k, w: w.batch(5), window_size=5)
    assert _lists(ds) == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]  # TF's docstring example
    ds = tf.data.Dataset.range(10).group_by_window(lambda x: x % 3, lambda k, w: w.batch(2), window_size=2)
    # full windows as they fill, then the partial ones in ascending key order
    assert _lists(ds) == [[0, 3], [1, 4], [2, 5], [6, 9], [7], [8]]
    sized = tf.data.Dataset.range(6).group_by_window(
        lambda x: x % 2, lambda k, w: w.batch(9), window_size_func=lambda k: k + 1
    )
    assert _lists(sized) == [[0], [2], [1, 3], [4], [5]]  # key 0 windows of 1, key 1 windows of 2
    with pytest.raises(ValueError, match="exactly one"):
        tf.data.Dataset.range(3).group_by_window(lambda x: x, lambda k, w: w)
    with pytest.raises(tf.errors.InvalidArgumentError, match="positive"):
        tf.data.Dataset.range(3).group_by_window(lambda x: x, lambda k, w: w, window_size=0)


def test_bucket_by_sequence_length_tf_doc():
    elements = [[0], [1, 2, 3, 4], [5, 6, 7], [7, 8, 9, 10, 11], [13, 14, 15, 16, 19, 20], [21, 22]]
    ds = tf.data.Dataset.from_generator(lambda: elements, tf.int64, output_shapes=[None])
    out = ds.bucket_by_sequence_length(lambda e: tf.shape(e)[0], bucket_boundaries=[3, 5], bucket_batch_sizes=[2, 2, 2])
    assert _lists(out) == [
        [[1, 2, 3, 4], [5, 6, 7, 0]],
        [[7, 8, 9, 10, 11, 0], [13, 14, 15, 16, 19, 20]],
        [[0, 0], [21, 22]],
    ]  # TF's docstring output
    padded = ds.bucket_by_sequence_length(
        lambda e: tf.shape(e)[0],
        [3, 7],
        [2, 2, 2],
        pad_to_bucket_boundary=True,
        padding_values=tf.constant(-1, tf.int64),
    )
    shapes = [tuple(b.shape) for b in padded]
    assert (2, 6) in shapes and (2, 2) in shapes  # padded to boundary - 1
    with pytest.raises(ValueError, match="bucket_batch_sizes"):
        ds.bucket_by_sequence_length(lambda e: tf.shape(e)[0], [3], [2])


def test_random_dataset():
    ds = tf.data.Dataset.random(seed=4).take(5)
    assert ds.element_spec == tf.TensorSpec((), tf.int64)
    assert tf.data.Dataset.random(seed=1).cardinality().numpy() == tf.data.INFINITE_CARDINALITY
    a, b = _lists(ds), _lists(ds)
    assert a == b and len(set(a)) == 5  # the same sequence each pass unless rerandomized
    r = tf.data.Dataset.random(seed=4, rerandomize_each_iteration=True).take(5)
    assert _lists(r) != _lists(r)


def test_rejection_resample_reaches_the_target():
    tf.random.set_seed(0)
    labels = np.array([0] * 900 + [1] * 100)
    np.random.default_rng(0).shuffle(labels)
    ds = tf.data.Dataset.from_tensor_slices(labels)
    for initial in ([0.9, 0.1], None):
        out = ds.rejection_resample(
            lambda x: tf.cast(x, tf.int32), target_dist=[0.5, 0.5], initial_dist=initial, seed=3
        )
        pairs = [(int(c), int(x)) for c, x in out]
        assert all(c == x for c, x in pairs)  # (class, element)
        frac = np.mean([c for c, _ in pairs])
        assert 0.38 < frac < 0.62, (initial, frac, len(pairs))
    with pytest.raises(tf.errors.InvalidArgumentError, match="sum to 1"):
        ds.rejection_resample(lambda x: x, target_dist=[0.5, 0.6])


def test_options_merge_and_conflicts():
    o = tf.data.Options()
    o.deterministic = False
    o.threading.private_threadpool_size = 3
    ds = tf.data.Dataset.range(3).with_options(o).map(lambda x: x + 1)
    assert ds.options().deterministic is False and ds.options().threading.private_threadpool_size == 3
    o2 = tf.data.Options()
    o2.experimental_optimization.map_fusion = True
    both = ds.with_options(o2).options()
    assert both.experimental_optimization.map_fusion is True and both.deterministic is False
    o3 = tf.data.Options()
    o3.deterministic = True
    with pytest.raises(ValueError, match="incompatible"):
        ds.with_options(o3)
    with pytest.raises(AttributeError, match="no option"):
        o.no_such_option = 1
    assert _lists(ds) == [1, 2, 3]


def test_save_load_round_trip(tmp_path):
    x = tf.reshape(tf.range(12, dtype=tf.float32), (6, 2))
    names = tf.constant([b"a", b"bb", b"", b"c", b"d", b"e"])
    ds = tf.data.Dataset.from_tensor_slices(((x, tf.range(6)), {"name": names}))
    for comp in (None, "GZIP"):
        path = str(tmp_path / f"saved_{comp}")
        ds.save(path, compression=comp, shard_func=lambda xy, d: tf.cast(xy[1] % 2, tf.int64))
        back = tf.data.Dataset.load(path)
        assert back.element_spec == ds.element_spec
        got = sorted(((a.numpy().tolist(), int(b)), d["name"].numpy()) for (a, b), d in back)
        want = sorted(((a.numpy().tolist(), int(b)), d["name"].numpy()) for (a, b), d in ds)
        assert got == want
    with pytest.raises(tf.errors.NotFoundError, match="no saved dataset"):
        tf.data.Dataset.load(str(tmp_path / "nothing"))
    shard = tmp_path / "saved_None" / "00000000.shard"
    shard.write_bytes(shard.read_bytes()[:-3])
    with pytest.raises(tf.errors.DataLossError):
        list(tf.data.Dataset.load(str(tmp_path / "saved_None")))


def test_prefetch_runs_ahead_on_a_thread_in_order():
    names = []

    def note(x):
        names.append(threading.current_thread().name)
        return x * 2

    ds = tf.data.Dataset.range(20).map(note).batch(3).prefetch(2)
    assert _lists(ds) == [[2 * i for i in range(j, min(j + 3, 20))] for j in range(0, 20, 3)]
    assert set(names) == {"webtensor-prefetch"}
    for x in ds.take(1):  # stopping early must not hang
        pass
    it = iter(tf.data.Dataset.range(10).map(lambda x: x).prefetch(1))
    assert int(next(it)) == 0
    del it


def test_parallel_map_order_errors_and_determinism():
    seen = set()

    def f(x):
        seen.add(threading.current_thread().name.split("_")[0])
        return x * x

    ds = tf.data.Dataset.range(50).map(f, num_parallel_calls=tf.data.AUTOTUNE)
    assert _lists(ds) == [i * i for i in range(50)]
    assert seen == {"webtensor-map"}
    loose = tf.data.Dataset.range(50).map(f, num_parallel_calls=4, deterministic=False)
    assert sorted(_lists(loose)) == [i * i for i in range(50)]

    def bad(x):
        if int(x) == 7:
            raise ValueError("element seven")
        return x

    with pytest.raises(ValueError, match="element seven"):
        list(tf.data.Dataset.range(20).map(bad, num_parallel_calls=3))
    with pytest.raises(ValueError, match="element seven"):
        list(tf.data.Dataset.range(20).map(bad).prefetch(3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_parallel_calls"):
        tf.data.Dataset.range(2).map(f, num_parallel_calls=0)


def test_threads_off_and_fit_with_prefetch(monkeypatch):
    monkeypatch.setenv("WEBTENSOR_DATA_THREADS", "0")
    names = []
    ds = tf.data.Dataset.range(4).map(lambda x: names.append(threading.current_thread().name) or x).prefetch(2)
    assert _lists(ds) == [0, 1, 2, 3] and set(names) == {threading.current_thread().name}
    monkeypatch.setenv("WEBTENSOR_DATA_THREADS", "1")
    norm = tf.keras.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0])
    x = np.random.default_rng(0).standard_normal((64, 2)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    # the map reads Normalization's variables on the prefetch thread while fit traces its step
    data = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .map(lambda a, b: (norm(a), b), num_parallel_calls=2)
        .batch(16)
        .prefetch(2)
    )
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    hist = model.fit(data, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()


def test_tfrecord_batches_parse_as_string_tensors(tmp_path):
    path = str(tmp_path / "r.tfrecord")
    E = tf.train
    with tf.io.TFRecordWriter(path) as w:
        for i in range(5):
            w.write(
                E.Example(
                    features=E.Features(
                        feature={
                            "x": E.Feature(float_list=E.FloatList(value=[i, i + 0.5])),
                            "y": E.Feature(int64_list=E.Int64List(value=[i])),
                        }
                    )
                ).SerializeToString()
            )
    spec = {"x": tf.io.FixedLenFeature([2], tf.float32), "y": tf.io.FixedLenFeature([], tf.int64)}
    batches = list(tf.data.TFRecordDataset(path).batch(2).map(lambda s: tf.io.parse_example(s, spec)))
    assert [b["y"].numpy().tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    np.testing.assert_array_equal(batches[1]["x"].numpy(), [[2.0, 2.5], [3.0, 3.5]])
    first = next(iter(tf.data.TFRecordDataset(path).batch(3)))
    assert first.dtype is tf.string and tuple(first.shape) == (3,)


def test_parse_example_fast_path_equals_the_general_decoder():
    from webtensor.io import example_proto as P

    E = tf.train
    rng = np.random.default_rng(5)
    recs = []
    for i in range(6):
        recs.append(
            E.Example(
                features=E.Features(
                    feature={
                        "x": E.Feature(float_list=E.FloatList(value=rng.standard_normal(3).astype("float32").tolist())),
                        "y": E.Feature(int64_list=E.Int64List(value=[int(rng.integers(-(2**62), 2**62)), -1])),
                        "s": E.Feature(bytes_list=E.BytesList(value=[b"ignored"])),
                    }
                )
            ).SerializeToString()
        )
    spec = {"x": tf.io.FixedLenFeature([3], tf.float32), "y": tf.io.FixedLenFeature([2], tf.int64)}
    fast = P._parse_fast(recs, spec)
    assert fast is not None
    general = {k: tf.stack([tf.io.parse_single_example(r, {k: s})[k] for r in recs]) for k, s in spec.items()}
    for k in spec:
        assert fast[k].dtype is general[k].dtype
        np.testing.assert_array_equal(fast[k].numpy(), general[k].numpy())
    assert P._parse_fast(recs, {"z": tf.io.FixedLenFeature([], tf.int64, default_value=0)}) is None  # missing
    out = tf.io.parse_example(recs, {"z": tf.io.FixedLenFeature([], tf.int64, default_value=7)})
    assert out["z"].numpy().tolist() == [7] * 6  # the general path fills the default
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.parse_example(recs, {"x": tf.io.FixedLenFeature([2], tf.float32)})  # wrong count: TF's error
