"""The GPU backend's WGSL FFT (shaders/fft.wgsl) in the page, on Chromium's WebGPU (Tint
compiles the same shaders wgpu-py's naga does natively): values against a direct DFT in
Python (no numpy in the page), and the kernel's dispatch count."""

from __future__ import annotations

from conftest import boot, run_python

CODE = """
import cmath, math
import webtensor as tf
from webtensor import backends

be = backends.default()
def dft(x, inverse=False):
    n, s = len(x), 1 if inverse else -1
    out = [sum(x[j] * cmath.exp(s * 2j * math.pi * j * k / n) for j in range(n)) for k in range(n)]
    return [v / n for v in out] if inverse else out

def err(t, want):
    got = [complex(a, b) for a, b in zip(tf.math.real(t).numpy().tolist(), tf.math.imag(t).numpy().tolist())]
    return max(abs(a - b) for a, b in zip(got, want)) / max(abs(w) for w in want)

out = {"backend": be.name, "fallback": be.is_fallback}
for n in (64, 32, 12, 7):
    x = [complex(math.sin(1.3 * j + 0.2), math.cos(0.7 * j * j)) for j in range(n)]
    z = tf.complex(tf.constant([v.real for v in x]), tf.constant([v.imag for v in x]))
    tf.signal.fft(z)
    before = be.kernel_count
    f = tf.signal.fft(z)
    out[f"dispatches {n}"] = be.kernel_count - before
    out[f"fft {n}"] = err(f, dft(x))
    out[f"ifft {n}"] = err(tf.signal.ifft(z), dft(x, True))
    r = tf.signal.rfft(tf.constant([v.real for v in x]))
    out[f"rfft {n}"] = err(r, dft([complex(v.real) for v in x])[: n // 2 + 1])
out
"""


def test_wgsl_fft_in_page_matches_a_direct_dft(page):
    r = boot(page, backend="webgpu")
    assert r.get("backend") == "gpu", r
    got = run_python(page, CODE)
    assert got["backend"] == "gpu"
    # a CPU adapter (SwiftShader) runs the passes: 64 = 4^3, 32 = 2 * 4^2; 12 and 7 by
    # Bluestein over m = 32 and 16: chirp in, two FFTs, the product, chirp out
    assert got["fallback"] is False or (got["dispatches 64"], got["dispatches 32"]) == (3, 3)
    assert got["fallback"] is False or (got["dispatches 12"], got["dispatches 7"]) == (9, 7)
    errors = {k: v for k, v in got.items() if k.split()[0] in ("fft", "ifft", "rfft")}
    assert len(errors) == 12 and max(errors.values()) < 2e-6, errors
