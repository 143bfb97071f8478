/* One axis of tf.image.resize for the wasm backend (backends/base.py's LINALG_KERNELS
 * resample_axis): x read as [before, n_in, after], y[b, o, a] = sum_t w[o, t] x[b, idx[o, t], a].
 *
 * The core's composition takes one gather, one multiply and one add per tap (about ten
 * kernel calls and as many passes over memory for a 2-D bilinear resize); this is one
 * pass. The taps are summed in the composition's order (w0 x0, then + w1 x1, ...) in the
 * input's precision, without fused multiply-adds, so the result is the composition's to
 * the last bit. SIMD runs over ``after`` (contiguous: the width times the channels for
 * the height axis); the width axis (after = channels) runs each output pixel's channels
 * as one vector. */
#include "webtensor.h"

/* after >= LANES: per output row, tap by tap over the whole contiguous row (the first tap
 * stores x0 w0, each next one adds xt wt), so the weight's splat is hoisted and the inner
 * loop streams; the row (after values) stays in cache between taps.
 * after < LANES (the width axis with 1-3 channels): one vector per output, loaded at its tap
 * pixel and stored at its output pixel; the lanes past ``after`` spill into the next pixel,
 * which the next output (stored after it) overwrites. Pixels whose vector would reach past
 * either tensor's end take the scalar loop. Bilinear's 2 taps have their own loop over the
 * rows that lie inside (no tap loop, no per-pixel test: 1.5x on the width axis). Every lane
 * computes the same products and sums, in the same order, as the scalar loop. */
