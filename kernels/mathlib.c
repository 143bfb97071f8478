/* The math the kernels need, with no libc.
 *
 * Double precision: fdlibm's algorithms (exp, log, sin/cos kernels with Payne-Hanek
 * reduction for large arguments, fmod as in musl),
 * Kahan/Goldberg forms for expm1/log1p, and erf from its series and continued
 * fraction. float32 scalar math rounds these results; the hot float32 functions
 * (exp, log, tanh, sigmoid, erf) also have 4-lane SIMD forms (Cephes polynomials;
 * erf is the shared rational approximation of backends/base.py, in the same order).
 */
#include "webtensor.h"

#define INF __builtin_inf()

INLINE uint64_t bits64(double x) { uint64_t u; __builtin_memcpy(&u, &x, 8); return u; }
INLINE double from64(uint64_t u) { double x; __builtin_memcpy(&x, &u, 8); return x; }
INLINE uint32_t bits32(float x) { uint32_t u; __builtin_memcpy(&u, &x, 4); return u; }

/* -- float16 rounding ------------------------------------------------------------------ */
static uint16_t round_shift32(uint32_t m, uint32_t shift) {
    uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    return (uint16_t)(h + (rem > half || (rem == half && (h & 1))));
}

uint16_t f32_to_f16(float f) {
    uint32_t x = bits32(f), sign = (x >> 16) & 0x8000, ax = x & 0x7fffffff;
    if (ax >= 0x7f800000) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0));
    if (ax >= 0x477ff000) return (uint16_t)(sign | 0x7c00);  /* >= 65520 rounds to inf */
    if (ax < 0x38800000) {                                   /* result subnormal or zero */
        if (ax < 0x33000000) return (uint16_t)sign;
        uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
        return (uint16_t)(sign | round_shift32(m, 126 - e));
    }
    return (uint16_t)(sign | round_shift32(ax - 0x38000000, 13));
}

uint16_t f64_to_f16(double d) {
    uint64_t x = bits64(d), ax = x & 0x7fffffffffffffffull;
    uint32_t sign = (uint32_t)(x >> 48) & 0x8000;
    if (ax >= 0x7ff0000000000000ull) return (uint16_t)(sign | 0x7c00 | (ax > 0x7ff0000000000000ull ? 0x200 : 0));
    if (ax >= 0x40effe0000000000ull) return (uint16_t)(sign | 0x7c00);
    uint64_t m;
    uint32_t shift;
    if (ax < 0x3f10000000000000ull) {
        if (ax < 0x3e60000000000000ull) return (uint16_t)sign;
        m = (ax & 0xfffffffffffffull) | (1ull << 52);
        shift = 1051 - (uint32_t)(ax >> 52);
    } else {
        m = ax - 0x3f00000000000000ull;
        shift = 42;
    }
    uint64_t h = m >> shift, rem = m & ((1ull << shift) - 1), half = 1ull << (shift - 1);
    return (uint16_t)(sign | (h + (rem > half || (rem == half && (h & 1)))));
}

/* -- double precision scalar math -------------------------------------------------------- */
static double scalbn(double y, int n) {
    if (n > 1023) {
        y *= 0x1p1023;
        n -= 1023;
        if (n > 1023) { y *= 0x1p1023; n -= 1023; if (n > 1023) n = 1023; }
    } else if (n < -1022) {
        y *= 0x1p-1022 * 0x1p53;
        n += 1022 - 53;
        if (n < -1022) { y *= 0x1p-1022 * 0x1p53; n += 1022 - 53; if (n < -1022) n = -1022; }
    }
    return y * from64((uint64_t)(0x3ff + n) << 52);
}

static const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10,
                    INV_LN2 = 1.44269504088896338700e+00;

double wt_exp(double x) {
    if (x != x) return x;
    if (x > 709.782712893383973096) return INF;
    if (x < -745.13321910194110842) return 0.0;
    double kf = __builtin_nearbyint(x * INV_LN2);
    int k = (int)kf;
    double hi = x - kf * LN2_HI, lo = kf * LN2_LO, r = hi - lo, r2 = r * r;
    double c = r - r2 * (1.66666666666666019037e-01 + r2 * (-2.77777777770155933842e-03 +
               r2 * (6.61375632143793436117e-05 + r2 * (-1.65339022054652515390e-06 +
               r2 * 4.13813679705723846039e-08))));
    double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    return scalbn(y, k);
}

