/* Dense decompositions for the wasm backend's LINALG_KERNELS (backends/base.py): batched
 * Householder QR, cyclic Jacobi eigh and one-sided (Hestenes) Jacobi SVD, float32 and
 * float64, one call per batch where the core's composition takes hundreds of kernels.
 *
 * Every matrix is worked on in double (float32 inputs too: Jacobi's stopping test is then
 * taken at float32's epsilon, so float32 costs no more sweeps than it needs). The work
 * arrays hold the vectors a loop walks as contiguous rows (a matrix's columns for QR and
 * SVD, eigenvector rows for eigh), so the inner loops are unit-stride f64x2 code. */
#include "webtensor.h"

/* Size: the O(n^3) loops (HOT) stay out of line and at -O3; the load/store and bookkeeping
 * around them (COLD, O(n^2)) are built for size. That keeps this file's share of the
 * module (shipped to every page) at about 8 KB instead of 23 KB (4 KB gzipped, not 9);
 * the timings of both builds were alike within this loaded machine's noise. */
#define HOT __attribute__((noinline))
#define COLD __attribute__((minsize))

static double ld(int dt, const void *p, size_t i) {
    return dt == DT_F32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static void st(int dt, void *p, size_t i, double v) {
    if (dt == DT_F32) ((float *)p)[i] = (float)v;
    else ((double *)p)[i] = v;
}

INLINE double fabs_(double v) { return __builtin_fabs(v); }
INLINE double sqrt_(double v) { return __builtin_sqrt(v); }

HOT static double dot(const double *x, const double *y, int n) {
    v128_t a0 = wasm_f64x2_splat(0), a1 = a0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
        a1 = wasm_f64x2_add(a1, wasm_f64x2_mul(wasm_v128_load(x + i + 2), wasm_v128_load(y + i + 2)));
    }
    a0 = wasm_f64x2_add(a0, a1);
    double s = wasm_f64x2_extract_lane(a0, 0) + wasm_f64x2_extract_lane(a0, 1);
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}

/* (x . x, y . y, x . y) in one pass: the three sums of a one-sided Jacobi pair. */
HOT static void dot3(const double *x, const double *y, int n, double *xx, double *yy, double *xy) {
    v128_t a = wasm_f64x2_splat(0), b = a, c = a;
    int i = 0;
    for (; i + 2 <= n; i += 2) {
        v128_t u = wasm_v128_load(x + i), v = wasm_v128_load(y + i);
        a = wasm_f64x2_add(a, wasm_f64x2_mul(u, u));
        b = wasm_f64x2_add(b, wasm_f64x2_mul(v, v));
        c = wasm_f64x2_add(c, wasm_f64x2_mul(u, v));
    }
    double sa = wasm_f64x2_extract_lane(a, 0) + wasm_f64x2_extract_lane(a, 1);
    double sb = wasm_f64x2_extract_lane(b, 0) + wasm_f64x2_extract_lane(b, 1);
    double sc = wasm_f64x2_extract_lane(c, 0) + wasm_f64x2_extract_lane(c, 1);
    for (; i < n; i++) {
        sa += x[i] * x[i];
        sb += y[i] * y[i];
        sc += x[i] * y[i];
    }
    *xx = sa, *yy = sb, *xy = sc;
}

HOT static void axpy(double *y, double a, const double *x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

/* (x, y) <- (c x - s y, s x + c y): columns p, q of M J for J_pp = J_qq = c, J_pq = s. */
HOT static void rot(double *x, double *y, int n, double c, double s) {
    for (int i = 0; i < n; i++) {
        double u = x[i], v = y[i];
        x[i] = c * u - s * v;
        y[i] = s * u + c * v;
    }
}

/* Scale x (n values) by the power of two that brings its largest |entry| into [1, 2), and
 * return that factor. Exact (no rounding), it keeps squared norms and products of float64
 * inputs far from overflow and underflow (entries near 1e+-154 and beyond). An all-zero x
 * is left alone (factor 1); one holding a NaN or an infinity too, and the factor is 0. */
static double normalize(double *x, size_t n) {
    double top = 0;
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        double v = fabs_(x[i]);
        finite &= v <= 1.7976931348623157e308;
        top = v > top ? v : top;
    }
    if (!finite) return 0;
    if (!(top > 0)) return 1;
    uint64_t bits;
    __builtin_memcpy(&bits, &top, 8);
    int field = 2046 - (int)(bits >> 52); /* 2^(1023 - e), e the biased exponent of top */
    field = field < 1 ? 1 : field > 2046 ? 2046 : field;
    bits = (uint64_t)field << 52;
    double f;
    __builtin_memcpy(&f, &bits, 8);
    for (size_t i = 0; i < n; i++) x[i] *= f;
    return f;
}

