// Fused softmax along an axis of x viewed as [outer, n, inner]: one workgroup per
// (outer, inner) row (looping over rows past the grid): max, then sum of exp(x - max),
// then exp(x - max) / sum.
struct Params { rows: u32, n: u32, inner: u32, _p0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> sh: array<f32, 64>;

fn row_max(base: u32, lid: u32) -> f32 {
    var m = -f32_inf();
    for (var j = lid; j < p.n; j += 64u) { m = fmax_(m, x[base + j * p.inner]); }
    sh[lid] = m;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
        if (lid < s) { sh[lid] = fmax_(sh[lid], sh[lid + s]); }
        workgroupBarrier();
    }
    let r = sh[0];
    workgroupBarrier();
    return r;
}

fn row_sum_exp(base: u32, lid: u32, m: f32) -> f32 {
    var t = 0.0;
    for (var j = lid; j < p.n; j += 64u) { t += exp_(x[base + j * p.inner] - m); }
    sh[lid] = t;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
        if (lid < s) { sh[lid] += sh[lid + s]; }
        workgroupBarrier();
    }
    let r = sh[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    for (var row = wid.y * nwg.x + wid.x; row < p.rows; row += nwg.x * nwg.y) {
        let base = (row / p.inner) * p.n * p.inner + row % p.inner;
        let m = row_max(base, lid);
        let s = row_sum_exp(base, lid, m);
        for (var j = lid; j < p.n; j += 64u) {
            let k = base + j * p.inner;
            out[k] = exp_(x[k] - m) / s;
        }
    }
}
