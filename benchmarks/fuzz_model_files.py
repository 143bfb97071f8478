"""The long fuzz run: 10,000 seeded mutations of a valid model file and of a weights file.

    python benchmarks/fuzz_model_files.py [--count 10000] [--seed 1]     (make fuzz)

Half the model file's mutations edit the model config JSON inside the metadata (so
the loader builds models from damaged configs). Every mutated file must load or raise ValueError: any other exception, or a load that
runs past 20 s (a hang), stops the run with the mutation's seed and index. Prints the
outcome counts, the most common error messages, and files per second.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "core"), str(ROOT / "tests" / "saving")]

import webtensor as tf  # noqa: E402
from mutate import Hang, hang_guard, model_file, mutations, weights_file  # noqa: E402


def fuzz(name: str, blob: bytes, load, seed: int, count: int, config_bias: float = 0.0) -> bool:
    kinds: collections.Counter = collections.Counter()
    loaded = 0
    t0 = time.perf_counter()
    for i, bad in enumerate(mutations(blob, seed, count, config_bias)):
        try:
            with hang_guard(20):
                load(bad)
            loaded += 1
        except ValueError as e:
            msg = str(e).split(": ", 1)[-1]
            kinds[re.sub(r"\d+", "N", re.sub(r"'[^']*'", "'…'", msg))[:70]] += 1
        except Hang:
            print(f"{name}: HANG at mutation {i} (seed {seed})")
            return False
        except Exception as e:  # noqa: BLE001 - what the run looks for
            print(f"{name}: mutation {i} (seed {seed}) raised {type(e).__name__}: {e}")
            return False
    dt = time.perf_counter() - t0
    print(f"\n{name}: {count} mutations of a {len(blob):,}-byte file in {dt:.1f} s "
          f"({count / dt:,.0f} files/s): {loaded} loaded, {sum(kinds.values())} ValueError, 0 other")
    for msg, n in kinds.most_common(16):
        print(f"  {n:6d}  {msg}")
    return True


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    ok = fuzz("model file (load_model; half the edits inside the model config)", model_file(tmp),
              tf.keras.models.load_model, args.seed, args.count, config_bias=0.5)
    ok = ok and fuzz("weights file (load_file)", weights_file(tmp), tf.saving.load_file, args.seed,
                     args.count)
    for f in tmp.iterdir():
        os.unlink(f)
    tmp.rmdir()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
