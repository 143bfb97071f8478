"""Convolutions: Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D (channels_last)."""

from __future__ import annotations

from ... import nn
from ...ops import array as A
from ...shape import as_int
from ...ops.nn import bias_activation
from .. import activations, constraints, initializers, regularizers
from ..saving import register, serialize_keras_object as _ser
from .core import _channels_last
from .layer import InputSpec, Layer


def _tuple(v, rank, name, minimum=1):
    """int or tuple -> tuple of ``rank`` ints >= minimum (Conv2D(4, 0) built a 0x0 kernel)."""
    if isinstance(v, int):
        v = (v,) * rank
    v = tuple(as_int(i, name, name) for i in v)
    if len(v) != rank:
        raise ValueError(f"The `{name}` argument must be a tuple of {rank} integers. Received {name}={v}")
    if any(i < minimum for i in v):
        raise ValueError(f"The `{name}` argument must be a tuple of {rank} integers >= {minimum}. Received {name}={v}")
    return v


def conv_output_length(n, k, padding, stride, dilation=1):
    if n is None:
        return None
    dk = k + (k - 1) * (dilation - 1)
    length = n - dk + 1 if padding == "valid" else n
    return (length + stride - 1) // stride


def deconv_output_length(n, k, padding, output_padding, stride, dilation=1):
    if n is None:
        return None
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        return n * stride + max(k - stride, 0) if padding == "valid" else n * stride
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * stride + k - 2 * pad + output_padding


