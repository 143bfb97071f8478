// cumsum/cumprod along one axis of a tensor viewed as [outer, n, inner]: one invocation
// per (outer, inner) walks the axis in order (numpy's accumulation order), optionally
// exclusive and/or reversed. {{T}} storage type accumulated in {{C}}; combine(a, b) = {{COMBINE}}.
struct Params { n_out: u32, n: u32, inner: u32, flags: u32 }  // flags: 1 exclusive, 2 reverse
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{T}}>;

fn combine(x: {{C}}, y: {{C}}) -> {{C}} { return {{COMBINE}}; }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n_out; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    let base = (i / p.inner) * p.n * p.inner + i % p.inner;
    let exclusive = (p.flags & 1u) != 0u;
    let reverse = (p.flags & 2u) != 0u;
    var acc = {{IDENTITY}};
    for (var s = 0u; s < p.n; s++) {
        let j = select(s, p.n - 1u - s, reverse);
        let idx = base + j * p.inner;
        let v = {{C}}(a[idx]);
        if (exclusive) {
            out[idx] = {{T}}(acc);
            acc = combine(acc, v);
        } else {
            acc = combine(acc, v);
            out[idx] = {{T}}(acc);
        }
    }
}
