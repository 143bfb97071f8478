// gather along an axis of x viewed as [outer, n, inner]: out[o, j, r] = x[o, idx[j], r];
// an index outside [0, n) gives 0 (as TF on GPUs). {{T}} storage type.
struct Params { n_out: u32, n: u32, inner: u32, nidx: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<{{T}}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n_out; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    let r = i % p.inner;
    let j = (i / p.inner) % p.nidx;
    let o = i / (p.inner * p.nidx);
    let k = idx[j];
    var v = {{T}}(0);
    if (k >= 0 && u32(k) < p.n) { v = x[(o * p.n + u32(k)) * p.inner + r]; }
    out[i] = v;
}
