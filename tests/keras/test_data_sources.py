"""tf.data file sources and tf.train.Example parsing: against TF 2.21 fixtures and hand values."""

import gzip
import json
import os
import zlib

import pytest
import webtensor as tf

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures", "tfrecord")
FIX = os.path.normpath(FIX) if os.path.isdir(FIX) else "/work/shared/fixtures/tfrecord"
SPEC = {
    "id": tf.io.FixedLenFeature([], tf.int64),
    "score": tf.io.FixedLenFeature([], tf.float32),
    "tags": tf.io.VarLenFeature("string"),
    "vec": tf.io.FixedLenFeature([3], tf.float32),
    "label": tf.io.FixedLenFeature([], tf.int64),
}
needs_fix = pytest.mark.skipif(not os.path.isdir(FIX), reason="TFRecord fixtures not present")


def _expected():
    with open(os.path.join(FIX, "expected.json")) as f:
        return json.load(f)


def test_crc32c_known_vectors():
    from webtensor.io.tfrecord import crc32c

    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4


@needs_fix
@pytest.mark.parametrize(
    "name,comp", [("examples.tfrecord", None), ("examples.tfrecord.gz", "GZIP"), ("examples.tfrecord.zlib", "ZLIB")]
)
def test_tf_written_examples_parse_back(name, comp):
    exp = _expected()["examples"]
    recs = list(tf.data.TFRecordDataset(os.path.join(FIX, name), compression_type=comp))
    assert len(recs) == len(exp) == 20
    for rec, e in zip(recs, exp):
        p = tf.io.parse_single_example(rec, SPEC)
        assert int(p["id"]) == e["id"] and int(p["label"]) == e["label"]
        assert p["id"].dtype is tf.int64 and p["score"].dtype is tf.float32
        assert float(p["score"]) == pytest.approx(e["score"], abs=0)
        assert p["vec"].shape == (3,)
        assert [float(v) for v in p["vec"].numpy().tolist()] == pytest.approx(e["vec"], abs=0)
        assert [t.decode() for t in p["tags"].values] == e["tags"]


@needs_fix
def test_parse_example_batch_and_raw_records_roundtrip(tmp_path):
    exp = _expected()
    recs = list(tf.data.TFRecordDataset(os.path.join(FIX, "examples.tfrecord")))[:4]
    p = tf.io.parse_example(recs, SPEC)
    assert p["vec"].shape == (4, 3) and p["id"].numpy().tolist() == [0, 1, 2, 3]
    assert p["tags"].dense_shape.numpy().tolist() == [4, 3]
    assert p["tags"].to_list() == [[t.encode() for t in e["tags"]] for e in exp["examples"][:4]]
    raw_path = os.path.join(FIX, "raw.tfrecord")
    raw = list(tf.data.TFRecordDataset(raw_path))
    assert [r.hex() for r in raw] == exp["raw_records_hex"]
    out = str(tmp_path / "w.tfrecord")
    with tf.io.TFRecordWriter(out) as w:
        for r in raw:
            w.write(r)
    with open(out, "rb") as a, open(raw_path, "rb") as b:
        assert a.read() == b.read()  # byte-identical to TF's writer


def _example(i):
    F = tf.train.Feature
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "i": F(int64_list=tf.train.Int64List(value=[i, -i - 1])),
                "f": F(float_list=tf.train.FloatList(value=[0.5 * i])),
                "s": F(bytes_list=tf.train.BytesList(value=[b"x" * i])),
            }
        )
    )


@pytest.mark.parametrize("comp", ["", "GZIP", "ZLIB"])
def test_writer_reader_roundtrip_compressed(tmp_path, comp):
    paths = [str(tmp_path / f"{k}.tfr") for k in range(2)]
    for k, p in enumerate(paths):
        with tf.io.TFRecordWriter(p, tf.io.TFRecordOptions(compression_type=comp)) as w:
            for i in range(3):
                w.write(_example(3 * k + i))
    spec = {
        "i": tf.io.FixedLenFeature([2], tf.int64),
        "f": tf.io.FixedLenFeature([], tf.float32),
        "s": tf.io.FixedLenFeature([], "string"),
        "missing": tf.io.FixedLenFeature([], tf.int64, -7),
    }
    got = [tf.io.parse_single_example(r, spec) for r in tf.data.TFRecordDataset(paths, comp)]
    assert [g["i"].numpy().tolist() for g in got] == [[i, -i - 1] for i in range(6)]
    assert [float(g["f"]) for g in got] == [0.5 * i for i in range(6)]
    assert [g["s"] for g in got] == [b"x" * i for i in range(6)]
    assert [int(g["missing"]) for g in got] == [-7] * 6


