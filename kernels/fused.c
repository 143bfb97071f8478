/* Fused kernels (the backend's ``fused`` set): one call where the core would run
 * several ops. Each computes the same formula as the composition in ops/nn.py:
 *   softmax              exp(x - max) / sum(exp(x - max))        along any axis
 *   sparse_softmax_xent  loss = logsumexp(x) - x[label], backprop = softmax(x) - onehot
 *   bias_act             act(x + bias), bias along the last dim, act linear/relu/sigmoid/tanh
 *   adam_update          one Adam step for a variable and its two slots
 */
#include "webtensor.h"

#define FMAX(a, v) ((a != a || v != v) ? a + v : (v > a ? v : a))

/* o[k] = exp(x[k] - m) for a contiguous float32 row */
static void exp_shift_f32(float *o, const float *x, float m, int r) {
    v128_t vm = wasm_f32x4_splat(m);
    int k = 0;
    for (; k + 4 <= r; k += 4) wasm_v128_store(o + k, v_exp(wasm_f32x4_sub(wasm_v128_load(x + k), vm)));
    if (k < r) {
        float t[4] = {0, 0, 0, 0};
        for (int j = 0; k + j < r; j++) t[j] = x[k + j] - m;
        wasm_v128_store(t, v_exp(wasm_v128_load(t)));
        for (int j = 0; k + j < r; j++) o[k + j] = t[j];
    }
}

static float row_max_f32(const float *x, int r) {
    float m = -__builtin_inff();
    for (int k = 0; k < r; k++) m = FMAX(m, x[k]);
    return m;
}

static float exp1_f32(float x) {
    float t[4] = {x, 0, 0, 0};
    return wasm_f32x4_extract_lane(v_exp(wasm_v128_load(t)), 0);
}

void *EXPORT(wt_softmax)(int dt, const void *x, int outer, int r, int inner) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    size_t n = (size_t)outer * r * inner;
    void *o = wt_malloc(n * dt_size[dt]);
    if (!o) return 0;
    for (int p = 0; p < outer; p++)
        for (int i = 0; i < inner; i++) {
            size_t base = (size_t)p * r * inner + i;
            if (dt == DT_F32 && inner == 1) {
                float *op = (float *)o + base;
                const float *xp = (const float *)x + base;
                exp_shift_f32(op, xp, row_max_f32(xp, r), r);
                float s = sum_row_f32(op, r);
                for (int k = 0; k < r; k++) op[k] /= s;
            } else if (dt == DT_F32) {
                const float *xp = (const float *)x + base;
                float *op = (float *)o + base, m = -__builtin_inff();
                double s = 0;
                for (int k = 0; k < r; k++) m = FMAX(m, xp[(size_t)k * inner]);
                for (int k = 0; k < r; k++) s += op[(size_t)k * inner] = exp1_f32(xp[(size_t)k * inner] - m);
                for (int k = 0; k < r; k++) op[(size_t)k * inner] /= (float)s;
            } else {
                const double *xp = (const double *)x + base;
                double *op = (double *)o + base, m = -__builtin_inf(), s = 0;
                for (int k = 0; k < r; k++) m = FMAX(m, xp[(size_t)k * inner]);
                for (int k = 0; k < r; k++) s += op[(size_t)k * inner] = wt_exp(xp[(size_t)k * inner] - m);
                for (int k = 0; k < r; k++) op[(size_t)k * inner] /= s;
            }
        }
    return o;
}

/* Returns the loss [rows]; the backprop [rows, r] is written to *grad_out (params[0]). */
void *EXPORT(wt_sparse_softmax_xent)(int dt, const void *x, const void *labels, int idx64, int rows, int r) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    int es = dt_size[dt];
    char *loss = wt_malloc((size_t)rows * es), *grad = wt_malloc((size_t)rows * r * es);
    if (!loss || !grad) {
        wt_free(loss);
        wt_free(grad);
        return 0;
    }
    for (int p = 0; p < rows; p++) {
        int64_t lab = idx64 ? ((const int64_t *)labels)[p] : ((const int32_t *)labels)[p];
        int ok = lab >= 0 && lab < r;
        if (dt == DT_F32) {
            const float *xp = (const float *)x + (size_t)p * r;
            float *g = (float *)grad + (size_t)p * r, m = row_max_f32(xp, r);
            exp_shift_f32(g, xp, m, r);
            float s = sum_row_f32(g, r), lse = (float)wt_log(s) + m;
            for (int k = 0; k < r; k++) g[k] = g[k] / s - (k == lab);
            ((float *)loss)[p] = ok ? lse - xp[lab] : __builtin_nanf("");
        } else {
            const double *xp = (const double *)x + (size_t)p * r;
            double *g = (double *)grad + (size_t)p * r, m = -__builtin_inf(), s = 0;
            for (int k = 0; k < r; k++) m = FMAX(m, xp[k]);
            for (int k = 0; k < r; k++) s += g[k] = wt_exp(xp[k] - m);
            double lse = wt_log(s) + m;
            for (int k = 0; k < r; k++) g[k] = g[k] / s - (k == lab);
            ((double *)loss)[p] = ok ? lse - xp[lab] : __builtin_nan("");
        }
    }
    wt_params[0] = (int32_t)(uintptr_t)grad;
    return loss;
}

