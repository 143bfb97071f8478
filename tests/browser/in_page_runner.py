"""Runs inside the page: webtensor's own test files through the runner users get
(``webtensor.testing.in_page``, in the wheel the page installs)."""

from webtensor.testing.in_page import Collector, install, run  # noqa: F401
