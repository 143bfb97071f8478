"""Train the demo models natively and put them where the server and the app look:
``models/{name}/1/model.safetensors`` (TF Serving's {name}/{version} layout).

    python demos/train_demo_models.py [--models models] [--force] [--only digits_mlp,...]

Models that already exist are left alone (``make demo`` runs this every time). Each is
written to a temporary folder and renamed into place, so a running server never sees
a half-written version.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import webtensor as tf  # noqa: E402
from demo_data import digits, toy  # noqa: E402

DIGITS_FILE = ROOT / "tests" / "data" / "digits_split.bin"


def digits_data() -> tuple:
    """The digits split; made by build/make_digits.py when missing."""
    if not DIGITS_FILE.exists():
        subprocess.run([sys.executable, str(ROOT / "build" / "make_digits.py")], check=True)
    return digits(DIGITS_FILE.read_bytes())


def digits_mlp():
    k = tf.keras
    model = k.Sequential(
        [
            k.Input((64,), name="pixels"),
            k.layers.Dense(64, activation="relu"),
            k.layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="digits_mlp",
    )
    model.compile(optimizer=k.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y, xt, yt = digits_data()
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    return model, model.evaluate(xt, yt, verbose=0)[1]


def digits_cnn():
    k = tf.keras
    model = k.Sequential(
        [
            k.Input((8, 8, 1), name="image"),
            k.layers.Conv2D(16, 3, padding="same", activation="relu"),
            k.layers.MaxPooling2D(2),
            k.layers.Conv2D(32, 3, padding="same", activation="relu"),
            k.layers.Flatten(),
            k.layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="digits_cnn",
    )
    model.compile(optimizer=k.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y, xt, yt = digits_data()
    x, xt = tf.reshape(x, [-1, 8, 8, 1]), tf.reshape(xt, [-1, 8, 8, 1])
    model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    return model, model.evaluate(xt, yt, verbose=0)[1]


def moons():
    k = tf.keras
    model = k.Sequential(
        [
            k.Input((2,), name="point"),
            k.layers.Dense(16, activation="relu"),
            k.layers.Dense(16, activation="relu"),
            k.layers.Dense(2, activation="softmax", name="probabilities"),
        ],
        name="moons",
    )
    model.compile(optimizer=k.optimizers.Adam(0.03), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    pts, labels = toy("moons")
    cut = len(pts) * 4 // 5
    model.fit(tf.constant(pts[:cut]), tf.constant(labels[:cut]), epochs=60, batch_size=32, verbose=0)
    return model, model.evaluate(tf.constant(pts[cut:]), tf.constant(labels[cut:]), verbose=0)[1]


DEMOS = {"digits_mlp": digits_mlp, "digits_cnn": digits_cnn, "moons": moons}


def write_version(model, folder: Path, version: int = 1) -> Path:
    """Save into a temporary sibling folder, then rename it to ``folder/version``."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".train-", dir=folder))
    try:
        model.save(str(tmp / "model.safetensors"))
        os.rename(tmp, folder / str(version))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder / str(version) / "model.safetensors"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=str(ROOT / "models"))
    p.add_argument("--force", action="store_true", help="retrain and replace existing demo models")
    p.add_argument("--only", default=",".join(DEMOS), help="comma-separated subset of " + ", ".join(DEMOS))
    args = p.parse_args(argv)
    root = Path(args.models)
    for name in args.only.split(","):
        if name not in DEMOS:
            p.error(f"unknown demo model {name!r}; choose from {', '.join(DEMOS)}")
        folder = root / name
        if folder.is_dir() and any(c.name.isdigit() for c in folder.iterdir()):
            if not args.force:
                print(f"{name}: already in {folder}")
                continue
            shutil.rmtree(folder)
        t0 = time.perf_counter()
        tf.random.set_seed(0)
        model, acc = DEMOS[name]()
        path = write_version(model, folder)
        print(
            f"{name}: held-out accuracy {float(acc):.3f}, trained in {time.perf_counter() - t0:.1f} s -> "
            f"{path} ({path.stat().st_size:,} bytes)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
