/* Reductions over the middle axis of a [outer, r, inner] view: reduce, argreduce and
 * scan. The host transposes first when the reduced axes are not
 * adjacent, so every reduction here is one contiguous block of axes.
 *
 * float32 sums add 4-lane partial sums over blocks of 256 and carry the total in
 * double, so long sums stay accurate (as NumPy's pairwise sum does).
 */
#include "webtensor.h"

/* R_* (the order of base.REDUCE_OPS) are in codes.h. */

float sum_row_f32(const float *x, int r) {
    double total = 0;
    int i = 0;
    while (i < r) {
        int end = r - i > 256 ? i + 256 : r;
        v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 16 <= end; i += 16) {
            a0 = wasm_f32x4_add(a0, wasm_v128_load(x + i));
            a1 = wasm_f32x4_add(a1, wasm_v128_load(x + i + 4));
            a2 = wasm_f32x4_add(a2, wasm_v128_load(x + i + 8));
            a3 = wasm_f32x4_add(a3, wasm_v128_load(x + i + 12));
        }
        v128_t a = wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3));
        float s = (wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(a, 1)) +
                  (wasm_f32x4_extract_lane(a, 2) + wasm_f32x4_extract_lane(a, 3));
        for (; i < end; i++) s += x[i];
        total += s;
    }
    return (float)total;
}

static int reduce_sum_f32(float *o, const float *x, int outer, int r, int inner) {
    if (inner == 1) {
        for (int p = 0; p < outer; p++) o[p] = sum_row_f32(x + (size_t)p * r, r);
        return WT_OK;
    }
    double *acc = wt_malloc((size_t)inner * 8);
    if (!acc) return WT_ENOMEM;
    for (int p = 0; p < outer; p++) {
        for (int i = 0; i < inner; i++) acc[i] = 0;
        const float *xp = x + (size_t)p * r * inner;
        for (int k = 0; k < r; k++, xp += inner)
            for (int i = 0; i < inner; i++) acc[i] += xp[i];
        for (int i = 0; i < inner; i++) o[(size_t)p * inner + i] = (float)acc[i];
    }
    wt_free(acc);
    return WT_OK;
}

/* Generic [outer, r, inner] reduction in the element type: column-wise accumulation
 * into the output row, which also serves inner == 1. */
#define REDUCE(S, T, INIT, STEP)                                                        \
    static int reduce_##S(T *o, const T *x, int outer, int r, int inner) {              \
        for (int p = 0; p < outer; p++) {                                               \
            T *op = o + (size_t)p * inner;                                              \
            const T *xp = x + (size_t)p * r * inner;                                    \
            for (int i = 0; i < inner; i++) op[i] = (INIT);                             \
            for (int k = 0; k < r; k++, xp += inner)                                    \
                for (int i = 0; i < inner; i++) { T a = op[i], v = xp[i]; op[i] = (STEP); } \
        }                                                                               \
        return WT_OK;                                                                   \
    }

