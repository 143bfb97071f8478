"""The safetensors reader/writer and the validator: bytes built by hand, the
reference ``safetensors`` package both ways, and every rejection the issue lists."""

import json
import struct
import zlib

import pytest

import webtensor as tf
from util import assert_close, assert_equal
from webtensor.saving import load_file, safetensors as st, validate


def raw_file(header: dict, data: bytes, pad: bool = False) -> bytes:
    """A safetensors file assembled by hand (not by the code under test)."""
    h = json.dumps(header).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(*xs) -> bytes:
    return struct.pack(f"<{len(xs)}f", *xs)


def test_reads_a_hand_built_file_of_every_dtype():
    data = (
        f32(1, 2, 3, 4)
        + struct.pack("<2e", 0.5, -2.0)
        + struct.pack("<d", 2.25)
        + struct.pack("<3i", -1, 0, 7)
        + struct.pack("<q", -(2**40))
        + bytes([0, 255])
        + struct.pack("<I", 2**32 - 1)
        + bytes([1, 0, 1])
    )
    header = {
        "__metadata__": {"k": "v"},
        "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
        "h": {"dtype": "F16", "shape": [2], "data_offsets": [16, 20]},
        "d": {"dtype": "F64", "shape": [], "data_offsets": [20, 28]},
        "i": {"dtype": "I32", "shape": [3], "data_offsets": [28, 40]},
        "q": {"dtype": "I64", "shape": [1], "data_offsets": [40, 48]},
        "u": {"dtype": "U8", "shape": [2], "data_offsets": [48, 50]},
        "w": {"dtype": "U32", "shape": [1], "data_offsets": [50, 54]},
        "b": {"dtype": "BOOL", "shape": [3], "data_offsets": [54, 57]},
    }
    meta, t = load_file(raw_file(header, data))
    assert meta == {"k": "v"}
    assert_equal(t["a"], [[1.0, 2.0], [3.0, 4.0]])
    assert t["h"].dtype is tf.float16 and t["h"].tolist() == [0.5, -2.0]
    assert t["d"].dtype is tf.float64 and t["d"].shape == () and float(t["d"]) == 2.25
    assert t["i"].dtype is tf.int32 and t["i"].tolist() == [-1, 0, 7]
    assert t["q"].dtype is tf.int64 and t["q"].tolist() == [-(2**40)]
    assert t["u"].dtype is tf.uint8 and t["u"].tolist() == [0, 255]
    assert t["w"].dtype is tf.uint32 and t["w"].tolist() == [2**32 - 1]
    assert t["b"].dtype is tf.bool and t["b"].tolist() == [True, False, True]


def test_writes_the_reference_layout_byte_for_byte(tmp_path):
    path = tmp_path / "w.safetensors"
    st.save(path, {"x": tf.constant([1.0, -1.0]), "n": tf.constant([[5]], tf.int64)}, {"m": "1"})
    got = path.read_bytes()
    crc = f"{zlib.crc32(f32(1.0, -1.0) + struct.pack('<q', 5)):08x}"  # the checksum readers verify
    want = raw_file(
        {
            "__metadata__": {"m": "1", "data_crc32": crc},
            "x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "n": {"dtype": "I64", "shape": [1, 1], "data_offsets": [8, 16]},
        },
        f32(1.0, -1.0) + struct.pack("<q", 5),
        pad=True,
    )
    assert json.loads(got[8 : 8 + struct.unpack("<Q", got[:8])[0]]) == json.loads(
        want[8 : 8 + struct.unpack("<Q", want[:8])[0]]
    )
    assert got[-16:] == want[-16:]
    assert struct.unpack("<Q", got[:8])[0] % 8 == 0  # data section aligned, as the reference writes


def test_empty_and_scalar_tensors_round_trip(tmp_path):
    path = tmp_path / "e.safetensors"
    st.save(path, {"empty": tf.zeros((0, 3)), "s": tf.constant(7.5)})
    _, t = load_file(path)
    assert t["empty"].shape == (0, 3) and t["s"].shape == () and float(t["s"]) == 7.5


