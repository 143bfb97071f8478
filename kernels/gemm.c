/* Matrix multiply: C[M,N] (+)= A[M,K] B[K,N] with arbitrary row/column strides, so
 * transposed operands, batch slices, convolution groups and im2col buffers all feed
 * one routine.
 *
 * float32 is the BLIS design: B is packed into KC x NR panels (kept in L1), A into
 * MC x KC blocks of MR-row panels (L2), and a 4x8 register-blocked SIMD128 micro-
 * kernel does the arithmetic. Other dtypes use a plain row-times-panel loop: they are for float64
 * gradient checks and integer matmuls, not for speed.
 */
#include "webtensor.h"

#define MR 4
#define NR 8
#define KC 256
#define MC 128
#define NC 2048

/* C tile (MR x NR) = or += A panel (kc x MR) times B panel (kc x NR). 4x8 keeps the 8
 * accumulators, 2 B vectors and the A broadcast within 16 registers: larger tiles
 * spill in V8, and load32_splat measured faster than broadcasting lanes by shuffles. */
static void micro_4x8(int kc, const float *a, const float *b, float *c, int ldc, int acc) {
    v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
    v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int k = 0; k < kc; k++, a += MR, b += NR) {
        v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4), av;
        av = wasm_v128_load32_splat(a);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(av, b0));
        c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(av, b1));
        av = wasm_v128_load32_splat(a + 1);
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(av, b0));
        c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(av, b1));
        av = wasm_v128_load32_splat(a + 2);
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(av, b0));
        c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(av, b1));
        av = wasm_v128_load32_splat(a + 3);
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(av, b0));
        c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(av, b1));
    }
#define ROW(r, x0, x1)                                                                  \
    if (acc) {                                                                          \
        x0 = wasm_f32x4_add(x0, wasm_v128_load(c + r * ldc));                           \
        x1 = wasm_f32x4_add(x1, wasm_v128_load(c + r * ldc + 4));                       \
    }                                                                                   \
    wasm_v128_store(c + r * ldc, x0);                                                   \
    wasm_v128_store(c + r * ldc + 4, x1);
    ROW(0, c00, c01) ROW(1, c10, c11) ROW(2, c20, c21) ROW(3, c30, c31)
#undef ROW
}

static void pack_a(int mc, int kc, const float *a, int rsa, int csa, float *ap) {
    for (int i = 0; i < mc; i += MR, ap += MR * kc) {
        int mr = mc - i < MR ? mc - i : MR;
        const float *ai = a + (ptrdiff_t)i * rsa;
        if (mr == MR && csa == 1) {
            for (int k = 0; k < kc; k++)
                for (int r = 0; r < MR; r++) ap[k * MR + r] = ai[(ptrdiff_t)r * rsa + k];
        } else {
            for (int k = 0; k < kc; k++)
                for (int r = 0; r < MR; r++)
                    ap[k * MR + r] = r < mr ? ai[(ptrdiff_t)r * rsa + (ptrdiff_t)k * csa] : 0.0f;
        }
    }
}

static void pack_b(int kc, int nc, const float *b, int rsb, int csb, float *bp) {
    for (int j = 0; j < nc; j += NR, bp += NR * kc) {
        int nr = nc - j < NR ? nc - j : NR;
        const float *bj = b + (ptrdiff_t)j * csb;
        if (nr == NR && csb == 1) {
            for (int k = 0; k < kc; k++) {
                wasm_v128_store(bp + k * NR, wasm_v128_load(bj + (ptrdiff_t)k * rsb));
                wasm_v128_store(bp + k * NR + 4, wasm_v128_load(bj + (ptrdiff_t)k * rsb + 4));
            }
        } else {
            for (int k = 0; k < kc; k++)
                for (int c = 0; c < NR; c++)
                    bp[k * NR + c] = c < nr ? bj[(ptrdiff_t)k * rsb + (ptrdiff_t)c * csb] : 0.0f;
        }
    }
}

static float pack_buf_a[MC * KC] __attribute__((aligned(16)));