/* t of the Jacobi rotation that zeroes the (p, q) entry of a 2x2 symmetric [[app, apq],
 * [apq, aqq]] (Golub & Van Loan's symmetric Schur step, the smaller angle). */
static double jacobi_t(double app, double aqq, double apq) {
    double theta = (aqq - app) / (2 * apq);
    if (fabs_(theta) > 1e150) return 0.5 / theta; /* theta^2 would overflow */
    double t = 1 / (fabs_(theta) + sqrt_(theta * theta + 1));
    return theta >= 0 ? t : -t;
}

/* -- QR --------------------------------------------------------------------------------- */

/* Householder QR in place on t, the n columns of an m x n matrix as rows of length m. After
 * it, t[j][i] for i <= j is R's (i, j) entry and t[k][k+1:] holds reflector k's v below its
 * implied leading 1, with tau[k]. LAPACK's geqrf/larfg choices: beta = -sign(alpha) * norm,
 * and no reflection (tau 0, R_kk keeps its sign) when the column is already reduced. */
HOT static void householder(double *t, int m, int n, double *tau) {
    int p = m < n ? m : n;
    for (int k = 0; k < p; k++) {
        double *x = t + (size_t)k * m;
        double alpha = x[k], tail = dot(x + k + 1, x + k + 1, m - k - 1);
        tau[k] = 0;
        if (!(tail > 0)) continue;
        double norm = sqrt_(alpha * alpha + tail), beta = alpha >= 0 ? -norm : norm;
        double scale = 1 / (alpha - beta);
        for (int i = k + 1; i < m; i++) x[i] *= scale;
        tau[k] = (beta - alpha) / beta;
        x[k] = beta;
        for (int j = k + 1; j < n; j++) { /* column j -= tau v (v . column j) */
            double *y = t + (size_t)j * m;
            double w = tau[k] * (y[k] + dot(x + k + 1, y + k + 1, m - k - 1));
            y[k] -= w;
            axpy(y + k + 1, -w, x + k + 1, m - k - 1);
        }
    }
}

/* q (m x m, row-major) = H_0 H_1 ... H_{p-1}, accumulated backwards as orgqr does: H_k
 * touches rows and columns k.. only, since the product after it is I in its first k. */
HOT static void form_q(const double *t, const double *tau, int m, int p, double *q, double *w) {
    memset(q, 0, (size_t)m * m * sizeof(double));
    for (int i = 0; i < m; i++) q[(size_t)i * m + i] = 1;
    for (int k = p - 1; k >= 0; k--) {
        if (tau[k] == 0) continue;
        const double *v = t + (size_t)k * m; /* v[k] = 1 implied, v[k+1:] stored */
        int len = m - k;
        memcpy(w, q + (size_t)k * m + k, len * sizeof(double)); /* w = v^T q[k:, k:] */
        for (int i = k + 1; i < m; i++) axpy(w, v[i], q + (size_t)i * m + k, len);
        axpy(q + (size_t)k * m + k, -tau[k], w, len);
        for (int i = k + 1; i < m; i++) axpy(q + (size_t)i * m + k, -tau[k] * v[i], w, len);
    }
}

