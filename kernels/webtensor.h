/* webtensor kernels: definitions shared by every C file in kernels/.
 *
 * Built with clang --target=wasm32 -msimd128, no libc: the allocator (alloc.c) and
 * the math (mathlib.c) are ours. Conventions with the Python side (backends/wasm/__init__.py):
 * - dtype, op and activation codes are indices in webtensor.dtypes.ALL and backends/base.py's
 *   UNARY_OPS / BINARY_OPS / REDUCE_OPS / BIAS_ACTIVATIONS: codes.h, generated from those
 *   tables by build/gen_codes.py (build/wasm.sh runs it first);
 * - a kernel that creates a tensor allocates it and returns its address, 0 when
 *   memory is exhausted, or a negative WT_E* code (details in wt_err_value);
 * - larger argument lists (shapes, strides) arrive in the params block (wt_params).
 */
#ifndef WEBTENSOR_H
#define WEBTENSOR_H

#include <stdint.h>
#include <stddef.h>
#include <wasm_simd128.h>

#include "codes.h"

#define EXPORT(name) __attribute__((export_name(#name))) name
#define INLINE static inline __attribute__((always_inline))

extern const int dt_size[NDT];

/* Error codes returned (negated) by kernels; the Python side turns them into exceptions. */
enum { WT_OK = 0, WT_ENOMEM = 1, WT_EINDEX = 2, WT_EARG = 3 };
extern int64_t wt_err_value;  /* the offending index for WT_EINDEX */

/* -- memory (alloc.c) ---------------------------------------------------------------- */
void *wt_malloc(size_t n);
void wt_free(void *p);
extern int32_t wt_params[1024];  /* argument block written by the host before a call */

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);

/* -- float16 storage (IEEE binary16, round to nearest even) ---------------------------- */
INLINE float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13);
    } else if (e) {
        bits = sign | ((e + 112) << 23) | (m << 13);
    } else if (m) {  /* subnormal: m * 2^-24, exact in float */
        float f = (float)m * 5.9604644775390625e-8f;
        return sign ? -f : f;
    } else {
        bits = sign;
    }
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

uint16_t f32_to_f16(float f);
uint16_t f64_to_f16(double d);

/* -- math (mathlib.c): scalar double precision, and float32x4 vector forms --------------- */
double wt_exp(double x);
double wt_log(double x);
double wt_expm1(double x);
double wt_log1p(double x);
double wt_sin(double x);
double wt_cos(double x);
double wt_tan(double x);
double wt_tanh(double x);
double wt_erf(double x);
double wt_pow(double x, double y);
double wt_fmod(double x, double y);
float wt_erf_f32(float x);
v128_t v_exp(v128_t x);
v128_t v_log(v128_t x);
v128_t v_tanh(v128_t x);
v128_t v_sigmoid(v128_t x);
v128_t v_erf(v128_t x);

/* -- GEMM (gemm.c): C[M,N] (+)= A[M,K] B[K,N], element (i,k) of A at a[i*rsa + k*csa] -- */
int gemm(int dt, int m, int n, int k, const void *a, int rsa, int csa, const void *b, int rsb,
         int csb, void *c, int ldc, int accumulate);

/* Sum of r contiguous floats: 4-lane partials per 256-block, carried in double (reduce.c;
 * fused.c's softmax and cross-entropy use it too) */
float sum_row_f32(const float *x, int r);

/* MAXDIM, the most dims of an N-d walk (copy.c, elementwise.c) after the host collapses its
 * shape, is backends/wasm/__init__.py's MAX_DIMS (codes.h). */
#endif
