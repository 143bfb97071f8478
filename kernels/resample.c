/* One axis of tf.image.resize for the wasm backend (backends/base.py's LINALG_KERNELS
 * resample_axis): x read as [before, n_in, after], y[b, o, a] = sum_t w[o, t] x[b, idx[o, t], a].
 *
 * The core's composition takes one gather, one multiply and one add per tap (about ten
 * kernel calls and as many passes over memory for a 2-D bilinear resize); this is one
 * pass. The taps are summed in the composition's order (w0 x0, then + w1 x1, ...) in the
 * input's precision, without fused multiply-adds, so the result is the composition's to
 * the last bit. SIMD runs over ``after`` (contiguous: the width times the channels for
 * the height axis); the width axis (after = channels) runs 4 outputs' channels at once
 * when channels are few. */
#include "webtensor.h"

#define ROWS(T, VT, LANES, LOAD_SPLAT, MUL, ADD)                                           \
    static void rows_##T(T *y, const T *x, const int32_t *idx, const T *w, int before,    \
                         int n_in, int after, int out, int taps) {                        \
        for (int b = 0; b < before; b++) {                                                \
            const T *xb = x + (size_t)b * n_in * after;                                   \
            for (int o = 0; o < out; o++) {                                               \
                T *yo = y + ((size_t)b * out + o) * after;                                \
                const int32_t *io = idx + (size_t)o * taps;                               \
                const T *wo = w + (size_t)o * taps;                                       \
                int a = 0;                                                                \
                for (; a + LANES <= after; a += LANES) {                                  \
                    VT acc = MUL(wasm_v128_load(xb + (size_t)io[0] * after + a), LOAD_SPLAT(wo[0])); \
                    for (int t = 1; t < taps; t++)                                        \
                        acc = ADD(acc, MUL(wasm_v128_load(xb + (size_t)io[t] * after + a), \
                                           LOAD_SPLAT(wo[t])));                           \
                    wasm_v128_store(yo + a, acc);                                         \
                }                                                                         \
                for (; a < after; a++) {                                                  \
                    T acc = xb[(size_t)io[0] * after + a] * wo[0];                        \
                    for (int t = 1; t < taps; t++) acc = acc + xb[(size_t)io[t] * after + a] * wo[t]; \
                    yo[a] = acc;                                                          \
                }                                                                         \
            }                                                                             \
        }                                                                                 \
    }

ROWS(float, v128_t, 4, wasm_f32x4_splat, wasm_f32x4_mul, wasm_f32x4_add)
ROWS(double, v128_t, 2, wasm_f64x2_splat, wasm_f64x2_mul, wasm_f64x2_add)

/* float32 with few channels (after < 4): the scalar tail above would do all the work, so
 * output elements o*after .. o*after+3 (spanning outputs) go in one vector, each lane
 * gathering its own tap rows. Same products and sums per element, same order. */
static void narrow_float(float *y, const float *x, const int32_t *idx, const float *w, int before,
                         int n_in, int after, int out, int taps) {
    int row = out * after;  /* output values per b */
    for (int b = 0; b < before; b++) {
        const float *xb = x + (size_t)b * n_in * after;
        float *yb = y + (size_t)b * row;
        int e = 0;
        for (; e + 4 <= row; e += 4) {
            int o0 = e / after, a0 = e - o0 * after;
            int o[4], a[4];
            for (int l = 0; l < 4; l++) {  /* lane l is output element e + l */
                o[l] = o0, a[l] = a0;
                if (++a0 == after) a0 = 0, o0++;
            }
            v128_t acc = wasm_f32x4_splat(0);
            for (int t = 0; t < taps; t++) {
                const int32_t *i0 = idx + (size_t)o[0] * taps + t, *i1 = idx + (size_t)o[1] * taps + t,
                              *i2 = idx + (size_t)o[2] * taps + t, *i3 = idx + (size_t)o[3] * taps + t;
                v128_t xv = wasm_f32x4_make(xb[(size_t)*i0 * after + a[0]], xb[(size_t)*i1 * after + a[1]],
                                            xb[(size_t)*i2 * after + a[2]], xb[(size_t)*i3 * after + a[3]]);
                v128_t wv = wasm_f32x4_make(w[(size_t)o[0] * taps + t], w[(size_t)o[1] * taps + t],
                                            w[(size_t)o[2] * taps + t], w[(size_t)o[3] * taps + t]);
                v128_t p = wasm_f32x4_mul(xv, wv);
                acc = t ? wasm_f32x4_add(acc, p) : p;
            }
            wasm_v128_store(yb + e, acc);
        }
        for (; e < row; e++) {
            int o = e / after, a = e - o * after;
            const int32_t *io = idx + (size_t)o * taps;
            const float *wo = w + (size_t)o * taps;
            float acc = xb[(size_t)io[0] * after + a] * wo[0];
            for (int t = 1; t < taps; t++) acc = acc + xb[(size_t)io[t] * after + a] * wo[t];
            yb[e] = acc;
        }
    }
}

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
    else if (after < 4)
        narrow_float(y, x, idx, w, before, n_in, after, out, taps);
    else
        rows_float(y, x, idx, w, before, n_in, after, out, taps);
    return y;
}