/* ACT_* (the order of base.BIAS_ACTIVATIONS) are in codes.h. */

void *EXPORT(wt_bias_act)(int dt, const void *x, const void *bias, int rows, int cols, int act) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    char *o = wt_malloc((size_t)rows * cols * dt_size[dt]);
    if (!o) return 0;
    for (int p = 0; p < rows; p++) {
        if (dt == DT_F32) {
            const float *xp = (const float *)x + (size_t)p * cols, *b = bias;
            float *op = (float *)o + (size_t)p * cols;
            for (int k = 0; k < cols; k++) op[k] = xp[k] + b[k];
            if (act == ACT_RELU) {
                for (int k = 0; k < cols; k++) op[k] = FMAX(op[k], 0.0f);
            } else if (act != ACT_LINEAR) {
                int k = 0;
                for (; k + 4 <= cols; k += 4) {
                    v128_t v = wasm_v128_load(op + k);
                    wasm_v128_store(op + k, act == ACT_SIGMOID ? v_sigmoid(v) : v_tanh(v));
                }
                for (; k < cols; k++) {
                    float t[4] = {op[k], 0, 0, 0};
                    v128_t v = wasm_v128_load(t);
                    op[k] = wasm_f32x4_extract_lane(act == ACT_SIGMOID ? v_sigmoid(v) : v_tanh(v), 0);
                }
            }
        } else {
            const double *xp = (const double *)x + (size_t)p * cols, *b = bias;
            double *op = (double *)o + (size_t)p * cols;
            for (int k = 0; k < cols; k++) {
                double v = xp[k] + b[k];
                if (act == ACT_RELU) v = FMAX(v, 0.0);
                else if (act == ACT_SIGMOID) {
                    double e = wt_exp(-__builtin_fabs(v)), q = 1.0 / (1.0 + e);
                    v = v >= 0 ? q : e * q;
                } else if (act == ACT_TANH) v = wt_tanh(v);
                op[k] = v;
            }
        }
    }
    return o;
}

/* Adam (Keras 3's form, the composition in keras/optimizers/adam.py), in the same order
 * of float operations so the result is identical to the unfused ops:
 *   m' = m + (g - m) c1,  v' = v + (g g - v) c2,  w' = w - m' alpha / (sqrt(v') + eps)
 * params (f64): alpha, c1, c2, eps. Returns w'; m' and v' addresses go to params[0..1]. */
#define ADAM(T, SQRT)                                                                   \
    for (int i = 0; i < n; i++) {                                                       \
        T gi = ((const T *)g)[i], mi = ((const T *)m)[i], vi = ((const T *)v)[i];      \
        T m1 = mi + (gi - mi) * (T)c1, v1 = vi + (gi * gi - vi) * (T)c2;                \
        ((T *)mo)[i] = m1;                                                              \
        ((T *)vo)[i] = v1;                                                              \
        ((T *)wo)[i] = ((const T *)w)[i] - m1 * (T)alpha / (SQRT(v1) + (T)eps);         \
    }

void *EXPORT(wt_adam_update)(int dt, const void *w, const void *m, const void *v, const void *g, int n) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    double alpha, c1, c2, eps;
    __builtin_memcpy(&alpha, wt_params, 8);
    __builtin_memcpy(&c1, wt_params + 2, 8);
    __builtin_memcpy(&c2, wt_params + 4, 8);
    __builtin_memcpy(&eps, wt_params + 6, 8);
    size_t bytes = (size_t)n * dt_size[dt];
    char *wo = wt_malloc(bytes), *mo = wt_malloc(bytes), *vo = wt_malloc(bytes);
    if (!wo || !mo || !vo) {
        wt_free(wo);
        wt_free(mo);
        wt_free(vo);
        return 0;
    }
    if (dt == DT_F32) ADAM(float, __builtin_sqrtf)
    else ADAM(double, __builtin_sqrt)
    wt_params[0] = (int32_t)(uintptr_t)mo;
    wt_params[1] = (int32_t)(uintptr_t)vo;
    return wo;
}
