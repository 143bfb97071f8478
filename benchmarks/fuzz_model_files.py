"""The long fuzz run: 10,000 seeded mutations each of a model file, a weights file, a
Keras 3 ``.keras`` archive, a legacy Keras ``.h5`` file and a SavedModel directory.

    python benchmarks/fuzz_model_files.py [--count 10000] [--seed 1] [--only keras,h5,saved_model]   (make fuzz)

A SavedModel mutation edits saved_model.json (half the tree edits inside graph nodes),
its text, or variables.safetensors; each that loads is also called on zeros.

The ``.keras`` and ``.h5`` files go through ``import_keras``, whose HDF5 parsing runs
in a child process under rlimits and a timeout (forked here, for speed): a crash or a
hang of h5py there must come back as a ValueError.

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
from mutate import (
    Hang,
    h5_mutations,
    hang_guard,
    keras_archive,
    keras_mutations,  # noqa: E402
    legacy_h5,
    model_file,
    mutations,
    weights_file,
)


def fuzz(
    name: str,
    blob: bytes,
    load,
    seed: int,
    count: int,
    config_bias: float = 0.0,
    files=None,
    suffix: str | None = None,
    tmp: Path | None = None,
) -> bool:
    """``files``: the mutated files (default: ``mutations`` of ``blob``); with ``suffix``
    each is written to ``tmp/f<suffix>`` and loaded by path."""
    kinds: collections.Counter = collections.Counter()
    loaded = 0
    t0 = time.perf_counter()
    files = files if files is not None else mutations(blob, seed, count, config_bias)
    for i, bad in enumerate(files):
        if suffix is not None:
            (tmp / f"f{suffix}").write_bytes(bad)
            bad = str(tmp / f"f{suffix}")
        try:
            with hang_guard(150):
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
    print(
        f"\n{name}: {count} mutations of a {len(blob):,}-byte file in {dt:.1f} s "
        f"({count / dt:,.0f} files/s): {loaded} loaded, {sum(kinds.values())} ValueError, 0 other"
    )
    for msg, n in kinds.most_common(16):
        print(f"  {n:6d}  {msg}")
    return True


def _saved_model_fuzz(args, tmp) -> bool:
    from mutate_saved_model import base_saved_model, load_and_call, saved_model_mutations, write

    base = base_saved_model(tmp)
    j = Path(base, "saved_model.json").read_bytes()
    w = Path(base, "variables.safetensors").read_bytes()

    def pairs():
        for mj, mw in saved_model_mutations(j, w, args.seed, args.count):
            write(base, mj, mw)
            yield base

    ok = fuzz(
        "SavedModel directory (tf.saved_model.load, then serving_default on zeros)",
        j + w,
        load_and_call,
        args.seed,
        args.count,
        files=pairs(),
    )
    for f in Path(base).iterdir():
        os.unlink(f)
    os.rmdir(base)
    return ok


def _file_fuzz(name, suffix, blob, mutator, args, tmp) -> bool:
    from webtensor.io import import_keras

    return fuzz(
        name,
        blob,
        import_keras,
        args.seed,
        args.count,
        suffix=suffix,
        tmp=tmp,
        files=mutator(blob, args.seed, args.count),
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--only", default="model,weights,keras,h5,saved_model", help="comma-separated kinds to run")
    args = p.parse_args()
    only = set(args.only.split(","))
    tmp = Path(tempfile.mkdtemp())
    from webtensor.io import isolated

    isolated.START_METHOD = "fork"  # this process is single-threaded; exec costs 0.4 s a file
    runs = {
        "model": lambda: fuzz(
            "model file (load_model; half the edits inside the model config)",
            model_file(tmp),
            tf.keras.models.load_model,
            args.seed,
            args.count,
            config_bias=0.5,
        ),
        "weights": lambda: fuzz(
            "weights file (load_file)", weights_file(tmp), tf.saving.load_file, args.seed, args.count
        ),
        "keras": lambda: _file_fuzz(
            ".keras archive (import_keras, child process)",
            ".keras",
            keras_archive(tmp / "base.keras"),
            keras_mutations,
            args,
            tmp,
        ),
        "h5": lambda: _file_fuzz(
            "legacy .h5 model (import_keras, child process)", ".h5", legacy_h5(tmp / "base.h5"), h5_mutations, args, tmp
        ),
        "saved_model": lambda: _saved_model_fuzz(args, tmp),
    }
    ok = True
    for kind, run in runs.items():
        if kind in only:
            ok = run() and ok
    for f in tmp.iterdir():
        os.unlink(f)
    tmp.rmdir()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
