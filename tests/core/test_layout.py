"""backends/layout.py: the one home of the stride and collapse helpers every backend uses.
Each collapsed walk is checked against the uncollapsed one by enumerating addresses."""

import itertools

import pytest

from webtensor import dtypes as D
from webtensor.backends import layout


def _addresses(shape, strides):
    return [sum(i * s for i, s in zip(idx, strides)) for idx in itertools.product(*(range(d) for d in shape))]


def test_strides_are_c_order():
    assert layout.strides((2, 3, 4)) == [12, 4, 1]
    assert layout.strides(()) == []
    assert layout.strides((5, 0, 2)) == [0, 2, 1]


def test_bcast_strides():
    assert layout.bcast_strides((3, 1), (2, 3, 4)) == [0, 1, 0]
    assert layout.bcast_strides((4,), (2, 3, 4), unit=8) == [0, 0, 8]
    assert layout.bcast_strides((), (2, 2)) == [0, 0]


def test_all_unit_walk_is_one_dim_of_stride_zero():
    # the two old copies disagreed here: gpu.py gave stride 0, wasm.py stride 1
    for shape in ((), (1,), (1, 1, 1)):
        dims, sts = layout.collapse(shape, [layout.strides(shape), layout.bcast_strides((1,), shape)])
        assert dims == (1,) and sts == [(0,), (0,)]


@pytest.mark.parametrize(
    "shape,ops",
    [
        ((2, 3, 4), [(2, 3, 4), (3, 4)]),
        ((2, 1, 4), [(2, 1, 4), (1, 1, 4)]),
        ((3, 2, 5), [(3, 1, 5), (2, 1)]),
        ((4, 1, 1, 3), [(4, 1, 1, 3), (1,)]),
        ((1, 6, 1), [(1, 6, 1), (6, 1)]),
    ],
)
def test_collapse_keeps_every_operands_addresses(shape, ops):
    sts = [layout.bcast_strides(s, shape) for s in ops]
    dims, csts = layout.collapse(shape, sts)
    for st, cst in zip(sts, csts):
        assert _addresses(dims, cst) == _addresses(shape, st)
    assert len(dims) <= len([d for d in shape if d != 1]) or dims == (1,)


def test_collapse_merges_contiguous_dims():
    assert layout.collapse((2, 3, 4), [[12, 4, 1]]) == ((24,), [(1,)])
    # a transpose: nothing merges
    assert layout.collapse((4, 3), [[1, 4]]) == ((4, 3), [(1, 4)])


def test_identity_of_empty_reductions():
    assert layout.identity("sum", D.float32) == 0 and layout.identity("prod", D.int32) == 1
    assert layout.identity("max", D.float32) == float("-inf")
    assert layout.identity("min", D.float64) == float("inf")
    assert layout.identity("max", D.int32) == -(2**31) and layout.identity("min", D.uint8) == 255
    assert layout.identity("max", D.int64) == -(2**63)
    assert layout.identity("max", D.bool_) is False and layout.identity("min", D.bool_) is True