double wt_log(double x) {
    uint64_t u = bits64(x);
    uint32_t hx = (uint32_t)(u >> 32);
    int k = 0;
    if (hx < 0x00100000 || (hx >> 31)) {
        if ((u << 1) == 0) return -INF;
        if (hx >> 31) return (x - x) / 0.0;
        k -= 54;  /* subnormal: scale up */
        x *= 0x1p54;
        u = bits64(x);
        hx = (uint32_t)(u >> 32);
    } else if (hx >= 0x7ff00000) {
        return x;
    } else if (hx == 0x3ff00000 && (uint32_t)u == 0) {
        return 0.0;
    }
    hx += 0x3ff00000 - 0x3fe6a09e;  /* reduce to [sqrt(2)/2, sqrt(2)] */
    k += (int)(hx >> 20) - 0x3ff;
    hx = (hx & 0x000fffff) + 0x3fe6a09e;
    x = from64(((uint64_t)hx << 32) | (u & 0xffffffff));
    double f = x - 1.0, hfsq = 0.5 * f * f, s = f / (2.0 + f), z = s * s, w = z * z;
    double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    double t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 +
                w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    double dk = k;
    return s * (hfsq + t1 + t2) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
}

double wt_expm1(double x) {
    if (x > 40.0) return wt_exp(x);
    double u = wt_exp(x);
    if (u == 1.0) return x;
    double um1 = u - 1.0;
    if (um1 == -1.0) return -1.0;
    return um1 * x / wt_log(u);
}

double wt_log1p(double x) {
    if (x == INF) return x;
    double u = 1.0 + x;
    if (u == 1.0) return x;
    return wt_log(u) * x / (u - 1.0);
}

/* sin/cos kernels on [-pi/4, pi/4]; y is the tail of the reduced argument */
static double ksin(double x, double y) {
    double z = x * x, w = z * z, v = z * x;
    double r = 8.33333333332248946124e-03 + z * (-1.98412698298579493134e-04 + z * 2.75573137070700676789e-06) +
               z * w * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10);
    return x - ((z * (0.5 * y - v * r) - y) - v * -1.66666666666666324348e-01);
}

static double kcos(double x, double y) {
    double z = x * x, w = z * z;
    double r = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03 + z * 2.48015872894767294178e-05)) +
               w * w * (-2.75573143513906633035e-07 + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11));
    double hz = 0.5 * z, v = 1.0 - hz;
    return v + (((1.0 - v) - hz) + (z * r - x * y));
}

/* 2/pi to 1280 bits (bit 1 is the first after the binary point), for Payne-Hanek */
static const uint32_t TWO_OVER_PI[40] = {
    0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0, 0xdb629599, 0x3c439041, 0xfe5163ab, 0xdebbc561,
    0xb7246e3a, 0x424dd2e0, 0x06492eea, 0x09d1921c, 0xfe1deb1c, 0xb129a73e, 0xe88235f5, 0x2ebb4484,
    0xe99c7026, 0xb45f7e41, 0x3991d639, 0x835339f4, 0x9c845f8b, 0xbdf9283b, 0x1ff897ff, 0xde05980f,
    0xef2f118b, 0x5a0a6d1f, 0x6d367ecf, 0x27cb09b7, 0x4f463f66, 0x9e5fea2d, 0x7527bac7, 0xebe5f17b,
    0x3d0739f7, 0x8a5292ea, 0x6bfb5fb1, 0x1f8d5d08, 0x56033046, 0xfc7b6bab, 0xf0cfbc20, 0x9af4361d};

static uint64_t two_over_pi_bits(int s) {  /* the 64 bits from bit s on */
    int w = (s - 1) >> 5, off = (s - 1) & 31;
    uint64_t hi = ((uint64_t)TWO_OVER_PI[w] << 32) | TWO_OVER_PI[w + 1], lo = TWO_OVER_PI[w + 2];
    return off ? (hi << off) | (lo >> (32 - off)) : hi;
}