@pytest.mark.native
@pytest.mark.numpy
def test_reference_library_reads_ours_and_we_read_theirs(tmp_path):
    np = pytest.importorskip("numpy")
    ref = pytest.importorskip("safetensors.numpy")
    ours = tmp_path / "ours.safetensors"
    st.save(
        ours,
        {"w": tf.constant([[1.0, 2.0, 3.0]]), "h": tf.constant([0.25], tf.float16), "i": tf.constant([3, 4], tf.int64)},
        {"format": "webtensor-test"},
    )
    back = ref.load_file(str(ours))
    assert back["w"].dtype == np.float32 and back["w"].tolist() == [[1.0, 2.0, 3.0]]
    assert back["h"].dtype == np.float16 and back["h"].tolist() == [0.25]
    assert back["i"].tolist() == [3, 4]
    theirs = tmp_path / "theirs.safetensors"
    ref.save_file(
        {"k": np.arange(6, dtype=np.float64).reshape(2, 3), "b": np.array([True, False]), "u": np.array([9], np.uint8)},
        str(theirs),
        metadata={"a": "b"},
    )
    meta, t = load_file(theirs)
    assert meta == {"a": "b"}
    assert_close(t["k"], [[0, 1, 2], [3, 4, 5]]) and t["k"].dtype is tf.float64
    assert t["b"].tolist() == [True, False] and t["u"].tolist() == [9]


# -- rejections: each names the problem and the byte offset --------------------------------

GOOD_HEADER = {
    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},
}
GOOD_DATA = f32(1, 2, 3)


def rejects(blob: bytes, *words: str, offset: int | None = None):
    with pytest.raises(ValueError) as info:
        load_file(blob)
    msg = str(info.value)
    for w in words:
        assert w in msg, msg
    assert "byte offset" in msg, msg
    if offset is not None:
        assert f"byte offset {offset})" in msg, msg
    return msg


def test_good_file_loads():
    _, t = load_file(raw_file(GOOD_HEADER, GOOD_DATA))
    assert t["a"].tolist() == [1.0, 2.0] and t["b"].tolist() == [3.0]


def test_rejects_truncated_files():
    blob = raw_file(GOOD_HEADER, GOOD_DATA)
    rejects(blob[:5], "truncated", "8-byte", offset=0)
    rejects(blob[:20], "header length", "past the end", offset=0)
    n = struct.unpack("<Q", blob[:8])[0]
    rejects(blob[:-2], "past the end", "'b'", offset=8 + n + 8)


def test_rejects_header_length_over_100_mb_before_reading_it():
    rejects(struct.pack("<Q", 100 * 1024 * 1024 + 1) + b"{}", "100 MB", offset=0)
    rejects(struct.pack("<Q", 2**64 - 1), "100 MB", offset=0)


def test_rejects_invalid_json_and_reports_where():
    h = b'{"a": {"dtype": "F32", "shape": [1] "data_offsets": [0, 4]}}'
    msg = rejects(struct.pack("<Q", len(h)) + h + f32(1), "not valid JSON")
    where = 8 + h.index(b'"data_offsets')
    assert f"byte offset {where})" in msg
    rejects(struct.pack("<Q", 4) + b"\xff\xfe{}" + b"", "not UTF-8", offset=8)
    rejects(struct.pack("<Q", 2) + b"[]", "not an object", offset=8)
    deep = b"[" * 100000 + b"]" * 100000
    rejects(struct.pack("<Q", len(deep)) + deep, "nests too deeply")


def test_rejects_unknown_dtype():
    h = dict(GOOD_HEADER, b={"dtype": "BF16", "shape": [2], "data_offsets": [8, 12]})
    rejects(raw_file(h, GOOD_DATA), "unknown dtype 'BF16'", "'b'")


def test_rejects_shape_and_byte_size_mismatch():
    h = dict(GOOD_HEADER, b={"dtype": "F32", "shape": [2], "data_offsets": [8, 12]})
    blob = raw_file(h, GOOD_DATA)
    n = struct.unpack("<Q", blob[:8])[0]
    rejects(blob, "needs 8 bytes", "hold 4", offset=8 + n + 8)
    h = dict(GOOD_HEADER, b={"dtype": "F32", "shape": [-1], "data_offsets": [8, 12]})
    rejects(raw_file(h, GOOD_DATA), "non-negative integers")
    h = dict(GOOD_HEADER, b={"dtype": "F32", "shape": [1.0], "data_offsets": [8, 12]})
    rejects(raw_file(h, GOOD_DATA), "non-negative integers")


