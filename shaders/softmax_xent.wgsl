// Fused sparse softmax cross-entropy (TF's SparseSoftmaxXentWithLogits): one workgroup
// per row of logits [rows, n] computes loss = logsumexp(x) - x[label] and the gradient
// backprop = softmax(x) - one_hot(label) in one pass over the row. An out-of-range
// label gives a NaN loss and row (as TF on GPUs).
struct Params { rows: u32, n: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> backprop: array<f32>;

var<workgroup> sh: array<f32, 64>;

fn tree_max(lid: u32, v: f32) -> f32 {
    sh[lid] = v;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
        if (lid < s) { sh[lid] = fmax_(sh[lid], sh[lid + s]); }
        workgroupBarrier();
    }
    let r = sh[0];
    workgroupBarrier();
    return r;
}

fn tree_sum(lid: u32, v: f32) -> f32 {
    sh[lid] = v;
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
        let base = row * p.n;
        var m = -f32_inf();
        for (var j = lid; j < p.n; j += 64u) { m = fmax_(m, x[base + j]); }
        m = tree_max(lid, m);
        var t = 0.0;
        for (var j = lid; j < p.n; j += 64u) { t += exp_(x[base + j] - m); }
        let s = tree_sum(lid, t);
        let lse = log_(s) + m;
        let label = labels[row];
        let ok = label >= 0 && u32(label) < p.n;
        for (var j = lid; j < p.n; j += 64u) {
            let g = exp_(x[base + j] - lse) - select(0.0, 1.0, ok && u32(label) == j);
            backprop[base + j] = select(f32_nan(), g, ok);
        }
        let xl = x[base + select(0u, u32(label), ok)];
        if (lid == 0u) { loss[row] = select(f32_nan(), lse - xl, ok); }
    }
}
