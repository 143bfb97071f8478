"""GPU tests run where wgpu-py finds an adapter; elsewhere they skip with the reason,
except under WEBTENSOR_REQUIRE_GPU=1 (``make test-gpu``), where a missing adapter fails."""

import os

import pytest


def _gpu_or_reason():
    from webtensor import backends

    try:
        return backends.get("gpu"), None
    except Exception as e:  # no wgpu, no adapter
        return None, f"no GPU backend here: {e}"


@pytest.fixture(scope="session")
def gpu():
    be, reason = _gpu_or_reason()
    if be is None:
        if os.environ.get("WEBTENSOR_REQUIRE_GPU") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return be


@pytest.fixture(scope="session")
def cpu():
    np = pytest.importorskip("numpy")  # noqa: F841
    from webtensor import backends

    return backends.get("numpy")
