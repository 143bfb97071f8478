"""Tensors made before the backend's memory grows stay readable and writable (no numpy:
this runs in the page, where growth detaches the JS views of the wasm memory)."""

import webtensor as tf


def test_a_tensor_reads_back_after_the_backend_memory_grows():
    """The wasm backend's linear memory grows for a large tensor, which detaches the page's
    views of it; a small tensor made before must still read back (and be written again)."""
    small = tf.constant([1.0, 2.0, 3.0])
    v = tf.Variable([4.0, 5.0])
    big = tf.fill([1 << 23], 2.0)  # 32 MiB: past the kernels' initial memory
    assert small.numpy().tolist() == [1.0, 2.0, 3.0]
    v.assign([6.0, 7.0])
    assert v.numpy().tolist() == [6.0, 7.0]
    assert float(tf.reduce_sum(big[:4])) == 8.0
