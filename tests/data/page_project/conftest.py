"""A small user project for ``python -m webtensor test --browser`` (tests/browser/test_page_product.py):
its files are named sample_*.py so webtensor's own native run does not collect them."""

from pathlib import Path

import pytest


@pytest.fixture
def words():
    return (Path(__file__).parent / "words.txt").read_text().split()
