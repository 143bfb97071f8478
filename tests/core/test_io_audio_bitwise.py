"""tf.io files/bytes (serialize_tensor bytes vs TF 2.21's), tf.io.gfile, tf.audio WAV and
tf.bitwise (vs Python's integer operators)."""

import json
import os
import struct

import pytest
import webtensor as tf

from tests.util import assert_close, tolist

FIXTURES = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures", "tf_values", "tf_reference_values.json"
)


def _fixture():
    if not os.path.exists(FIXTURES):
        pytest.skip("TF fixtures not present (../shared/fixtures)")
    with open(FIXTURES) as f:
        return json.load(f)["serialize_tensor_hex"]


def test_serialize_tensor_matches_tf_bytes_and_round_trips():
    want = _fixture()
    cases = {
        "f32_2x3": tf.constant([[1.5, -2.0, 3.0], [4.0, 5.0, 6.25]]),
        "i64_vec": tf.constant([1, -2, 3], tf.int64),
        "str_vec": tf.constant([b"ab", b"", b"xyz"]),
        "bool_scalar": tf.constant(True),
    }
    for key, t in cases.items():
        blob = tf.io.serialize_tensor(t)
        assert tolist(blob).hex() == want[key], key
        back = tf.io.parse_tensor(blob, t.dtype)
        assert back.dtype == t.dtype and tuple(back.shape) == tuple(t.shape) and tolist(back) == tolist(t)
    with pytest.raises(tf.errors.InvalidArgumentError, match="type mismatch"):
        tf.io.parse_tensor(tf.io.serialize_tensor(tf.constant([1.0])), tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.parse_tensor(b"\x08\x01\x22\x05abc", tf.float32)


def test_files_and_gfile(tmp_path):
    p = str(tmp_path / "sub" / "a.bin")
    tf.io.write_file(p, b"\x01\x00\x02\x00")
    assert tolist(tf.io.read_file(p)) == b"\x01\x00\x02\x00"
    assert tolist(tf.io.decode_raw(tf.io.read_file(p), tf.int32)) == [131073]
    assert tolist(tf.io.decode_raw([b"\x01\x02", b"\x03\x04"], tf.uint8)) == [[1, 2], [3, 4]]
    with pytest.raises(tf.errors.NotFoundError):
        tf.io.read_file(str(tmp_path / "missing"))
    g = tf.io.gfile
    assert g.exists(p) and g.isdir(str(tmp_path / "sub")) and not g.exists(str(tmp_path / "nope"))
    g.makedirs(str(tmp_path / "x" / "y"))
    with g.GFile(str(tmp_path / "x" / "t.txt"), "w") as f:
        f.write("hello\nworld\n")
    with g.GFile(str(tmp_path / "x" / "t.txt")) as f:
        assert f.readlines() == ["hello\n", "world\n"]
    assert g.listdir(str(tmp_path / "x")) == ["t.txt", "y"]
    assert g.glob(str(tmp_path / "x" / "*.txt")) == [str(tmp_path / "x" / "t.txt")]
    g.copy(str(tmp_path / "x" / "t.txt"), str(tmp_path / "c.txt"))
    with pytest.raises(tf.errors.AlreadyExistsError):
        g.copy(str(tmp_path / "x" / "t.txt"), str(tmp_path / "c.txt"))
    g.rename(str(tmp_path / "c.txt"), str(tmp_path / "d.txt"))
    assert g.stat(str(tmp_path / "d.txt")).length == 12
    g.remove(str(tmp_path / "d.txt"))
    g.rmtree(str(tmp_path / "x"))
    assert not g.exists(str(tmp_path / "x"))
    assert tolist(tf.io.matching_files(str(tmp_path / "sub" / "*.bin"))) == [p.encode()]


def test_decode_csv():
    a, b, c = tf.io.decode_csv([b"1,2.5,x", b'3,,"y,z"'], [[0], [9.0], [""]])
    assert tolist(a) == [1, 3] and a.dtype == tf.int32
    assert_close(b, [2.5, 9.0])
    assert tolist(c) == [b"x", b"y,z"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="expect 3 fields but have 2"):
        tf.io.decode_csv([b"1,2"], [[0], [0.0], [""]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="required"):
        tf.io.decode_csv([b",2,x"], [tf.int32, [0.0], [""]])


def _wav(samples, channels=1, rate=8000, bits=16):
    pcm = struct.pack(f"<{len(samples)}h", *samples)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_wav_decode_encode():
    audio, rate = tf.audio.decode_wav(_wav([0, 16384, -32768, 32767]))
    assert int(rate) == 8000 and tuple(audio.shape) == (4, 1)
    assert_close(audio, [[0.0], [0.5], [-1.0], [32767 / 32768]])
    stereo, _ = tf.audio.decode_wav(_wav([1, 2, 3, 4], channels=2), desired_channels=1, desired_samples=3)
    assert tolist(tf.cast(stereo * 32768, tf.int32)) == [[1], [3], [0]]
    dup, _ = tf.audio.decode_wav(_wav([8192]), desired_channels=2)
    assert_close(dup, [[0.25, 0.25]])
    enc = tf.audio.encode_wav(tf.constant([[0.0], [0.5], [-2.0]]), 16000)
    assert tolist(enc) == _wav([0, 16384, -32767], rate=16000)  # round(0.5 * 32767), clipped -1
    with pytest.raises(tf.errors.InvalidArgumentError, match="16-bit PCM"):
        tf.audio.decode_wav(_wav([1, 2], bits=8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="RIFF"):
        tf.audio.decode_wav(b"not a wav")


@pytest.mark.parametrize("dtype,lo,hi", [(tf.int32, -(2**31), 2**31 - 1), (tf.uint8, 0, 255)])
def test_bitwise_against_python(dtype, lo, hi):
    bits = 32 if dtype == tf.int32 else 8
    xs = [lo, hi, 0, 1, -1 if lo else 7, 12345 % (hi + 1), 200, 3]
    ys = [hi, lo, 5, 0, 77, 6, 1, 2]
    wrap = (lambda v: (v + 2**31) % 2**32 - 2**31) if lo else (lambda v: v % 256)
    x, y = tf.constant(xs, dtype), tf.constant(ys, dtype)
    assert tolist(tf.bitwise.bitwise_and(x, y)) == [wrap(a & b) for a, b in zip(xs, ys)]
    assert tolist(tf.bitwise.bitwise_or(x, y)) == [wrap(a | b) for a, b in zip(xs, ys)]
    assert tolist(tf.bitwise.bitwise_xor(x, y)) == [wrap(a ^ b) for a, b in zip(xs, ys)]
    assert tolist(tf.bitwise.invert(x)) == [wrap(~a) for a in xs]
    s = tf.constant([0, 1, 3, bits - 1, 2, 4, 7, 1], dtype)
    sv = tolist(s)
    assert tolist(tf.bitwise.left_shift(x, s)) == [wrap(a << b) for a, b in zip(xs, sv)]
    assert tolist(tf.bitwise.right_shift(x, s)) == [a >> b for a, b in zip(xs, sv)]
    with pytest.raises(tf.errors.InvalidArgumentError, match="integer"):
        tf.bitwise.bitwise_and(tf.constant([1.0]), tf.constant([2.0]))
