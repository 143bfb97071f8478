// The DFT over the last axis of complex rows held as two float32 planes (re, im), as
// base.LINALG_KERNELS' fft/rfft promise. One kernel family, every entry point with the
// same bindings: planes in (xr, xi), a host-made table (tab), planes out (yr, yi).
//
// - stage4, stage: one radix-4 (radix-2) Stockham pass over rows of length n (a power of
//   two). Stockham reorders as it goes (no bit-reversal gather): with R the radix, span
//   the product of the radices before, i < n/R and k = i mod span, it reads
//   x[i + r n/R], multiplies term r by the twiddle exp(-2 pi i r k / (R span)), takes their
//   R-point DFT and writes term r to y[(i - k) R + k + r span]. Twiddles are entries
//   r k n / (R span) of tab = exp(-2 pi i t / n), t < n, made in float64 on the host
//   (WGSL's sin/cos only promise accuracy on [-pi, pi]). A radix-2 pass when log2(n) is
//   odd, then radix-4 passes, give the DFT; the last may keep only the first nout terms of
//   each row (rfft) and scale them (1/n for the inverse).
// - chirp_in, pointwise, chirp_out: Bluestein's chirp-z for other lengths n, as a
//   convolution of length m (a power of two >= 2n - 1): a = x c zero-padded to m with
//   the chirp c[k] = exp(-i pi k^2 / n); A = fft(a); A B with B = fft(conj c wrapped)
//   (made once per n); q = ifft; y[k] = c[k] q[k], k < nout.
// - rfft_post: the rfft of real rows of even length 2h from the length-h FFT Z of
//   z[j] = x[2j] + i x[2j + 1] (flag 8 reads x so): with A = Z[k mod h] and
//   B = conj Z[(h - k) mod h], X[k] = (A + B) / 2 - i exp(-2 pi i k / 2h) (A - B) / 2, k <= h.
// flags: 1 inverse (conjugate the table), 2 real input (xi is not read), 4 no table
// (chirp_out as a plain crop and scale), 8 real input read as pairs (x[2j], x[2j + 1]).
struct Params { rows: u32, n: u32, span: u32, flags: u32, nin: u32, nout: u32, scale: f32, _p0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xr: array<f32>;
@group(0) @binding(2) var<storage, read> xi: array<f32>;
@group(0) @binding(3) var<storage, read> tab: array<f32>;
@group(0) @binding(4) var<storage, read_write> yr: array<f32>;
@group(0) @binding(5) var<storage, read_write> yi: array<f32>;

fn load(j: u32) -> vec2<f32> {
    if ((p.flags & 8u) != 0u) { return vec2<f32>(xr[2u * j], xr[2u * j + 1u]); }
    if ((p.flags & 2u) != 0u) { return vec2<f32>(xr[j], 0.0); }
    return vec2<f32>(xr[j], xi[j]);
}

// Entry t of the table (interleaved re, im), conjugated for the inverse transform.
fn table(t: u32) -> vec2<f32> {
    let w = vec2<f32>(tab[2u * t], tab[2u * t + 1u]);
    return select(w, vec2<f32>(w.x, -w.y), (p.flags & 1u) != 0u);
}

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

fn store(j: u32, v: vec2<f32>) {
    yr[j] = v.x;
    yi[j] = v.y;
}

// out = a times -i (forward) or +i (inverse): the radix-4 butterfly's quarter turn.
fn quarter(a: vec2<f32>) -> vec2<f32> {
    return select(vec2<f32>(a.y, -a.x), vec2<f32>(-a.y, a.x), (p.flags & 1u) != 0u);
}

// The butterflies of a pass: twiddle term r by table(r t), then the 2- or 4-point DFT.
fn bfly2(a: vec2<f32>, b: vec2<f32>, t: u32) -> array<vec2<f32>, 2> {
    let w = cmul(b, table(t));
    return array<vec2<f32>, 2>(a + w, a - w);
}

fn bfly4(u0: vec2<f32>, x1: vec2<f32>, x2: vec2<f32>, x3: vec2<f32>, t: u32) -> array<vec2<f32>, 4> {
    let u1 = cmul(x1, table(t));
    let u2 = cmul(x2, table(2u * t));
    let u3 = cmul(x3, table(3u * t));
    let v0 = u0 + u2;
    let v1 = u0 - u2;
    let v2 = u1 + u3;
    let v3 = quarter(u1 - u3);
    return array<vec2<f32>, 4>(v0 + v2, v1 + v3, v0 - v2, v1 - v3);
}

fn store_term(row: u32, j: u32, v: vec2<f32>) {
    if (j < p.nout) { store(row * p.nout + j, v * p.scale); }
}

// Rows, lengths and spans are powers of two here: shifts and masks, not divisions.
@compute @workgroup_size(256)
fn stage(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>) {
    let h = p.n / 2u;
    let lh = countTrailingZeros(h);
    let step = h >> countTrailingZeros(p.span);
    for (var g = flat_id(wid, nwg, lid); g < p.rows * h; g += grid_stride(nwg)) {
        let row = g >> lh;
        let i = g & (h - 1u);
        let k = i & (p.span - 1u);
        let y = bfly2(load(row * p.n + i), load(row * p.n + i + h), k * step);
        let j = 2u * i - k;
        store_term(row, j, y[0]);
        store_term(row, j + p.span, y[1]);
    }
}

@compute @workgroup_size(256)
fn stage4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
    let q = p.n / 4u;
    let lq = countTrailingZeros(q);
    let step = q >> countTrailingZeros(p.span);
    for (var g = flat_id(wid, nwg, lid); g < p.rows * q; g += grid_stride(nwg)) {
        let row = g >> lq;
        let i = g & (q - 1u);
        let k = i & (p.span - 1u);
        let x = row * p.n + i;
        let y = bfly4(load(x), load(x + q), load(x + 2u * q), load(x + 3u * q), k * step);
        let j = 4u * (i - k) + k;
        store_term(row, j, y[0]);
        store_term(row, j + p.span, y[1]);
        store_term(row, j + 2u * p.span, y[2]);
        store_term(row, j + 3u * p.span, y[3]);
    }
}

