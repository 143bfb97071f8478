"""The backend interface: the complete, fixed set of primitives a backend implements.

Everything above this line (ops, gradients, Keras, data, saving) is written with
public ops built on these primitives only, so a backend that implements this list
runs all of webtensor. Handles are immutable: every primitive returns a new handle
and never mutates its inputs (a Variable swaps handles on assign).

Conventions shared by every backend:
- A handle has ``.shape`` (tuple of ints); the core tracks the dtype beside it.
- Shapes and axes arrive validated and normalised by the core (non-negative axes,
  broadcast-compatible shapes, in-range slices); a backend need not re-check them.
- Broadcasting is NumPy's (``shape.broadcast_shape``); elementwise primitives take
  operands of differing shapes and index them with strides, never materialising.
- dtypes are ``dtypes.DType`` objects; all operands of a primitive share one dtype
  except where stated (``where``'s condition is bool, ``gather``'s indices int32/int64).
- Integer arithmetic wraps; float -> int ``cast`` truncates toward zero; -> bool is != 0.
- Reductions of an empty set give the identity: 0, 1, -inf/+inf (int: dtype min/max),
  False/True.

A backend may also implement optional kernels for speed (``fused`` names them): the fused
kernels of ``FUSED_KERNELS`` (``FusedKernels`` states each formula) and ``OPTIONAL_KERNELS``.
They must equal the composition the core would otherwise run. A backend may also bind
graph nodes itself for ``tf.function`` replay (``GraphBinding.bind_static``).
"""

from __future__ import annotations

import sys
from typing import Protocol, Sequence

UNARY_OPS = (
    "neg",
    "abs",
    "sign",
    "square",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "exp",
    "log",
    "log1p",
    "expm1",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sigmoid",
    "erf",
    "floor",
    "ceil",
    "round",
    "logical_not",
    "isnan",
    "isfinite",
)
"""``round`` is half-to-even (TF). ``logical_not``/``isnan``/``isfinite`` return bool.
``erf`` on float32 may use the rational approximation in ``erf_f32`` (rel. err < 1e-7)."""

BINARY_OPS = (
    "add",
    "sub",
    "mul",
    "div",
    "floordiv",
    "mod",
    "pow",
    "maximum",
    "minimum",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "logical_and",
    "logical_or",
)
"""``floordiv``/``mod`` are floor division and floor modulo (Python's signs) for ints
and floats. ``div`` is only called on floats. Comparisons and logical ops return bool."""

BOOL_OPS = frozenset(
    (
        "logical_not",
        "isnan",
        "isfinite",
        "equal",
        "not_equal",
        "less",
        "less_equal",
        "greater",
        "greater_equal",
        "logical_and",
        "logical_or",
    )
)
"""The unary and binary ops whose result is bool whatever their operands' dtype: the one
table (ops/math.py, the tracer and every backend read it)."""
BOOL_UNARY = frozenset(BOOL_OPS & set(UNARY_OPS))
FLOAT_UNARY = frozenset(
    (
        "sqrt",
        "rsqrt",
        "exp",
        "log",
        "log1p",
        "expm1",
        "sin",
        "cos",
        "tan",
        "tanh",
        "sigmoid",
        "erf",
        "floor",
        "ceil",
        "isnan",
        "isfinite",
    )
)
"""The unary ops defined on float operands only (TF refuses integers for them): the one
table that ops/math.py checks eagerly and saving/validate.py checks in a saved graph."""
COMPARISONS = frozenset(BOOL_OPS & set(BINARY_OPS))
REDUCE_OPS = ("sum", "prod", "max", "min", "any", "all")
SCAN_OPS = ("sum", "prod")

BIAS_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")
"""The activations ``bias_act`` fuses: ``v``, ``max(v, 0)``, ``1 / (1 + exp(-v))``, ``tanh(v)``.
The index is the C kernel's ACT_* code (kernels/codes.h is generated from it); the WGSL
expressions (gpu/shaders.py ACTIVATIONS) and the gradients (ops/nn.py) are keyed by it."""

PROGRAM_KINDS = ("load", "unary", "binary", "where", "cast")
"""The instruction kinds of a fused program (function/passes.py); the index is the C
kernels' F_* code (kernels/codes.h)."""

FUSED_KERNELS = {
    "softmax": ("softmax",),
    "sparse_softmax_xent": ("sparse_softmax_xent",),
    "bias_act": ("bias_act",),
    "adam_update": ("adam_update",),
    "elementwise": ("fusable", "fused_elementwise"),
    "elementwise_into": ("fusable", "fused_elementwise_into"),
    "elementwise_many": ("fusable_many", "fused_many"),
    "matmul_epilogue": ("fusable", "fused_matmul"),
}
"""Names a backend may list in ``fused``, each with the ``FusedKernels`` methods it promises.
The core runs the composition where a backend lacks one, and a kernel must give what that
composition gives (to float rounding), never new semantics."""


