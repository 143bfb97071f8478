"""Running pytest files inside the page: ``python -m webtensor test --browser PATHS``.

``in_page`` is the half that runs in Pyodide (it ships in the wheel); ``browser`` is the
native half: it serves the runtime and the test files, drives Chromium and reports."""
