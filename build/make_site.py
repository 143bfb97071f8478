"""Shim: the site builder lives in the package (webtensor.serving.site).

python build/make_site.py              # the site (needs `npm ci` done: node_modules/pyodide)
python build/make_site.py test-wheels  # pytest + its pure-Python deps for the in-page test run
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from webtensor.serving.site import SITE, build_site, fetch_test_wheels  # noqa: E402,F401  (tests import these)

if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "site"
    try:
        if what == "site":
            build_site()
        elif what == "test-wheels":
            print(f"site: {fetch_test_wheels()}")
        else:
            sys.exit(f"usage: {sys.argv[0]} [site|test-wheels]")
    except ValueError as e:
        sys.exit(str(e))