static int gemm_f32(int m, int n, int k, const float *a, int rsa, int csa, const float *b, int rsb,
                    int csb, float *c, int ldc, int accumulate) {
    if (k == 0) {
        if (!accumulate)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = 0;
        return WT_OK;
    }
    int ncap = n < NC ? n : NC;
    float *bp = wt_malloc((size_t)KC * ((ncap + NR - 1) / NR * NR) * 4);
    if (!bp) return WT_ENOMEM;
    float tile[MR * NR] __attribute__((aligned(16)));
    for (int jc = 0; jc < n; jc += NC) {
        int nc = n - jc < NC ? n - jc : NC;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = k - pc < KC ? k - pc : KC, acc = accumulate || pc > 0;
            pack_b(kc, nc, b + (ptrdiff_t)pc * rsb + (ptrdiff_t)jc * csb, rsb, csb, bp);
            for (int ic = 0; ic < m; ic += MC) {
                int mc = m - ic < MC ? m - ic : MC;
                pack_a(mc, kc, a + (ptrdiff_t)ic * rsa + (ptrdiff_t)pc * csa, rsa, csa, pack_buf_a);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr < NR ? nc - jr : NR;
                    const float *bpan = bp + (size_t)jr * kc;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = mc - ir < MR ? mc - ir : MR;
                        float *cij = c + (size_t)(ic + ir) * ldc + jc + jr;
                        const float *apan = pack_buf_a + (size_t)ir * kc;
                        if (mr == MR && nr == NR) {
                            micro_4x8(kc, apan, bpan, cij, ldc, acc);
                            continue;
                        }
                        micro_4x8(kc, apan, bpan, tile, NR, 0);  /* edge: via a full tile */
                        for (int r = 0; r < mr; r++)
                            for (int q = 0; q < nr; q++)
                                cij[(size_t)r * ldc + q] = acc ? cij[(size_t)r * ldc + q] + tile[r * NR + q] : tile[r * NR + q];
                    }
                }
            }
        }
    }
    wt_free(bp);
    return WT_OK;
}

#define GEMM_SIMPLE(S, T, UT)                                                           \
    static int gemm_##S(int m, int n, int k, const T *a, int rsa, int csa, const T *b, int rsb, \
                        int csb, T *c, int ldc, int accumulate) {                       \
        for (int i = 0; i < m; i++) {                                                   \
            T *ci = c + (size_t)i * ldc;                                                \
            if (!accumulate)                                                            \
                for (int j = 0; j < n; j++) ci[j] = 0;                                  \
            for (int p = 0; p < k; p++) {                                               \
                UT av = (UT)a[(ptrdiff_t)i * rsa + (ptrdiff_t)p * csa];                 \
                const T *bp = b + (ptrdiff_t)p * rsb;                                   \
                if (csb == 1)                                                           \
                    for (int j = 0; j < n; j++) ci[j] = (T)((UT)ci[j] + av * (UT)bp[j]); \
                else                                                                    \
                    for (int j = 0; j < n; j++) ci[j] = (T)((UT)ci[j] + av * (UT)bp[(ptrdiff_t)j * csb]); \
            }                                                                           \
        }                                                                               \
        return WT_OK;                                                                   \
    }
GEMM_SIMPLE(f64, double, double)
GEMM_SIMPLE(i32, int32_t, uint32_t)
GEMM_SIMPLE(i64, int64_t, uint64_t)
GEMM_SIMPLE(u8, uint8_t, uint8_t)
GEMM_SIMPLE(u32, uint32_t, uint32_t)

int gemm(int dt, int m, int n, int k, const void *a, int rsa, int csa, const void *b, int rsb, int csb,
         void *c, int ldc, int accumulate) {
    switch (dt) {
        case DT_F32: return gemm_f32(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate);
        case DT_F64: return gemm_f64(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate);
        case DT_I32: return gemm_i32(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate);
        case DT_I64: return gemm_i64(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate);
        case DT_U8: return gemm_u8(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate);
        case DT_U32: return gemm_u32(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate);
        default: return WT_EARG;
    }
}

/* Batched matmul. params: batch, a's and b's batch strides (elements; 0 broadcasts),
 * M, N, K, transpose_a, transpose_b. Output [batch, M, N], contiguous. */
void *EXPORT(wt_matmul)(int dt, const char *a, const char *b) {
    int batch = wt_params[0], sa = wt_params[1], sb = wt_params[2];
    int m = wt_params[3], n = wt_params[4], k = wt_params[5], ta = wt_params[6], tb = wt_params[7];
    int es = dt_size[dt];
    char *c = wt_malloc((size_t)batch * m * n * es);
    if (!c) return 0;
    int rsa = ta ? 1 : k, csa = ta ? m : 1, rsb = tb ? 1 : n, csb = tb ? k : 1;
    for (int i = 0; i < batch; i++) {
        int st = gemm(dt, m, n, k, a + (size_t)i * sa * es, rsa, csa, b + (size_t)i * sb * es, rsb, csb,
                      c + (size_t)i * m * n * es, n, 0);
        if (st != WT_OK) {
            wt_free(c);
            return st == WT_ENOMEM ? 0 : (void *)-st;
        }
    }
    return c;
}
