"""The heavy numerics ops of issue 15 beside numpy in the same process, as ratios
(webtensor time / numpy time; lower is better), eager, on the default (numpy) backend.

Run: env -u OPENBLAS_CORETYPE python benchmarks/numerics.py [--rounds 7] [--json out.json]
Each round times every case's numpy and webtensor calls back to back (alternating which
goes first), so load drift hits both sides alike; the table shows the medians over rounds.
Target (issue 15): natively within 1.5x numpy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

import webtensor as tf


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
    timg = tf.constant(img)
    out.append(
        ("resize 224->112 bilinear", lambda: tf.image.resize(timg, [112, 112]), lambda: np_resize(img, 112, 112))
    )
    return out


def np_resize(img, out_h: int, out_w: int):
    """TF's half-pixel bilinear in idiomatic numpy: per axis, the two neighbouring rows
    (columns) by fancy indexing, blended by their distances."""

    def axis(n_in, n_out):
        x = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        lo = np.floor(x)
        t = (x - lo).astype(np.float32)
        lo = lo.astype(np.intp)
        return np.clip(lo, 0, n_in - 1), np.clip(lo + 1, 0, n_in - 1), t

    y0, y1, ty = axis(img.shape[1], out_h)
    x0, x1, tx = axis(img.shape[2], out_w)
    ty, tx = ty[:, None, None], tx[:, None]
    rows = img[:, y0] * (1 - ty) + img[:, y1] * ty
    return rows[:, :, x0] * (1 - tx) + rows[:, :, x1] * tx


def per_call(fn, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def main(rounds: int = 7, only: str = "") -> dict:
    cs = cases()
    name, ours, ref = cs[-1]  # the numpy resize is the same function as ours, to float32 rounding
    np.testing.assert_allclose(np.asarray(ours()), ref(), rtol=0, atol=1e-5, err_msg=name)
    cs = [c for c in cs if not only or any(w in c[0] for w in only.split(","))]
    times = {name: ([], []) for name, _, _ in cs}
    for name, ours, ref in cs:
        ours(), ref()  # warm caches
    for r in range(rounds):
        for name, ours, ref in cs:
            number = max(3, min(200, int(0.02 / max(per_call(ref, 1), 1e-6))))
            pair = (ref, ours) if r % 2 == 0 else (ours, ref)
            t = [per_call(f, number) for f in pair]
            ref_t, ours_t = t if r % 2 == 0 else t[::-1]
            times[name][0].append(ref_t)
            times[name][1].append(ours_t)
    res = {}
    for name, (ref_ts, ours_ts) in times.items():
        t_ref, t_ours = statistics.median(ref_ts), statistics.median(ours_ts)
        ratio = statistics.median(o / n for o, n in zip(ours_ts, ref_ts))
        res[name] = {"numpy_ms": t_ref * 1e3, "webtensor_ms": t_ours * 1e3, "ratio": ratio}
        print(
            f"{name:40s} numpy {t_ref * 1e3:9.3f} ms  webtensor {t_ours * 1e3:9.3f} ms  ratio {ratio:5.2f}x", flush=True
        )
    print(f"{rounds} interleaved rounds; median ratio per case; load {os.getloadavg()[0]:.1f}")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated name fragments, e.g. stft,resize")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    r = main(a.rounds, a.only)
    if a.json:
        a.json.write_text(json.dumps(r, indent=1))
