"""The GPU as a device: discovery, placement and implicit copies, the no-adapter case,
shader compile errors, packaging of the shaders."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import webtensor as tf
from webtensor.backends.gpu import shaders as gpu_shaders
from webtensor.backends.gpu.device import ShaderError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_gpu_is_listed_with_its_adapter(gpu):
    devs = tf.config.list_physical_devices("GPU")
    assert [d.device_type for d in devs] == ["GPU"]
    assert tf.config.experimental.get_device_details(devs[0])["device_name"] == gpu.adapter_name
    assert gpu.dev.limits["maxComputeWorkgroupsPerDimension"] >= 65535


def test_device_scopes_choose_where_results_live_and_copies_are_implicit(gpu):
    with tf.device("/CPU:0"):
        c = tf.constant([1.0, 2.0, 3.0])
    with tf.device("/GPU:0"):
        g = tf.constant([10.0, 20.0, 30.0])
        s = c + g  # the CPU operand is copied to the GPU
        d = tf.constant([1.0, 2.0], tf.float64)  # float64 stays on the CPU
    assert c.device.endswith("CPU:0") and g.device.endswith("GPU:0") and s.device.endswith("GPU:0")
    assert d.device.endswith("CPU:0")
    assert s.numpy().tolist() == [11.0, 22.0, 33.0]
    with tf.device("/CPU:0"):
        back = g * 2.0  # a GPU tensor used on the CPU
    assert back.device.endswith("CPU:0") and back.numpy().tolist() == [20.0, 40.0, 60.0]
    assert (g + c).device.endswith("GPU:0")  # outside a scope: the first operand's device


def test_argmax_gives_int64_that_compares_with_labels(gpu):
    with tf.device("/GPU:0"):
        p = tf.constant([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
        am = tf.argmax(p, axis=1)
        labels = tf.constant([1, 2], tf.int64)
        hits = tf.cast(tf.equal(am, labels), tf.float32)
    assert am.dtype is tf.int64 and am.device.endswith("GPU:0")
    assert am.numpy().tolist() == [1, 0] and hits.numpy().tolist() == [1.0, 0.0]


def test_async_readback(gpu):
    import asyncio

    with tf.device("/GPU:0"):
        x = tf.constant([[1.0, 2.0], [3.0, 4.0]]) * 2.0
        flags, idx = x > 3.0, tf.argmax(x, 1)

    async def read_all():
        return [(await t.numpy_async()).tolist() for t in (x, flags, idx)]

    assert asyncio.run(read_all()) == [[[2.0, 4.0], [6.0, 8.0]], [[False, True], [True, True]], [1, 1]]


def test_int64_beyond_32_bits_stays_on_the_cpu(gpu):
    with tf.device("/GPU:0"):
        small = tf.constant([1, -2], tf.int64)
        big = tf.constant([2**40, -(2**40)], tf.int64)
    assert small.device.endswith("GPU:0")
    assert big.device.endswith("CPU:0") and big.numpy().tolist() == [2**40, -(2**40)]


def test_buffers_return_to_the_pool_when_tensors_die(gpu):
    with tf.device("/GPU:0"):
        x = tf.random.normal([256, 256])
        counts = []
        for _ in range(20):
            y = tf.matmul(x, x) + 1.0  # the first round also caches the constant 1.0
            del y
            counts.append(gpu.memory_info()["live_buffers"])
    assert len(set(counts[1:])) == 1, counts


def test_memory_info_counts_live_tensor_bytes(gpu):
    with tf.device("/GPU:0"):
        base = tf.config.experimental.get_memory_info("GPU:0")
        x = tf.zeros([96, 1024])  # 393,216 bytes = 1.5 x 2^18: exactly one of the pool's size classes
        grown = tf.config.experimental.get_memory_info("GPU:0")
        del x
        after = tf.config.experimental.get_memory_info("GPU:0")
    assert grown["current"] - base["current"] == 393216
    assert after["current"] == base["current"] and grown["peak"] >= grown["current"]


def _run_python(code: str, **env) -> subprocess.CompletedProcess:
    e = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "core"), **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=120)


NO_ADAPTER = """
import webtensor.backends.gpu.wgpu_device as W
W._request_adapter = lambda power_preference: None   # as on a machine without a Vulkan driver
import webtensor as tf
assert tf.config.list_physical_devices("GPU") == [], tf.config.list_physical_devices("GPU")
try:
    with tf.device("/GPU:0"):
        pass
