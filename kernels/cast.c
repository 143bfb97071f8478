/* Creation and conversion kernels: cast between every pair of dtypes, full, arange,
 * and the counter-based random streams of backends/base.py.
 *
 * float -> int follows NumPy on x86 (and TF's static_cast there): truncation toward
 * zero, NaN and out-of-range give the int32/int64 minimum; uint8/uint32 wrap the
 * int32/int64 result. Conversions never trap.
 */
#include "webtensor.h"

INLINE int32_t f2i32(double x) {
    return (x != x || x >= 2147483648.0 || x < -2147483648.0) ? INT32_MIN : (int32_t)x;
}
INLINE int64_t f2i64(double x) {
    return (x != x || x >= 9223372036854775808.0 || x < -9223372036854775808.0) ? INT64_MIN : (int64_t)x;
}
INLINE uint16_t i2h(double x) { return f64_to_f16(x); }

#define TO_F16(x) _Generic((x), float: f32_to_f16((float)(x)), double: f64_to_f16((double)(x)), default: i2h((double)(x)))
#define TO_F32(x) ((float)(x))
#define TO_F64(x) ((double)(x))
#define TO_I32(x) _Generic((x), float: f2i32((double)(x)), double: f2i32((double)(x)), default: (int32_t)(x))
#define TO_I64(x) _Generic((x), float: f2i64((double)(x)), double: f2i64((double)(x)), default: (int64_t)(x))
#define TO_U8(x) _Generic((x), float: (uint8_t)f2i32((double)(x)), double: (uint8_t)f2i32((double)(x)), default: (uint8_t)(x))
#define TO_U32(x) _Generic((x), float: (uint32_t)f2i64((double)(x)), double: (uint32_t)f2i64((double)(x)), default: (uint32_t)(x))
#define TO_BOOL(x) ((uint8_t)((x) != 0))

#define LOAD_F16(p, i) f16_to_f32(((const uint16_t *)(p))[i])
#define LOAD_F32(p, i) ((const float *)(p))[i]
#define LOAD_F64(p, i) ((const double *)(p))[i]
#define LOAD_I32(p, i) ((const int32_t *)(p))[i]
#define LOAD_I64(p, i) ((const int64_t *)(p))[i]
#define LOAD_U8(p, i) ((const uint8_t *)(p))[i]
#define LOAD_U32(p, i) ((const uint32_t *)(p))[i]
#define LOAD_BOOL(p, i) ((const uint8_t *)(p))[i]

typedef void (*cast_fn)(void *o, const void *x, int n);

#define CAST(S, D, DT)                                                                 \
    static void cast_##S##_##D(void *o_, const void *x, int n) {                       \
        DT *o = o_;                                                                    \
        for (int i = 0; i < n; i++) o[i] = TO_##D(LOAD_##S(x, i));                     \
    }
#define CAST_FROM(S)                                                                   \
    CAST(S, F16, uint16_t) CAST(S, F32, float) CAST(S, F64, double) CAST(S, I32, int32_t) \
    CAST(S, I64, int64_t) CAST(S, U8, uint8_t) CAST(S, U32, uint32_t) CAST(S, BOOL, uint8_t)
CAST_FROM(F16) CAST_FROM(F32) CAST_FROM(F64) CAST_FROM(I32)
CAST_FROM(I64) CAST_FROM(U8) CAST_FROM(U32) CAST_FROM(BOOL)

#define CAST_ROW(S) {cast_##S##_F16, cast_##S##_F32, cast_##S##_F64, cast_##S##_I32,       \
                     cast_##S##_I64, cast_##S##_U8, cast_##S##_U32, cast_##S##_BOOL}
static const cast_fn cast_table[NDT][NDT] = {CAST_ROW(F16), CAST_ROW(F32), CAST_ROW(F64), CAST_ROW(I32),
                                             CAST_ROW(I64), CAST_ROW(U8), CAST_ROW(U32), CAST_ROW(BOOL)};

void cast_into(int src, int dst, void *o, const void *x, int n) { cast_table[src][dst](o, x, n); }

void *EXPORT(wt_cast)(int src, int dst, const void *x, int n) {
    if (src < 0 || src >= NDT || dst < 0 || dst >= NDT) return (void *)-WT_EARG;
    void *o = wt_malloc((size_t)n * dt_size[dst]);
    if (o) cast_table[src][dst](o, x, n);
    return o;
}

