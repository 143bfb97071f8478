// Helpers prepended to every kernel: IEEE special values without relying on the
// compiler (WGSL lets implementations assume no NaN/Inf, so NaN tests use bits),
// and float32 math with the accuracy numpy gives (WGSL builtins only promise
// sin/cos on [-pi, pi] and are indeterminate for log/sqrt of x <= 0).

const WG: u32 = 256u;

// Flat invocation index of a 1-D kernel launched on a 2-D grid (the dispatcher spreads
// past maxComputeWorkgroupsPerDimension over y).
fn flat_id(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid.x;
}

// Element kernels loop ("grid-stride"): the dispatcher caps the number of workgroups
// (few on CPU adapters, where each workgroup costs microseconds to start), and every
// invocation handles elements i, i + stride, ...
fn grid_stride(nwg: vec3<u32>) -> u32 {
    return nwg.x * nwg.y * WG;
}

fn bits_f32(b: u32) -> f32 { return bitcast<f32>(b); }
fn f32_inf() -> f32 { return bits_f32(0x7f800000u); }
fn f32_nan() -> f32 { return bits_f32(0x7fc00000u); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }

// NaN-propagating max/min, as numpy's maximum/minimum.
fn fmax_(x: f32, y: f32) -> f32 {
    if (is_nan(x)) { return x; }
    if (is_nan(y)) { return y; }
    return max(x, y);
}
fn fmin_(x: f32, y: f32) -> f32 {
    if (is_nan(x)) { return x; }
    if (is_nan(y)) { return y; }
    return min(x, y);
}

fn sqrt_(x: f32) -> f32 { return select(sqrt(x), f32_nan(), x < 0.0); }

// exp and log as Cephes' expf/logf (about 1 ulp): WGSL only promises 3 + 2|x| ulp for
// exp and an absolute 2^-21 for log near 1, and software adapters take that liberty.
fn exp_(x: f32) -> f32 {
    if (is_nan(x)) { return x; }
    if (x > 88.72284) { return f32_inf(); }
    if (x < -103.97208) { return 0.0; }
    let z = floor(x * 1.44269504 + 0.5);
    let r = (x - z * 0.693359375) + z * 2.12194440e-4;
    let r2 = r * r;
    let y = (((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r
        + 4.1665795894e-2) * r + 1.6666665459e-1) * r + 5.0000001201e-1) * r2 + r + 1.0;
    let k = i32(z);
    // two steps keep each scale factor a normal float
    return ldexp(ldexp(y, k / 2), k - k / 2);
}

fn log_(x0: f32) -> f32 {
    if (x0 < 0.0 || is_nan(x0)) { return f32_nan(); }
    if (x0 == 0.0) { return -f32_inf(); }
    if (!is_finite(x0)) { return x0; }
    let fr = frexp(x0);
    var e = f32(fr.exp);
    var x = fr.fract;
    if (x < 0.70710677) {
        e = e - 1.0;
        x = x + x - 1.0;
    } else {
        x = x - 1.0;
    }
    let z = x * x;
    var y = ((((((((7.0376836292e-2 * x - 1.1514610310e-1) * x + 1.1676998740e-1) * x
        - 1.2420140846e-1) * x + 1.4249322787e-1) * x - 1.6668057665e-1) * x
        + 2.0000714765e-1) * x - 2.4999993993e-1) * x + 3.3333331174e-1) * x * z;
    y = y - 2.12194440e-4 * e;
    y = y - 0.5 * z;
    return (x + y) + 0.693359375 * e;
}

// exp(x) - 1: Taylor series near 0 (no cancellation), exp elsewhere.
fn expm1_(x: f32) -> f32 {
    if (abs(x) < 0.34657359) {
        return x * (1.0 + x * (0.5 + x * (0.16666667 + x * (0.041666668 + x * (0.008333334
            + x * (0.0013888889 + x * (0.0001984127 + x * 0.0000248016)))))));
    }
    return exp_(x) - 1.0;
}

