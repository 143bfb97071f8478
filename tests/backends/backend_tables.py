"""The two tables of the backend-primitives suite: tolerances per backend and dtype, and
known exclusions per backend (TF.js's TEST_FILTERS idea). Read docs/testing.md first.

Tolerances are (rtol, atol) for a float result, |got - want| <= atol + rtol |want|, by the
kind of computation:
- basic: one IEEE rounding (+ - * / sqrt, casts, selects): bit-exact or one ulp.
- transcendental: exp/log/sin/...: polynomial approximations a few ulp from numpy's libm.
- pow: exp(y log x) loses |y log x| ulp for large results.
- mod: floordiv/mod of floats: the error is an ulp of x, not of the (small) result.
- prod: products of many terms: one rounding per term.
- sum, gemm (rtol, atol, rtol_terms): reductions, scans, pooling, matmul and convolutions add
  in another order than numpy, so a third term, rtol_terms * (the sum of |terms| of each
  result), bounds what cancellation leaves; rtol covers float16's one final rounding.
Integer, bool and data-movement results are always compared exactly.
"""

from __future__ import annotations

import re

_F32_GPU = {
    "basic": (2e-7, 0.0),
    "transcendental": (4e-6, 1e-7),
    "pow": (2e-5, 1e-7),
    "mod": (1e-6, 1e-6),
    "prod": (1e-5, 1e-7),
    "sum": (0.0, 1e-6, 1e-5),
    "gemm": (0.0, 1e-6, 1e-5),
}
_F32_WASM = {
    "basic": (2e-7, 0.0),
    "transcendental": (2e-6, 1e-7),
    "pow": (2e-6, 1e-7),
    "mod": (1e-6, 1e-6),
    "prod": (1e-5, 1e-7),
    "sum": (0.0, 1e-6, 1e-6),
    "gemm": (0.0, 1e-6, 2e-6),
}
# float16 is computed in float32 and rounded once (base.py); numpy's reference rounds the same
# way for elementwise ops, but after every add in some sums (pooling gradients, scans)
_F16 = {
    "basic": (1e-3, 1e-4),
    "transcendental": (2e-3, 1e-4),
    "pow": (2e-3, 1e-4),
    "mod": (2e-3, 2e-3),
    "prod": (5e-3, 1e-4),
    "sum": (1e-3, 1e-4, 1e-3),
    "gemm": (1e-3, 1e-4, 1e-3),
}
_F64_WASM = {
    "basic": (1e-15, 0.0),
    "transcendental": (1e-11, 1e-14),
    "pow": (1e-12, 1e-14),
    "mod": (1e-14, 1e-14),
    "prod": (1e-13, 1e-14),
    "sum": (0.0, 1e-14, 1e-13),
    "gemm": (0.0, 1e-14, 1e-13),
}

TOL = {
    "wasm": {"float16": _F16, "float32": _F32_WASM, "float64": _F64_WASM},
    "gpu": {"float16": _F16, "float32": _F32_GPU},
}


def _no_f16(be) -> bool:
    return not any(d.name == "float16" for d in be.dtypes)


# backend -> [(fnmatch pattern on the test id, reason, "skip" | "xfail", condition or None)].
# "skip": the case cannot run there (a dtype the backend does not store). "xfail": a real,
# deterministic discrepancy from the numpy reference, run and expected to fail (strict: a
# fix turns it into a failure, so the table stays true).
EXCLUDE = {
    "wasm": [
        (
            "test_float_scalars_beyond_float32_round_to_infinity*",
            "full() packs the Python float with struct 'f', which raises OverflowError instead of rounding to +-inf",
            "xfail",
            None,
        ),
        (
            "test_fused_adam_step_equals_the_reference*float16*",
            "the fused adam_update kernel is float32/"
            "float64 only (a clear InvalidArgumentError; Adam composes primitives for float16)",
            "skip",
            None,
        ),
    ],
    "gpu": [
        ("*float64*", "WGSL has no 64-bit float: float64 tensors stay on the CPU backend", "skip", None),
        ("*uint8*", "the GPU stores no 8-bit integers: uint8 tensors stay on the CPU backend", "skip", None),
        ("*float16*", "the adapter has no shader-f16: float16 tensors stay on the CPU backend", "skip", _no_f16),
        (
            "test_trig_of_huge_arguments*",
            "WGSL sin/cos/tan have no exact range reduction: wrong for |x| >~ 1e4",
            "xfail",
            None,
        ),
        (
            "test_floordiv_mod_of_huge_quotients*",
            "float32 mod is x - y * trunc(x / y) in WGSL: exact only for small quotients",
            "xfail",
            None,
        ),
        (
            "test_cast_out_of_range_floats[*-int64]",
            "int64 is stored in 32 bits on the GPU: a float outside int32's range gives int32's minimum, not int64's",
            "xfail",
            None,
        ),
        (
            "test_integer_extremes_divide_and_wrap[*-int64]",
            "int64 is stored in 32 bits on the GPU: int64's own limits do not fit (write refuses them)",
            "skip",
            None,
        ),
        (
            "test_cast_integer_extremes[*-int64-*",
            "int64 is stored in 32 bits on the GPU: int64's own limits do not fit (write refuses them)",
            "skip",
            None,
        ),
        (
            "test_cast_integer_extremes[*-uint32-int64]",
            "int64 is stored in 32 bits on the GPU: uint32 values >= 2^31 do not fit",
            "xfail",
            None,
        ),
        (
            "test_int64_beyond_int32_from_float*",
            "int64 is stored in 32 bits on the GPU: a float cast to int64 beyond int32's range gives int32's minimum",
            "xfail",
            None,
        ),
        (
            "test_reduce[*-prod-int64]",
            "int64 arithmetic wraps at 32 bits on the GPU: a product that overflows int32 differs from int64's wrap",
            "xfail",
            None,
        ),
        (
            "test_fused_adam_step_equals_the_reference*float16*",
            "the fused adam_update kernel is float32 "
            "only (a clear InvalidArgumentError; Adam composes primitives for float16)",
            "skip",
            None,
        ),
        (
            "test_reduce_empty_gives_the_identity[*max-int64*",
            "int64 is 32-bit on the GPU: an empty max gives int32's minimum",
            "xfail",
            None,
        ),
        (
            "test_reduce_empty_gives_the_identity[*min-int64*",
            "int64 is 32-bit on the GPU: an empty min gives int32's maximum",
            "xfail",
            None,
        ),
        (
            "test_fused_sparse_softmax_xent_out_of_range_labels*",
            "out-of-range labels give NaN gradient "
            "rows on the GPU (as TF's GPU kernel); the CPU backends give softmax without the one-hot",
            "xfail",
            None,
        ),
        (
            "test_integer_reciprocal_of_zero[*int64*",
            "int64 is 32-bit on the GPU: 1 / 0 gives int32's minimum, not int64's",
            "xfail",
            None,
        ),
    ],
}


def _glob(pattern: str, name: str) -> bool:
    """fnmatch with only ``*`` special (test ids contain ``[``)."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), name) is not None


def exclusion(name: str, test_id: str, backend):
    """(reason, kind) of the first exclusion of backend ``name`` matching ``test_id``, or None;
    ``backend()`` gives the opened backend (or None) for the conditional entries."""
    for pattern, reason, kind, cond in EXCLUDE[name]:
        if _glob(pattern, test_id) and (cond is None or (backend() is not None and cond(backend()))):
            return reason, kind
    return None
