"""The backend-primitives suite runs every test on each backend under test, against the numpy
backend as the reference (docs/testing.md, "Backend primitives").

``--backend=wasm`` or ``--backend=gpu`` tests that backend alone (the Makefile's passes);
otherwise every backend present here is tested. A GPU that cannot be opened skips, except
when it was asked for (``--backend=gpu``) or WEBTENSOR_REQUIRE_GPU=1, where it fails.
"""

from __future__ import annotations

import os

import pytest

np = pytest.importorskip("numpy")

from backend_tables import EXCLUDE, exclusion  # noqa: E402
from webtensor import backends  # noqa: E402

UNDER_TEST = ("wasm", "gpu")
_opened: dict = {}


def _chosen(config) -> tuple:
    b = config.getoption("--backend", default=None)
    return (b,) if b in UNDER_TEST else UNDER_TEST


def _open(name):
    """(backend, None) or (None, why not), opened once per session."""
    if name not in _opened:
        try:
            _opened[name] = (backends.get(name), None)
        except Exception as e:  # no wasmtime / no wgpu / no adapter
            _opened[name] = (None, f"no {name} backend here: {e}")
    return _opened[name]


def _required(config, name) -> bool:
    return name in (config.getoption("--backend", default=None),) or (
        name == "gpu" and os.environ.get("WEBTENSOR_REQUIRE_GPU") == "1"
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "backends(*names): the test is about these backends' own kernels or limits; it runs on no other"
    )


def pytest_generate_tests(metafunc):
    if "be" in metafunc.fixturenames:
        names = _chosen(metafunc.config)
        mark = metafunc.definition.get_closest_marker("backends")
        if mark is not None:
            names = tuple(n for n in names if n in mark.args)
        metafunc.parametrize("be", names, indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = getattr(item, "callspec", None) and item.callspec.params.get("be")
        hit = name in EXCLUDE and exclusion(name, item.name, lambda: _open(name)[0])
        if hit:
            reason, kind = hit
            item.add_marker(
                pytest.mark.skip(reason=f"{name}: {reason}")
                if kind == "skip"
                else pytest.mark.xfail(reason=f"{name}: {reason}", strict=True)
            )


@pytest.fixture(scope="session")
def be(request):
    """The backend under test (parametrised: one run per backend)."""
    b, why = _open(request.param)
    if b is None:
        if _required(request.config, request.param):
            pytest.fail(why)
        pytest.skip(why)
    return b


@pytest.fixture(scope="session")
def ref():
    """The reference: the numpy backend (its handles are numpy arrays)."""
    return backends.get("numpy")


def pytest_report_header(config):
    return f"tests/backends: {', '.join(_chosen(config))} against the numpy backend"