#define ROWS(T, LANES, SPLAT, MUL, ADD)                                                    \
    static void rows_##T(T *y, const T *x, const int32_t *idx, const T *w, int before,    \
                         int n_in, int after, int out, int taps) {                        \
        size_t xend = (size_t)before * n_in * after, yend = (size_t)before * out * after; \
        int b0 = 0;                                                                       \
        if (after < LANES && taps == 2) {                                                 \
            for (int b = 0; b < before; b++) {                                            \
                const T *xb = x + (size_t)b * n_in * after;                               \
                T *yb = y + (size_t)b * out * after;                                      \
                int row_ok = (size_t)(b + 1) * n_in * after - after + LANES <= xend &&    \
                             ((size_t)(b + 1) * out - 1) * after + LANES <= yend;          \
                if (!row_ok) break;                                                       \
                for (int o = 0; o < out; o++) {                                           \
                    const int32_t *io = idx + 2 * o;                                      \
                    const T *wo = w + 2 * o;                                              \
                    v128_t p0 = MUL(wasm_v128_load(xb + io[0] * after), SPLAT(wo[0]));   \
                    v128_t p1 = MUL(wasm_v128_load(xb + io[1] * after), SPLAT(wo[1]));   \
                    wasm_v128_store(yb + o * after, ADD(p0, p1));                         \
                }                                                                         \
                b0 = b + 1;                                                               \
            }                                                                             \
        }                                                                                 \
        for (int b = b0; b < before; b++) {                                               \
            const T *xb = x + (size_t)b * n_in * after;                                   \
            /* every pixel of this row's vectors stays inside both tensors */             \
            int row_ok = (size_t)(b + 1) * n_in * after - after + LANES <= xend &&        \
                         ((size_t)(b + 1) * out - 1) * after + LANES <= yend;              \
            for (int o = 0; o < out; o++) {                                               \
                T *yo = y + ((size_t)b * out + o) * after;                                \
                const int32_t *io = idx + (size_t)o * taps;                               \
                const T *wo = w + (size_t)o * taps;                                       \
                if (after < LANES) {                                                      \
                    int ok = row_ok;                                                      \
                    if (!ok) {                                                            \
                        int hi = io[0];                                                   \
                        for (int t = 1; t < taps; t++) hi = io[t] > hi ? io[t] : hi;      \
                        ok = (size_t)(yo - y) + LANES <= yend &&                          \
                             (size_t)(xb - x) + (size_t)hi * after + LANES <= xend;       \
                    }                                                                     \
                    if (ok) {                                                             \
                        v128_t acc = MUL(wasm_v128_load(xb + (size_t)io[0] * after), SPLAT(wo[0])); \
                        for (int t = 1; t < taps; t++)                                    \
                            acc = ADD(acc, MUL(wasm_v128_load(xb + (size_t)io[t] * after), SPLAT(wo[t]))); \
                        wasm_v128_store(yo, acc);                                         \
                        continue;                                                         \
                    }                                                                     \
                    for (int a = 0; a < after; a++) {                                     \
                        T acc = xb[(size_t)io[0] * after + a] * wo[0];                    \
                        for (int t = 1; t < taps; t++) acc = acc + xb[(size_t)io[t] * after + a] * wo[t]; \
                        yo[a] = acc;                                                      \
                    }                                                                     \
                    continue;                                                             \
                }                                                                         \
                int a = 0;                                                                \
                for (; a + 4 * LANES <= after; a += 4 * LANES) {  /* 4 vectors in registers */ \
                    const T *x0 = xb + (size_t)io[0] * after + a;                         \
                    v128_t w0 = SPLAT(wo[0]);                                             \
                    v128_t c0 = MUL(wasm_v128_load(x0), w0);                              \
                    v128_t c1 = MUL(wasm_v128_load(x0 + LANES), w0);                      \
                    v128_t c2 = MUL(wasm_v128_load(x0 + 2 * LANES), w0);                  \
                    v128_t c3 = MUL(wasm_v128_load(x0 + 3 * LANES), w0);                  \
                    for (int t = 1; t < taps; t++) {                                      \
                        const T *xt = xb + (size_t)io[t] * after + a;                     \
                        v128_t wt = SPLAT(wo[t]);                                         \
                        c0 = ADD(c0, MUL(wasm_v128_load(xt), wt));                        \
                        c1 = ADD(c1, MUL(wasm_v128_load(xt + LANES), wt));                \
                        c2 = ADD(c2, MUL(wasm_v128_load(xt + 2 * LANES), wt));            \
                        c3 = ADD(c3, MUL(wasm_v128_load(xt + 3 * LANES), wt));            \
                    }                                                                     \
                    wasm_v128_store(yo + a, c0);                                          \
                    wasm_v128_store(yo + a + LANES, c1);                                  \
                    wasm_v128_store(yo + a + 2 * LANES, c2);                              \
                    wasm_v128_store(yo + a + 3 * LANES, c3);                              \
                }                                                                         \
                for (; a + LANES <= after; a += LANES) {                                  \
                    v128_t c = MUL(wasm_v128_load(xb + (size_t)io[0] * after + a), SPLAT(wo[0])); \
                    for (int t = 1; t < taps; t++)                                        \
                        c = ADD(c, MUL(wasm_v128_load(xb + (size_t)io[t] * after + a), SPLAT(wo[t]))); \
                    wasm_v128_store(yo + a, c);                                           \
                }                                                                         \
                for (; a < after; a++) {                                                  \
                    T c = xb[(size_t)io[0] * after + a] * wo[0];                          \
                    for (int t = 1; t < taps; t++) c = c + xb[(size_t)io[t] * after + a] * wo[t]; \
                    yo[a] = c;                                                            \
                }                                                                         \
            }                                                                             \
        }                                                                                 \
    }

ROWS(float, 4, wasm_f32x4_splat, wasm_f32x4_mul, wasm_f32x4_add)
ROWS(double, 2, wasm_f64x2_splat, wasm_f64x2_mul, wasm_f64x2_add)

/* x [before, n_in, after] (float32 or float64), idx int32 [out, taps] in [0, n_in), w [out,
 * taps] of x's dtype -> a new y [before, out, after]. -WT_EINDEX (wt_err_value: the index)
 * when an index is out of range, -WT_EARG for another dtype or taps < 1. */
void *EXPORT(wt_resample)(int dt, const void *x, const int32_t *idx, const void *w, int before, int n_in,
                          int after, int out, int taps) {
    if ((dt != DT_F32 && dt != DT_F64) || taps < 1) return (void *)-WT_EARG;
    for (int i = 0; i < out * taps; i++)
        if (idx[i] < 0 || idx[i] >= n_in) {
            wt_err_value = idx[i];
            return (void *)-WT_EINDEX;
        }
    void *y = wt_malloc((size_t)before * out * after * dt_size[dt] + 1);
    if (!y) return 0;
    if (dt == DT_F64)
        rows_double(y, x, idx, w, before, n_in, after, out, taps);
    else
        rows_float(y, x, idx, w, before, n_in, after, out, taps);
    return y;
}
