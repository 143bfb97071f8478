"""Convolutions and pooling (NHWC activations, HWIO filters), with their gradients.

conv2d's two gradients are ops themselves, each with a vjp, so second derivatives
through convolutions work. Padding rules (SAME/VALID/explicit) are resolved here
into explicit pads once, for every backend.
"""

from __future__ import annotations

from ..errors import InvalidArgumentError
from ..shape import as_int
from .dispatch import FLOAT, Tensor, check_kind, operand, record, tapes, operands, wrap
from . import array as A


def _pair(v, name: str, op: str, rank: int = 2) -> tuple:
    """int, [a, b] or TF's [1, a, b, 1] -> (a, b)."""
    if v is None:
        return (1,) * rank
    v = (v,) if isinstance(v, int) else tuple(as_int(i, op, name) for i in v)
    if any(i < 1 for i in v):
        raise InvalidArgumentError(f"{op}: {name} must be >= 1, got {v[0] if len(v) == 1 else v}")
    if len(v) == 1:
        return v * rank
    if len(v) == rank:
        return v
    if len(v) == rank + 2:
        if v[0] != 1 or v[-1] != 1:
            raise InvalidArgumentError(f"{op}: {name} {v} must be 1 in the batch and channel dims")
        return v[1:-1]
    raise InvalidArgumentError(f"{op}: {name} must be an int or a list of 1, {rank} or {rank + 2} ints, got {v}")


