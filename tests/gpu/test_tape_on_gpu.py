"""The finite-difference gradient checks really run on the GPU: under the GPU backend,
check_grad's inputs, every op its tape records and the gradients live on the GPU."""

import pytest

import webtensor as tf

from util import check_grad


def test_check_grad_tape_runs_on_the_gpu(gpu, monkeypatch):
    from webtensor import backends

    monkeypatch.setattr(backends, "default", lambda: gpu)
    check_grad(lambda x: tf.tanh(x) * x, [[0.3, -0.2], [0.1, 0.4]])
    cpu_weight = tf.constant([[1.0, 2.0], [3.0, 4.0]], tf.float64)  # float64 lives on the CPU
    with pytest.raises(AssertionError, match="recorded ops on"):
        check_grad(lambda x: tf.cast(x, tf.float64) * cpu_weight, [[0.3, -0.2], [0.1, 0.4]])
