"""Atomic saves: a save killed at any moment (SIGKILL) leaves the previous file loadable."""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

import webtensor as tf
from webtensor.saving import atomic, load_file, safetensors as st

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Saves 4 MB files in a loop, alternating two contents so every complete file is
# recognisable: tensor "v" is all 1.0 or all 2.0, and "tag" says which.
SAVER = r"""
import sys, webtensor as tf
from webtensor.saving import safetensors as st
path = sys.argv[1]
vals = [tf.fill((1 << 20,), 1.0), tf.fill((1 << 20,), 2.0)]
i = 0
while True:
    st.save(path, {"v": vals[i % 2], "tag": tf.constant(i % 2 + 1)})
    if i == 0:
        print("saved", flush=True)
    i += 1
"""


def check_file(path):
    """The file is one complete save: 'v' all equal to 'tag'."""
    _, t = load_file(path)
    tag = int(t["tag"])
    assert tag in (1, 2)
    assert float(tf.reduce_min(t["v"])) == float(tf.reduce_max(t["v"])) == float(tag)
    assert t["v"].shape == (1 << 20,)


@pytest.mark.native
def test_sigkill_mid_save_always_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "m.safetensors"
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "core") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rng = random.Random(0)
    kills = landed = 0
    for _ in range(20):
        p = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)], env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        try:
            assert p.stdout.readline().strip() == b"saved"
            time.sleep(rng.random() * 0.05)
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
            p.stdout.close()
        kills += 1
        check_file(path)
        # A temp file left now is a kill that landed mid-save (the next save removes it, so
        # count it before the next round).
        landed += any(f.endswith(".tmp") for f in os.listdir(tmp_path))
    print(f"{landed} of {kills} kills landed mid-save")
    assert landed, "no kill landed during a save; the test did not test atomicity"
    assert kills == 20


def test_failed_save_keeps_the_old_file_and_removes_its_temp(tmp_path):
    path = tmp_path / "w.safetensors"
    st.save(path, {"v": tf.constant([1.0]), "tag": tf.constant(1)})
    before = path.read_bytes()

    def half_then_fail(f):
        f.write(b"garbage")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_write(path, half_then_fail)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.safetensors"]


@pytest.mark.native
def test_save_keeps_permissions_and_takes_the_path_as_given(tmp_path):
    path = tmp_path / "odd name ~$x.safetensors"
    st.save(str(path), {"v": tf.constant([1.0])})
    assert path.exists() and os.listdir(tmp_path) == [path.name]
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    os.chmod(path, 0o640)
    st.save(path, {"v": tf.constant([2.0])})
    assert path.stat().st_mode & 0o777 == 0o640
