"""Issue 12: hostile model files. Each fixture is generated here at a bounded size."""
import json
import os
import struct
import subprocess
import sys
import time
import zlib

import pytest

import webtensor as tf
from webtensor.saving import atomic, load_file, safetensors as st, validate


def raw_file(header: dict, data: bytes = b"") -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


# -- 6: linear-time validation, entry cap ------------------------------------------------

def test_many_zero_size_tensors_validate_in_linear_time():
    n = 40_000  # 22 s before (one header search per tensor)
    header = {f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(n)}
    header["__metadata__"] = {f"k{i}": "v" for i in range(n // 2)}
    t0 = time.perf_counter()
    meta, tensors = load_file(raw_file(header))
    assert len(tensors) == n and len(meta) == n // 2
    assert time.perf_counter() - t0 < 5.0


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
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl,sys,time\n"
                               "f=open(sys.argv[1],'rb'); fcntl.flock(f, fcntl.LOCK_EX)\n"
                               "print('locked', flush=True); time.sleep(30)", str(live)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        st.save(target, {"a": tf.constant([1.0])})
        assert not stale.exists() and other.exists() and live.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == [".m.safetensors.live.tmp",
                                                             ".other.safetensors.abc123.tmp",
                                                             "m.safetensors"]
    finally:
        holder.kill()
        holder.wait()


# -- 18: the data checksum --------------------------------------------------------------

def test_checksum_is_written_and_a_flipped_data_bit_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    data = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
    st.save(path, {"w": tf.constant([1.0, 2.0, 3.0, 4.0])})
    meta, _ = load_file(path)
    assert meta["data_crc32"] == f"{zlib.crc32(data):08x}"
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0x10  # inside the tensor data: structurally still a valid file
    with pytest.raises(ValueError, match="CRC-32 .* damaged"):
        load_file(bytes(blob))
    # a file written without the checksum still loads, with the structural checks only
    st.save(path, {"w": tf.constant([1.0, 2.0, 3.0, 4.0])}, checksum=False)
    meta, t = load_file(path)
    assert "data_crc32" not in meta and t["w"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_a_bad_checksum_value_is_refused():
    header = {"__metadata__": {"data_crc32": "xyz"},
              "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    with pytest.raises(ValueError, match="not 8 lowercase hex digits"):
        load_file(raw_file(header, b"\0" * 4))