/* q [batch, m, m] and r [batch, m, n] (params[0]) with a = q r. */
COLD void *EXPORT(wt_qr)(int dt, const void *a, int batch, int m, int n) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    size_t es = dt_size[dt], mm = (size_t)m * m, mn = (size_t)m * n;
    int p = m < n ? m : n;
    char *qo = wt_malloc(batch * mm * es + 1), *ro = wt_malloc(batch * mn * es + 1);
    double *t = wt_malloc((mn + mm + m + p) * sizeof(double) + 8);
    if (!qo || !ro || !t) {
        wt_free(qo);
        wt_free(ro);
        wt_free(t);
        return 0;
    }
    double *q = t + mn, *w = q + mm, *tau = w + m;
    for (int b = 0; b < batch; b++) {
        const char *x = (const char *)a + b * mn * es;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) t[(size_t)j * m + i] = ld(dt, x, (size_t)i * n + j);
        double f = normalize(t, mn); /* R scales with a, Q does not; NaN propagates as in geqrf */
        f = f ? 1 / f : 1;
        householder(t, m, n, tau);
        form_q(t, tau, m, p, q, w);
        char *qb = qo + b * mm * es, *rb = ro + b * mn * es;
        for (size_t i = 0; i < mm; i++) st(dt, qb, i, q[i]);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) st(dt, rb, (size_t)i * n + j, i <= j ? f * t[(size_t)j * m + i] : 0);
    }
    wt_free(t);
    wt_params[0] = (int32_t)(uintptr_t)ro;
    return qo;
}

/* -- sorting ---------------------------------------------------------------------------- */

/* idx = the stable order of v (ascending, or descending with desc): insertion sort, as
 * n is small and the Jacobi values arrive nearly sorted. */
static void order(const double *v, int n, int desc, int *idx) {
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && (desc ? v[idx[j - 1]] < v[i] : v[idx[j - 1]] > v[i])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
}

/* +1 or -1 making the vector's largest-magnitude entry (the first of ties, as read in the
 * output dtype) positive: the core's sign convention for eigen and singular vectors
 * (ops/decompositions.py _column_signs), applied here so the op needs no further kernels. */
static double sign_of(int dt, const double *x, size_t stride, int n) {
    double best = -1, at = 0;
    for (int i = 0; i < n; i++) {
        double v = dt == DT_F32 ? (double)(float)x[i * stride] : x[i * stride];
        if (fabs_(v) > best) best = fabs_(v), at = v;
    }
    return at < 0 ? -1 : 1;
}

/* count NaNs at element off of p: the outputs of a matrix holding a NaN or an infinity,
 * which has no meaningful decomposition (Jacobi's tests are false on NaN, so it would stop
 * with some entries plausible and others not). */
static void nan_out(int dt, void *p, size_t off, size_t count) {
    for (size_t i = 0; i < count; i++) st(dt, p, off + i, __builtin_nan(""));
}

#define MAX_SWEEPS 60

INLINE double dt_eps(int dt) { return dt == DT_F32 ? 0x1p-23 : 0x1p-52; }

/* -- eigh: cyclic Jacobi ---------------------------------------------------------------- */

/* Diagonalise the symmetric s (n x n) in place; vt's rows (when given) gather the
 * rotations, so they end as the eigenvectors. A pair is skipped once |s_pq| <= eps *
 * sqrt(|s_pp s_qq|) (it no longer moves either value beyond rounding); a sweep that
 * rotates nothing ends it. */
HOT static void jacobi_eigh(double *s, double *vt, int n, double eps) {
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
        int rotated = 0;
        for (int p = 0; p < n - 1; p++) {
            for (int q = p + 1; q < n; q++) {
                double *sp = s + (size_t)p * n, *sq = s + (size_t)q * n;
                double apq = sp[q], app = sp[p], aqq = sq[q];
                if (!(fabs_(apq) > eps * sqrt_(fabs_(app * aqq))) || !(fabs_(apq) > 1e-300)) continue;
                rotated = 1;
                double t = jacobi_t(app, aqq, apq), c = 1 / sqrt_(t * t + 1), sn = t * c;
                rot(sp, sq, n, c, sn); /* rows p, q of J^T s */
                sp[p] = app - t * apq;
                sq[q] = aqq + t * apq;
                sp[q] = sq[p] = 0;
                for (int k = 0; k < n; k++) { /* the columns, by symmetry */
                    s[(size_t)k * n + p] = sp[k];
                    s[(size_t)k * n + q] = sq[k];
                }
                if (vt) rot(vt + (size_t)p * n, vt + (size_t)q * n, n, c, sn);
            }
        }
        if (!rotated) break;
    }
}

