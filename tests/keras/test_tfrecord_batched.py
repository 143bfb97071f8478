"""The batched TFRecord paths: data CRCs of a run of equal-length records computed together, and
parse_example decoding a batch that shares one layout. Each is checked against hand values and the
per-record CRC (pinned by the CRC-32C check values), including corrupt and truncated files."""

import random

import pytest
import webtensor as tf
from webtensor.io import tfrecord as R

E = tf.train


def _file(tmp_path, records) -> str:
    p = str(tmp_path / "r.tfr")
    with tf.io.TFRecordWriter(p) as w:
        for r in records:
            w.write(r)
    return p


def _put(p: str, data: bytes) -> None:
    with open(p, "wb") as f:
        f.write(data)


def _read_until_error(p: str):
    """The records read before the reader stopped, and its error (None at a clean end)."""
    got, it = [], iter(tf.data.TFRecordDataset(p))
    while True:
        try:
            got.append(next(it))
        except StopIteration:
            return got, None
        except tf.errors.DataLossError as e:
            return got, e


def test_run_crcs_match_check_values():
    # the run path against the CRC-32C check value: 20 back-to-back framed copies of "123456789"
    data = b"".join(R.frame(b"123456789") for _ in range(20))
    assert R._crcs_of_run(data, 12, 9, 20) == [0xE3069283] * 20
    data = b"".join(R.frame(bytes(32)) for _ in range(9))
    assert R._crcs_of_run(data, 12, 32, 9) == [0x8A9136AA] * 9  # RFC 3720 B.4


def test_runs_and_mixed_lengths_read_back(tmp_path):
    recs = [bytes([i]) * 10 for i in range(30)] + [b"x" * n for n in range(12)] + [b""] * 9
    assert list(tf.data.TFRecordDataset(_file(tmp_path, recs))) == recs


@pytest.mark.parametrize("k", [0, 5, 17, 29])
def test_corrupt_record_in_a_run_yields_the_good_ones_first(tmp_path, k):
    recs = [bytes([i]) * 10 for i in range(30)]
    p = _file(tmp_path, recs)
    with open(p, "rb") as f:
        data = bytearray(f.read())
    data[k * 26 + 12 + 3] ^= 0x10  # a data byte of record k (each framed record is 26 bytes)
    _put(p, bytes(data))
    got, err = _read_until_error(p)
    assert got == recs[:k]
    assert f"byte {k * 26} " in str(err) and "data CRC mismatch" in str(err)


def test_fuzzed_files_only_raise_data_loss(tmp_path):
    recs = [bytes([i % 7]) * (5 + i % 3) for i in range(40)]
    p = _file(tmp_path, recs)
    with open(p, "rb") as f:
        clean = f.read()
    rng = random.Random(16)
    for trial in range(60):
        data = bytearray(clean)
        if trial % 2:
            data = data[: rng.randrange(1, len(data))]
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        _put(p, bytes(data))
        got, _ = _read_until_error(p)
        assert got == recs[: len(got)]  # never a wrong record, only a shorter prefix
        if trial % 2 == 0 and len(got) == len(recs):
            pytest.fail("a flipped bit went unnoticed")


def _ex(**feats) -> bytes:
    f = {}
    for k, v in feats.items():
        if isinstance(v[0], float):
            f[k] = E.Feature(float_list=E.FloatList(value=v))
        elif isinstance(v[0], int):
            f[k] = E.Feature(int64_list=E.Int64List(value=v))
        else:
            f[k] = E.Feature(bytes_list=E.BytesList(value=v))
    return E.Example(features=E.Features(feature=f)).SerializeToString()


def test_parse_example_batch_with_varied_layouts():
    rows = [
        ([0.5, -1.25], [3, 4, 5], [b"a"]),
        ([2.0, 0.25], [300, -2, 1 << 40], [b"bb"]),
        ([1.5, 8.0], [7, 8, 9], [b"a"]),
        ([-0.5, 4.0], [1, 2, 3], [b"ccc", b"d"]),
    ]
    ser = [_ex(x=x, n=n, s=s) for x, n, s in rows]
    ser.insert(2, _ex(n=[10, 11, 12], x=[9.0, 9.5]))  # other key order, no "s"
    rows.insert(2, ([9.0, 9.5], [10, 11, 12], None))
    spec = {"x": tf.io.FixedLenFeature([2], tf.float32), "n": tf.io.FixedLenFeature([3], tf.int64)}
    out = tf.io.parse_example(ser, spec)
    assert out["x"].dtype is tf.float32 and out["x"].shape == (5, 2)
    assert out["n"].dtype is tf.int64 and out["n"].shape == (5, 3)
    assert out["x"].numpy().tolist() == [r[0] for r in rows]
    assert out["n"].numpy().tolist() == [r[1] for r in rows]


def test_batched_parse_of_a_file_pipeline(tmp_path):
    vals = [([float(i), i / 4], i * 1000 - 5) for i in range(300)]
    p = _file(tmp_path, [_ex(x=x, y=[y]) for x, y in vals])
    spec = {"x": tf.io.FixedLenFeature([2], tf.float32), "y": tf.io.FixedLenFeature([], tf.int64)}
    ds = tf.data.TFRecordDataset(p).batch(64).map(lambda s: tf.io.parse_example(s, spec))
    xs, ys = [], []
    for b in ds:
        xs += b["x"].numpy().tolist()
        ys += b["y"].numpy().tolist()
    assert xs == [v[0] for v in vals] and ys == [v[1] for v in vals]
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.parse_example([_ex(x=[1.0, 2.0], y=[1]), _ex(x=[1.0], y=[1])], spec)


def test_fuzzed_csv_files_only_raise_tf_errors(tmp_path):
    # truncated and byte-corrupted CSVs: rows come out or InvalidArgumentError (or DataLossError
    # for a bad GZIP stream), never another exception or a hang (60 bounded trials)
    import gzip

    clean = b"a,b,c\n" + b"".join(b'%d,%d.5,"q%d"\n' % (i, i, i) for i in range(30))
    rng = random.Random(16)
    p = str(tmp_path / "f.csv")
    for trial in range(60):
        data = bytearray(clean[: rng.randrange(1, len(clean))] if trial % 2 else clean)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.choice(b',"\n\r\x00x9\xff')
        comp = "GZIP" if trial % 5 == 0 else None
        _put(p, bytes(gzip.compress(bytes(data))[: -3 if trial % 10 == 0 else None]) if comp else bytes(data))
        ds = tf.data.experimental.CsvDataset(p, [0, 0.0, ""], header=True, compression_type=comp)
        try:
            rows = [(int(a), float(b), bytes(c.numpy() if hasattr(c, "numpy") else c)) for a, b, c in ds]
        except (tf.errors.InvalidArgumentError, tf.errors.DataLossError):
            continue
        assert all(isinstance(r[0], int) for r in rows)


def test_csv_non_utf8_bytes_pass_to_string_columns(tmp_path):
    p = str(tmp_path / "b.csv")
    _put(p, b"s,n\n\xffz,1\nok,\xfe\n")
    ds = tf.data.experimental.CsvDataset(p, [""], header=True, select_cols=[0])
    assert [bytes(s) for (s,) in ds] == [b"\xffz", b"ok"]  # TF's tf.string holds the raw bytes
    with pytest.raises(tf.errors.InvalidArgumentError, match="line 3"):
        list(tf.data.experimental.CsvDataset(p, ["", 0], header=True))