static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *lo = (mid << 32) | (uint32_t)p00;
    *hi = a1 * b1 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

static uint64_t bits_at(const uint64_t p[3], int pos) {  /* bits [pos, pos + 64) of p */
    if (pos <= -64) return 0;
    if (pos < 0) return p[0] << -pos;
    int w = pos >> 6, off = pos & 63;
    uint64_t lo = w < 3 ? p[w] : 0, hi = w + 1 < 3 ? p[w + 1] : 0;
    return off ? (lo >> off) | (hi << (64 - off)) : lo;
}

/* Payne-Hanek: x = m 2^e exactly, so x 2/pi mod 4 needs only the 128 bits of 2/pi
 * from bit e - 1 on (earlier bits add multiples of 4). Accurate for every finite x. */
static int rem_pio2_large(double x, double *y0, double *y1) {
    uint64_t u = bits64(x), m = (u & 0xfffffffffffffull) | (1ull << 52), p[3], h0, l0, h1, l1;
    int e = (int)((u >> 52) & 0x7ff) - 1075, s = e - 1 > 1 ? e - 1 : 1;
    mul64(m, two_over_pi_bits(s + 64), &h0, &l0);
    mul64(m, two_over_pi_bits(s), &h1, &l1);
    p[0] = l0;
    p[1] = l1 + h0;
    p[2] = h1 + (p[1] < l1);
    int units = 127 + s - e;  /* bit of p worth 1 in x 2/pi */
    uint64_t f1 = bits_at(p, units - 64), f2 = bits_at(p, units - 128);
    int q = (int)(bits_at(p, units) & 3);
    double hi = (double)(f1 >> 11) * 0x1p-53, mid = (double)(f1 & 0x7ff) * 0x1p-64,
           lo = (double)(f2 >> 11) * 0x1p-117;
    if (hi >= 0.5) {  /* round to the nearest quadrant: r in [-1/2, 1/2) */
        hi -= 1.0;
        q++;
    }
    double rh = hi + mid, rl = (hi - rh) + mid + lo;
    double w = rh * 6.123233995736766e-17 + rl * 1.5707963267948966;
    *y0 = rh * 1.5707963267948966 + w;
    *y1 = (rh * 1.5707963267948966 - *y0) + w;
    if (u >> 63) {
        *y0 = -*y0;
        *y1 = -*y1;
        q = -q;
    }
    return q;
}

/* x = n * pi/2 + (y0 + y1): Cody-Waite in three parts below 2^20 pi/2, Payne-Hanek above */
static int rem_pio2(double x, double *y0, double *y1) {
    if (__builtin_fabs(x) >= 1647099.3291652855) return rem_pio2_large(x, y0, y1);
    double n = __builtin_nearbyint(x * 6.36619772367581382433e-01);
    double r = x - n * 1.57079632673412561417e+00, w = n * 6.07710050650619224932e-11;
    int ex = (int)(bits64(x) >> 52) & 0x7ff;
    double y = r - w;
    if (ex - ((int)(bits64(y) >> 52) & 0x7ff) > 16) {
        double t = r;
        w = n * 6.07710050630396597660e-11;
        r = t - w;
        w = n * 2.02226624879595063154e-21 - ((t - r) - w);
        y = r - w;
        if (ex - ((int)(bits64(y) >> 52) & 0x7ff) > 49) {
            t = r;
            w = n * 2.02226624871116645580e-21;
            r = t - w;
            w = n * 8.47842766036889956997e-32 - ((t - r) - w);
            y = r - w;
        }
    }
    *y0 = y;
    *y1 = (r - y) - w;
    return (int)(int64_t)n;
}

double wt_sin(double x) {
    if (x != x || x == INF || x == -INF) return x - x;
    if (__builtin_fabs(x) < 0.7853981633974483) return ksin(x, 0.0);
    double a, b;
    switch (rem_pio2(x, &a, &b) & 3) {
        case 0: return ksin(a, b);
        case 1: return kcos(a, b);
        case 2: return -ksin(a, b);
        default: return -kcos(a, b);
    }
}

