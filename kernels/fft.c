/* The DFT over the last axis for the wasm backend's fft / rfft (backends/base.py's
 * LINALG_KERNELS): iterative radix-2 for power-of-two lengths, Bluestein's chirp z
 * (radix-2 FFTs of length >= 2n - 1) otherwise, so any n is O(n log n). Computed in
 * double for float32 and float64 (one rounding at the store), with twiddles from
 * wt_cos/wt_sin of 2 pi k / n, so they carry no accumulated recurrence error. */
#include "webtensor.h"

#define TWO_PI 6.283185307179586

/* In place radix-2 DFT of (wr, wi), n a power of two; twr/twi hold cos and sin of
 * -2 pi k / n (sin negated for the inverse direction), read at k < n / 2. */
static void fft_pow2(double *wr, double *wi, const double *twr, const double *twi, int n) {
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
}

/* Other lengths by Bluestein's chirp z-transform: X_k = w_k sum_j (x_j w_j) conj(w_{k-j}),
 * w_j = exp(-+i pi j^2 / n), a circular convolution of power-of-two length m >= 2n - 1
 * done with fft_pow2 (forward twiddles of m in twr/twi; the inverse by conjugation).
 * (cr, ci): the chirp; (br, bi): the FFT of conj(w) laid out circularly; (ar, ai): m scratch. */
static void bluestein(double *wr, double *wi, double *ar, double *ai, const double *cr, const double *ci,
                      const double *br, const double *bi, const double *twr, const double *twi, int n, int m) {
    for (int j = 0; j < m; j++) {
        ar[j] = j < n ? wr[j] * cr[j] - wi[j] * ci[j] : 0;
        ai[j] = j < n ? wr[j] * ci[j] + wi[j] * cr[j] : 0;
    }
    fft_pow2(ar, ai, twr, twi, m);
    for (int j = 0; j < m; j++) {  /* times B, conjugated for the inverse transform */
        double r = ar[j] * br[j] - ai[j] * bi[j], i = ar[j] * bi[j] + ai[j] * br[j];
        ar[j] = r;
        ai[j] = -i;
    }
    fft_pow2(ar, ai, twr, twi, m);
    for (int k = 0; k < n; k++) {
        double r = ar[k] / m, i = -ai[k] / m;
        wr[k] = r * cr[k] - i * ci[k];
        wi[k] = r * ci[k] + i * cr[k];
    }
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
    int pow2 = (n & (n - 1)) == 0, m = 1;
    while (!pow2 && m < 2 * n - 1) m <<= 1;
    int tn = pow2 ? n : m;  /* twiddle table length */
    double *w = wt_malloc((size_t)(2 * n + 2 * tn + (pow2 ? 0 : 2 * n + 4 * m)) * sizeof(double) + 1);
    if (!ro || !io || !w) {
        wt_free(ro);
        wt_free(io);
        wt_free(w);
        return 0;
    }
    double *wr = w, *wi = w + n, *twr = w + 2 * n, *twi = twr + tn;
    double *cr = twi + tn, *ci = cr + n, *br = ci + n, *bi = br + m, *ar = bi + m, *ai = ar + m;
    double dir = pow2 && inverse ? 1 : -1;  /* Bluestein's inner FFTs are forward */
    for (int k = 0; k < tn; k++) {
        double t = TWO_PI * k / tn;
        twr[k] = wt_cos(t);
        twi[k] = dir * wt_sin(t);
    }
    if (!pow2) {
        double sgn = inverse ? 1 : -1;
        for (int j = 0; j < n; j++) {  /* j^2 mod 2n keeps the angle exact */
            double t = 3.141592653589793 * (double)(((int64_t)j * j) % (2 * (int64_t)n)) / n;
            cr[j] = wt_cos(t);
            ci[j] = sgn * wt_sin(t);
        }
        for (int j = 0; j < m; j++) {
            int s = j < n ? j : m - j < n ? m - j : -1;
            br[j] = s >= 0 ? cr[s] : 0;
            bi[j] = s >= 0 ? -ci[s] : 0;
        }
        fft_pow2(br, bi, twr, twi, m);
    }
    double scale = inverse && n ? 1.0 / n : 1.0;
    for (int r = 0; r < rows; r++) {
        if (dt == DT_F32) { LOAD(float) } else { LOAD(double) }
        if (pow2) fft_pow2(wr, wi, twr, twi, n);
        else bluestein(wr, wi, ar, ai, cr, ci, br, bi, twr, twi, n, m);
        if (dt == DT_F32) { STORE(float) } else { STORE(double) }
    }
    wt_free(w);
    wt_params[0] = (int32_t)(uintptr_t)io;
    return ro;
}
