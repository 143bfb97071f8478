/* Elementwise kernels: unary and binary ops (with broadcasting) and where.
 *
 * Each (op, dtype) pair is one small loop in a table; float16 runs the float32 loop
 * on converted chunks. Binary loops take element strides (0 for a broadcast operand)
 * so one loop serves same-shape, scalar and row-broadcast cases; the host collapses
 * shapes so the N-d walker below mostly sees one or two dims.
 */
#include "webtensor.h"

typedef void (*unary_fn)(void *o, const void *x, int n);
typedef void (*binary_fn)(void *o, const void *a, int sa, const void *b, int sb, int n);

/* U_* and B_* (the order of backends/base.py's UNARY_OPS and BINARY_OPS) are in codes.h. */

/* -- unary loops --------------------------------------------------------------------- */
#define UNARY(NAME, TO, TI, EXPR)                                                   \
    static void NAME(void *o_, const void *x_, int n) {                             \
        TO *o = o_;                                                                 \
        const TI *xp = x_;                                                          \
        for (int i = 0; i < n; i++) { TI x = xp[i]; o[i] = (TO)(EXPR); }           \
    }

#define UNARY_V4(NAME, VF)                                                          \
    static void NAME(void *o_, const void *x_, int n) {                             \
        float *o = o_;                                                              \
        const float *x = x_;                                                        \
        int i = 0;                                                                  \
        for (; i + 4 <= n; i += 4) wasm_v128_store(o + i, VF(wasm_v128_load(x + i))); \
        if (i < n) {                                                                \
            float t[4] = {0, 0, 0, 0};                                              \
            for (int j = 0; i + j < n; j++) t[j] = x[i + j];                        \
            wasm_v128_store(t, VF(wasm_v128_load(t)));                              \
            for (int j = 0; i + j < n; j++) o[i + j] = t[j];                        \
        }                                                                           \
    }

INLINE double sigmoid64(double x) {
    double e = wt_exp(-__builtin_fabs(x)), r = 1.0 / (1.0 + e);
    return x >= 0 ? r : e * r;
}

