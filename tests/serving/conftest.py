"""Fixtures for the server tests (helpers live in serving_util.py): a model directory
with one version, and a live server on a free 127.0.0.1 port that each test stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving_util import Client, start, write_version


@pytest.fixture
def models(tmp_path) -> Path:
    root = tmp_path / "models"
    write_version(root, "digits", 1)
    return root


@pytest.fixture
def server(models):
    srv = start(models)
    yield srv
    srv.stop()


@pytest.fixture
def client(server) -> Client:
    return Client(server.url)