def _pads(padding, in_hw: tuple, k_hw: tuple, strides: tuple, dil: tuple, op: str) -> tuple:
    """SAME / VALID / explicit [[0,0],[t,b],[l,r],[0,0]] -> ((t, b), (l, r))."""
    if isinstance(padding, str):
        p = padding.upper()
        if p == "VALID":
            return ((0, 0), (0, 0))
        if p == "SAME":
            out = []
            for n, k, s, d in zip(in_hw, k_hw, strides, dil):
                o = -(-n // s)
                total = max((o - 1) * s + (k - 1) * d + 1 - n, 0)
                out.append((total // 2, total - total // 2))
            return tuple(out)
        raise InvalidArgumentError(f"{op}: padding must be 'SAME', 'VALID' or explicit, got {padding!r}")
    pads = [tuple(int(v) for v in q) for q in padding]
    if len(pads) == 4:
        pads = pads[1:3]
    if len(pads) != 2 or any(len(q) != 2 or min(q) < 0 for q in pads):
        raise InvalidArgumentError(
            f"{op}: explicit padding must be [[0,0],[top,bottom],[left,right],[0,0]], got {padding}"
        )
    return tuple(pads)


def _out_hw(in_hw, k_hw, strides, dil, pads):
    return tuple((n + p[0] + p[1] - (k - 1) * d - 1) // s + 1 for n, k, s, d, p in zip(in_hw, k_hw, strides, dil, pads))


def _check_nhwc(data_format, op):
    if data_format not in (None, "NHWC", "NWC", "channels_last"):
        raise InvalidArgumentError(f"{op}: only NHWC (channels_last) data_format is supported, got {data_format!r}")


def _conv(x: Tensor, w: Tensor, strides, pads, dil, groups) -> Tensor:
    y = wrap(x._be.conv2d(x._h, w._h, strides, pads, dil, groups), x._dtype, x._be)
    if tapes:
        xs, ws = tuple(x._h.shape), tuple(w._h.shape)
        record(
            (x, w),
            (y,),
            lambda dy, need: (
                _conv_input_grad(dy, w, xs, strides, pads, dil, groups) if need[0] else None,
                _conv_filter_grad(x, dy, ws, strides, pads, dil, groups) if need[1] else None,
            ),
        )
    return y


def _conv_input_grad(dy, w, x_shape, strides, pads, dil, groups) -> Tensor:
    dx = wrap(dy._be.conv2d_input_grad(dy._h, w._h, x_shape, strides, pads, dil, groups), dy._dtype, dy._be)
    if tapes:
        ws = tuple(w._h.shape)
        record(
            (dy, w),
            (dx,),
            lambda g, need: (
                _conv(g, w, strides, pads, dil, groups) if need[0] else None,
                _conv_filter_grad(g, dy, ws, strides, pads, dil, groups) if need[1] else None,
            ),
        )
    return dx


def _conv_filter_grad(x, dy, w_shape, strides, pads, dil, groups) -> Tensor:
    dw = wrap(x._be.conv2d_filter_grad(x._h, dy._h, w_shape, strides, pads, dil, groups), x._dtype, x._be)
    if tapes:
        xs = tuple(x._h.shape)
        record(
            (x, dy),
            (dw,),
            lambda g, need: (
                _conv_input_grad(dy, g, xs, strides, pads, dil, groups) if need[0] else None,
                _conv(x, g, strides, pads, dil, groups) if need[1] else None,
            ),
        )
    return dw


def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=None, name=None) -> Tensor:
    """``tf.nn.conv2d``; input channels may be a multiple of the filter's (grouped conv)."""
    op = "conv2d"
    _check_nhwc(data_format, op)
    x, w = operands(input, filters, op)
    check_kind(x, op, FLOAT)
    xs, ws = tuple(x._h.shape), tuple(w._h.shape)
    if len(xs) != 4 or len(ws) != 4:
        raise InvalidArgumentError(f"{op}: input must be [N,H,W,C] and filters [KH,KW,C,O]; got shapes {xs} and {ws}")
    if ws[2] == 0 or xs[3] % ws[2] or ws[3] % (xs[3] // ws[2]):
        raise InvalidArgumentError(
            f"{op}: input depth {xs[3]} (shape {xs}) does not match the filter's "
            f"input depth {ws[2]} (filter shape {ws})"
        )
    if min(ws) == 0:
        raise InvalidArgumentError(f"{op}: filters shape {ws} has a zero dimension")
    groups = xs[3] // ws[2]
    st, dil = _pair(strides, "strides", op), _pair(dilations, "dilations", op)
    pads = _pads(padding, xs[1:3], ws[:2], st, dil, op)
    oh, ow = _out_hw(xs[1:3], ws[:2], st, dil, pads)
    if oh <= 0 or ow <= 0:
        raise InvalidArgumentError(f"{op}: filter {ws[:2]} (dilations {dil}) is larger than the padded input {xs[1:3]}")
    return _conv(x, w, st, pads, dil, groups)


def conv2d_transpose(
    input, filters, output_shape, strides, padding="SAME", data_format="NHWC", dilations=None, name=None
) -> Tensor:
    """Gradient of conv2d w.r.t. its input; filters are [KH, KW, out_channels, in_channels]."""
    op = "conv2d_transpose"
    _check_nhwc(data_format, op)
    dy, w = operands(input, filters, op)
    check_kind(dy, op, FLOAT)
    out = tuple(int(v) for v in (output_shape.numpy().tolist() if hasattr(output_shape, "numpy") else output_shape))
    ys, ws = tuple(dy._h.shape), tuple(w._h.shape)
    if len(out) != 4 or len(ys) != 4 or len(ws) != 4 or ws[3] != ys[3] or ws[2] != out[3]:
        raise InvalidArgumentError(
            f"{op}: input {ys}, filters {ws} and output_shape {out} are inconsistent "
            f"(filters must be [KH, KW, {out[3] if len(out) == 4 else 'out'}, {ys[3] if len(ys) == 4 else 'in'}])"
        )
    st, dil = _pair(strides, "strides", op), _pair(dilations, "dilations", op)
    pads = _pads(padding, out[1:3], ws[:2], st, dil, op)
    if _out_hw(out[1:3], ws[:2], st, dil, pads) != ys[1:3]:
        raise InvalidArgumentError(
            f"{op}: output_shape {out} does not produce input {ys} with strides {st} and padding {padding!r}"
        )
    return _conv_input_grad(dy, w, out, st, pads, dil, 1)


conv2d_backprop_input = conv2d_transpose


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None, name=None) -> Tensor:
    """filter [KH, KW, C, M] -> C*M output channels (channel c*M + m)."""
    op = "depthwise_conv2d"
    x, w = operands(input, filter, op)
    ws = tuple(w._h.shape)
    if len(ws) != 4 or len(x._h.shape) != 4 or ws[2] != x._h.shape[3]:
        raise InvalidArgumentError(
            f"{op}: filter {ws} must be [KH, KW, C, M] with C = input depth (input shape {tuple(x._h.shape)})"
        )
    wg = A.reshape(w, (ws[0], ws[1], 1, ws[2] * ws[3]))
    return conv2d(x, wg, strides, padding, data_format, dilations)


def separable_conv2d(
    input, depthwise_filter, pointwise_filter, strides, padding, data_format=None, dilations=None, name=None
) -> Tensor:
    return conv2d(
        depthwise_conv2d(input, depthwise_filter, strides, padding, data_format, dilations),
        pointwise_filter,
        1,
        "VALID",
    )


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None, name=None) -> Tensor:
    """[N, W, C] * [K, C, O]: a conv2d with a unit height."""
    x, w = operands(input, filters, "conv1d")
    if len(x._h.shape) != 3 or len(w._h.shape) != 3:
        raise InvalidArgumentError(
            f"conv1d: input must be [N,W,C] and filters [K,C,O]; got shapes {tuple(x._h.shape)} and {tuple(w._h.shape)}"
        )
    s = _pair(stride, "stride", "conv1d", 1)[0]
    d = _pair(dilations, "dilations", "conv1d", 1)[0]
    if not isinstance(padding, str):
        padding = [[0, 0], [0, 0]] + [list(p) for p in padding][1:2] + [[0, 0]]
    y = conv2d(A.expand_dims(x, 1), A.expand_dims(w, 0), (1, s), padding, "NHWC", (1, d))
    return A.squeeze(y, [1])


# -- pooling ---------------------------------------------------------------------------------------


def _pool(opname: str, kind: str, x: Tensor, ksize, strides, padding, rank: int = 2) -> Tensor:
    check_kind(x, opname, "fiu")
    xs = tuple(x._h.shape)
    if len(xs) != 4:
        raise InvalidArgumentError(f"{opname}: input must be [N,H,W,C], got shape {xs}")
    k, st = _pair(ksize, "ksize", opname), _pair(strides, "strides", opname)
    pads = _pads(padding, xs[1:3], k, st, (1, 1), opname)
    if min(_out_hw(xs[1:3], k, st, (1, 1), pads)) <= 0:
        raise InvalidArgumentError(f"{opname}: window {k} is larger than the padded input {xs[1:3]}")
    y = wrap(x._be.pool2d(kind, x._h, k, st, pads), x._dtype, x._be)
    if tapes and x._dtype.kind == "f":
        record((x,), (y,), lambda dy, need: (_pool_grad(kind, x, dy, k, st, pads),))
    return y


def _pool_grad(kind, x, dy, k, st, pads) -> Tensor:
    dx = wrap(x._be.pool2d_grad(kind, x._h, dy._h, k, st, pads), dy._dtype, dy._be)
    if tapes and kind == "avg":  # linear in dy: its transpose is the pool itself
        record((dy,), (dx,), lambda g, need: (wrap(g._be.pool2d("avg", g._h, k, st, pads), g._dtype, g._be),))
    return dx


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:
    _check_nhwc(data_format, "max_pool2d")
    return _pool("max_pool2d", "max", operand(input, "max_pool2d"), ksize, strides, padding)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None) -> Tensor:
    _check_nhwc(data_format, "avg_pool2d")
    return _pool("avg_pool2d", "avg", operand(input, "avg_pool2d"), ksize, strides, padding)


def _pool1d(fn, input, ksize, strides, padding):
    x = operand(input, "pool1d")
    k = _pair(ksize, "ksize", "pool1d", 1)[0]
    s = _pair(strides, "strides", "pool1d", 1)[0]
    return A.squeeze(fn(A.expand_dims(x, 1), (1, k), (1, s), padding), [1])


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None) -> Tensor:
    return _pool1d(max_pool2d, input, ksize, strides, padding)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None) -> Tensor:
    return _pool1d(avg_pool2d, input, ksize, strides, padding)


def max_pool(input, ksize, strides, padding, data_format=None, name=None) -> Tensor:
    x = operand(input, "max_pool")
    return (max_pool1d if len(x._h.shape) == 3 else max_pool2d)(x, ksize, strides, padding)


def avg_pool(input, ksize, strides, padding, data_format=None, name=None) -> Tensor:
    x = operand(input, "avg_pool")
    return (avg_pool1d if len(x._h.shape) == 3 else avg_pool2d)(x, ksize, strides, padding)