/* float max/min propagate NaN: once a is NaN it stays */
#define FMAX(a, v) ((a != a || v != v) ? a + v : (v > a ? v : a))
#define FMIN(a, v) ((a != a || v != v) ? a + v : (v < a ? v : a))
REDUCE(sum_f64, double, 0, a + v)
REDUCE(prod_f32, float, 1, a * v)
REDUCE(prod_f64, double, 1, a * v)
REDUCE(max_f32, float, -__builtin_inff(), FMAX(a, v))
REDUCE(max_f64, double, -__builtin_inf(), FMAX(a, v))
REDUCE(min_f32, float, __builtin_inff(), FMIN(a, v))
REDUCE(min_f64, double, __builtin_inf(), FMIN(a, v))
#define INT_REDUCE(S, T, UT, LO, HI)                                                    \
    REDUCE(sum_##S, T, 0, (T)((UT)a + (UT)v))                                           \
    REDUCE(prod_##S, T, 1, (T)((UT)a * (UT)v))                                          \
    REDUCE(max_##S, T, LO, v > a ? v : a)                                               \
    REDUCE(min_##S, T, HI, v < a ? v : a)
INT_REDUCE(i32, int32_t, uint32_t, INT32_MIN, INT32_MAX)
INT_REDUCE(i64, int64_t, uint64_t, INT64_MIN, INT64_MAX)
INT_REDUCE(u8, uint8_t, uint8_t, 0, UINT8_MAX)
INT_REDUCE(u32, uint32_t, uint32_t, 0, UINT32_MAX)
REDUCE(any_b, uint8_t, 0, a | (v != 0))
REDUCE(all_b, uint8_t, 1, a & (v != 0))

typedef int (*reduce_fn)(void *o, const void *x, int outer, int r, int inner);
#define RROW(S) {[DT_F32] = (reduce_fn)reduce_##S##_f32, [DT_F64] = (reduce_fn)reduce_##S##_f64,           \
                 [DT_I32] = (reduce_fn)reduce_##S##_i32, [DT_I64] = (reduce_fn)reduce_##S##_i64,           \
                 [DT_U8] = (reduce_fn)reduce_##S##_u8, [DT_U32] = (reduce_fn)reduce_##S##_u32}
static const reduce_fn reduce_table[6][NDT] = {
    [R_SUM] = RROW(sum), [R_PROD] = RROW(prod), [R_MAX] = RROW(max), [R_MIN] = RROW(min),
    [R_ANY] = {[DT_BOOL] = (reduce_fn)reduce_any_b}, [R_ALL] = {[DT_BOOL] = (reduce_fn)reduce_all_b},
};

void *EXPORT(wt_reduce)(int op, int dt, const void *x, int outer, int r, int inner) {
    if (op < 0 || op > R_ALL || dt < 0 || dt >= NDT || !reduce_table[op][dt]) return (void *)-WT_EARG;
    void *o = wt_malloc((size_t)outer * inner * dt_size[dt]);
    if (!o) return 0;
    if (reduce_table[op][dt](o, x, outer, r, inner) != WT_OK) {
        wt_free(o);
        return 0;
    }
    return o;
}

/* -- argmax / argmin: first occurrence; a NaN counts as the extreme (as NumPy) -------- */
#define ARGRED(S, T, ISNAN)                                                             \
    static void arg_##S(int is_max, int64_t *idx, const T *x, int outer, int r, int inner) { \
        for (int p = 0; p < outer; p++)                                                 \
            for (int i = 0; i < inner; i++) {                                           \
                const T *xp = x + (size_t)p * r * inner + i;                            \
                T best = xp[0];                                                         \
                int64_t bi = 0;                                                         \
                if (!ISNAN(best))                                                       \
                    for (int k = 1; k < r; k++) {                                       \
                        T v = xp[(size_t)k * inner];                                    \
                        if (ISNAN(v)) { bi = k; break; }                                \
                        if (is_max ? v > best : v < best) { best = v; bi = k; }         \
                    }                                                                   \
                idx[(size_t)p * inner + i] = bi;                                        \
            }                                                                           \
    }
#define FNAN(v) ((v) != (v))
#define NONAN(v) 0
ARGRED(f32, float, FNAN)
ARGRED(f64, double, FNAN)
ARGRED(i32, int32_t, NONAN)
ARGRED(i64, int64_t, NONAN)
ARGRED(u8, uint8_t, NONAN)
ARGRED(u32, uint32_t, NONAN)

void *EXPORT(wt_argreduce)(int is_max, int dt, const void *x, int outer, int r, int inner, int out_dt) {
    size_t n = (size_t)outer * inner;
    int64_t *idx = wt_malloc(n * 8);
    if (!idx) return 0;
    switch (dt) {
        case DT_F32: arg_f32(is_max, idx, x, outer, r, inner); break;
        case DT_F64: arg_f64(is_max, idx, x, outer, r, inner); break;
        case DT_I32: arg_i32(is_max, idx, x, outer, r, inner); break;
        case DT_I64: arg_i64(is_max, idx, x, outer, r, inner); break;
        case DT_U8: case DT_BOOL: arg_u8(is_max, idx, x, outer, r, inner); break;
        case DT_U32: arg_u32(is_max, idx, x, outer, r, inner); break;
        default: wt_free(idx); return (void *)-WT_EARG;
    }
    if (out_dt == DT_I64) return idx;
    int32_t *o = wt_malloc(n * 4);  /* int32 indices */
    if (o) for (size_t i = 0; i < n; i++) o[i] = (int32_t)idx[i];
    wt_free(idx);
    return o;
}

/* -- cumulative sum / product along r (TF's exclusive and reverse flags) -------------- */
#define SCAN(S, T, ADD, MUL)                                                            \
    static void scan_##S(int is_prod, T *o, const T *x, int outer, int r, int inner, int excl, int rev) { \
        for (int p = 0; p < outer; p++) {                                               \
            size_t base = (size_t)p * r * inner;                                        \
            for (int k = 0; k < r; k++) {                                               \
                int pk = rev ? r - 1 - k : k, pp = rev ? pk + 1 : pk - 1;               \
                T *op = o + base + (size_t)pk * inner;                                  \
                const T *prev = o + base + (size_t)pp * inner;                          \
                const T *xs = x + base + (size_t)(excl ? pp : pk) * inner;              \
                for (int i = 0; i < inner; i++) {                                       \
                    if (k == 0) op[i] = excl ? (T)is_prod : xs[i];                      \
                    else { T a = prev[i], v = xs[i]; op[i] = is_prod ? (T)(MUL) : (T)(ADD); } \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }
SCAN(f32, float, a + v, a * v)
SCAN(f64, double, a + v, a * v)
SCAN(i32, int32_t, (uint32_t)a + (uint32_t)v, (uint32_t)a * (uint32_t)v)
SCAN(i64, int64_t, (uint64_t)a + (uint64_t)v, (uint64_t)a * (uint64_t)v)
SCAN(u8, uint8_t, a + v, a * v)
SCAN(u32, uint32_t, a + v, a * v)

void *EXPORT(wt_scan)(int is_prod, int dt, const void *x, int outer, int r, int inner, int excl, int rev) {
    void *o = wt_malloc((size_t)outer * r * inner * dt_size[dt]);
    if (!o) return 0;
    switch (dt) {
        case DT_F32: scan_f32(is_prod, o, x, outer, r, inner, excl, rev); break;
        case DT_F64: scan_f64(is_prod, o, x, outer, r, inner, excl, rev); break;
        case DT_I32: scan_i32(is_prod, o, x, outer, r, inner, excl, rev); break;
        case DT_I64: scan_i64(is_prod, o, x, outer, r, inner, excl, rev); break;
        case DT_U8: scan_u8(is_prod, o, x, outer, r, inner, excl, rev); break;
        case DT_U32: scan_u32(is_prod, o, x, outer, r, inner, excl, rev); break;
        default: wt_free(o); return (void *)-WT_EARG;
    }
    return o;
}
