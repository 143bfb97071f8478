"""tf.einsum in full (ellipsis, repeated labels, several operands) against numpy.einsum,
with gradients by finite differences; tensordot's axis range check."""

import pytest
import webtensor as tf

from tests.util import assert_close, check_grad

CASES = [
    ("bxby->bxy", [(2, 3, 2, 4)]),  # the "Advanced autodiff" guide's diagonal
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("bii->b", [(2, 3, 3)]),
    ("iij,jk", [(3, 3, 2), (2, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...i,...i", [(2, 1, 3), (4, 3)]),
    ("a...,...b->...ab", [(2, 3), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,i->", [(3,), (3,)]),
    ("ij->", [(2, 3)]),
    ("i,j,k->kji", [(2,), (3,), (2,)]),
]


def _vals(shapes, seed=0):
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype("float32") for s in shapes]


@pytest.mark.parametrize("eq,shapes", CASES)
def test_against_numpy(eq, shapes):
    np = pytest.importorskip("numpy")
    xs = _vals(shapes)
    assert_close(tf.einsum(eq, *xs), np.einsum(eq, *xs), atol=1e-5)


@pytest.mark.parametrize("eq,shapes", [CASES[0], CASES[4], CASES[5], CASES[8]])
def test_gradients(eq, shapes):
    check_grad(lambda *xs: tf.einsum(eq, *xs), *[x.tolist() for x in _vals(shapes, 1)])


def test_by_hand_and_errors():
    assert float(tf.einsum("ii", [[1.0, 2.0], [3.0, 4.0]])) == 5.0
    assert_close(tf.einsum("ij,jk,kl->il", [[1.0, 2.0]], [[1.0], [1.0]], [[2.0, 3.0]]), [[6.0, 9.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="sizes 2 and 3"):
        tf.einsum("ii->i", tf.ones([2, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="label 'j' has sizes 3 and 4"):
        tf.einsum("ij,jk", tf.ones([2, 3]), tf.ones([4, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="names 2 operands"):
        tf.einsum("ij,jk", tf.ones([2, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"axes \[5\] are out of range"):
        tf.tensordot(tf.ones([2, 3]), tf.ones([3, 2]), axes=[[5], [0]])