double wt_cos(double x) {
    if (x != x || x == INF || x == -INF) return x - x;
    if (__builtin_fabs(x) < 0.7853981633974483) return kcos(x, 0.0);
    double a, b;
    switch (rem_pio2(x, &a, &b) & 3) {
        case 0: return kcos(a, b);
        case 1: return -ksin(a, b);
        case 2: return -kcos(a, b);
        default: return ksin(a, b);
    }
}

double wt_tan(double x) {
    if (x != x || x == INF || x == -INF) return x - x;
    double a = x, b = 0.0;
    int n = __builtin_fabs(x) < 0.7853981633974483 ? 0 : rem_pio2(x, &a, &b);
    return (n & 1) ? -kcos(a, b) / ksin(a, b) : ksin(a, b) / kcos(a, b);
}

double wt_tanh(double x) {
    double ax = __builtin_fabs(x), z;
    if (x != x) return x;
    if (ax > 22.0) z = 1.0;
    else if (ax >= 1.0) z = 1.0 - 2.0 / (wt_expm1(2.0 * ax) + 2.0);
    else if (ax < 0x1p-28) return x;
    else {
        double t = wt_expm1(-2.0 * ax);
        z = -t / (t + 2.0);
    }
    return x < 0 ? -z : z;
}

/* erf: Taylor series near 0, e^-x^2 times a positive series to 3, erfc's continued
 * fraction beyond; about 1e-15 relative everywhere. */
double wt_erf(double x) {
    double ax = __builtin_fabs(x), r;
    if (x != x) return x;
    if (ax < 0.5) {
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 40; n++) {
            term *= -x2 / n;
            double t = term / (2 * n + 1);
            sum += t;
            if (__builtin_fabs(t) < 1e-17 * __builtin_fabs(sum)) break;
        }
        return 1.1283791670955126 * sum;
    }
    if (ax < 3.0) {
        double x2 = ax * ax, term = ax, sum = ax;
        for (int n = 0; n < 200; n++) {
            term *= 2.0 * x2 / (2 * n + 3);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        r = 1.1283791670955126 * wt_exp(-x2) * sum;
    } else if (ax < 6.0) {
        /* erfc(x) = e^-x^2/sqrt(pi) / (x + 1/2 / (x + 1 / (x + 3/2 / (x + ...)))), backwards */
        double f = ax;
        for (int n = 60; n >= 1; n--) f = ax + (n * 0.5) / f;
        r = 1.0 - 0.5641895835477563 * wt_exp(-ax * ax) / f;
    } else {
        r = 1.0;
    }
    return x < 0 ? -r : r;
}

double wt_fmod(double x, double y) {  /* exact, as musl's fmod */
    uint64_t ux = bits64(x), uy = bits64(y), i;
    int ex = (int)(ux >> 52 & 0x7ff), ey = (int)(uy >> 52 & 0x7ff);
    uint64_t sx = ux >> 63;
    if ((uy << 1) == 0 || y != y || ex == 0x7ff) return (x * y) / (x * y);
    if ((ux << 1) <= (uy << 1)) return (ux << 1) == (uy << 1) ? 0 * x : x;
    if (!ex) { for (i = ux << 12; i >> 63 == 0; ex--, i <<= 1) {} ux <<= -ex + 1; }
    else { ux &= -1ull >> 12; ux |= 1ull << 52; }
    if (!ey) { for (i = uy << 12; i >> 63 == 0; ey--, i <<= 1) {} uy <<= -ey + 1; }
    else { uy &= -1ull >> 12; uy |= 1ull << 52; }
    for (; ex > ey; ex--) {
        i = ux - uy;
        if (i >> 63 == 0) { if (i == 0) return 0 * x; ux = i; }
        ux <<= 1;
    }
    i = ux - uy;
    if (i >> 63 == 0) { if (i == 0) return 0 * x; ux = i; }
    for (; ux >> 52 == 0; ux <<= 1, ex--) {}
    if (ex > 0) { ux -= 1ull << 52; ux |= (uint64_t)ex << 52; }
    else ux >>= -ex + 1;
    return from64(ux | sx << 63);
}

static int is_int(double y) { return __builtin_floor(y) == y; }