class BaseConv(Layer):
    """What every convolution shares: arguments, bias, activation, output shapes, config."""

    rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        r = self.rank
        _channels_last(data_format)
        self.filters = filters
        self.kernel_size = _tuple(kernel_size, r, "kernel_size")
        self.strides = _tuple(strides, r, "strides")
        self.dilation_rate = _tuple(dilation_rate, r, "dilation_rate")
        self.padding = padding.lower()
        allowed = ("valid", "same", "causal") if r == 1 else ("valid", "same")
        if self.padding not in allowed:
            raise ValueError(f"The `padding` argument must be one of {allowed}. Received: padding={padding}")
        self.groups = groups
        if filters is not None and (filters <= 0 or filters % groups):
            raise ValueError(
                f"The number of filters must be a positive multiple of groups ({groups}). Received: filters={filters}"
            )
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=r + 2)

    def _add_bias(self, n):
        return (
            self.add_weight(
                name="bias",
                shape=(n,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
            if self.use_bias
            else None
        )

    def build(self, input_shape):
        c = input_shape[-1]
        if c is None or c % self.groups:
            raise ValueError(
                f"The number of input channels must be evenly divisible by groups. Received groups="
                f"{self.groups}, but the input has {c} channels (full input shape is {input_shape})."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (c // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = self._add_bias(self.filters)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={-1: c})
        self.built = True

    def _finish(self, x):
        if self.bias is not None:
            return bias_activation(x, self.bias, activations.bias_epilogue(self.activation))
        return self.activation(x)

    def call(self, inputs):
        pad = "SAME" if self.padding == "same" else "VALID"
        if self.rank == 1:
            x = inputs
            if self.padding == "causal":
                x = A.pad(x, [(0, 0), ((self.kernel_size[0] - 1) * self.dilation_rate[0], 0), (0, 0)])
            y = nn.conv1d(x, self.kernel, self.strides[0], pad, dilations=self.dilation_rate[0])
        else:
            y = nn.conv2d(inputs, self.kernel, self.strides, pad, dilations=self.dilation_rate)
        return self._finish(y)

    def _spatial_out(self, input_shape):
        pad = "same" if self.padding == "causal" else self.padding
        return tuple(
            conv_output_length(n, k, pad, s, d)
            for n, k, s, d in zip(input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate)
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._spatial_out(input_shape) + (self.filters,)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": "channels_last",
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _ser(self.kernel_initializer),
            "bias_initializer": _ser(self.bias_initializer),
            "kernel_regularizer": _ser(self.kernel_regularizer),
            "bias_regularizer": _ser(self.bias_regularizer),
            "activity_regularizer": _ser(self.activity_regularizer),
            "kernel_constraint": _ser(self.kernel_constraint),
            "bias_constraint": _ser(self.bias_constraint),
        }


@register("layers", "Convolution1D")
class Conv1D(BaseConv):
    rank = 1


@register("layers", "Convolution2D")
class Conv2D(BaseConv):
    rank = 2


@register("layers", "Convolution2DTranspose")
class Conv2DTranspose(BaseConv):
    """The gradient of a convolution w.r.t. its input; kernel (kh, kw, filters, in_channels)."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        **kwargs,
    ):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, **kwargs)
        self.output_padding = None if output_padding is None else _tuple(output_padding, 2, "output_padding", 0)
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"Strides {self.strides} must be greater than output padding {self.output_padding}")

    def build(self, input_shape):
        c = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (self.filters, c),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=4, axes={-1: c})
        self.built = True

    def _spatial_out(self, input_shape):
        ops = self.output_padding or (None, None)
        return tuple(
            deconv_output_length(n, k, self.padding, op, s, d)
            for n, k, op, s, d in zip(input_shape[1:3], self.kernel_size, ops, self.strides, self.dilation_rate)
        )

    def call(self, inputs):
        s = tuple(inputs.shape)
        out = (s[0],) + self._spatial_out(s) + (self.filters,)
        y = nn.conv2d_transpose(
            inputs,
            self.kernel,
            out,
            self.strides,
            "SAME" if self.padding == "same" else "VALID",
            dilations=self.dilation_rate,
        )
        return self._finish(y)

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = list(self.output_padding) if self.output_padding else None
        return config


@register("layers")
class DepthwiseConv2D(BaseConv):
    """One (kh, kw) filter per input channel, ``depth_multiplier`` outputs per channel."""

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            None,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            1,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            bias_constraint,
            **kwargs,
        )
        self.depth_multiplier = depth_multiplier

    def build(self, input_shape):
        c = input_shape[-1]
        self.depthwise_kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (c, self.depth_multiplier),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = self._add_bias(c * self.depth_multiplier)
        self.input_spec = InputSpec(ndim=4, axes={-1: c})
        self.built = True

    def call(self, inputs):
        y = nn.depthwise_conv2d(
            inputs,
            self.depthwise_kernel,
            self.strides,
            "SAME" if self.padding == "same" else "VALID",
            dilations=self.dilation_rate,
        )
        return self._finish(y)

    def compute_output_shape(self, input_shape):
        c = input_shape[-1]
        return (input_shape[0],) + self._spatial_out(input_shape) + (None if c is None else c * self.depth_multiplier,)

    def get_config(self):
        c = super().get_config()
        out = {k: c[k] for k in ("name", "trainable", "dtype")}
        out.update(
            {
                "depth_multiplier": self.depth_multiplier,
                "kernel_size": c["kernel_size"],
                "strides": c["strides"],
                "padding": c["padding"],
                "data_format": "channels_last",
                "dilation_rate": c["dilation_rate"],
                "activation": c["activation"],
                "use_bias": c["use_bias"],
                "depthwise_initializer": c["kernel_initializer"],
                "bias_initializer": c["bias_initializer"],
                "depthwise_regularizer": c["kernel_regularizer"],
                "bias_regularizer": c["bias_regularizer"],
                "activity_regularizer": c["activity_regularizer"],
                "depthwise_constraint": c["kernel_constraint"],
                "bias_constraint": c["bias_constraint"],
            }
        )
        return out


@register("layers")
class SeparableConv2D(BaseConv):
    """A depthwise convolution followed by a 1x1 pointwise convolution to ``filters`` channels."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            1,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            bias_constraint,
            **kwargs,
        )
        self.depth_multiplier = depth_multiplier
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        c = input_shape[-1]
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=self.kernel_size + (c, self.depth_multiplier),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1, 1, c * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        self.bias = self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=4, axes={-1: c})
        self.built = True

    def call(self, inputs):
        y = nn.separable_conv2d(
            inputs,
            self.depthwise_kernel,
            self.pointwise_kernel,
            self.strides,
            "SAME" if self.padding == "same" else "VALID",
            dilations=self.dilation_rate,
        )
        return self._finish(y)

    def get_config(self):
        c = super().get_config()
        out = {k: c[k] for k in ("name", "trainable", "dtype")}
        out.update(
            {
                "depth_multiplier": self.depth_multiplier,
                "filters": self.filters,
                "kernel_size": c["kernel_size"],
                "strides": c["strides"],
                "padding": c["padding"],
                "data_format": "channels_last",
                "dilation_rate": c["dilation_rate"],
                "activation": c["activation"],
                "use_bias": c["use_bias"],
                "depthwise_initializer": c["kernel_initializer"],
                "pointwise_initializer": _ser(self.pointwise_initializer),
                "bias_initializer": c["bias_initializer"],
                "depthwise_regularizer": c["kernel_regularizer"],
                "pointwise_regularizer": _ser(self.pointwise_regularizer),
                "bias_regularizer": c["bias_regularizer"],
                "activity_regularizer": c["activity_regularizer"],
                "depthwise_constraint": c["kernel_constraint"],
                "pointwise_constraint": _ser(self.pointwise_constraint),
                "bias_constraint": c["bias_constraint"],
            }
        )
        return out