OPTIONAL_KERNELS = (
    "linalg_qr",
    "linalg_eigh",
    "linalg_svd",
    "linalg_solve",
    "linalg_cholesky",
    "fft",
    "rfft",
    "linalg_eigvalsh",
    "linalg_svd_values",
    "linalg_signed_vectors",
    "resample_axis",
)
"""Optional kernels (named in ``fused``) for float32/float64; the core composes them from
primitives where a backend lacks them (ops/decompositions.py, signal/fft.py):
- ``linalg_qr(a) -> (q [..., m, m], r [..., m, n])``, Householder with LAPACK's signs;
- ``linalg_eigh(a) -> (e ascending, v)`` of the symmetric matrix whose lower triangle is a's;
- ``linalg_svd(a) -> (s descending, u [..., m, m], v [..., n, n])``;
- ``linalg_eigvalsh(a) -> e`` and ``linalg_svd_values(a) -> s``: the values alone (no
  vectors, several times cheaper; the gradient recomputes the vectors, as TF's does);
- ``linalg_solve(a, b, det=True) -> (x, sign(det a), log|det a|)`` by LU with partial
  pivoting; x is NaN for a singular matrix (the core raises TF's "not invertible");
  with ``det=False`` it returns ``(x, singular)``, singular a Python bool (a zero pivot
  in any matrix of the batch), and skips the determinant;
- ``linalg_cholesky(a) -> (L, failed)`` from a's lower triangle only; failed is a Python
  bool (some matrix is not positive definite, or holds NaN), and L is then undefined;
- ``fft(re, im, inverse) -> (re, im)``: the DFT over the last axis (inverse: with 1/n);
- ``rfft(x) -> (re, im)``: its first n // 2 + 1 terms for real x;
- ``resample_axis(x, idx, w, before, n_in, after) -> y [before, out, after]``: one axis of
  tf.image.resize (image/resize.py): x read as [before, n_in, after], idx int32 [out, T] in
  [0, n_in), w [out, T] of x's dtype, y[b, o, a] = sum_t w[o, t] * x[b, idx[o, t], a] summed
  in t order in x's precision (the composition: per tap a gather times its weights, added).
Vector signs are free: the core applies its sign convention to eigh's and svd's vectors,
unless the backend also lists ``linalg_signed_vectors`` (its kernels return them in the
convention already: each vector's largest-magnitude entry positive, for svd taken on the
first min(m, n) columns of u, v's columns taking their signs)."""