static int is_odd_int(double y) {
    return is_int(y) && __builtin_fabs(y) < 0x1p53 && (int64_t)y % 2 != 0;
}

double wt_pow(double x, double y) {  /* C99 special cases; repeated squaring for small integer y */
    if (y == 0.0 || x == 1.0) return 1.0;
    if (x != x || y != y) return x + y;
    double ay = __builtin_fabs(y), ax = __builtin_fabs(x);
    if (ay == INF) {
        if (ax == 1.0) return 1.0;
        return (ax < 1.0) == (y < 0) ? INF : 0.0;
    }
    if (x == 0.0 || ax == INF) {
        double mag = (x == 0.0) == (y < 0) ? INF : 0.0;
        return ((bits64(x) >> 63) && is_odd_int(y)) ? -mag : mag;
    }
    double sign = 1.0;
    if (x < 0) {
        if (!is_int(y)) return (x - x) / (x - x);
        if (is_odd_int(y)) sign = -1.0;
    }
    if (is_int(y) && ay <= 64.0) {
        double r = 1.0, b = ax;
        for (int n = (int)ay; n; n >>= 1, b *= b)
            if (n & 1) r *= b;
        return sign * (y < 0 ? 1.0 / r : r);
    }
    return sign * wt_exp(y * wt_log(ax));
}

/* -- float32 4-lane forms ------------------------------------------------------------- */
#define F4(c) wasm_f32x4_splat(c)

INLINE v128_t pow2i(v128_t n) {  /* 2^n for integer lanes n in [-126, 127] */
    return wasm_i32x4_shl(wasm_i32x4_add(n, wasm_i32x4_splat(127)), 23);
}

v128_t v_exp(v128_t x) {
    x = wasm_f32x4_max(wasm_f32x4_min(x, F4(89.0f)), F4(-104.0f));
    v128_t fx = wasm_f32x4_nearest(wasm_f32x4_mul(x, F4(1.44269504088896341f)));
    x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, F4(0.693359375f)));
    x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, F4(-2.12194440e-4f)));
    v128_t z = wasm_f32x4_mul(x, x);
    v128_t y = F4(1.9875691500e-4f);
    y = wasm_f32x4_add(wasm_f32x4_mul(y, x), F4(1.3981999507e-3f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, x), F4(8.3334519073e-3f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, x), F4(4.1665795894e-2f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, x), F4(1.6666665459e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, x), F4(5.0000001201e-1f));
    y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(y, z), x), F4(1.0f));
    v128_t n = wasm_i32x4_trunc_sat_f32x4(fx);  /* NaN lanes: 0, y stays NaN */
    v128_t n1 = wasm_i32x4_shr(n, 1), n2 = wasm_i32x4_sub(n, n1);
    return wasm_f32x4_mul(wasm_f32x4_mul(y, pow2i(n1)), pow2i(n2));
}

v128_t v_log(v128_t x) {
    v128_t tiny = wasm_f32x4_lt(x, F4(1.17549435e-38f));
    v128_t xs = wasm_v128_bitselect(wasm_f32x4_mul(x, F4(8388608.0f)), x, tiny);
    v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(xs, 23), wasm_i32x4_splat(126));
    e = wasm_i32x4_sub(e, wasm_v128_and(tiny, wasm_i32x4_splat(23)));
    v128_t m = wasm_v128_or(wasm_v128_and(xs, wasm_i32x4_splat(0x807fffff)), wasm_i32x4_splat(0x3f000000));
    v128_t lo = wasm_f32x4_lt(m, F4(0.707106781186547524f));
    v128_t ef = wasm_f32x4_convert_i32x4(wasm_i32x4_add(e, lo));  /* lo lanes are -1 */
    v128_t f = wasm_f32x4_sub(wasm_f32x4_add(m, wasm_v128_and(lo, m)), F4(1.0f));
    v128_t z = wasm_f32x4_mul(f, f);
    v128_t y = F4(7.0376836292e-2f);
    y = wasm_f32x4_add(wasm_f32x4_mul(y, f), F4(-1.1514610310e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, f), F4(1.1676998740e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, f), F4(-1.2420140846e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, f), F4(1.4249322787e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, f), F4(-1.6668057665e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, f), F4(2.0000714765e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, f), F4(-2.4999993993e-1f));
    y = wasm_f32x4_add(wasm_f32x4_mul(y, f), F4(3.3333331174e-1f));
    y = wasm_f32x4_mul(wasm_f32x4_mul(y, f), z);
    y = wasm_f32x4_add(y, wasm_f32x4_mul(ef, F4(-2.12194440e-4f)));
    y = wasm_f32x4_sub(y, wasm_f32x4_mul(z, F4(0.5f)));
    v128_t r = wasm_f32x4_add(wasm_f32x4_add(f, y), wasm_f32x4_mul(ef, F4(0.693359375f)));
    /* special lanes: 0 -> -inf, < 0 or NaN -> NaN, +inf -> +inf */
    r = wasm_v128_bitselect(F4(-__builtin_inff()), r, wasm_f32x4_eq(x, F4(0.0f)));
    r = wasm_v128_bitselect(F4(__builtin_nanf("")), r, wasm_v128_not(wasm_f32x4_ge(x, F4(0.0f))));
    return wasm_v128_bitselect(x, r, wasm_f32x4_eq(x, F4(__builtin_inff())));
}

