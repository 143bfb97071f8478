"""Seeded mutations of small PNG and JPEG files through tf.io.decode_image: only
InvalidArgumentError (or a decoded image) is allowed; prints the slowest decode.

    python benchmarks/fuzz_images.py --count 2000
"""

import argparse
import random
import sys
import time

sys.path.insert(0, "tests/core")
import webtensor as tf
from test_image_fuzz import FILES  # the same seed files as the bounded test


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    args = ap.parse_args()
    worst, bad = 0.0, 0
    for name, data in sorted(FILES.items()):
        rnd = random.Random(f"fuzz-{name}")
        errors = ok = 0
        for _ in range(args.count):
            b = bytearray(data)
            for _ in range(rnd.randint(1, 8)):
                i = rnd.randrange(2, len(b))
                b[i] = rnd.choice([0x00, 0xFF, rnd.randrange(256), b[i] ^ (1 << rnd.randrange(8))])
            if rnd.random() < 0.2:
                b = b[: rnd.randrange(len(b))]
            t = time.perf_counter()
            try:
                tf.io.decode_image(bytes(b))
                ok += 1
            except tf.errors.InvalidArgumentError:
                errors += 1
            except Exception as e:  # noqa: BLE001 (the finding we look for)
                bad += 1
                print(f"{name}: {type(e).__name__}: {e}")
            worst = max(worst, time.perf_counter() - t)
        print(f"{name}: {args.count} mutations, {errors} InvalidArgumentError, {ok} decoded")
    print(f"slowest decode {worst:.3f}s, {bad} other exceptions")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