/* e [batch, n] ascending and, with vectors, v [batch, n, n] (params[0]), its columns the
 * eigenvectors in the sign convention, of the symmetric matrix whose lower triangle is a's. */
COLD void *EXPORT(wt_eigh)(int dt, const void *a, int batch, int n, int vectors) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    size_t es = dt_size[dt], nn = (size_t)n * n;
    char *eo = wt_malloc(batch * (size_t)n * es + 1), *vo = vectors ? wt_malloc(batch * nn * es + 1) : 0;
    double *s = wt_malloc((2 * nn + n) * sizeof(double) + 8);
    int *idx = wt_malloc((size_t)n * sizeof(int) + 4);
    if (!eo || (vectors && !vo) || !s || !idx) {
        wt_free(eo);
        wt_free(vo);
        wt_free(s);
        wt_free(idx);
        return 0;
    }
    double *vt = s + nn, *d = vt + nn;
    for (int b = 0; b < batch; b++) {
        const char *x = (const char *)a + b * nn * es;
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                s[(size_t)i * n + j] = s[(size_t)j * n + i] = ld(dt, x, (size_t)i * n + j);
        if (vectors) {
            memset(vt, 0, nn * sizeof(double));
            for (int i = 0; i < n; i++) vt[(size_t)i * n + i] = 1;
        }
        double f = normalize(s, nn);
        if (f == 0) {
            nan_out(dt, eo, (size_t)b * n, n);
            if (vectors) nan_out(dt, vo, b * nn, nn);
            continue;
        }
        f = 1 / f;
        jacobi_eigh(s, vectors ? vt : 0, n, dt_eps(dt));
        for (int i = 0; i < n; i++) d[i] = f * s[(size_t)i * n + i];
        order(d, n, 0, idx);
        for (int i = 0; i < n; i++) st(dt, eo, (size_t)b * n + i, d[idx[i]]);
        if (!vectors) continue;
        for (int j = 0; j < n; j++) d[j] = sign_of(dt, vt + (size_t)idx[j] * n, 1, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) st(dt, vo, b * nn + (size_t)i * n + j, d[j] * vt[(size_t)idx[j] * n + i]);
    }
    wt_free(s);
    wt_free(idx);
    wt_params[0] = (int32_t)(uintptr_t)vo;
    return eo;
}

/* -- svd: one-sided Jacobi -------------------------------------------------------------- */

/* Orthogonalise the k rows (length l >= k) of w in place by plane rotations; vt's rows
 * (k x k, when given) gather them. A pair counts as orthogonal once its cosine is at most
 * l * eps; a sweep that rotates nothing ends it. */
HOT static void jacobi_svd(double *w, double *vt, int k, int l, double eps) {
    double tol = eps * (l > 1 ? l : 1);
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
        int rotated = 0;
        for (int p = 0; p < k - 1; p++) {
            for (int q = p + 1; q < k; q++) {
                double *wp = w + (size_t)p * l, *wq = w + (size_t)q * l, alpha, beta, gamma;
                dot3(wp, wq, l, &alpha, &beta, &gamma);
                if (!(fabs_(gamma) > tol * sqrt_(alpha) * sqrt_(beta)) || !(fabs_(gamma) > 1e-300)) continue;
                rotated = 1;
                double t = jacobi_t(alpha, beta, gamma), c = 1 / sqrt_(t * t + 1), sn = t * c;
                rot(wp, wq, l, c, sn);
                if (vt) rot(vt + (size_t)p * k, vt + (size_t)q * k, k, c, sn);
            }
        }
        if (!rotated) break;
    }
}

/* s [batch, min(m, n)] descending and, with vectors, u [batch, m, m] (params[0]) and
 * v [batch, n, n] (params[1]) with a = u[:, :p] diag(s) v[:, :p]^T. The rows of w are the
 * columns of the tall one of a and a^T; its left vectors past the nonzero singular values
 * are the complement from a Householder QR of those before them. The sign convention is
 * taken on the tall problem's first p left vectors (u's, or v's for wide a), as the core's. */