// log(1 + x) = 2 atanh(s), s = x / (2 + x): accurate near 0.
fn log1p_(x: f32) -> f32 {
    if (x > -0.25 && x < 0.5) {
        let s = x / (2.0 + x);
        let s2 = s * s;
        return 2.0 * s * (1.0 + s2 * (0.33333334 + s2 * (0.2 + s2 * (0.14285715 + s2 * (0.11111111
            + s2 * 0.09090909)))));
    }
    return log_(1.0 + x);
}

// sin/cos as Cephes' sinf/cosf: quadrant reduction by pi/2 in three parts, then
// polynomials on [-pi/4, pi/4] (WGSL only bounds the builtins' error on [-pi, pi]).
fn sincos_(x: f32) -> vec2<f32> {
    let j = round(x * 0.63661977);
    let r = ((x - j * 1.5703125) - j * 4.837512969970703125e-4) - j * 7.54978995489188216e-8;
    let z = r * r;
    let s = r + r * z * ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1);
    let c = 1.0 - 0.5 * z + z * z * ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z
        + 4.166664568298827e-2);
    let q = i32(j) & 3;
    var sc = vec2<f32>(s, c);
    if (q == 1) { sc = vec2<f32>(c, -s); }
    if (q == 2) { sc = vec2<f32>(-s, -c); }
    if (q == 3) { sc = vec2<f32>(-c, s); }
    return select(vec2<f32>(f32_nan()), sc, is_finite(x));
}
fn sin_(x: f32) -> f32 { return sincos_(x).x; }
fn cos_(x: f32) -> f32 { return sincos_(x).y; }
fn tan_(x: f32) -> f32 {
    let sc = sincos_(x);
    return sc.x / sc.y;
}

fn tanh_(x: f32) -> f32 {
    if (is_nan(x)) { return x; }
    let a = abs(x);
    if (a > 9.0) { return sign(x); }
    let e = expm1_(2.0 * a);
    return sign(x) * (e / (e + 2.0));
}

fn sigmoid_(x: f32) -> f32 {
    let e = exp_(-abs(x));
    let r = 1.0 / (1.0 + e);
    return select(e * r, r, x >= 0.0);
}

// Eigen's float erf (the coefficients of backends/base.py ERF_F32_*).
fn erf_(x0: f32) -> f32 {
    let x = clamp(x0, -4.0, 4.0);
    let x2 = x * x;
    var p = -2.72614225801306e-10;
    p = p * x2 + 2.77068142495902e-08;
    p = p * x2 - 2.10102402082508e-06;
    p = p * x2 - 5.69250639462346e-05;
    p = p * x2 - 7.34990630326855e-04;
    p = p * x2 - 2.95459980854025e-03;
    p = p * x2 - 1.60960333262415e-02;
    var q = -1.45660718464996e-05;
    q = q * x2 - 2.13374055278905e-04;
    q = q * x2 - 1.68282697438203e-03;
    q = q * x2 - 7.37332916720468e-03;
    q = q * x2 - 1.42647390514189e-02;
    return select(x * p / q, x0, is_nan(x0));
}

// C pow semantics (numpy): negative bases with integral exponents, zeros, infinities.
fn pow_(x: f32, y: f32) -> f32 {
    if (y == 0.0) { return 1.0; }
    if (x == 1.0) { return 1.0; }
    if (is_nan(x) || is_nan(y)) { return f32_nan(); }
    let yi = floor(y) == y && is_finite(y);
    let odd = yi && abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1;
    let ax = abs(x);
    if (x == 0.0) {
        if (y < 0.0) { return select(f32_inf(), bitcast<f32>(bitcast<u32>(f32_inf()) | (bitcast<u32>(x) & 0x80000000u)), odd); }
        return select(0.0, x, odd);
    }
    if (!is_finite(y)) {
        if (ax == 1.0) { return 1.0; }
        return select(0.0, f32_inf(), (ax > 1.0) == (y > 0.0));
    }
    var r: f32;
    if (!is_finite(ax)) {
        r = select(0.0, f32_inf(), y > 0.0);
    } else if (x < 0.0 && !yi) {
        return f32_nan();
    } else {
        r = exp_(y * log_(ax));
        // integral exponents of exact bases: repeated squaring is exact where numpy's is
        if (yi && abs(y) <= 16.0) {
            var b = select(ax, 1.0 / ax, y < 0.0);
            var e = u32(abs(y));
            var acc = 1.0;
            loop {
                if ((e & 1u) == 1u) { acc = acc * b; }
                e = e >> 1u;
                if (e == 0u) { break; }
                b = b * b;
            }
            r = acc;
        }
    }
    return select(r, -r, x < 0.0 && odd);
}

