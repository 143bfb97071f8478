/* 2-D convolution (NHWC activations, HWIO filters) and pooling, forward and backward.
 *
 * Convolutions are GEMMs over im2col rows built a chunk at a time (so memory stays
 * bounded): forward  out[m, g]    = col[m, :] @ w[:, g]
 *           input    col[m, :]    = dy[m, g] @ w[:, g]^T, then col2im adds into dx
 *           filter   dw[:, g]    += col^T @ dy[m, g]
 * where m runs over output pixels and g over the output channels of one group.
 * params: N H W C  KH KW O  sh sw  pt pl  dh dw  OH OW  groups
 */
#include "webtensor.h"

typedef struct {
    int n, h, w, c, kh, kw, o, sh, sw, pt, pl, dh, dw, oh, ow, groups;
    int cg, og, k;  /* channels per group in and out, K = KH*KW*cg */
} Conv;

static Conv read_conv(void) {
    const int32_t *p = wt_params;
    Conv v = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15], 0, 0, 0};
    v.cg = v.c / v.groups;
    v.og = v.o / v.groups;
    v.k = v.kh * v.kw * v.cg;
    return v;
}

/* rows per im2col chunk: about 1 MiB of columns, at least one row */
static int chunk_rows(const Conv *v, int es) {
    int rows = (1 << 20) / (v->k * es + 1);
    return rows < 1 ? 1 : rows;
}

/* col[r, (i*KW + j)*cg + c] = x[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, g*cg + c] or 0.
 * Segments are one pixel's channels (often a few elements): copied by element type
 * inline, since memory.copy/fill are calls into the engine. */
