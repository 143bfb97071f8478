"""The heavy numerics ops of issue 15 beside numpy/scipy in the same process, as ratios
(webtensor time / numpy time; lower is better). Eager and as a traced tf.function.

Run: env -u OPENBLAS_CORETYPE python benchmarks/numerics.py [--json out.json]
Target (issue 15): natively within 1.5x numpy.
"""

from __future__ import annotations

import json
import sys

import numpy as np

import webtensor as tf
from eager_overhead import best_of  # the one timing helper of benchmarks/ (this folder is on sys.path)


def cases():
    rng = np.random.default_rng(0)
    a64 = rng.normal(size=(64, 64)).astype(np.float32)
    spd = (a64 @ a64.T + 64 * np.eye(64)).astype(np.float32)
    b64 = rng.normal(size=(64, 8)).astype(np.float32)
    sig = rng.normal(size=2**16).astype(np.float32)
    audio = rng.normal(size=(1, 16000)).astype(np.float32)
    img = rng.random((1, 224, 224, 3)).astype(np.float32)
    ta, tspd, tb, tsig, taudio = (tf.constant(v) for v in (a64, spd, b64, sig, audio))
    # TF's periodic Hann: the denominator is N for even N, N - 1 for odd N (window_ops.py)
    hann255 = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(255) / 254)).astype(np.float32)
    zsig = tf.complex(tsig, tf.zeros_like(tsig))
    out = [
        ("svd 64x64", lambda: tf.linalg.svd(ta, compute_uv=False), lambda: np.linalg.svd(a64, compute_uv=False)),
        ("eigh 64x64", lambda: tf.linalg.eigvalsh(tspd), lambda: np.linalg.eigvalsh(spd)),
        ("solve 64x64 @ 64x8", lambda: tf.linalg.solve(tspd, tb), lambda: np.linalg.solve(spd, b64)),
        ("cholesky 64x64", lambda: tf.linalg.cholesky(tspd), lambda: np.linalg.cholesky(spd)),
        ("fft 2^16 (complex64)", lambda: tf.signal.fft(zsig), lambda: np.fft.fft(sig.astype(np.complex64))),
        ("rfft 2^16", lambda: tf.signal.rfft(tsig), lambda: np.fft.rfft(sig)),
        (
            "stft 1 s of 16 kHz (255/128, fft 256)",
            lambda: tf.signal.stft(taudio, 255, 128),
            lambda: np.fft.rfft(np.lib.stride_tricks.sliding_window_view(audio[0], 255)[::128] * hann255, 256),
        ),
    ]
    if hasattr(tf, "image") and hasattr(tf.image, "resize"):
        timg = tf.constant(img)
        try:
            from scipy.ndimage import zoom

            out.append(
                (
                    "resize 224->112 bilinear",
                    lambda: tf.image.resize(timg, [112, 112]),
                    lambda: zoom(img, (1, 0.5, 0.5, 1), order=1),
                )
            )
        except ImportError:
            pass
    return out


def main() -> dict:
    res = {}
    for name, ours, ref in cases():
        t_ref = best_of(ref, 3, 5)
        t_ours = best_of(ours, 3, 5)
        res[name] = {"numpy_ms": t_ref * 1e3, "webtensor_ms": t_ours * 1e3, "ratio": t_ours / t_ref}
        print(
            f"{name:40s} numpy {t_ref * 1e3:9.3f} ms  webtensor {t_ours * 1e3:9.3f} ms  ratio {t_ours / t_ref:7.1f}x",
            flush=True,
        )
    return res


if __name__ == "__main__":
    r = main()
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(r, f, indent=1)