/* full: the element's bytes are in the params block */
void *EXPORT(wt_full)(int es, int n) {
    char *o = wt_malloc((size_t)n * es);
    if (!o) return 0;
    switch (es) {
        case 1: { uint8_t v = *(uint8_t *)wt_params; for (int i = 0; i < n; i++) o[i] = v; break; }
        case 2: { uint16_t v = *(uint16_t *)wt_params; for (int i = 0; i < n; i++) ((uint16_t *)o)[i] = v; break; }
        case 4: { uint32_t v = *(uint32_t *)wt_params; for (int i = 0; i < n; i++) ((uint32_t *)o)[i] = v; break; }
        default: { uint64_t v = *(uint64_t *)wt_params; for (int i = 0; i < n; i++) ((uint64_t *)o)[i] = v; }
    }
    return o;
}

/* arange: start + i * delta in the dtype's own arithmetic, as NumPy's
 * arange(n, dtype) * delta + start (start/delta: f64 for floats, i64 for ints) */
INLINE float h(float x) { return f16_to_f32(f32_to_f16(x)); }

void *EXPORT(wt_arange)(int dt, int n) {
    if (dt < 0 || dt >= NDT || dt == DT_BOOL) return (void *)-WT_EARG;
    char *o = wt_malloc((size_t)n * dt_size[dt]);
    if (!o) return 0;
    double fs, fd;
    int64_t is, id;
    __builtin_memcpy(&fs, wt_params, 8);
    __builtin_memcpy(&fd, wt_params + 2, 8);
    __builtin_memcpy(&is, wt_params, 8);
    __builtin_memcpy(&id, wt_params + 2, 8);
    for (int i = 0; i < n; i++) {
        switch (dt) {
            case DT_F16: ((uint16_t *)o)[i] = f32_to_f16(h(h((float)i) * h((float)fd)) + h((float)fs)); break;
            case DT_F32: ((float *)o)[i] = (float)i * (float)fd + (float)fs; break;
            case DT_F64: ((double *)o)[i] = (double)i * fd + fs; break;
            case DT_I32: ((int32_t *)o)[i] = (int32_t)((uint32_t)i * (uint32_t)id + (uint32_t)is); break;
            case DT_I64: ((int64_t *)o)[i] = (int64_t)((uint64_t)i * (uint64_t)id + (uint64_t)is); break;
            case DT_U8: ((uint8_t *)o)[i] = (uint8_t)((uint8_t)i * (uint8_t)id + (uint8_t)is); break;
            default: ((uint32_t *)o)[i] = (uint32_t)i * (uint32_t)id + (uint32_t)is;
        }
    }
    return o;
}

/* -- random: base.random_u32, then uniform or Box-Muller normal ------------------------- */
INLINE uint32_t mix32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    return x ^ (x >> 16);
}
INLINE uint32_t rnd(uint32_t i, uint32_t k0, uint32_t k1) { return mix32(mix32(i ^ k0) + k1); }

static float draw_f32(int normal, uint32_t i, uint32_t k0, uint32_t k1) {
    if (!normal) return (float)(rnd(i, k0, k1) >> 8) * 0x1p-24f;
    float u1 = ((float)(rnd(2 * i, k0, k1) >> 8) + 1.0f) * 0x1p-24f;
    float u2 = (float)(rnd(2 * i + 1, k0, k1) >> 8) * 0x1p-24f;
    float r = __builtin_sqrtf(-2.0f * (float)wt_log(u1));
    return r * (float)wt_cos((double)(6.2831854820251465f * u2));
}

static double draw_f64(int normal, uint32_t i, uint32_t k0, uint32_t k1) {
    if (!normal) return (double)(rnd(i, k0, k1) >> 8) * 0x1p-24;
    double u1 = ((double)(rnd(2 * i, k0, k1) >> 8) + 1.0) * 0x1p-24;
    double u2 = (double)(rnd(2 * i + 1, k0, k1) >> 8) * 0x1p-24;
    return __builtin_sqrt(-2.0 * wt_log(u1)) * wt_cos(6.283185307179586 * u2);
}

void *EXPORT(wt_random)(int normal, int dt, int n, uint32_t k0, uint32_t k1) {
    if (dt < 0 || dt >= NDT) return (void *)-WT_EARG;
    char *o = wt_malloc((size_t)n * dt_size[dt]);
    if (!o) return 0;
    if (dt == DT_F64) {
        for (int i = 0; i < n; i++) ((double *)o)[i] = draw_f64(normal, (uint32_t)i, k0, k1);
        return o;
    }
    float chunk[256];
    for (int i = 0; i < n; i += 256) {
        int m = n - i < 256 ? n - i : 256;
        float *dst = dt == DT_F32 ? (float *)o + i : chunk;
        for (int j = 0; j < m; j++) dst[j] = draw_f32(normal, (uint32_t)(i + j), k0, k1);
        if (dt != DT_F32) cast_table[DT_F32][dt](o + (size_t)i * dt_size[dt], chunk, m);
    }
    return o;
}
