/* Small dense linear algebra for the wasm backend's LINALG_KERNELS (backends/base.py):
 * batched Cholesky and LU-with-partial-pivoting solve, float32 and float64, one call per
 * batch instead of the O(n) primitive kernels of the core's composition. Row-major
 * [batch, n, n] matrices; every inner loop walks a contiguous row, so clang vectorizes it.
 * float32 dot products of the Cholesky accumulate in double (fewer rounding steps than
 * spotrf's, within its error bound). */
#include "webtensor.h"

/* L of each matrix from its lower triangle (upper triangle of L zero). A pivot that is not
 * > 0 (not positive definite, or NaN) sets params[0] = 1, as potrf's info; L is then undefined. */
#define CHOL(T, ACC, SQRT)                                                              \
    for (int m = 0; m < batch; m++) {                                                   \
        const T *x = (const T *)a + (size_t)m * n * n;                                  \
        T *l = (T *)out + (size_t)m * n * n;                                            \
        for (int j = 0; j < n; j++) {                                                   \
            T *lj = l + (size_t)j * n;                                                  \
            ACC d = x[(size_t)j * n + j];                                               \
            for (int k = 0; k < j; k++) d -= (ACC)lj[k] * lj[k];                        \
            if (!(d > 0)) { failed = 1; d = 0; }                                        \
            T djj = (T)SQRT(d);                                                         \
            lj[j] = djj;                                                                \
            for (int k = j + 1; k < n; k++) lj[k] = 0;                                  \
            for (int i = j + 1; i < n; i++) {                                           \
                T *li = l + (size_t)i * n;                                              \
                ACC s = x[(size_t)i * n + j];                                           \
                for (int k = 0; k < j; k++) s -= (ACC)li[k] * lj[k];                    \
                li[j] = (T)(s / djj);                                                   \
            }                                                                           \
        }                                                                               \
    }

void *EXPORT(wt_cholesky)(int dt, const void *a, int batch, int n) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    size_t bytes = (size_t)batch * n * n * dt_size[dt];
    void *out = wt_malloc(bytes ? bytes : 1);
    if (!out) return 0;
    int failed = 0;
    if (dt == DT_F32) CHOL(float, double, __builtin_sqrt)
    else CHOL(double, double, __builtin_sqrt)
    wt_params[0] = failed;
    return out;
}

/* x = a^-1 b for a [batch, n, n], b [batch, n, k] by LU with partial pivoting (getrf's
 * choice: the first row of largest |pivot|). An exactly zero pivot makes that matrix
 * singular: its x is NaN, its sign 0 and log|det| -inf, and params[0] = 1. With det, the
 * sign of det a and log|det a| ([batch] each) go to params[1..2]. */
#define LU(T, ABS)                                                                      \
    for (int m = 0; m < batch; m++) {                                                   \
        T *w = (T *)work, *x = (T *)xo + (size_t)m * n * k;                             \
        memcpy(w, (const T *)a + (size_t)m * n * n, (size_t)n * n * sizeof(T));         \
        memcpy(x, (const T *)b + (size_t)m * n * k, (size_t)n * k * sizeof(T));         \
        T sign = 1;                                                                     \
        double logabs = 0;                                                              \
        int bad = 0;                                                                    \
        for (int c = 0; c < n && !bad; c++) {                                           \
            int p = c;                                                                  \
            T best = ABS(w[(size_t)c * n + c]);                                         \
            for (int i = c + 1; i < n; i++)                                             \
                if (ABS(w[(size_t)i * n + c]) > best) { best = ABS(w[(size_t)i * n + c]); p = i; } \
            if (w[(size_t)p * n + c] == 0) { bad = 1; break; }                         \
            if (p != c) {                                                               \
                sign = -sign;                                                           \
                for (int j = 0; j < n; j++) {                                           \
                    T t = w[(size_t)c * n + j]; w[(size_t)c * n + j] = w[(size_t)p * n + j]; w[(size_t)p * n + j] = t; \
                }                                                                       \
                for (int j = 0; j < k; j++) {                                           \
                    T t = x[(size_t)c * k + j]; x[(size_t)c * k + j] = x[(size_t)p * k + j]; x[(size_t)p * k + j] = t; \
                }                                                                       \
            }                                                                           \
            T *wc = w + (size_t)c * n, *xc = x + (size_t)c * k, piv = wc[c];            \
            if (piv < 0) sign = -sign;                                                  \
            logabs += wt_log((double)ABS(piv));                                         \
            for (int i = c + 1; i < n; i++) {                                           \
                T *wi = w + (size_t)i * n, *xi = x + (size_t)i * k, f = wi[c] / piv;    \
                if (f == 0) continue;                                                   \
                for (int j = c + 1; j < n; j++) wi[j] -= f * wc[j];                     \
                for (int j = 0; j < k; j++) xi[j] -= f * xc[j];                         \
            }                                                                           \
        }                                                                               \
        if (bad) {                                                                      \
            singular = 1;                                                               \
            for (size_t j = 0; j < (size_t)n * k; j++) x[j] = (T)__builtin_nan("");     \
            sign = 0;                                                                   \
            logabs = -__builtin_inf();                                                  \
        } else {                                                                        \
            for (int i = n - 1; i >= 0; i--) {                                          \
                T *wi = w + (size_t)i * n, *xi = x + (size_t)i * k;                     \
                for (int r = i + 1; r < n; r++) {                                       \
                    T f = wi[r], *xr = x + (size_t)r * k;                               \
                    for (int j = 0; j < k; j++) xi[j] -= f * xr[j];                     \
                }                                                                       \
                T inv = wi[i];                                                          \
                for (int j = 0; j < k; j++) xi[j] /= inv;                               \
            }                                                                           \
        }                                                                               \
        if (det) {                                                                      \
            ((T *)so)[m] = sign;                                                        \
            ((T *)lo)[m] = (T)logabs;                                                   \
        }                                                                               \
    }

INLINE float absf(float v) { return __builtin_fabsf(v); }
INLINE double absd(double v) { return __builtin_fabs(v); }

void *EXPORT(wt_lu_solve)(int dt, const void *a, const void *b, int batch, int n, int k, int det) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    size_t es = dt_size[dt], xbytes = (size_t)batch * n * k * es, dbytes = (size_t)batch * es;
    char *xo = wt_malloc(xbytes ? xbytes : 1), *work = wt_malloc((size_t)n * n * es + 1);
    char *so = det ? wt_malloc(dbytes + 1) : 0, *lo = det ? wt_malloc(dbytes + 1) : 0;
    if (!xo || !work || (det && (!so || !lo))) {
        wt_free(xo);
        wt_free(work);
        wt_free(so);
        wt_free(lo);
        return 0;
    }
    int singular = 0;
    if (dt == DT_F32) LU(float, absf)
    else LU(double, absd)
    wt_free(work);
    wt_params[0] = singular;
    wt_params[1] = (int32_t)(uintptr_t)so;
    wt_params[2] = (int32_t)(uintptr_t)lo;
    return xo;
}