def test_rejects_overlapping_and_out_of_range_offsets():
    h = dict(GOOD_HEADER, b={"dtype": "F32", "shape": [1], "data_offsets": [4, 8]})
    blob = raw_file(h, GOOD_DATA)
    n = struct.unpack("<Q", blob[:8])[0]
    rejects(blob, "overlap", offset=8 + n + 4)
    h = dict(GOOD_HEADER, b={"dtype": "F32", "shape": [1], "data_offsets": [12, 16]})
    rejects(raw_file(h, GOOD_DATA), "past the end")
    h = dict(GOOD_HEADER, b={"dtype": "F32", "shape": [1], "data_offsets": [12, 8]})
    rejects(raw_file(h, GOOD_DATA), "out of order")
    h = dict(GOOD_HEADER, b={"dtype": "F32", "shape": [1], "data_offsets": [8]})
    rejects(raw_file(h, GOOD_DATA), "pair of integers")
    rejects(raw_file(GOOD_HEADER, GOOD_DATA + b"\0\0\0\0"), "belong to no tensor")
    h = dict(GOOD_HEADER, b={"dtype": "F32", "shape": [1], "data_offsets": [9, 13]})
    rejects(raw_file(h, GOOD_DATA + b"\0"), "belong to no tensor")


def test_rejects_duplicate_names():
    h = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
    msg = rejects(struct.pack("<Q", len(h)) + h + f32(1, 2), "duplicate name 'a'")
    where = 8 + h.rindex(b'"a"')
    assert f"byte offset {where})" in msg


def test_rejects_bad_metadata():
    h = dict(GOOD_HEADER, __metadata__={"n": 3})
    rejects(raw_file(h, GOOD_DATA), "metadata values are strings")
    h = dict(GOOD_HEADER, __metadata__=[1])
    rejects(raw_file(h, GOOD_DATA), "__metadata__ is not a JSON object")


def test_header_claiming_huge_tensors_allocates_nothing(tmp_path):
    """A stream that declares 1 TB of data is read chunk by chunk and fails at its end."""
    h = {"big": {"dtype": "F32", "shape": [2**38], "data_offsets": [0, 2**40]}}
    blob = raw_file(h, b"\0" * 64)
    import io

    stream = io.BytesIO(blob)
    with pytest.raises(ValueError, match="truncated file: tensor 'big' ends after 64 of"):
        st.read_stream(stream.read)
    path = tmp_path / "big.safetensors"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match="run past the end of the file"):
        load_file(path)


def test_dtype_codes_come_from_the_one_dtype_table():
    assert [
        validate.dtype_code(d)
        for d in (tf.float16, tf.float32, tf.float64, tf.int32, tf.int64, tf.uint8, tf.uint32, tf.bool)
    ] == ["F16", "F32", "F64", "I32", "I64", "U8", "U32", "BOOL"]


@pytest.fixture
def http_dir(tmp_path):
    """A static HTTP server on 127.0.0.1 (free port) over tmp_path, stopped after the test."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield tmp_path, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.mark.native
def test_load_from_url_streams_and_validates(http_dir):
    import asyncio

    folder, url = http_dir
    st.save(folder / "w.safetensors", {"a": tf.constant([[1.0, 2.0]]), "n": tf.constant([7], tf.int64)})
    meta, t = load_file(f"{url}/w.safetensors")
    assert t["a"].tolist() == [[1.0, 2.0]] and t["n"].tolist() == [7]
    _, t = asyncio.run(tf.saving.load_file_async(f"{url}/w.safetensors"))
    assert t["a"].tolist() == [[1.0, 2.0]]
    (folder / "cut.safetensors").write_bytes((folder / "w.safetensors").read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated file: tensor 'n'"):
        load_file(f"{url}/cut.safetensors")
    with pytest.raises(OSError):
        load_file(f"{url}/missing.safetensors")
