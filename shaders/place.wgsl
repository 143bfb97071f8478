// Copy a contiguous input into a strided window of a larger output (one concat input):
// out[off + sum_k coord_k(i) * stride_k] = a[i]. {{T}} storage type, {{RANK}} rank (1..8).
struct Params {
    n: u32, off: u32, _p0: u32, _p1: u32,
    shape: array<vec4<u32>, 2>,
    stride: array<vec4<u32>, 2>,
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
    var o = p.off;
    for (var d = {{RANK}}u - 1u; d > 0u; d--) {
        let s = p.shape[d >> 2u][d & 3u];
        o += (r % s) * p.stride[d >> 2u][d & 3u];
        r /= s;
    }
    o += r * p.stride[0][0];
    out[o] = a[i];
}
