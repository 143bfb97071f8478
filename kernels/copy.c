/* Data movement without arithmetic: one strided N-d copy serves transpose, slice
 * (negative strides too), broadcast_to (stride 0), concat and pad (copies into a
 * region of a larger output); gather and scatter_add work on [outer, n, inner] views.
 */
#include "webtensor.h"

#define ROW_COPY(T)                                                                     \
    static void row_##T(T *d, int ds, const T *s, int ss, int n) {                      \
        if (ss == 0) { T v = s[0]; for (int i = 0; i < n; i++) d[(ptrdiff_t)i * ds] = v; } \
        else for (int i = 0; i < n; i++) d[(ptrdiff_t)i * ds] = s[(ptrdiff_t)i * ss];   \
    }
ROW_COPY(uint8_t)
ROW_COPY(uint16_t)
ROW_COPY(uint32_t)
ROW_COPY(uint64_t)

static void copy_row(int es, char *d, int ds, const char *s, int ss, int n) {
    if (ds == 1 && ss == 1) { __builtin_memcpy(d, s, (size_t)n * es); return; }
    switch (es) {
        case 1: row_uint8_t((uint8_t *)d, ds, (const uint8_t *)s, ss, n); break;
        case 2: row_uint16_t((uint16_t *)d, ds, (const uint16_t *)s, ss, n); break;
        case 4: row_uint32_t((uint32_t *)d, ds, (const uint32_t *)s, ss, n); break;
        default: row_uint64_t((uint64_t *)d, ds, (const uint64_t *)s, ss, n);
    }
}

/* 2-D transpose-like copy in 16x16 tiles so both sides stay in cache */
static void copy_tiled(int es, char *d, int ds0, int ds1, const char *s, int ss0, int ss1, int n0, int n1) {
    for (int i0 = 0; i0 < n0; i0 += 16)
        for (int j0 = 0; j0 < n1; j0 += 16) {
            int i1 = n0 - i0 < 16 ? n0 : i0 + 16, j1 = n1 - j0 < 16 ? n1 : j0 + 16;
            for (int i = i0; i < i1; i++)
                copy_row(es, d + ((ptrdiff_t)i * ds0 + (ptrdiff_t)j0 * ds1) * es, ds1,
                         s + ((ptrdiff_t)i * ss0 + (ptrdiff_t)j0 * ss1) * es, ss1, j1 - j0);
        }
}

/* params: nd, shape[nd], dst strides[nd], src strides[nd] (elements). dst 0: allocate a
 * contiguous output (n elements). Returns dst. */
void *EXPORT(wt_copy)(int es, char *dst, const char *src, int n) {
    if (!dst) {
        dst = wt_malloc((size_t)n * es);
        if (!dst) return 0;
    }
    if (n == 0) return dst;
    int nd = wt_params[0];
    const int32_t *shape = wt_params + 1, *dstr = shape + nd, *sstr = dstr + nd;
    int inner = shape[nd - 1];
    if (nd >= 2 && sstr[nd - 1] != 1 && sstr[nd - 1] != 0 && inner >= 16 && shape[nd - 2] >= 16) {
        int32_t idx[MAXDIM] = {0};
        ptrdiff_t od = 0, os = 0;
        int rows = shape[nd - 2], tiles = n / (rows * inner);
        for (int t = 0; t < tiles; t++) {
            copy_tiled(es, dst + od * es, dstr[nd - 2], dstr[nd - 1], src + os * es, sstr[nd - 2], sstr[nd - 1], rows, inner);
            for (int d = nd - 3; d >= 0; d--) {
                od += dstr[d];
                os += sstr[d];
                if (++idx[d] < shape[d]) break;
                od -= (ptrdiff_t)dstr[d] * shape[d];
                os -= (ptrdiff_t)sstr[d] * shape[d];
                idx[d] = 0;
            }
        }
        return dst;
    }
    int32_t idx[MAXDIM] = {0};
    ptrdiff_t od = 0, os = 0;
    for (int done = 0; done < n; done += inner) {
        copy_row(es, dst + od * es, dstr[nd - 1], src + os * es, sstr[nd - 1], inner);
        for (int d = nd - 2; d >= 0; d--) {
            od += dstr[d];
            os += sstr[d];
            if (++idx[d] < shape[d]) break;
            od -= (ptrdiff_t)dstr[d] * shape[d];
            os -= (ptrdiff_t)sstr[d] * shape[d];
            idx[d] = 0;
        }
    }
    return dst;
}

