/* The DFT over the last axis for the wasm backend's fft / rfft (backends/base.py's
 * LINALG_KERNELS): iterative radix-2 for power-of-two lengths, the direct O(n^2) sum
 * otherwise; computed in double for float32 and float64 (one rounding at the store), with
 * twiddles from wt_cos/wt_sin of 2 pi k / n, so they carry no accumulated recurrence error. */
#include "webtensor.h"

#define TWO_PI 6.283185307179586

/* One row in place: (wr, wi) <- DFT (sign -1, or +1 when inverse; no 1/n here). tw holds
 * cos and sin of -2 pi k / n for k < n (sin negated for the inverse). */
static void dft_row(double *wr, double *wi, double *tr, double *ti, const double *twr, const double *twi, int n) {
    if ((n & (n - 1)) == 0) {
        for (int i = 1, j = 0; i < n; i++) {  /* bit-reversal permutation */
            int bit = n >> 1;
            for (; j & bit; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) {
                double t = wr[i]; wr[i] = wr[j]; wr[j] = t;
                t = wi[i]; wi[i] = wi[j]; wi[j] = t;
            }
        }
        for (int len = 2; len <= n; len <<= 1) {
            int half = len >> 1, step = n / len;
            for (int s = 0; s < n; s += len)
                for (int k = 0; k < half; k++) {
                    double cr = twr[k * step], ci = twi[k * step];
                    int p = s + k, q = p + half;
                    double xr = wr[q] * cr - wi[q] * ci, xi = wr[q] * ci + wi[q] * cr;
                    wr[q] = wr[p] - xr; wi[q] = wi[p] - xi;
                    wr[p] += xr; wi[p] += xi;
                }
        }
        return;
    }
    for (int k = 0; k < n; k++) {
        double sr = 0, si = 0;
        for (int j = 0, e = 0; j < n; j++, e = e + k >= n ? e + k - n : e + k) {
            sr += wr[j] * twr[e] - wi[j] * twi[e];
            si += wr[j] * twi[e] + wi[j] * twr[e];
        }
        tr[k] = sr;
        ti[k] = si;
    }
    memcpy(wr, tr, (size_t)n * sizeof(double));
    memcpy(wi, ti, (size_t)n * sizeof(double));
}

#define LOAD(T)                                                                          \
    for (int j = 0; j < n; j++) {                                                        \
        wr[j] = ((const T *)re)[(size_t)r * n + j];                                      \
        wi[j] = im ? ((const T *)im)[(size_t)r * n + j] : 0;                             \
    }
#define STORE(T)                                                                         \
    for (int j = 0; j < nout; j++) {                                                     \
        ((T *)ro)[(size_t)r * nout + j] = (T)(wr[j] * scale);                            \
        ((T *)io)[(size_t)r * nout + j] = (T)(wi[j] * scale);                            \
    }

/* rows of length n from (re, im) (im 0: real input) -> the first nout terms of each row's
 * DFT (the inverse with 1/n when inverse). Returns the real part; the imaginary part's
 * address goes to params[0]. */
void *EXPORT(wt_fft)(int dt, const void *re, const void *im, int rows, int n, int inverse, int nout) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    size_t out = (size_t)rows * nout * dt_size[dt] + 1;
    char *ro = wt_malloc(out), *io = wt_malloc(out);
    double *w = wt_malloc((size_t)6 * n * sizeof(double) + 1);
    if (!ro || !io || !w) {
        wt_free(ro);
        wt_free(io);
        wt_free(w);
        return 0;
    }
    double *wr = w, *wi = w + n, *tr = w + 2 * n, *ti = w + 3 * n, *twr = w + 4 * n, *twi = w + 5 * n;
    for (int k = 0; k < n; k++) {
        double t = TWO_PI * k / n;
        twr[k] = wt_cos(t);
        twi[k] = inverse ? wt_sin(t) : -wt_sin(t);
    }
    double scale = inverse && n ? 1.0 / n : 1.0;
    for (int r = 0; r < rows; r++) {
        if (dt == DT_F32) { LOAD(float) } else { LOAD(double) }
        dft_row(wr, wi, tr, ti, twr, twi, n);
        if (dt == DT_F32) { STORE(float) } else { STORE(double) }
    }
    wt_free(w);
    wt_params[0] = (int32_t)(uintptr_t)io;
    return ro;
}