// in_workgroup: every pass of a row of n <= 1024 in one dispatch, one workgroup per row, the
// row ping-ponging between the halves of workgroup memory (offsets 0 and n).
var<workgroup> wr: array<f32, 2048>;
var<workgroup> wi: array<f32, 2048>;

fn wload(j: u32) -> vec2<f32> { return vec2<f32>(wr[j], wi[j]); }

fn wstore(j: u32, v: vec2<f32>) {
    wr[j] = v.x;
    wi[j] = v.y;
}

@compute @workgroup_size(256)
fn in_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
    let n = p.n;
    for (var row = wid.y * nwg.x + wid.x; row < p.rows; row += nwg.x * nwg.y) {
        for (var j = lid.x; j < n; j += WG) { wstore(j, load(row * n + j)); }
        workgroupBarrier();
        var src = 0u;
        var span = 1u;
        loop {
            if (span >= n) { break; }
            let dst = n - src;
            if ((countTrailingZeros(n / span) & 1u) == 1u) {  // n / span = 2^odd: radix 2
                let h = n / 2u;
                for (var i = lid.x; i < h; i += WG) {
                    let k = i & (span - 1u);
                    let y = bfly2(wload(src + i), wload(src + i + h), k * (h / span));
                    let j = dst + 2u * i - k;
                    wstore(j, y[0]);
                    wstore(j + span, y[1]);
                }
                span *= 2u;
            } else {
                let q = n / 4u;
                for (var i = lid.x; i < q; i += WG) {
                    let k = i & (span - 1u);
                    let x = src + i;
                    let y = bfly4(wload(x), wload(x + q), wload(x + 2u * q), wload(x + 3u * q), k * (q / span));
                    let j = dst + 4u * (i - k) + k;
                    wstore(j, y[0]);
                    wstore(j + span, y[1]);
                    wstore(j + 2u * span, y[2]);
                    wstore(j + 3u * span, y[3]);
                }
                span *= 4u;
            }
            workgroupBarrier();
            src = dst;
        }
        for (var j = lid.x; j < p.nout; j += WG) { store(row * p.nout + j, wload(src + j) * p.scale); }
        workgroupBarrier();  // every read of this row is done before the next row's loads
    }
}

// [rows, nin] -> [rows, n]: x[k] c[k] for k < nin, zeros after.
@compute @workgroup_size(256)
fn chirp_in(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var g = flat_id(wid, nwg, lid); g < p.rows * p.n; g += grid_stride(nwg)) {
        let k = g % p.n;
        var v = vec2<f32>(0.0, 0.0);
        if (k < p.nin) { v = cmul(load((g / p.n) * p.nin + k), table(k)); }
        store(g, v);
    }
}

// [rows, n] times the row tab (never conjugated: B is made per direction).
@compute @workgroup_size(256)
fn pointwise(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var g = flat_id(wid, nwg, lid); g < p.rows * p.n; g += grid_stride(nwg)) {
        let k = g % p.n;
        store(g, cmul(load(g), vec2<f32>(tab[2u * k], tab[2u * k + 1u])));
    }
}

// [rows, nin] -> [rows, nout]: x[k] c[k] scale for k < nout (c = 1 with flag 4).
@compute @workgroup_size(256)
fn chirp_out(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var g = flat_id(wid, nwg, lid); g < p.rows * p.nout; g += grid_stride(nwg)) {
        let k = g % p.nout;
        var v = load((g / p.nout) * p.nin + k);
        if ((p.flags & 4u) == 0u) { v = cmul(v, table(k)); }
        store(g, v * p.scale);
    }
}

// [rows, n] spectra of the packed halves -> [rows, nout = n + 1] rfft terms; tab has 2n entries.
@compute @workgroup_size(256)
fn rfft_post(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
    let h = p.n;
    for (var g = flat_id(wid, nwg, lid); g < p.rows * p.nout; g += grid_stride(nwg)) {
        let row = g / p.nout;
        let k = g % p.nout;
        let a = load(row * h + k % h);
        let z = load(row * h + (h - k) % h);
        let b = vec2<f32>(z.x, -z.y);
        let d = (a - b) * 0.5;
        store(g, (a + b) * 0.5 + cmul(vec2<f32>(d.y, -d.x), table(k)));
    }
}

// Planes [n] -> one interleaved (re, im) row in yr: how B becomes a table.
@compute @workgroup_size(256)
fn interleave(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var g = flat_id(wid, nwg, lid); g < p.n; g += grid_stride(nwg)) {
        let v = load(g);
        yr[2u * g] = v.x;
        yr[2u * g + 1u] = v.y;
    }
}