except RuntimeError as e:
    print("ERROR:", e)
with tf.device("/CPU:0"):
    print("CPU:", (tf.constant([1.0, 2.0]) * 2.0).numpy().tolist())
"""


@pytest.mark.native
def test_no_adapter_gives_a_clear_message_and_the_cpu_keeps_working(gpu):
    r = _run_python(NO_ADAPTER)
    assert r.returncode == 0, r.stderr
    assert "ERROR: no GPU backend available" in r.stdout
    assert "no GPU adapter" in r.stdout and "mesa-vulkan-drivers" in r.stdout
    assert "CPU: [2.0, 4.0]" in r.stdout


@pytest.mark.native
def test_without_wgpu_the_message_says_what_to_install():
    r = _run_python(
        "import sys; sys.modules['wgpu'] = None\n"
        "from webtensor import backends\n"
        "try:\n    backends.get('gpu')\nexcept RuntimeError as e:\n    print('ERROR:', e)\n"
    )
    assert r.returncode == 0, r.stderr
    assert "webtensor[gpu]" in r.stdout


@pytest.mark.native
def test_default_gpu_backend_without_adapter_fails_clearly():
    code = NO_ADAPTER.split("import webtensor as tf")[0] + (
        "import webtensor as tf\ntry:\n    tf.constant(1.0)\nexcept Exception as e:\n    print('ERROR:', e)\n"
    )
    r = _run_python(code, WEBTENSOR_BACKEND="gpu")
    assert r.returncode == 0, r.stderr
    assert "no GPU adapter" in r.stdout


def test_a_shader_compile_error_names_the_file_and_the_wgsl_error(gpu, monkeypatch):
    broken = (
        "@group(0) @binding(0) var<uniform> p: vec4<u32>;\n"
        "@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }\n"
    )
    monkeypatch.setitem(gpu_shaders._sources, "broken_kernel.wgsl", broken)
    with pytest.raises(ShaderError) as e:
        gpu._pipe(("broken_kernel.wgsl",), "main", "u")
    msg = str(e.value)
    assert "shaders/broken_kernel.wgsl" in msg and "entry point 'main'" in msg
    assert "expected `u32`" in msg or "u32" in msg  # the compiler's own words


def test_every_shader_file_is_used_and_slots_must_be_filled():
    d = gpu_shaders.shader_dir()
    files = sorted(f for f in os.listdir(d) if f.endswith(".wgsl"))
    pkg = os.path.join(ROOT, "core", "webtensor", "backends", "gpu")
    dispatcher = ""  # every module of the GPU package that names shaders (the dispatcher, fft.py)
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py"):
            with open(os.path.join(pkg, name), encoding="utf-8") as f:
                dispatcher += f.read()
    assert [f for f in files if f != "common.wgsl" and f'"{f}"' not in dispatcher] == []
    with pytest.raises(KeyError, match="RANK"):
        gpu_shaders.specialise(("map.wgsl",), {"T": "f32", "U": "f32", "OP": "x"})


def test_threads_get_correct_answers(gpu):
    """A server runs ops on worker threads while tensors die on others: dispatches,
    submits and buffer returns are serialised, so every thread reads its own answers."""
    import threading

    import webtensor as tf

    errors = []

    def work(seed):
        try:
            with tf.device("/GPU:0"):
                a = tf.reshape(tf.range(64, dtype=tf.float32) * float(seed + 1), (8, 8))
                for _ in range(30):
                    got = (a @ tf.transpose(a)).numpy().tolist()
                    row = [float(v) * (seed + 1) for v in range(64)]
                    want = [
                        [sum(row[i * 8 + k] * row[j * 8 + k] for k in range(8)) for j in range(8)] for i in range(8)
                    ]
                    if got != want:
                        errors.append((seed, got[0][:3], want[0][:3]))
                        return
        except Exception as e:  # a validation error from interleaved encoders
            errors.append((seed, repr(e)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:2]
