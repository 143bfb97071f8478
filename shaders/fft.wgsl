// The DFT over the last axis of complex rows held as two float32 planes (re, im), as
// base.LINALG_KERNELS' fft/rfft promise. One kernel family, every entry point with the
// same bindings: planes in (xr, xi), a host-made table (tab), planes out (yr, yi).
//
// - stage: one radix-2 Stockham pass over rows of length n (a power of two). Stockham
//   reorders as it goes (no bit-reversal gather) and reads x[i], x[i + n/2] and writes
//   y[2i - k], y[2i - k + span] with k = i mod span; the twiddle exp(-2 pi i k / 2span)
//   is entry k * (n / 2span) of tab = exp(-2 pi i t / n), t < n/2, made in float64 on
//   the host (WGSL's sin/cos only promise accuracy on [-pi, pi]). log2(n) passes with
//   span 1, 2, ..., n/2 give the DFT. The last pass may keep only the first nout terms
//   of each row (rfft) and scale them (1/n for the inverse).
// - chirp_in, pointwise, chirp_out: Bluestein's chirp-z for other lengths n, as a
//   convolution of length m (a power of two >= 2n - 1): a = x c zero-padded to m with
//   the chirp c[k] = exp(-i pi k^2 / n); A = fft(a); A B with B = fft(conj c wrapped)
//   (made once per n); q = ifft; y[k] = c[k] q[k], k < nout.
// flags: 1 inverse (conjugate the table), 2 real input (xi is not read), 4 no table
// (chirp_out as a plain crop and scale).
struct Params { rows: u32, n: u32, span: u32, flags: u32, nin: u32, nout: u32, scale: f32, _p0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xr: array<f32>;
@group(0) @binding(2) var<storage, read> xi: array<f32>;
@group(0) @binding(3) var<storage, read> tab: array<f32>;
@group(0) @binding(4) var<storage, read_write> yr: array<f32>;
@group(0) @binding(5) var<storage, read_write> yi: array<f32>;

fn load(j: u32) -> vec2<f32> {
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

@compute @workgroup_size(256)
fn stage(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>) {
    let h = p.n / 2u;
    for (var g = flat_id(wid, nwg, lid); g < p.rows * h; g += grid_stride(nwg)) {
        let row = g / h;
        let i = g % h;
        let k = i & (p.span - 1u);
        let a = load(row * p.n + i);
        let b = cmul(load(row * p.n + i + h), table(k * (h / p.span)));
        let j = 2u * i - k;
        if (j < p.nout) { store(row * p.nout + j, (a + b) * p.scale); }
        if (j + p.span < p.nout) { store(row * p.nout + j + p.span, (a - b) * p.scale); }
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
