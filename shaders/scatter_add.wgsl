// scatter_add along an axis of out viewed as [outer, n, inner]: out[o, idx[j], r] +=
// updates[o, j, r]. out starts zeroed; one invocation per update, accumulated with
// atomics (floats by compare-exchange on their bits); indices outside [0, n) are skipped.
// {{T}} storage type; {{FLOAT}} true for f32.
struct Params { n_upd: u32, n: u32, inner: u32, nidx: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read> upd: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<atomic<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n_upd; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    let r = i % p.inner;
    let j = (i / p.inner) % p.nidx;
    let o = i / (p.inner * p.nidx);
    let k = idx[j];
    if (k < 0 || u32(k) >= p.n) { return; }
    let t = (o * p.n + u32(k)) * p.inner + r;
    let v = upd[i];
    if ({{FLOAT}}) {
        var old = atomicLoad(&out[t]);
        loop {
            let new_bits = bitcast<u32>(bitcast<{{T}}>(old) + v);
            let res = atomicCompareExchangeWeak(&out[t], old, new_bits);
            if (res.exchanged) { break; }
            old = res.old_value;
        }
    } else {
        atomicAdd(&out[t], bitcast<u32>(v));
    }
}
