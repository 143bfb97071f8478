// Unary elementwise over a strided input: out[i] = OP(a[off + sum_k coord_k(i) * stride_k]).
// The strides also express copies: transpose (permuted), slice (offset, steps, negative
// steps) and broadcast_to (stride 0), so all four are this one kernel with OP = x.
// {{T}} / {{U}} input / output storage types, computed in {{C}} / {{CU}} (f16 is stored
// as such and computed in f32), {{RANK}} collapsed rank (1..8).
struct Params {
    n: u32, off: i32, _p0: u32, _p1: u32,
    shape: array<vec4<u32>, 2>,
    stride: array<vec4<i32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{U}}>;

fn op(x: {{C}}) -> {{CU}} { return {{OP}}; }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    var r = i;
    var ia = p.off;
    for (var d = {{RANK}}u - 1u; d > 0u; d--) {
        let s = p.shape[d >> 2u][d & 3u];
        ia += i32(r % s) * p.stride[d >> 2u][d & 3u];
        r /= s;
    }
    ia += i32(r) * p.stride[0][0];
    out[i] = {{U}}(op({{C}}(a[ia])));
}
