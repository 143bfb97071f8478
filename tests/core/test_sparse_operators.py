"""tf.SparseTensor's Python operators are TF's set: ``sparse * x`` and ``sparse / x`` (x a scalar
or a dense tensor broadcast to the dense shape, read at the stored indices), ``dense * sparse``
through Tensor's ``*``; everything else raises TypeError, as TF's SparseTensor does (it defines
only ``__mul__``/``__div__``/``__truediv__``). Values by hand."""

import pytest
import webtensor as tf


def rows(t):
    return t.numpy().tolist()


def st():
    # [[1, 0, 0, 8], [0, 0, 0, 0], [0, 0, 3, 0]]
    return tf.SparseTensor([[0, 0], [0, 3], [2, 2]], [1.0, 8.0, 3.0], [3, 4])


DENSE = [[10.0, 20.0, 30.0, 40.0], [1.0, 1.0, 1.0, 1.0], [5.0, 6.0, 7.0, 2.0]]


def test_sparse_times_scalar_and_dense_keeps_the_indices():
    s = st()
    for out, want in [
        (s * 2.0, [2.0, 16.0, 6.0]),
        (s * tf.constant(DENSE), [10.0, 320.0, 21.0]),
        (s * tf.constant([1.0, 2.0, 3.0, 4.0]), [1.0, 32.0, 9.0]),  # broadcast to [3, 4]
        (tf.constant(DENSE) * s, [10.0, 320.0, 21.0]),  # Tensor's * hands the sparse operand on
        (tf.Variable(DENSE) * s, [10.0, 320.0, 21.0]),
    ]:
        assert isinstance(out, tf.SparseTensor)
        assert rows(out.indices) == [[0, 0], [0, 3], [2, 2]] and rows(out.values) == want
        assert out.shape.as_list() == [3, 4]


def test_sparse_divided_by_scalar_and_dense():
    s = st()
    assert rows((s / 2.0).values) == [0.5, 4.0, 1.5]
    assert rows((s / tf.constant(DENSE)).values) == pytest.approx([0.1, 0.2, 3.0 / 7.0])


@pytest.mark.parametrize(
    "use",
    [
        lambda s: 2.0 * s,  # no __rmul__ in TF
        lambda s: s + 1.0,
        lambda s: 1.0 + s,
        lambda s: s - 1.0,
        lambda s: 1.0 - s,
        lambda s: -s,
        lambda s: abs(s),
        lambda s: s**2,
        lambda s: s // 2,
        lambda s: s % 2,
        lambda s: ~s,
        lambda s: s < 1.0,
        lambda s: s @ tf.ones((4, 1)),
        lambda s: 1.0 / s,
        lambda s: tf.constant(DENSE) / s,
        lambda s: tf.constant(DENSE) + s,
        lambda s: s * st(),  # two SparseTensors: tf.sparse.add / to_dense
    ],
)
def test_operators_tf_does_not_define_raise_type_error(use):
    with pytest.raises(TypeError):
        use(st())
