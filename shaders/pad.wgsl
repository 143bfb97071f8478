// Constant padding: out[c] = a[c - before] inside the copied block, else `value` (bits).
// {{T}} storage type, {{RANK}} rank (1..8); value holds the bits of the compute type {{C}}.
struct Params {
    n: u32, value: u32, _p0: u32, _p1: u32,
    shape: array<vec4<u32>, 2>,   // output shape
    before: array<vec4<u32>, 2>,
    inner: array<vec4<u32>, 2>,   // input shape
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{T}}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    var r = i;
    var src = 0u;
    var step = 1u;
    var inside = true;
    for (var d = {{RANK}}u; d > 0u; d--) {
        let k = d - 1u;
        let s = p.shape[k >> 2u][k & 3u];
        let c = r % s;
        r /= s;
        let b = p.before[k >> 2u][k & 3u];
        let m = p.inner[k >> 2u][k & 3u];
        inside = inside && c >= b && c - b < m;
        src += (c - b) * step;
        step *= m;
    }
    out[i] = select({{T}}(bitcast<{{C}}>(p.value)), a[src], inside);
}