// Python-style floor division and modulo for signed ints; x / 0 and x % 0 give 0 (numpy).
fn floordiv_i(x: i32, y: i32) -> i32 {
    if (y == 0) { return 0; }
    let q = x / y;
    return select(q, q - 1, (x % y != 0) && ((x < 0) != (y < 0)));
}
fn mod_i(x: i32, y: i32) -> i32 {
    if (y == 0) { return 0; }
    let r = x % y;
    return select(r, r + y, r != 0 && ((r < 0) != (y < 0)));
}
// C fmod (WGSL's % is x - y * trunc(x / y): inexact, and NaN for an infinite y). The
// product q * y is formed exactly as hi + lo (Dekker; WGSL's fma need not be fused), so
// x - q * y is exact while the quotient q fits 24 bits; q may be one off where x / y
// rounded across an integer, which the last two lines correct.
fn split_(a: f32) -> vec2<f32> {
    let c = 4097.0 * a;
    let hi = c - (c - a);
    return vec2<f32>(hi, a - hi);
}
fn fmod_(x: f32, y: f32) -> f32 {
    if (is_nan(x) || is_nan(y) || !is_finite(x) || y == 0.0) { return f32_nan(); }
    if (!is_finite(y) || abs(x) < abs(y)) { return x; }
    let q = trunc(x / y);
    let hi = q * y;
    let a = split_(q);
    let b = split_(y);
    let lo = ((a.x * b.x - hi) + a.x * b.y + a.y * b.x) + a.y * b.y;
    var r = (x - hi) - lo;
    let ay = abs(y);
    if (r != 0.0 && (r < 0.0) != (x < 0.0)) { r += select(ay, -ay, x < 0.0); }
    if (abs(r) >= ay) { r -= select(-ay, ay, x >= 0.0); }
    return r;
}
fn sign_bit(x: f32) -> f32 { return bits_f32(bitcast<u32>(x) & 0x80000000u); }

// (floor division, floor modulo) of floats exactly as numpy's npy_divmod.
fn divmod_f(a: f32, b: f32) -> vec2<f32> {
    var m = fmod_(a, b);
    if (b == 0.0) { return vec2<f32>(a / b, m); }
    var d = (a - m) / b;
    if (!(m == 0.0)) {
        if ((b < 0.0) != (m < 0.0)) {
            m += b;
            d -= 1.0;
        }
    } else {
        m = sign_bit(b);
    }
    var f = sign_bit(a / b);
    if (!(d == 0.0)) {
        f = floor(d);
        if (d - f > 0.5) { f += 1.0; }
    }
    return vec2<f32>(f, m);
}
fn pow_i(x: i32, y: i32) -> i32 {
    if (y < 0) { return select(0, select(1, -1, (y & 1) == 1), x == -1) + select(0, 1, x == 1); }
    var b = x;
    var e = u32(y);
    var acc = 1;
    loop {
        if (e == 0u) { break; }
        if ((e & 1u) == 1u) { acc = acc * b; }
        e = e >> 1u;
        b = b * b;
    }
    return acc;
}
fn pow_u(x: u32, y: u32) -> u32 {
    var b = x;
    var e = y;
    var acc = 1u;
    loop {
        if (e == 0u) { break; }
        if ((e & 1u) == 1u) { acc = acc * b; }
        e = e >> 1u;
        b = b * b;
    }
    return acc;
}

// float32 -> uint32 as numpy on x86 does it: truncate to int64, keep the low 32 bits.
fn f32_to_u32(x: f32) -> u32 {
    let t = trunc(x);
    if (t > -2147483648.0 && t < 0.0) { return bitcast<u32>(i32(t)); }
    if (t >= 0.0 && t < 4294967296.0) { return u32(t); }
    if (!is_finite(t)) { return 0u; }
    return u32(t - floor(t / 4294967296.0) * 4294967296.0);
}