/* -- gather / scatter_add along the middle axis of [outer, n, inner] ------------------ */
static int check_indices(const void *idx, int idx64, int nidx, int n) {
    for (int j = 0; j < nidx; j++) {
        int64_t v = idx64 ? ((const int64_t *)idx)[j] : ((const int32_t *)idx)[j];
        if (v < 0 || v >= n) {
            wt_err_value = v;
            return 0;
        }
    }
    return 1;
}

INLINE int64_t index_at(const void *idx, int idx64, int j) {
    return idx64 ? ((const int64_t *)idx)[j] : ((const int32_t *)idx)[j];
}

/* params: outer, n, inner, nidx */
void *EXPORT(wt_gather)(int es, const char *x, const void *idx, int idx64) {
    int outer = wt_params[0], n = wt_params[1], inner = wt_params[2], nidx = wt_params[3];
    if (!check_indices(idx, idx64, nidx, n)) return (void *)-WT_EINDEX;
    size_t seg = (size_t)inner * es;
    char *o = wt_malloc((size_t)outer * nidx * seg);
    if (!o) return 0;
    char *op = o;
    for (int p = 0; p < outer; p++) {
        const char *xp = x + (size_t)p * n * seg;
        if (seg == 4)
            for (int j = 0; j < nidx; j++, op += 4) *(uint32_t *)op = *(const uint32_t *)(xp + index_at(idx, idx64, j) * 4);
        else
            for (int j = 0; j < nidx; j++, op += seg) __builtin_memcpy(op, xp + index_at(idx, idx64, j) * seg, seg);
    }
    return o;
}

#define SCATTER(S, T, ADD)                                                              \
    static void scatter_##S(T *o, const void *idx, int idx64, const T *u, int outer, int n, int inner, int nidx) { \
        for (int p = 0; p < outer; p++)                                                 \
            for (int j = 0; j < nidx; j++) {                                            \
                T *dst = o + ((size_t)p * n + (size_t)index_at(idx, idx64, j)) * inner; \
                const T *src = u + ((size_t)p * nidx + j) * inner;                      \
                for (int i = 0; i < inner; i++) { T a = dst[i], b = src[i]; dst[i] = (ADD); } \
            }                                                                           \
    }
SCATTER(f16, uint16_t, f32_to_f16(f16_to_f32(a) + f16_to_f32(b)))
SCATTER(f32, float, a + b)
SCATTER(f64, double, a + b)
SCATTER(i32, int32_t, (int32_t)((uint32_t)a + (uint32_t)b))
SCATTER(i64, int64_t, (int64_t)((uint64_t)a + (uint64_t)b))
SCATTER(u8, uint8_t, a + b)
SCATTER(u32, uint32_t, a + b)
SCATTER(b, uint8_t, a | b)

/* params: outer, n, inner, nidx; out[p, idx[j], :] += updates[p, j, :] over zeros */
void *EXPORT(wt_scatter_add)(int dt, const void *idx, int idx64, const void *u) {
    int outer = wt_params[0], n = wt_params[1], inner = wt_params[2], nidx = wt_params[3];
    if (!check_indices(idx, idx64, nidx, n)) return (void *)-WT_EINDEX;
    size_t bytes = (size_t)outer * n * inner * dt_size[dt];
    void *o = wt_malloc(bytes);
    if (!o) return 0;
    __builtin_memset(o, 0, bytes);
    switch (dt) {
        case DT_F16: scatter_f16(o, idx, idx64, u, outer, n, inner, nidx); break;
        case DT_F32: scatter_f32(o, idx, idx64, u, outer, n, inner, nidx); break;
        case DT_F64: scatter_f64(o, idx, idx64, u, outer, n, inner, nidx); break;
        case DT_I32: scatter_i32(o, idx, idx64, u, outer, n, inner, nidx); break;
        case DT_I64: scatter_i64(o, idx, idx64, u, outer, n, inner, nidx); break;
        case DT_U8: scatter_u8(o, idx, idx64, u, outer, n, inner, nidx); break;
        case DT_U32: scatter_u32(o, idx, idx64, u, outer, n, inner, nidx); break;
        default: scatter_b(o, idx, idx64, u, outer, n, inner, nidx);
    }
    return o;
}