#define IM2COL(T)                                                                       \
    static void im2col_##T(const Conv *v, const T *x, int g, int m0, int rows, T *col) { \
        for (int r = 0; r < rows; r++) {                                                \
            int m = m0 + r, ow = m % v->ow, oh = (m / v->ow) % v->oh, n = m / (v->ow * v->oh); \
            T *dst = col + (size_t)r * v->k;                                            \
            for (int i = 0; i < v->kh; i++) {                                           \
                int ih = oh * v->sh - v->pt + i * v->dh;                                \
                for (int j = 0; j < v->kw; j++, dst += v->cg) {                         \
                    int iw = ow * v->sw - v->pl + j * v->dw;                            \
                    if (ih < 0 || ih >= v->h || iw < 0 || iw >= v->w) {                 \
                        for (int c = 0; c < v->cg; c++) dst[c] = 0;                     \
                    } else {                                                            \
                        const T *src = x + (((size_t)n * v->h + ih) * v->w + iw) * v->c + (size_t)g * v->cg; \
                        for (int c = 0; c < v->cg; c++) dst[c] = src[c];                \
                    }                                                                   \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }
IM2COL(uint32_t)
IM2COL(uint64_t)

static void im2col(const Conv *v, int es, const char *x, int g, int m0, int rows, char *col) {
    if (es == 4) im2col_uint32_t(v, (const uint32_t *)x, g, m0, rows, (uint32_t *)col);
    else im2col_uint64_t(v, (const uint64_t *)x, g, m0, rows, (uint64_t *)col);
}

#define COL2IM(S, T)                                                                    \
    static void col2im_##S(const Conv *v, const T *col, int g, int m0, int rows, T *dx) { \
        for (int r = 0; r < rows; r++) {                                                \
            int m = m0 + r, ow = m % v->ow, oh = (m / v->ow) % v->oh, n = m / (v->ow * v->oh); \
            const T *src = col + (size_t)r * v->k;                                      \
            for (int i = 0; i < v->kh; i++) {                                           \
                int ih = oh * v->sh - v->pt + i * v->dh;                                \
                for (int j = 0; j < v->kw; j++, src += v->cg) {                         \
                    int iw = ow * v->sw - v->pl + j * v->dw;                            \
                    if (ih < 0 || ih >= v->h || iw < 0 || iw >= v->w) continue;         \
                    T *dst = dx + (((size_t)n * v->h + ih) * v->w + iw) * v->c + (size_t)g * v->cg; \
                    for (int c = 0; c < v->cg; c++) dst[c] += src[c];                   \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }
COL2IM(f32, float)
COL2IM(f64, double)
COL2IM(i32, int32_t)

static int conv_dtype_ok(int dt) { return dt == DT_F32 || dt == DT_F64 || dt == DT_I32; }

static int is_pointwise(const Conv *v) {
    return v->kh == 1 && v->kw == 1 && v->sh == 1 && v->sw == 1 && v->pt == 0 && v->pl == 0 &&
           v->groups == 1 && v->oh == v->h && v->ow == v->w;
}

void *EXPORT(wt_conv2d)(int dt, const char *x, const char *w) {
    if (!conv_dtype_ok(dt)) return (void *)-WT_EARG;
    Conv v = read_conv();
    int es = dt_size[dt], m = v.n * v.oh * v.ow;
    char *out = wt_malloc((size_t)m * v.o * es);
    if (!out) return 0;
    if (is_pointwise(&v)) {
        if (gemm(dt, m, v.o, v.c, x, v.c, 1, w, v.o, 1, out, v.o, 0) != WT_OK) goto oom;
        return out;
    }
    int rows = chunk_rows(&v, es);
    char *col = wt_malloc((size_t)(rows < m ? rows : m) * v.k * es + 16);
    if (!col) goto oom;
    for (int m0 = 0; m0 < m; m0 += rows) {
        int mc = m - m0 < rows ? m - m0 : rows;
        for (int g = 0; g < v.groups; g++) {
            im2col(&v, es, x, g, m0, mc, col);
            int st = gemm(dt, mc, v.og, v.k, col, v.k, 1, w + (size_t)g * v.og * es, v.o, 1,
                          out + ((size_t)m0 * v.o + (size_t)g * v.og) * es, v.o, 0);
            if (st != WT_OK) { wt_free(col); goto oom; }
        }
    }
    wt_free(col);
    return out;
oom:
    wt_free(out);
    return 0;
}

void *EXPORT(wt_conv2d_input_grad)(int dt, const char *dy, const char *w) {
    if (!conv_dtype_ok(dt)) return (void *)-WT_EARG;
    Conv v = read_conv();
    int es = dt_size[dt], m = v.n * v.oh * v.ow;
    size_t nx = (size_t)v.n * v.h * v.w * v.c;
    char *dx = wt_malloc(nx * es);
    if (!dx) return 0;
    if (is_pointwise(&v)) {  /* dx = dy @ w^T */
        if (gemm(dt, m, v.c, v.o, dy, v.o, 1, w, 1, v.o, dx, v.c, 0) != WT_OK) goto oom;
        return dx;
    }
    __builtin_memset(dx, 0, nx * es);
    int rows = chunk_rows(&v, es);
    char *col = wt_malloc((size_t)(rows < m ? rows : m) * v.k * es + 16);
    if (!col) goto oom;
    for (int m0 = 0; m0 < m; m0 += rows) {
        int mc = m - m0 < rows ? m - m0 : rows;
        for (int g = 0; g < v.groups; g++) {
            int st = gemm(dt, mc, v.k, v.og, dy + ((size_t)m0 * v.o + (size_t)g * v.og) * es, v.o, 1,
                          w + (size_t)g * v.og * es, 1, v.o, col, v.k, 0);
            if (st != WT_OK) { wt_free(col); goto oom; }
            if (dt == DT_F32) col2im_f32(&v, (const float *)col, g, m0, mc, (float *)dx);
            else if (dt == DT_F64) col2im_f64(&v, (const double *)col, g, m0, mc, (double *)dx);
            else col2im_i32(&v, (const int32_t *)col, g, m0, mc, (int32_t *)dx);
        }
    }
    wt_free(col);
    return dx;
oom:
    wt_free(dx);
    return 0;
}

void *EXPORT(wt_conv2d_filter_grad)(int dt, const char *x, const char *dy) {
    if (!conv_dtype_ok(dt)) return (void *)-WT_EARG;
    Conv v = read_conv();
    int es = dt_size[dt], m = v.n * v.oh * v.ow;
    size_t nw = (size_t)v.k * v.o;
    char *dw = wt_malloc(nw * es);
    if (!dw) return 0;
    if (is_pointwise(&v)) {  /* dw = x^T @ dy */
        if (gemm(dt, v.c, v.o, m, x, 1, v.c, dy, v.o, 1, dw, v.o, 0) != WT_OK) goto oom;
        return dw;
    }
    __builtin_memset(dw, 0, nw * es);
    int rows = chunk_rows(&v, es);
    char *col = wt_malloc((size_t)(rows < m ? rows : m) * v.k * es + 16);
    if (!col) goto oom;
    for (int m0 = 0; m0 < m; m0 += rows) {
        int mc = m - m0 < rows ? m - m0 : rows;
        for (int g = 0; g < v.groups; g++) {
            im2col(&v, es, x, g, m0, mc, col);
            int st = gemm(dt, v.k, v.og, mc, col, 1, v.k, dy + ((size_t)m0 * v.o + (size_t)g * v.og) * es, v.o, 1,
                          dw + (size_t)g * v.og * es, v.o, 1);
            if (st != WT_OK) { wt_free(col); goto oom; }
        }
    }
    wt_free(col);
    return dw;
oom:
    wt_free(dw);
    return 0;
}

/* -- pooling: params N H W C  KH KW  sh sw  pt pl  OH OW ------------------------------ */
typedef struct { int n, h, w, c, kh, kw, sh, sw, pt, pl, oh, ow; } Pool;

static Pool read_pool(void) {
    const int32_t *p = wt_params;
    Pool v = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]};
    return v;
}

/* window rows [i0, i1) and cols [j0, j1) of output (oh, ow), clipped to the input */
#define WINDOW(v, oh, ow)                                                               \
    int i0 = oh * v.sh - v.pt, j0 = ow * v.sw - v.pl;                                  \
    int i1 = i0 + v.kh < v.h ? i0 + v.kh : v.h, j1 = j0 + v.kw < v.w ? j0 + v.kw : v.w; \
    if (i0 < 0) i0 = 0;                                                                 \
    if (j0 < 0) j0 = 0;

#define POOL(S, T, LOWEST, ACC)                                                         \
    static void pool_##S(int is_max, const Pool v, const T *x, T *o, ACC *acc) {       \
        for (int n = 0; n < v.n; n++)                                                   \
            for (int oh = 0; oh < v.oh; oh++)                                           \
                for (int ow = 0; ow < v.ow; ow++) {                                     \
                    WINDOW(v, oh, ow)                                                   \
                    for (int c = 0; c < v.c; c++) acc[c] = is_max ? (ACC)(LOWEST) : 0;  \
                    for (int i = i0; i < i1; i++)                                       \
                        for (int j = j0; j < j1; j++) {                                 \
                            const T *xp = x + (((size_t)n * v.h + i) * v.w + j) * v.c;   \
                            if (is_max)                                                 \
                                for (int c = 0; c < v.c; c++) {                         \
                                    ACC a = acc[c], b = xp[c];                          \
                                    acc[c] = (a != a || b > a || b != b) ? (a != a ? a : b) : a; \
                                }                                                       \
                            else                                                        \
                                for (int c = 0; c < v.c; c++) acc[c] += xp[c];          \
                        }                                                               \
                    T *op = o + (((size_t)n * v.oh + oh) * v.ow + ow) * v.c;            \
                    ACC cnt = (ACC)((i1 - i0) * (j1 - j0));                             \
                    for (int c = 0; c < v.c; c++) op[c] = (T)(is_max ? acc[c] : acc[c] / cnt); \
                }                                                                       \
    }
POOL(f32, float, -__builtin_inff(), float)
POOL(f64, double, -__builtin_inf(), double)
POOL(i32, int32_t, INT32_MIN, int64_t)
POOL(i64, int64_t, INT64_MIN, int64_t)
POOL(u8, uint8_t, 0, int64_t)
POOL(u32, uint32_t, 0, int64_t)

void *EXPORT(wt_pool2d)(int is_max, int dt, const void *x) {
    Pool v = read_pool();
    if (dt == DT_F16 || dt == DT_BOOL) return (void *)-WT_EARG;
    void *o = wt_malloc((size_t)v.n * v.oh * v.ow * v.c * dt_size[dt]);
    void *acc = wt_malloc((size_t)v.c * 8);
    if (!o || !acc) {
        wt_free(o);
        wt_free(acc);
        return 0;
    }
    switch (dt) {
        case DT_F32: pool_f32(is_max, v, x, o, acc); break;
        case DT_F64: pool_f64(is_max, v, x, o, acc); break;
        case DT_I32: pool_i32(is_max, v, x, o, acc); break;
        case DT_I64: pool_i64(is_max, v, x, o, acc); break;
        case DT_U8: pool_u8(is_max, v, x, o, acc); break;
        default: pool_u32(is_max, v, x, o, acc);
    }
    wt_free(acc);
    return o;
}

/* max: each window's gradient goes to its first maximum in row-major order;
 * avg: spread evenly over the window's non-padding elements */
#define POOL_GRAD(S, T)                                                                 \
    static void pool_grad_##S(int is_max, const Pool v, const T *x, const T *dy, T *dx) { \
        for (int n = 0; n < v.n; n++)                                                   \
            for (int oh = 0; oh < v.oh; oh++)                                           \
                for (int ow = 0; ow < v.ow; ow++) {                                     \
                    WINDOW(v, oh, ow)                                                   \
                    const T *g = dy + (((size_t)n * v.oh + oh) * v.ow + ow) * v.c;      \
                    T cnt = (T)((i1 - i0) * (j1 - j0));                                 \
                    for (int c = 0; c < v.c; c++) {                                     \
                        if (!is_max) {                                                  \
                            T share = g[c] / cnt;                                       \
                            for (int i = i0; i < i1; i++)                               \
                                for (int j = j0; j < j1; j++)                           \
                                    dx[(((size_t)n * v.h + i) * v.w + j) * v.c + c] += share; \
                            continue;                                                   \
                        }                                                               \
                        size_t best = 0;                                                \
                        int found = 0;                                                  \
                        T bv = 0;                                                       \
                        for (int i = i0; i < i1; i++)                                   \
                            for (int j = j0; j < j1; j++) {                             \
                                size_t at = (((size_t)n * v.h + i) * v.w + j) * v.c + c; \
                                T xv = x[at];                                           \
                                if (!found || xv > bv || (xv != xv && bv == bv)) {      \
                                    if (found && bv != bv) continue;                    \
                                    best = at; bv = xv; found = 1;                      \
                                }                                                       \
                            }                                                           \
                        if (found) dx[best] += g[c];                                    \
                    }                                                                   \
                }                                                                       \
    }
POOL_GRAD(f32, float)
POOL_GRAD(f64, double)
POOL_GRAD(i32, int32_t)
POOL_GRAD(i64, int64_t)
POOL_GRAD(u8, uint8_t)
POOL_GRAD(u32, uint32_t)

void *EXPORT(wt_pool2d_grad)(int is_max, int dt, const void *x, const void *dy) {
    Pool v = read_pool();
    size_t nx = (size_t)v.n * v.h * v.w * v.c;
    void *dx = wt_malloc(nx * dt_size[dt]);
    if (!dx) return 0;
    __builtin_memset(dx, 0, nx * dt_size[dt]);
    switch (dt) {
        case DT_F32: pool_grad_f32(is_max, v, x, dy, dx); break;
        case DT_F64: pool_grad_f64(is_max, v, x, dy, dx); break;
        case DT_I32: pool_grad_i32(is_max, v, x, dy, dx); break;
        case DT_I64: pool_grad_i64(is_max, v, x, dy, dx); break;
        case DT_U8: pool_grad_u8(is_max, v, x, dy, dx); break;
        case DT_U32: pool_grad_u32(is_max, v, x, dy, dx); break;
        default: wt_free(dx); return (void *)-WT_EARG;
    }
    return dx;
}
