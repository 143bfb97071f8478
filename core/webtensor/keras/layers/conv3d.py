"""Conv3D and Max/AveragePooling3D (channels_last ``(batch, depth, height, width, channels)``),
composed from the 2-D kernels: the depth taps are gathered into channels (Conv3D) or reduced
across depth slices (pooling), with TF's 'same' padding split (extra at the end)."""

from __future__ import annotations

from ... import nn
from ...ops import array as A
from ...ops import math as M
from ...ops.reduce import reduce_max
from ..saving import register
from .conv import BaseConv, conv_output_length
from .layer import InputSpec
from .pooling import BasePooling


def _depth_pad(n: int, k: int, s: int, d: int, padding: str) -> tuple:
    if padding != "same":
        return 0, 0
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def _depth_taps(x, k: int, s: int, d: int, out: int) -> list:
    """``x[:, j*d + t*s]`` for t < out, for each tap j: k tensors of shape (b, out, h, w, c)."""
    return [x[:, j * d : j * d + (out - 1) * s + 1 : s] for j in range(k)]


@register("layers", "Convolution3D")
class Conv3D(BaseConv):
    rank = 3

    def build(self, input_shape):
        if self.groups != 1:
            raise ValueError(f"Conv3D: groups={self.groups} is not supported (only groups=1)")
        super().build(input_shape)

    def call(self, inputs):
        b, n, h, w, c = inputs.shape.as_list()
        (kd, kh, kw), (sd, sh, sw) = self.kernel_size, self.strides
        dd = self.dilation_rate[0]
        lo, hi = _depth_pad(n, kd, sd, dd, self.padding)
        x = A.pad(inputs, [[0, 0], [lo, hi], [0, 0], [0, 0], [0, 0]]) if lo or hi else inputs
        out = conv_output_length(n, kd, self.padding, sd, dd)
        cols = A.concat(_depth_taps(x, kd, sd, dd, out), axis=-1)  # b, out, h, w, kd*c
        cols = A.reshape(cols, (b * out, h, w, kd * c))
        kernel = A.reshape(A.transpose(self.kernel, (1, 2, 0, 3, 4)), (kh, kw, kd * c, self.filters))
        pad = "SAME" if self.padding == "same" else "VALID"
        y = nn.conv2d(cols, kernel, (sh, sw), pad, dilations=self.dilation_rate[1:])
        y = A.reshape(y, (b, out) + tuple(y.shape[1:]))
        return self._finish(y)


class _Pooling3D(BasePooling):
    rank = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        self.input_spec = InputSpec(ndim=5)

    def call(self, inputs):
        b, n, h, w, c = inputs.shape.as_list()
        (kd, kh, kw), (sd, sh, sw) = self.pool_size, self.strides
        pad = self.padding.upper()
        flat = A.reshape(inputs, (b * n, h, w, c))
        fn = nn.max_pool2d if self.kind == "max" else nn.avg_pool2d
        y = fn(flat, (kh, kw), (sh, sw), pad)
        y = A.reshape(y, (b, n) + tuple(y.shape[1:]))
        out = conv_output_length(n, kd, self.padding, sd)
        lo, hi = _depth_pad(n, kd, sd, 1, self.padding)
        if self.kind == "max":
            if lo or hi:
                y = A.pad(y, [[0, 0], [lo, hi], [0, 0], [0, 0], [0, 0]], constant_values=float("-inf"))
            return reduce_max(A.stack(_depth_taps(y, kd, sd, 1, out), axis=0), axis=0)
        ones = A.ones((1, n, 1, 1, 1), y.dtype)
        if lo or hi:  # TF's average excludes the padding: divide by the real taps
            y = A.pad(y, [[0, 0], [lo, hi], [0, 0], [0, 0], [0, 0]])
            ones = A.pad(ones, [[0, 0], [lo, hi], [0, 0], [0, 0], [0, 0]])
        total = M.add_n(_depth_taps(y, kd, sd, 1, out))
        count = M.add_n(_depth_taps(ones, kd, sd, 1, out))
        return total / count


@register("layers", "MaxPool3D")
class MaxPooling3D(_Pooling3D):
    kind = "max"


@register("layers", "AvgPool3D")
class AveragePooling3D(_Pooling3D):
    kind = "avg"