class Backend(Protocol):
    name: str
    device_type: str  # "CPU" or "GPU"
    dtypes: frozenset  # DTypes this backend stores; others fall back to the CPU backend
    fused: frozenset  # optional kernels implemented (FUSED_KERNELS, OPTIONAL_KERNELS)

    # -- data movement ------------------------------------------------------------
    def write(self, buf: memoryview, shape: tuple, dtype) -> object:
        """Copy C-ordered little-endian bytes into a new handle (the caller may reuse buf)."""

    def read(self, h) -> memoryview:
        """C-ordered little-endian bytes of a handle (a copy or a read-only view)."""

    def full(self, shape: tuple, value, dtype) -> object:
        """A tensor filled with the Python scalar ``value`` (already valid for dtype)."""

    def arange(self, start, delta, n: int, dtype) -> object:
        """``[start + i * delta for i in range(n)]`` computed in dtype."""

    def random(self, kind: str, shape: tuple, dtype, key: tuple) -> object:
        """Counter-based random numbers, bit-compatible across backends (see ``random_u32``).

        ``kind`` "uniform": ``(u32(i) >> 8) * 2**-24`` in [0, 1) for flat index i.
        ``kind`` "normal": Box-Muller on two draws, ``u1 = ((u32(2i) >> 8) + 1) * 2**-24``,
        ``u2 = (u32(2i+1) >> 8) * 2**-24``, ``sqrt(-2 log u1) * cos(2 pi u2)``.
        Computed in float32 (float64 when dtype is float64), then cast to dtype."""

    # -- elementwise ----------------------------------------------------------------
    def unary(self, op: str, x) -> object: ...

    def binary(self, op: str, x, y) -> object: ...

    def where(self, cond, x, y) -> object:
        """Select x where cond (bool) else y; all three broadcast together."""

    def cast(self, x, dtype) -> object: ...

    # -- reductions -----------------------------------------------------------------
    def reduce(self, op: str, x, axes: tuple, keepdims: bool) -> object:
        """``axes`` sorted, unique, non-negative; ``()`` returns x unchanged."""

    def argreduce(self, op: str, x, axis: int, dtype) -> object:
        """ "argmax"/"argmin" along one axis, first occurrence wins; result in int dtype."""

    def scan(self, op: str, x, axis: int, exclusive: bool, reverse: bool) -> object:
        """Cumulative "sum"/"prod" along an axis, TF's cumsum/cumprod flags."""

    # -- linear algebra ---------------------------------------------------------------
    def matmul(self, a, b, transpose_a: bool, transpose_b: bool) -> object:
        """``a[..., M, K] @ b[..., K, N]`` (after the transposes of the last two dims);
        batch dims broadcast; both ranks >= 2."""

    # -- convolution and pooling (NHWC activations, HWIO filters) ------------------------
    def conv2d(self, x, w, strides: tuple, pads: tuple, dilations: tuple, groups: int) -> object:
        """x [N,H,W,C], w [KH,KW,C/groups,O]; pads ((top,bottom),(left,right)) explicit
        zero padding; output channel o belongs to group o // (O/groups)."""

    def conv2d_input_grad(self, dy, w, x_shape: tuple, strides, pads, dilations, groups) -> object:
        """Gradient of conv2d w.r.t. x (also conv2d_transpose's forward)."""

    def conv2d_filter_grad(self, x, dy, w_shape: tuple, strides, pads, dilations, groups) -> object:
        """Gradient of conv2d w.r.t. w."""

    def pool2d(self, op: str, x, ksize: tuple, strides: tuple, pads: tuple) -> object:
        """ "max" ignores padding; "avg" divides by the count of non-padding elements."""

    def pool2d_grad(self, op: str, x, dy, ksize: tuple, strides: tuple, pads: tuple) -> object:
        """ "max" routes each window's gradient to its first maximum (row-major scan)."""

    # -- indexing ---------------------------------------------------------------------
    def gather(self, x, indices, axis: int) -> object:
        """out shape x.shape[:axis] + indices.shape + x.shape[axis+1:]. Indices outside
        [0, x.shape[axis]) raise IndexError on CPU backends; GPU backends write 0 (as TF)."""

    def scatter_add(self, indices, updates, shape: tuple, axis: int) -> object:
        """zeros(shape), then ``out[..., indices[j], ...] += updates[..., j, ...]`` along
        axis (``updates.shape == shape[:axis] + indices.shape + shape[axis+1:]``)."""

    # -- data movement without arithmetic ---------------------------------------------------
    def reshape(self, x, shape: tuple) -> object: ...

    def transpose(self, x, perm: tuple) -> object: ...

    def slice(self, x, begin: tuple, size: tuple, strides: tuple) -> object:
        """Strided slice: along each axis, output element j is input element
        ``begin + j * stride`` for j < size (strides non-zero, may be negative; every
        index touched is in range)."""

    def concat(self, xs: Sequence, axis: int) -> object: ...

    def pad(self, x, pads: tuple, value) -> object:
        """Constant padding, ``pads`` a (before, after) pair of non-negative ints per axis."""

    def broadcast_to(self, x, shape: tuple) -> object: ...