#define FLOAT_UNARY(S, T, SQRT, FABS, FLOOR, CEIL, RINT)                            \
    UNARY(neg_##S, T, T, -x)                                                        \
    UNARY(abs_##S, T, T, FABS(x))                                                   \
    UNARY(sign_##S, T, T, x > 0 ? (T)1 : x < 0 ? (T)-1 : x)                         \
    UNARY(square_##S, T, T, x * x)                                                  \
    UNARY(sqrt_##S, T, T, SQRT(x))                                                  \
    UNARY(rsqrt_##S, T, T, (T)1 / SQRT(x))                                          \
    UNARY(recip_##S, T, T, (T)1 / x)                                                \
    UNARY(log1p_##S, T, T, wt_log1p(x))                                             \
    UNARY(expm1_##S, T, T, wt_expm1(x))                                             \
    UNARY(sin_##S, T, T, wt_sin(x))                                                 \
    UNARY(cos_##S, T, T, wt_cos(x))                                                 \
    UNARY(tan_##S, T, T, wt_tan(x))                                                 \
    UNARY(floor_##S, T, T, FLOOR(x))                                                \
    UNARY(ceil_##S, T, T, CEIL(x))                                                  \
    UNARY(round_##S, T, T, RINT(x))                                                 \
    UNARY(isnan_##S, uint8_t, T, x != x)                                            \
    UNARY(isfinite_##S, uint8_t, T, x - x == 0)

FLOAT_UNARY(f32, float, __builtin_sqrtf, __builtin_fabsf, __builtin_floorf, __builtin_ceilf, __builtin_rintf)
FLOAT_UNARY(f64, double, __builtin_sqrt, __builtin_fabs, __builtin_floor, __builtin_ceil, __builtin_rint)
UNARY_V4(exp_f32, v_exp)
UNARY_V4(log_f32, v_log)
UNARY_V4(tanh_f32, v_tanh)
UNARY_V4(sigmoid_f32, v_sigmoid)
UNARY_V4(erf_f32, v_erf)
UNARY(exp_f64, double, double, wt_exp(x))
UNARY(log_f64, double, double, wt_log(x))
UNARY(tanh_f64, double, double, wt_tanh(x))
UNARY(sigmoid_f64, double, double, sigmoid64(x))
UNARY(erf_f64, double, double, wt_erf(x))

/* integers wrap (arithmetic in the unsigned type); reciprocal is 1 / x truncated and
 * 1 / 0 is the dtype's minimum, as in NumPy on x86 */
#define INT_UNARY(S, T, UT, MIN)                                                    \
    UNARY(neg_##S, T, T, (UT)0 - (UT)x)                                             \
    UNARY(abs_##S, T, T, x < 0 ? (UT)0 - (UT)x : (UT)x)                             \
    UNARY(sign_##S, T, T, x > 0 ? 1 : x < 0 ? -1 : 0)                               \
    UNARY(square_##S, T, T, (UT)x * (UT)x)                                          \
    UNARY(recip_##S, T, T, x == 0 ? (T)(MIN) : (T)1 / x)             \
    UNARY(round_##S, T, T, x)

INT_UNARY(i32, int32_t, uint32_t, INT32_MIN)
INT_UNARY(i64, int64_t, uint64_t, INT64_MIN)
INT_UNARY(u8, uint8_t, uint8_t, 0)
INT_UNARY(u32, uint32_t, uint32_t, 0)
UNARY(not_b, uint8_t, uint8_t, !x)

#define FLOAT_ROW(S) [DT_F32] = S##_f32, [DT_F64] = S##_f64
#define INT_ROW(S) [DT_I32] = S##_i32, [DT_I64] = S##_i64, [DT_U8] = S##_u8, [DT_U32] = S##_u32
static const unary_fn unary_table[NUNARY][NDT] = {
    [U_NEG] = {FLOAT_ROW(neg), INT_ROW(neg)},
    [U_ABS] = {FLOAT_ROW(abs), INT_ROW(abs)},
    [U_SIGN] = {FLOAT_ROW(sign), INT_ROW(sign)},
    [U_SQUARE] = {FLOAT_ROW(square), INT_ROW(square)},
    [U_SQRT] = {FLOAT_ROW(sqrt)},
    [U_RSQRT] = {FLOAT_ROW(rsqrt)},
    [U_RECIPROCAL] = {FLOAT_ROW(recip), INT_ROW(recip)},
    [U_EXP] = {FLOAT_ROW(exp)},
    [U_LOG] = {FLOAT_ROW(log)},
    [U_LOG1P] = {FLOAT_ROW(log1p)},
    [U_EXPM1] = {FLOAT_ROW(expm1)},
    [U_SIN] = {FLOAT_ROW(sin)},
    [U_COS] = {FLOAT_ROW(cos)},
    [U_TAN] = {FLOAT_ROW(tan)},
    [U_TANH] = {FLOAT_ROW(tanh)},
    [U_SIGMOID] = {FLOAT_ROW(sigmoid)},
    [U_ERF] = {FLOAT_ROW(erf)},
    [U_FLOOR] = {FLOAT_ROW(floor)},
    [U_CEIL] = {FLOAT_ROW(ceil)},
    [U_ROUND] = {FLOAT_ROW(round), INT_ROW(round)},
    [U_LOGICAL_NOT] = {[DT_BOOL] = not_b},
    [U_ISNAN] = {FLOAT_ROW(isnan)},
    [U_ISFINITE] = {FLOAT_ROW(isfinite)},
};

static int unary_bool_out(int op) { return WT_UNARY_BOOL_OUT(op); }

#define CHUNK 256

void *EXPORT(wt_unary)(int op, int dt, const void *x, int n) {
    if (op < 0 || op >= NUNARY || dt < 0 || dt >= NDT) return (void *)-WT_EARG;
    unary_fn fn = unary_table[op][dt == DT_F16 ? DT_F32 : dt];
    if (!fn) return (void *)-WT_EARG;
    int odt = unary_bool_out(op) ? DT_BOOL : dt;
    char *o = wt_malloc((size_t)n * dt_size[odt]);
    if (!o) return 0;
    if (dt != DT_F16) {
        fn(o, x, n);
        return o;
    }
    const uint16_t *h = x;
    float in[CHUNK], out[CHUNK];
    for (int i = 0; i < n; i += CHUNK) {
        int m = n - i < CHUNK ? n - i : CHUNK;
        for (int j = 0; j < m; j++) in[j] = f16_to_f32(h[i + j]);
        if (odt == DT_BOOL) {
            fn((uint8_t *)o + i, in, m);
        } else {
            fn(out, in, m);
            for (int j = 0; j < m; j++) ((uint16_t *)o)[i + j] = f32_to_f16(out[j]);
        }
    }
    return o;
}

/* -- binary loops -------------------------------------------------------------------- */
/* Four copies of the loop (both contiguous, one side broadcast, general strides) so
 * the compiler vectorises the common cases. */
#define BINARY(NAME, TO, TI, EXPR)                                                      \
    static void NAME(void *o_, const void *a_, int sa, const void *b_, int sb, int n) { \
        TO *o = o_;                                                                     \
        const TI *a = a_, *b = b_;                                                      \
        if (sa == 1 && sb == 1) {                                                       \
            for (int i = 0; i < n; i++) { TI x = a[i], y = b[i]; o[i] = (TO)(EXPR); }   \
        } else if (sa == 1 && sb == 0) {                                                \
            TI y = b[0];                                                                \
            for (int i = 0; i < n; i++) { TI x = a[i]; o[i] = (TO)(EXPR); }             \
        } else if (sa == 0 && sb == 1) {                                                \
            TI x = a[0];                                                                \
            for (int i = 0; i < n; i++) { TI y = b[i]; o[i] = (TO)(EXPR); }             \
        } else {                                                                        \
            for (int i = 0; i < n; i++) {                                               \
                TI x = a[(ptrdiff_t)i * sa], y = b[(ptrdiff_t)i * sb];                  \
                o[i] = (TO)(EXPR);                                                      \
            }                                                                           \
        }                                                                               \
    }

/* one strided loop for ops that call out anyway */
#define BINARY_CALL(NAME, TO, TI, EXPR)                                                 \
    static void NAME(void *o_, const void *a_, int sa, const void *b_, int sb, int n) { \
        TO *o = o_;                                                                     \
        const TI *a = a_, *b = b_;                                                      \
        for (int i = 0; i < n; i++) {                                                   \
            TI x = a[(ptrdiff_t)i * sa], y = b[(ptrdiff_t)i * sb];                      \
            o[i] = (TO)(EXPR);                                                          \
        }                                                                               \
    }

/* NumPy's float floor division and modulo (npy_divmod): Python's signs */
#define FLOAT_DIVMOD(S, T, FLOOR)                                                       \
    static T floordiv_##S##_1(T a, T b) {                                               \
        if (b == 0) return a / b;                                                       \
        T mod = (T)wt_fmod(a, b), div = (a - mod) / b;                                  \
        if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;                               \
        if (div == 0) return __builtin_copysign(0.0, (double)(a / b));                 \
        T fl = FLOOR(div);                                                              \
        return div - fl > (T)0.5 ? fl + 1 : fl;                                         \
    }                                                                                   \
    static T mod_##S##_1(T a, T b) {                                                    \
        if (b == 0) return (T)wt_fmod(a, b);                                            \
        T mod = (T)wt_fmod(a, b);                                                       \
        if (mod != 0) return ((b < 0) != (mod < 0)) ? mod + b : mod;                    \
        return (T)__builtin_copysign(0.0, (double)b);                                   \
    }

FLOAT_DIVMOD(f32, float, __builtin_floorf)
FLOAT_DIVMOD(f64, double, __builtin_floor)

INLINE float maxf(float x, float y) { return (x != x || y != y) ? x + y : x > y ? x : y; }
INLINE float minf(float x, float y) { return (x != x || y != y) ? x + y : x < y ? x : y; }
INLINE double maxd(double x, double y) { return (x != x || y != y) ? x + y : x > y ? x : y; }
INLINE double mind(double x, double y) { return (x != x || y != y) ? x + y : x < y ? x : y; }

#define FLOAT_BINARY(S, T, MAX, MIN, POW)                                               \
    BINARY(add_##S, T, T, x + y)                                                        \
    BINARY(sub_##S, T, T, x - y)                                                        \
    BINARY(mul_##S, T, T, x * y)                                                        \
    BINARY(div_##S, T, T, x / y)                                                        \
    BINARY_CALL(floordiv_##S, T, T, floordiv_##S##_1(x, y))                             \
    BINARY_CALL(mod_##S, T, T, mod_##S##_1(x, y))                                       \
    BINARY_CALL(pow_##S, T, T, POW)                                                     \
    BINARY(max_##S, T, T, MAX(x, y))                                                    \
    BINARY(min_##S, T, T, MIN(x, y))

FLOAT_BINARY(f32, float, maxf, minf, (float)wt_pow(x, y))
FLOAT_BINARY(f64, double, maxd, mind, wt_pow(x, y))

/* LOOP: BINARY (vectorised special cases) for the dtypes models run on, BINARY_CALL
 * (one strided loop, a quarter of the code) for the rest */
#define COMPARE(S, T, LOOP)                                                             \
    LOOP(eq_##S, uint8_t, T, x == y)                                                    \
    LOOP(ne_##S, uint8_t, T, x != y)                                                    \
    LOOP(lt_##S, uint8_t, T, x < y)                                                     \
    LOOP(le_##S, uint8_t, T, x <= y)                                                    \
    LOOP(gt_##S, uint8_t, T, x > y)                                                     \
    LOOP(ge_##S, uint8_t, T, x >= y)

COMPARE(f32, float, BINARY)
COMPARE(f64, double, BINARY_CALL)
COMPARE(i32, int32_t, BINARY)
COMPARE(i64, int64_t, BINARY_CALL)
COMPARE(u8, uint8_t, BINARY_CALL)
COMPARE(u32, uint32_t, BINARY_CALL)
COMPARE(b, uint8_t, BINARY_CALL)
BINARY(and_b, uint8_t, uint8_t, x && y)
BINARY(or_b, uint8_t, uint8_t, x || y)

/* Python's floor division / modulo for integers; x // 0 and x % 0 are 0 as in NumPy,
 * MIN // -1 wraps instead of trapping. */
#define INT_DIVMOD(S, T, UT, SIGNED)                                                    \
    static T floordiv_##S##_1(T x, T y) {                                               \
        if (y == 0) return 0;                                                           \
        if (SIGNED && y == (T)-1) return (T)((UT)0 - (UT)x);                            \
        T q = x / y;                                                                    \
        if (SIGNED && x % y != 0 && ((x < 0) != (y < 0))) q--;                          \
        return q;                                                                       \
    }                                                                                   \
    static T mod_##S##_1(T x, T y) {                                                    \
        if (y == 0 || (SIGNED && y == (T)-1)) return 0;                                 \
        T r = x % y;                                                                    \
        return (SIGNED && r != 0 && ((r < 0) != (y < 0))) ? (T)(r + y) : r;             \
    }                                                                                   \
    static T pow_##S##_1(T x, T y) {                                                    \
        if (SIGNED && y < 0) return x == 1 ? 1 : x == (T)-1 ? ((y & 1) ? x : 1) : 0;    \
        UT r = 1, b = (UT)x;                                                            \
        for (UT e = (UT)y; e; e >>= 1, b *= b)                                          \
            if (e & 1) r *= b;                                                          \
        return (T)r;                                                                    \
    }

#define INT_BINARY(S, T, UT, SIGNED, LOOP)                                              \
    INT_DIVMOD(S, T, UT, SIGNED)                                                        \
    LOOP(add_##S, T, T, (UT)x + (UT)y)                                                  \
    LOOP(sub_##S, T, T, (UT)x - (UT)y)                                                  \
    LOOP(mul_##S, T, T, (UT)x * (UT)y)                                                  \
    BINARY_CALL(floordiv_##S, T, T, floordiv_##S##_1(x, y))                             \
    BINARY_CALL(mod_##S, T, T, mod_##S##_1(x, y))                                       \
    BINARY_CALL(pow_##S, T, T, pow_##S##_1(x, y))                                       \
    LOOP(max_##S, T, T, x > y ? x : y)                                                  \
    LOOP(min_##S, T, T, x < y ? x : y)

INT_BINARY(i32, int32_t, uint32_t, 1, BINARY)
INT_BINARY(i64, int64_t, uint64_t, 1, BINARY_CALL)
INT_BINARY(u8, uint8_t, uint8_t, 0, BINARY_CALL)
INT_BINARY(u32, uint32_t, uint32_t, 0, BINARY_CALL)

#define ALL_ROW(S) FLOAT_ROW(S), INT_ROW(S)
static const binary_fn binary_table[NBINARY][NDT] = {
    [B_ADD] = {ALL_ROW(add)},
    [B_SUB] = {ALL_ROW(sub)},
    [B_MUL] = {ALL_ROW(mul)},
    [B_DIV] = {FLOAT_ROW(div)},
    [B_FLOORDIV] = {ALL_ROW(floordiv)},
    [B_MOD] = {ALL_ROW(mod)},
    [B_POW] = {ALL_ROW(pow)},
    [B_MAXIMUM] = {ALL_ROW(max)},
    [B_MINIMUM] = {ALL_ROW(min)},
    [B_EQUAL] = {ALL_ROW(eq), [DT_BOOL] = eq_b},
    [B_NOT_EQUAL] = {ALL_ROW(ne), [DT_BOOL] = ne_b},
    [B_LESS] = {ALL_ROW(lt), [DT_BOOL] = lt_b},
    [B_LESS_EQUAL] = {ALL_ROW(le), [DT_BOOL] = le_b},
    [B_GREATER] = {ALL_ROW(gt), [DT_BOOL] = gt_b},
    [B_GREATER_EQUAL] = {ALL_ROW(ge), [DT_BOOL] = ge_b},
    [B_LOGICAL_AND] = {[DT_BOOL] = and_b},
    [B_LOGICAL_OR] = {[DT_BOOL] = or_b},
};

/* float16: the float32 loop on converted chunks (rounding once per op, as NumPy does) */
static void binary_f16(binary_fn fn, int bool_out, void *o, const uint16_t *a, int sa,
                       const uint16_t *b, int sb, int n) {
    float ta[CHUNK], tb[CHUNK], to[CHUNK];
    for (int i = 0; i < n; i += CHUNK) {
        int m = n - i < CHUNK ? n - i : CHUNK;
        for (int j = 0; j < m; j++) {
            ta[j] = f16_to_f32(a[(ptrdiff_t)(i + j) * sa]);
            tb[j] = f16_to_f32(b[(ptrdiff_t)(i + j) * sb]);
        }
        if (bool_out) {
            fn((uint8_t *)o + i, ta, 1, tb, 1, m);
        } else {
            fn(to, ta, 1, tb, 1, m);
            for (int j = 0; j < m; j++) ((uint16_t *)o)[i + j] = f32_to_f16(to[j]);
        }
    }
}

/* Walk an N-d output in C order; the innermost dim is handed to the row function.
 * shape[nd], then one stride row (elements) per input, from the params block. */
typedef struct {
    int nd;
    const int32_t *shape;
    const int32_t *strides[3];
} Walk;

static Walk read_walk(int ninputs) {
    Walk w;
    w.nd = wt_params[0];
    w.shape = wt_params + 1;
    for (int k = 0; k < ninputs; k++) w.strides[k] = wt_params + 1 + (k + 1) * w.nd;
    return w;
}

void *EXPORT(wt_binary)(int op, int dt, const char *a, const char *b, int n, int mode, int inner) {
    if (op < 0 || op >= NBINARY || dt < 0 || dt >= NDT) return (void *)-WT_EARG;
    binary_fn fn = binary_table[op][dt == DT_F16 ? DT_F32 : dt];
    if (!fn) return (void *)-WT_EARG;
    int bool_out = WT_BINARY_BOOL_OUT(op), es = dt_size[dt], oes = bool_out ? 1 : es;
    char *o = wt_malloc((size_t)n * oes);
    if (!o) return 0;
    /* mode 0: same length; 1: b is a scalar; 2: a is a scalar; 3: N-d walk (params);
     * 4: b is one row of `inner` repeated along a; 5: a is the repeated row */
    int sa = mode == 2 ? 0 : 1, sb = mode == 1 ? 0 : 1;
    if (mode >= 4) {
        for (int done = 0; done < n; done += inner) {
            const char *ap = mode == 4 ? a + (size_t)done * es : a, *bp = mode == 5 ? b + (size_t)done * es : b;
            if (dt == DT_F16)
                binary_f16(fn, bool_out, o + (size_t)done * oes, (const uint16_t *)ap, 1, (const uint16_t *)bp, 1, inner);
            else
                fn(o + (size_t)done * oes, ap, 1, bp, 1, inner);
        }
        return o;
    }
    if (mode != 3) {
        if (dt == DT_F16) binary_f16(fn, bool_out, o, (const uint16_t *)a, sa, (const uint16_t *)b, sb, n);
        else fn(o, a, sa, b, sb, n);
        return o;
    }
    Walk w = read_walk(2);
    int nd = w.nd, row = w.shape[nd - 1], ia = w.strides[0][nd - 1], ib = w.strides[1][nd - 1];
    int32_t idx[MAXDIM] = {0};
    ptrdiff_t offa = 0, offb = 0;
    for (int done = 0; done < n; done += row) {
        if (dt == DT_F16)
            binary_f16(fn, bool_out, o + (size_t)done * oes, (const uint16_t *)a + offa, ia,
                       (const uint16_t *)b + offb, ib, row);
        else
            fn(o + (size_t)done * oes, a + offa * es, ia, b + offb * es, ib, row);
        for (int d = nd - 2; d >= 0; d--) {  /* odometer over the outer dims */
            offa += w.strides[0][d];
            offb += w.strides[1][d];
            if (++idx[d] < w.shape[d]) break;
            offa -= (ptrdiff_t)w.strides[0][d] * w.shape[d];
            offb -= (ptrdiff_t)w.strides[1][d] * w.shape[d];
            idx[d] = 0;
        }
    }
    return o;
}

/* -- where: out = cond ? x : y, three broadcast operands, any element size ------------ */
#define SELECT(T)                                                                       \
    static void select_##T(T *o, const uint8_t *c, int sc, const T *x, int sx, const T *y, \
                           int sy, int n) {                                             \
        if (sc == 1 && sx == 1 && sy == 1)                                              \
            for (int i = 0; i < n; i++) o[i] = c[i] ? x[i] : y[i];                      \
        else                                                                            \
            for (int i = 0; i < n; i++)                                                 \
                o[i] = c[(ptrdiff_t)i * sc] ? x[(ptrdiff_t)i * sx] : y[(ptrdiff_t)i * sy]; \
    }
SELECT(uint8_t)
SELECT(uint16_t)
SELECT(uint32_t)
SELECT(uint64_t)

static void select_row(int es, char *o, const uint8_t *c, int sc, const char *x, int sx,
                       const char *y, int sy, int n) {
    switch (es) {
        case 1: select_uint8_t((uint8_t *)o, c, sc, (const uint8_t *)x, sx, (const uint8_t *)y, sy, n); break;
        case 2: select_uint16_t((uint16_t *)o, c, sc, (const uint16_t *)x, sx, (const uint16_t *)y, sy, n); break;
        case 4: select_uint32_t((uint32_t *)o, c, sc, (const uint32_t *)x, sx, (const uint32_t *)y, sy, n); break;
        default: select_uint64_t((uint64_t *)o, c, sc, (const uint64_t *)x, sx, (const uint64_t *)y, sy, n);
    }
}

void *EXPORT(wt_where)(int es, const uint8_t *c, const char *x, const char *y, int n) {
    char *o = wt_malloc((size_t)n * es);
    if (!o) return 0;
    Walk w = read_walk(3);
    int nd = w.nd, inner = w.shape[nd - 1];
    int32_t idx[MAXDIM] = {0};
    ptrdiff_t off[3] = {0, 0, 0};
    for (int done = 0; done < n; done += inner) {
        select_row(es, o + (size_t)done * es, c + off[0], w.strides[0][nd - 1], x + off[1] * es,
                   w.strides[1][nd - 1], y + off[2] * es, w.strides[2][nd - 1], inner);
        for (int d = nd - 2; d >= 0; d--) {
            for (int k = 0; k < 3; k++) off[k] += w.strides[k][d];
            if (++idx[d] < w.shape[d]) break;
            for (int k = 0; k < 3; k++) off[k] -= (ptrdiff_t)w.strides[k][d] * w.shape[d];
            idx[d] = 0;
        }
    }
    return o;
}

/* -- fused elementwise programs (function/passes.py) ----------------------------------
 * One call runs a whole chain of unary/binary/where/cast ops, BLK elements at a time:
 * each instruction's value for the block is a register (a pointer and an element
 * stride: a contiguous or scalar input is read in place, other loads are gathered into
 * a scratch block), and each op is the same row function the unfused kernels use, so
 * results are bit-identical to running the ops one by one. float16 is not fused (the
 * host falls back to the op sequence, which rounds after every op).
 * params: [0] instructions, [1] n, [2] inputs, [3..] input addresses, then FUSED_WORDS
 * words per instruction: kind, op, dtype, a0, a1, a2, nd, dims[4], strides[4]. */
/* F_* (the order of base.PROGRAM_KINDS) are in codes.h. */
#define FUSED_WORDS 15
/* FUSED_MAX, the most instructions of a program, is backends/wasm/__init__.py FUSED_MAX (codes.h). */
#define BLK 256

void cast_into(int src, int dst, void *o, const void *x, int n);

static char fused_regs[FUSED_MAX][BLK * 8];

typedef struct {
    const char *p;
    int stride; /* elements: 1 contiguous, 0 broadcast scalar */
} Reg;

static void gather(char *dst, const char *src, int es, const int32_t *ins, size_t start, int m) {
    int nd = ins[6];
    const int32_t *dims = ins + 7, *st = ins + 11;
    int32_t idx[4];
    size_t r = start;
    ptrdiff_t off = 0;
    for (int d = nd - 1; d >= 0; d--) {
        idx[d] = (int32_t)(r % (size_t)dims[d]);
        r /= (size_t)dims[d];
        off += (ptrdiff_t)idx[d] * st[d];
    }
    for (int j = 0; j < m; j++) {
        memcpy(dst + (size_t)j * es, src + off * es, es);
        for (int d = nd - 1; d >= 0; d--) {  /* odometer */
            off += st[d];
            if (++idx[d] < dims[d]) break;
            off -= (ptrdiff_t)st[d] * dims[d];
            idx[d] = 0;
        }
    }
}

/* a register as a contiguous block (unary and cast rows take no stride) */
static const char *dense(Reg r, int es, char *scratch, int m) {
    if (r.stride == 1) return r.p;
    for (int j = 0; j < m; j++) memcpy(scratch + (size_t)j * es, r.p + (ptrdiff_t)j * r.stride * es, es);
    return scratch;
}

/* pp: the program's params (see above); anchor: when not null, input 0's address (a
 * matmul product the program finishes, a GEMM epilogue) */
static void *fused_run(const int32_t *pp, const char *anchor, char *given) {
    int ni = pp[0], n = pp[1], nin = pp[2];
    const int32_t *prog = pp + 3 + nin;
    if (ni < 1 || ni > FUSED_MAX) return (void *)-WT_EARG;
    for (int j = 0; j < ni; j++) {  /* validate once, before any work */
        const int32_t *ins = prog + j * FUSED_WORDS;
        int kind = ins[0], op = ins[1], dt = ins[2];
        if (dt < 0 || dt >= NDT || dt == DT_F16 || kind < 0 || kind >= NPROGRAM_KINDS) return (void *)-WT_EARG;
        if (kind == F_LOAD && (ins[3] < 0 || ins[3] >= nin || ins[6] < 1 || ins[6] > 4)) return (void *)-WT_EARG;
        if (kind != F_LOAD && (ins[3] < 0 || ins[3] >= j)) return (void *)-WT_EARG;
        int adt = kind == F_LOAD ? dt : prog[ins[3] * FUSED_WORDS + 2];
        if (kind == F_UNARY && (op < 0 || op >= NUNARY || !unary_table[op][adt])) return (void *)-WT_EARG;
        if (kind == F_BINARY && (op < 0 || op >= NBINARY || !binary_table[op][adt])) return (void *)-WT_EARG;
        if (kind == F_CAST && (adt == DT_F16)) return (void *)-WT_EARG;
    }
    int odt = prog[(ni - 1) * FUSED_WORDS + 2], oes = dt_size[odt];
    char *out = given ? given : wt_malloc((size_t)n * oes);
    if (!out) return 0;
    static char scratch[3][BLK * 8];
    Reg regs[FUSED_MAX];
    for (size_t b = 0; b < (size_t)n; b += BLK) {
        int m = (size_t)n - b < BLK ? (int)((size_t)n - b) : BLK;
        for (int j = 0; j < ni; j++) {
            const int32_t *ins = prog + j * FUSED_WORDS;
            int kind = ins[0], dt = ins[2], es = dt_size[dt];
            char *dst = j == ni - 1 ? out + b * oes : fused_regs[j];
            if (kind == F_LOAD) {
                const char *src = anchor && ins[3] == 0 ? anchor : (const char *)(uintptr_t)pp[3 + ins[3]];
                if (ins[6] == 1 && (ins[11] == 0 || ins[11] == 1)) {
                    regs[j] = (Reg){src + (ptrdiff_t)b * ins[11] * es, ins[11]};
                    continue;
                }
                gather(dst, src, es, ins, b, m);
                regs[j] = (Reg){dst, 1};
                continue;
            }
            Reg a = regs[ins[3]];
            int adt = prog[ins[3] * FUSED_WORDS + 2], aes = dt_size[adt];
            if (kind == F_UNARY) {
                unary_table[ins[1]][adt](dst, dense(a, aes, scratch[0], m), m);
            } else if (kind == F_CAST) {
                cast_into(adt, dt, dst, dense(a, aes, scratch[0], m), m);
            } else if (kind == F_BINARY) {
                Reg c = regs[ins[4]];
                binary_table[ins[1]][adt](dst, a.p, a.stride, c.p, c.stride, m);
            } else {  /* F_WHERE */
                Reg x = regs[ins[4]], y = regs[ins[5]];
                select_row(es, dst, (const uint8_t *)a.p, a.stride, x.p, x.stride, y.p, y.stride, m);
            }
            regs[j] = (Reg){dst, 1};
        }
    }
    return out;
}

void *EXPORT(wt_fused)(void) { return fused_run(wt_params, 0, 0); }

/* wt_fused writing into dst: an input that dies here, read element for element (each
 * block is read before the last instruction writes it) */
void *EXPORT(wt_fused_into)(char *dst) { return fused_run(wt_params, 0, dst); }

void *wt_matmul(int dt, const char *a, const char *b);

/* matmul (its params at wt_params[0..8]) and then a fused program (at wt_params + 16)
 * over the product, in one call; the product's block is freed */
void *EXPORT(wt_matmul_fused)(int dt, const char *a, const char *b) {
    char *y = wt_matmul(dt, a, b);
    if ((intptr_t)y <= 0) return y;
    void *o = fused_run(wt_params + 16, y, 0);
    wt_free(y);
    return o;
}

/* Independent fused programs in one call: params [0] count, [1..count] each program's
 * block offset (in words, a block as wt_fused reads it). Returns the first output; the
 * others' addresses go to params[0..count-2]. On failure every output made is freed. */
void *EXPORT(wt_fused_many)(void) {
    int count = wt_params[0];
    if (count < 1 || count > 64) return (void *)-WT_EARG;
    void *outs[64];
    int offs[64];
    for (int s = 0; s < count; s++) offs[s] = wt_params[1 + s];
    for (int s = 0; s < count; s++) {
        outs[s] = fused_run(wt_params + offs[s], 0, 0);
        if ((intptr_t)outs[s] <= 0) {
            void *r = outs[s];
            for (int t = 0; t < s; t++) wt_free(outs[t]);
            return r;
        }
    }
    for (int s = 1; s < count; s++) wt_params[s - 1] = (int32_t)(uintptr_t)outs[s];
    return outs[0];
}