def test_example_wire_bytes_by_hand():
    ex = tf.train.Example(
        features=tf.train.Features(feature={"a": tf.train.Feature(int64_list=tf.train.Int64List(value=[1, 300]))})
    )
    # Example.features(1) { feature(1) { key(1)="a" value(2) { int64_list(3) { value(1) packed [1, 300] } } } }
    inner = b"\x0a\x03\x01\xac\x02"
    feat = b"\x1a" + bytes([len(inner)]) + inner
    entry = b"\x0a\x01a" + b"\x12" + bytes([len(feat)]) + feat
    feats = b"\x0a" + bytes([len(entry)]) + entry
    assert ex.SerializeToString() == b"\x0a" + bytes([len(feats)]) + feats
    back = tf.train.Example.FromString(ex.SerializeToString())
    assert back.features.feature["a"].int64_list.value == [1, 300]
    assert back.features.feature["a"].float_list.value == []


def test_record_errors(tmp_path):
    p = str(tmp_path / "r.tfr")
    with tf.io.TFRecordWriter(p) as w:
        w.write(b"hello world")
        w.write(b"second")
    data = open(p, "rb").read()
    for cut in range(1, len(data)):
        if cut == 12 + 11 + 4:
            continue  # a whole first record: valid
        with open(p, "wb") as f:
            f.write(data[:cut])
        with pytest.raises(tf.errors.DataLossError):
            list(tf.data.TFRecordDataset(p))
    bad = bytearray(data)
    bad[14] ^= 0xFF  # a data byte of the first record
    open(p, "wb").write(bytes(bad))
    with pytest.raises(tf.errors.DataLossError, match="data CRC"):
        list(tf.data.TFRecordDataset(p))
    with pytest.raises(tf.errors.NotFoundError):
        list(tf.data.TFRecordDataset(str(tmp_path / "nope.tfr")))
    open(p, "wb").write(b"not gzip at all")
    with pytest.raises(tf.errors.DataLossError):
        list(tf.data.TFRecordDataset(p, "GZIP"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="required"):
        tf.io.parse_single_example(tf.train.Example().SerializeToString(), {"x": tf.io.FixedLenFeature([], tf.int64)})
    with pytest.raises(tf.errors.DataLossError):
        tf.io.parse_single_example(b"\x0a\x7f", {"x": tf.io.VarLenFeature(tf.int64)})


def test_text_line_dataset_files_and_compression(tmp_path):
    a, b, c = (str(tmp_path / n) for n in ("a.txt", "b.txt.gz", "c.txt.z"))
    open(a, "wb").write(b"one\r\ntwo\n\nlast")
    with gzip.open(b, "wb") as f:
        f.write(b"g1\ng2\n")
    open(c, "wb").write(zlib.compress(b"z1\n"))
    assert list(tf.data.TextLineDataset(a)) == [b"one", b"two", b"", b"last"]
    assert list(tf.data.TextLineDataset([b], compression_type="GZIP")) == [b"g1", b"g2"]
    assert list(tf.data.TextLineDataset(c, "ZLIB")) == [b"z1"]
    ds = tf.data.TextLineDataset([a, a]).skip(1).map(lambda s: len(s))
    assert [int(x) for x in ds] == [3, 0, 4, 3, 3, 0, 4]
    with pytest.raises(tf.errors.NotFoundError):
        list(tf.data.TextLineDataset(str(tmp_path / "missing.txt")))


def test_reduce_passes_tuple_element_as_one_argument():
    ds = tf.data.Dataset.from_tensor_slices(([1, 2, 3], [10, 20, 30]))
    total = ds.reduce(tf.constant(0), lambda s, e: s + e[0] * e[1])
    assert int(total) == 1 * 10 + 2 * 20 + 3 * 30
    assert int(tf.data.Dataset.range(5).reduce(tf.constant(0, tf.int64), lambda s, x: s + x)) == 10


CSV = 'a,b,name,y\n1,2.5,x,0\n3,,"q,r",1\n5,1e3,z,1\n'


def test_csv_dataset_types_defaults_and_quotes(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(CSV)
    ds = tf.data.experimental.CsvDataset(str(p), [tf.int32, [-1.0], "", tf.int64], header=True)
    rows = list(ds)
    assert [int(r[0]) for r in rows] == [1, 3, 5]
    assert [float(r[1]) for r in rows] == [2.5, -1.0, 1000.0]  # empty field takes the default
    assert [r[2] for r in rows] == [b"x", b"q,r", b"z"]
    assert rows[0][0].dtype is tf.int32 and rows[0][3].dtype is tf.int64
    sel = tf.data.experimental.CsvDataset(str(p), [0, 0], header=True, select_cols=[0, 3])
    assert [(int(a), int(b)) for a, b in sel] == [(1, 0), (3, 1), (5, 1)]


def test_make_csv_dataset_batches_label_and_select(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(CSV)
    ds = tf.data.experimental.make_csv_dataset(str(p), 2, label_name="y", shuffle=False, num_epochs=1)
    (f1, y1), (f2, y2) = list(ds)
    assert list(f1) == ["a", "b", "name"]
    assert f1["a"].dtype is tf.int32 and f1["b"].dtype is tf.float32  # inferred as TF does
    assert f1["a"].numpy().tolist() == [1, 3] and f2["a"].numpy().tolist() == [5]
    assert f1["b"].numpy().tolist() == [2.5, 0.0]
    assert f1["name"].values == [b"x", b"q,r"]
    assert y1.numpy().tolist() == [0, 1] and y2.numpy().tolist() == [1]
    ds = tf.data.experimental.make_csv_dataset(
        str(p), 3, label_name="y", select_columns=["y", "a"], shuffle=False, num_epochs=2
    )
    got = [(list(f), f["a"].numpy().tolist(), y.numpy().tolist()) for f, y in ds]
    assert got == [(["a"], [1, 3, 5], [0, 1, 1])] * 2


def test_csv_errors_name_the_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n3\n")
    ds = tf.data.experimental.CsvDataset(str(p), [0, 0], header=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="line 3"):
        list(ds)
    p.write_text("a,b\n1,2\n3,zz\n")
    with pytest.raises(tf.errors.InvalidArgumentError, match="line 3.*int32"):
        list(ds)
    p.write_text("a,b\n1,\n")
    with pytest.raises(tf.errors.InvalidArgumentError, match="required.*line 2"):
        list(tf.data.experimental.CsvDataset(str(p), [tf.int32, tf.int32], header=True))
    with pytest.raises(tf.errors.NotFoundError):
        tf.data.experimental.make_csv_dataset(str(tmp_path / "none*.csv"), 2)


def _ints(ds):
    return [int(x) for x in ds]


def test_window_flat_map_by_hand():
    R = tf.data.Dataset.range
    w = [_ints(win) for win in R(7).window(3, shift=2)]
    assert w == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6]]
    assert [_ints(x) for x in R(7).window(3, shift=2, drop_remainder=True)] == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    assert [_ints(x) for x in R(10).window(2, shift=4, stride=3)] == [[0, 3], [4, 7], [8]]
    b = R(6).window(3, 1, drop_remainder=True).flat_map(lambda d: d.batch(3))
    assert [x.numpy().tolist() for x in b] == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
    pairs = tf.data.Dataset.from_tensor_slices(([1, 2, 3], [4, 5, 6])).window(2)
    assert [(_ints(a), _ints(b)) for a, b in pairs] == [([1, 2], [4, 5]), ([3], [6])]
    with pytest.raises(tf.errors.InvalidArgumentError, match="size"):
        R(3).window(0)


def test_interleave_order_matches_tf_docs():
    # the tf.data.Dataset.interleave docstring example
    ds = tf.data.Dataset.range(1, 6).interleave(
        lambda x: tf.data.Dataset.from_tensors(x).repeat(6), cycle_length=2, block_length=4
    )
    assert _ints(ds) == [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5]


def test_scan_unique_single_element_counter():
    ds = tf.data.Dataset.range(5).scan(tf.constant(0, tf.int64), lambda s, x: (s + x, s * 10))
    assert _ints(ds) == [0, 0, 10, 30, 60]
    u = tf.data.Dataset.from_tensor_slices([3, 1, 3, 2, 1, 7]).unique()
    assert _ints(u) == [3, 1, 2, 7]
    assert int(tf.data.Dataset.range(4, 5).get_single_element()) == 4
    with pytest.raises(tf.errors.InvalidArgumentError, match="more than one"):
        tf.data.Dataset.range(2).get_single_element()
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty"):
        tf.data.Dataset.range(0).get_single_element()
    c = tf.data.experimental.Counter(start=2, step=3)
    assert _ints(c.take(4)) == [2, 5, 8, 11] and int(c.cardinality()) == -1


def test_choose_and_sample_from_datasets():
    a, b = tf.data.Dataset.range(0, 3), tf.data.Dataset.range(10, 13)
    choice = tf.data.Dataset.from_tensor_slices(tf.constant([0, 1, 1, 0, 0], tf.int64))
    assert _ints(tf.data.Dataset.choose_from_datasets([a, b], choice)) == [0, 10, 11, 1, 2]
    s = _ints(tf.data.Dataset.sample_from_datasets([a, b], weights=[0.5, 0.5], seed=1))
    assert sorted(s) == [0, 1, 2, 10, 11, 12]
    assert [x for x in s if x < 10] == [0, 1, 2] and [x for x in s if x >= 10] == [10, 11, 12]
    assert _ints(tf.data.Dataset.sample_from_datasets([a, b], weights=[1.0, 0.0], seed=3)) == [0, 1, 2]


def test_list_files_feeds_text_lines(tmp_path):
    for n in ("b.txt", "a.txt", "c.csv"):
        (tmp_path / n).write_text(n + "\n")
    files = tf.data.Dataset.list_files(str(tmp_path / "*.txt"), shuffle=False)
    assert [os.path.basename(f.decode()) for f in files] == ["a.txt", "b.txt"]
    assert list(tf.data.TextLineDataset(files)) == [b"a.txt", b"b.txt"]
    shuffled = tf.data.Dataset.list_files(str(tmp_path / "*.txt"), seed=5)
    assert sorted(shuffled) == sorted(files)
    with pytest.raises(tf.errors.InvalidArgumentError, match="no files matched"):
        tf.data.Dataset.list_files(str(tmp_path / "*.json"))
