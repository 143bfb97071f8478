"""Shim: the page runtime builder lives in the package (webtensor.serving.page_runtime).

python build/make_runtime.py [DEST]      # default build/dist/site/runtime/
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from webtensor.serving.page_runtime import build, main  # noqa: E402,F401  (tests import make_runtime.build)

if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ValueError as e:
        sys.exit(str(e))
