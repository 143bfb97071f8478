"""The webtensor worker: requests that queue up while it is busy share one model call,
each still gets exactly its own rows, and a bad request fails alone."""

from __future__ import annotations

import threading

import pytest

from serving_util import instances, make_model, reference
from util import assert_close
from webtensor.serving.servable import RequestError, Servable
from webtensor.serving.worker import Worker

pytestmark = pytest.mark.native


@pytest.fixture
def servable(tmp_path):
    path = tmp_path / "m.safetensors"
    make_model(11).save(str(path))
    from webtensor.saving import load_model

    s = Servable("digits", 1, str(path), load_model(str(path)))
    calls = []
    run = s.run_columns
    s.run_columns = lambda tensors: calls.append(int(tensors[0].shape[0])) or run(tensors)
    s.calls = calls
    return s


def _queue_while_busy(worker, jobs):
    """Hold the worker on a job, queue ``jobs`` behind it, let it go; the futures."""
    gate = threading.Event()
    blocker = worker.submit(gate.wait, 30)
    futures = [worker.predict(s, cols) for s, cols in jobs]
    gate.set()
    blocker.result(timeout=30)
    return futures


def test_queued_requests_share_one_call_and_get_their_own_rows(servable):
    w = Worker()
    try:
        rows = [instances(n, offset=n) for n in (1, 3, 2)]
        futures = _queue_while_busy(w, [(servable, {"pixels": r}) for r in rows])
        for r, f in zip(rows, futures):
            assert_close(f.result(timeout=30)["probabilities"], reference(servable.path, r), rtol=1e-4, atol=1e-6)
        assert servable.calls == [6]
    finally:
        w.close()


def test_max_batch_splits_calls(servable):
    w = Worker(max_batch_rows=2)
    try:
        futures = _queue_while_busy(w, [(servable, {"pixels": instances(1, offset=i)}) for i in range(5)])
        for f in futures:
            f.result(timeout=30)
        assert servable.calls == [2, 2, 1]
    finally:
        w.close()


def test_a_bad_request_fails_alone(servable):
    w = Worker()
    try:
        good = instances(2)
        futures = _queue_while_busy(
            w, [(servable, {"pixels": good}), (servable, {"pixels": [[0.0] * 5]}), (servable, {"pixels": good})]
        )
        with pytest.raises(RequestError, match="expected shape"):
            futures[1].result(timeout=30)
        for f in (futures[0], futures[2]):
            assert_close(f.result(timeout=30)["probabilities"], reference(servable.path, good), rtol=1e-4, atol=1e-6)
        assert servable.calls == [4]
    finally:
        w.close()


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError, match="max_batch_rows"):
        Worker(0)