v128_t v_tanh(v128_t x) {
    v128_t ax = wasm_f32x4_abs(x);
    v128_t z = wasm_f32x4_mul(x, x);
    v128_t p = F4(-5.70498872745e-3f);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, z), F4(2.06390887954e-2f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, z), F4(-5.37397155531e-2f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, z), F4(1.33314422036e-1f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, z), F4(-3.33332819422e-1f));
    v128_t small = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, z), x), x);
    v128_t e = v_exp(wasm_f32x4_add(ax, ax));
    v128_t big = wasm_f32x4_sub(F4(1.0f), wasm_f32x4_div(F4(2.0f), wasm_f32x4_add(e, F4(1.0f))));
    big = wasm_v128_or(big, wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000)));  /* sign of x */
    return wasm_v128_bitselect(small, big, wasm_f32x4_lt(ax, F4(0.625f)));
}

v128_t v_sigmoid(v128_t x) {
    v128_t e = v_exp(wasm_f32x4_neg(wasm_f32x4_abs(x)));
    v128_t r = wasm_f32x4_div(F4(1.0f), wasm_f32x4_add(F4(1.0f), e));
    return wasm_v128_bitselect(r, wasm_f32x4_mul(e, r), wasm_f32x4_ge(x, F4(0.0f)));
}

static const float ERF_NUM[7] = {-2.72614225801306e-10f, 2.77068142495902e-08f, -2.10102402082508e-06f,
                                 -5.69250639462346e-05f, -7.34990630326855e-04f, -2.95459980854025e-03f,
                                 -1.60960333262415e-02f};
static const float ERF_DEN[5] = {-1.45660718464996e-05f, -2.13374055278905e-04f, -1.68282697438203e-03f,
                                 -7.37332916720468e-03f, -1.42647390514189e-02f};

v128_t v_erf(v128_t x) {
    v128_t t = wasm_f32x4_pmax(wasm_f32x4_pmin(x, F4(4.0f)), F4(-4.0f));
    v128_t t2 = wasm_f32x4_mul(t, t), p = F4(0.0f), q = F4(0.0f);
    for (int i = 0; i < 7; i++) p = wasm_f32x4_add(wasm_f32x4_mul(p, t2), F4(ERF_NUM[i]));
    for (int i = 0; i < 5; i++) q = wasm_f32x4_add(wasm_f32x4_mul(q, t2), F4(ERF_DEN[i]));
    return wasm_f32x4_div(wasm_f32x4_mul(t, p), q);
}

float wt_erf_f32(float x) {
    float t = x < -4.0f ? -4.0f : x > 4.0f ? 4.0f : x, t2 = t * t, p = 0.0f, q = 0.0f;
    for (int i = 0; i < 7; i++) p = p * t2 + ERF_NUM[i];
    for (int i = 0; i < 5; i++) q = q * t2 + ERF_DEN[i];
    return t * p / q;
}