class FusedKernels(Protocol):
    """Optional kernels, each the one statement of its formula (backends' docstrings point
    here). float32 at least; a backend may compute float16 in float32 and round once."""

    def softmax(self, x, axis: int) -> object:
        """``"softmax"``: ``e = exp(x - max(x, axis)); e / sum(e, axis)`` (keepdims)."""

    def sparse_softmax_xent(self, logits, labels) -> tuple:
        """``"sparse_softmax_xent"``: (loss [...], backprop [..., n]) for logits [..., n] and
        int32/int64 labels [...]; with ``m = max(logits, -1)`` (0 where not finite) and
        ``lse = log(sum(exp(logits - m), -1)) + m``: ``loss = lse - logits[label]`` and
        ``backprop = exp(logits - lse) - one_hot(label, n)``. A label outside [0, n) gives
        a NaN loss (the core checks labels first on CPU backends, as TF on CPU)."""

    def bias_act(self, x, bias, activation: str) -> object:
        """``"bias_act"``: ``act(x + bias)``, bias [c] along x's last dim [..., c], ``act`` one
        of ``BIAS_ACTIVATIONS``; the core calls it for float32 only."""

    def adam_update(self, w, m, v, g, alpha: float, c1: float, c2: float, eps: float) -> tuple:
        """``"adam_update"``: (w', m', v') of one Adam step, in this float order:
        ``m' = m + (g - m) * c1``, ``v' = v + (g * g - v) * c2``,
        ``w' = w - (m' * alpha) / (sqrt(v') + eps)``; the caller passes c1 = 1 - beta_1,
        c2 = 1 - beta_2, alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t). All four operands
        share shape and dtype."""

    def fusable(self, program: tuple) -> bool:
        """Whether ``fused_elementwise`` (and ``fused_matmul``) run this program. A program
        is function/passes.py's tuple of ``(kind, attr, dtype, shape, args)`` instructions:
        loads of input k as ``as_shape`` broadcast to a view, then unary/binary/where/cast
        of earlier registers; the last instruction is the result."""

    def fused_elementwise(self, program: tuple, *hs) -> object:
        """``"elementwise"``: the program's result, equal to running its instructions one
        primitive at a time (``unary``, ``binary``, ``where``, ``cast``) on inputs hs."""

    def fused_elementwise_into(self, program: tuple, pos: int, *hs) -> object:
        """``"elementwise_into"``: ``fused_elementwise`` where ``hs[pos]`` is a one-element
        list (the graph hands that input over); the kernel may write the result into it
        when ``take_donation`` says nothing else refers to it."""

    def fusable_many(self, programs: tuple) -> bool:
        """Whether ``fused_many`` runs these programs together."""

    def fused_many(self, programs: tuple, *hs) -> tuple:
        """``"elementwise_many"``: ``tuple(fused_elementwise(p, *hs) for p in programs)``."""

    def fused_matmul(self, program: tuple, transpose_a: bool, transpose_b: bool, a, b, *hs) -> object:
        """``"matmul_epilogue"``: ``fused_elementwise(program, matmul(a, b, ...), *hs)``: the
        product is the program's input 0, its other inputs are hs."""


class GraphBinding(Protocol):
    """Optional: how a backend binds a ``tf.function`` graph's nodes once, for replay."""

    def bind_static(self, type_: str, attrs: dict, ins: list, outs: list) -> object:
        """A callable running one graph node of ``type_`` (its ``attrs``; ``ins``/``outs`` the
        fixed (shape, dtype) pairs of its operands and results) on handles, or None for the
        generic method (function/graph.py asks first). A graph's shapes and dtypes are static,
        so what each call would decide again (a fused program's plan, packed params, the BLAS
        thread count) is decided here once. The callable must give the generic method's
        results, count the same kernels, and turn a MemoryError into ResourceExhaustedError."""


def _mix32(x: int) -> int:
    """lowbias32 (C. Wellons): a strong 32-bit integer hash, easy in WGSL and C."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def random_u32(i: int, key: tuple) -> int:
    """The reference stream: 32 random bits for flat index i under key (k0, k1).

    ``mix(mix(i ^ k0) + k1)`` with 32-bit wrap-around; backends must produce the
    same bits (tests compare them)."""
    k0, k1 = key
    return _mix32((_mix32((i ^ k0) & 0xFFFFFFFF) + k1) & 0xFFFFFFFF)


ERF_F32_NUM = (
    -2.72614225801306e-10,
    2.77068142495902e-08,
    -2.10102402082508e-06,
    -5.69250639462346e-05,
    -7.34990630326855e-04,
    -2.95459980854025e-03,
    -1.60960333262415e-02,
)
ERF_F32_DEN = (
    -1.45660718464996e-05,
    -2.13374055278905e-04,
    -1.68282697438203e-03,
    -7.37332916720468e-03,
    -1.42647390514189e-02,
)


def erf_f32(x: float) -> float:
    """Eigen's float erf: ``x * P(x^2) / Q(x^2)`` on x clamped to [-4, 4] (Horner order
    as in the coefficient tuples, highest power first)."""
    x = max(-4.0, min(4.0, x))
    x2 = x * x
    p = 0.0
    for c in ERF_F32_NUM:
        p = p * x2 + c
    q = 0.0
    for c in ERF_F32_DEN:
        q = q * x2 + c
    return x * p / q


def _after_pop(box: list, hs: list, pos: int) -> tuple:
    h = box.pop()
    hs[pos] = h
    return h, sys.getrefcount(h)


_, _SOLE = _after_pop([object()], [None], 0)
"""References a donated handle has when nothing but the kernel's call holds it."""


def take_donation(box: list, hs: list, pos: int) -> tuple:
    """(handle, whether nothing else refers to it) for an input a graph hands over in a
    one-element list (it dies at this node): only then may a kernel write into it. A view
    or a variable holding it adds a reference (CPython and Pyodide count them)."""
    h, refs = _after_pop(box, hs, pos)
    return h, refs <= _SOLE