COLD void *EXPORT(wt_svd)(int dt, const void *a, int batch, int m, int n, int vectors) {
    if (dt != DT_F32 && dt != DT_F64) return (void *)-WT_EARG;
    int tall = m >= n, k = tall ? n : m, l = tall ? m : n;
    size_t es = dt_size[dt], mn = (size_t)m * n, kk = (size_t)k * k, ll = (size_t)l * l;
    char *so = wt_malloc(batch * (size_t)k * es + 1);
    char *uo = vectors ? wt_malloc(batch * (size_t)m * m * es + 1) : 0;
    char *vo = vectors ? wt_malloc(batch * (size_t)n * n * es + 1) : 0;
    double *w = wt_malloc((2 * mn + kk + ll + 3 * (size_t)l) * sizeof(double) + 8);
    int *idx = wt_malloc((size_t)k * sizeof(int) + 4);
    if (!so || (vectors && (!uo || !vo)) || !w || !idx) {
        wt_free(so);
        wt_free(uo);
        wt_free(vo);
        wt_free(w);
        wt_free(idx);
        return 0;
    }
    double *un = w + mn, *vt = un + mn, *q = vt + kk, *sv = q + ll, *tau = sv + l, *scratch = tau + l;
    for (int b = 0; b < batch; b++) {
        const char *x = (const char *)a + b * mn * es;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double v = ld(dt, x, (size_t)i * n + j);
                if (tall) w[(size_t)j * m + i] = v;
                else w[(size_t)i * n + j] = v;
            }
        if (vectors) {
            memset(vt, 0, kk * sizeof(double));
            for (int i = 0; i < k; i++) vt[(size_t)i * k + i] = 1;
        }
        double f = normalize(w, mn);
        if (f == 0) {
            nan_out(dt, so, (size_t)b * k, k);
            if (vectors) nan_out(dt, uo, b * (size_t)m * m, (size_t)m * m);
            if (vectors) nan_out(dt, vo, b * (size_t)n * n, (size_t)n * n);
            continue;
        }
        f = 1 / f;
        jacobi_svd(w, vectors ? vt : 0, k, l, dt_eps(dt));
        for (int i = 0; i < k; i++) sv[i] = sqrt_(dot(w + (size_t)i * l, w + (size_t)i * l, l));
        order(sv, k, 1, idx);
        for (int i = 0; i < k; i++) st(dt, so, (size_t)b * k + i, f * sv[idx[i]]);
        if (!vectors) continue;
        int r = 0; /* the nonzero values come first in idx */
        for (; r < k && sv[idx[r]] > 0; r++) {
            const double *src = w + (size_t)idx[r] * l;
            double inv = 1 / sv[idx[r]];
            for (int i = 0; i < l; i++) un[(size_t)r * l + i] = inv * src[i];
        }
        memcpy(w, un, (size_t)r * l * sizeof(double)); /* a copy: householder overwrites it */
        householder(w, l, r, tau);
        form_q(w, tau, l, r, q, scratch);
        /* big (l x l): the tall problem's left vectors, completed; small (k x k): its right */
        char *big = tall ? uo + b * (size_t)m * m * es : vo + b * (size_t)n * n * es;
        char *small = tall ? vo + b * (size_t)n * n * es : uo + b * (size_t)m * m * es;
        for (int j = 0; j < r; j++) /* the sign convention on the first k left vectors */
            for (int i = 0; i < l; i++) q[(size_t)i * l + j] = un[(size_t)j * l + i];
        for (int j = 0; j < k; j++) tau[j] = sign_of(dt, q + j, l, l);
        for (int i = 0; i < l; i++)
            for (int j = 0; j < l; j++) st(dt, big, (size_t)i * l + j, (j < k ? tau[j] : 1) * q[(size_t)i * l + j]);
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) st(dt, small, (size_t)i * k + j, tau[j] * vt[(size_t)idx[j] * k + i]);
    }
    wt_free(w);
    wt_free(idx);
    wt_params[0] = (int32_t)(uintptr_t)uo;
    wt_params[1] = (int32_t)(uintptr_t)vo;
    return so;
}
