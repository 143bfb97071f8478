// Binary elementwise with NumPy broadcasting by strides (a broadcast dim has stride 0;
// nothing is materialised): out[i] = OP(a[ia(i)], b[ib(i)]). A host scalar operand
// (x * 2.0) is read from the parameters instead: {{A}} / {{B}} load each side.
// {{T}} / {{U}} operand / output storage types, computed in {{C}} / {{CU}}, {{RANK}} collapsed
// rank (1..8).
struct Params {
    n: u32, off_a: i32, off_b: i32, scalar: u32,
    shape: array<vec4<u32>, 2>,
    sa: array<vec4<i32>, 2>,
    sb: array<vec4<i32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{T}}>;
@group(0) @binding(2) var<storage, read> b: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{U}}>;

fn op(x: {{C}}, y: {{C}}) -> {{CU}} { return {{OP}}; }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    var r = i;
    var ia = p.off_a;
    var ib = p.off_b;
    for (var d = {{RANK}}u - 1u; d > 0u; d--) {
        let s = p.shape[d >> 2u][d & 3u];
        let c = i32(r % s);
        ia += c * p.sa[d >> 2u][d & 3u];
        ib += c * p.sb[d >> 2u][d & 3u];
        r /= s;
    }
    ia += i32(r) * p.sa[0][0];
    ib += i32(r) * p.sb[0][0];
    out[i] = {{U}}(op({{A}}, {{B}}));
}
