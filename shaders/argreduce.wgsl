// argmax/argmin along one axis of a tensor viewed as [outer, n, inner]: one invocation
// per (outer, inner), first occurrence wins; a NaN wins over numbers (as numpy).
// {{T}} storage type compared in {{C}}; better(v, best) = {{BETTER}}.
struct Params { n_out: u32, n: u32, inner: u32, _p0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;

fn better(v: {{C}}, best: {{C}}) -> bool { return {{BETTER}}; }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n_out; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    let base = (i / p.inner) * p.n * p.inner + i % p.inner;
    var best = {{C}}(a[base]);
    var bi = 0u;
    for (var j = 1u; j < p.n; j++) {
        let v = {{C}}(a[base + j * p.inner]);
        if (better(v, best)) {
            best = v;
            bi = j;
        }
    }
    out[i] = i32(bi);
}
