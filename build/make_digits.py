"""Write the digits split (see tests/digits.py for the format) for places without scikit-learn.

python build/make_digits.py [OUT]      (default tests/data/digits_split.bin)
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import digits  # noqa: E402


def main(argv=None) -> str:
    argv = sys.argv[1:] if argv is None else argv
    out = argv[0] if argv else digits.DEFAULT_PATH
    data = digits.to_bytes(*digits._from_sklearn())
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    print(f"wrote {out} ({len(data)} bytes)")
    return out


if __name__ == "__main__":
    main()
