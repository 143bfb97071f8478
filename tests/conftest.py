"""Shared pytest set-up: tests import ``util`` for numpy-free comparisons; markers
``numpy`` and ``native`` are skipped where the feature is missing (e.g. in the page)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from util import IN_PAGE, has_numpy  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--backend",
        default=None,
        choices=("numpy", "wasm", "gpu"),
        help="the backend new tensors are created on (sets WEBTENSOR_BACKEND)",
    )


def pytest_configure(config):
    chosen = config.getoption("--backend", default=None)
    if chosen:
        os.environ["WEBTENSOR_BACKEND"] = chosen


def pytest_report_header(config):
    return f"webtensor backend under test: {os.environ.get('WEBTENSOR_BACKEND') or 'numpy (default)'}"


def pytest_collection_modifyitems(config, items):
    no_numpy = pytest.mark.skip(reason="needs numpy")
    not_here = pytest.mark.skip(reason="native-only feature")
    for item in items:
        if "numpy" in item.keywords and not has_numpy():
            item.add_marker(no_numpy)
        if "native" in item.keywords and IN_PAGE:
            item.add_marker(not_here)


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state."""
    import webtensor as tf

    tf.random.set_seed(1234)
    yield
