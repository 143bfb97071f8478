// where(cond, x, y) with broadcasting by strides; cond is bool stored as u32.
struct Params {
    n: u32, off_c: i32, off_a: i32, off_b: i32,
    shape: array<vec4<u32>, 2>,
    sc: array<vec4<i32>, 2>,
    sa: array<vec4<i32>, 2>,
    sb: array<vec4<i32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> c: array<u32>;
@group(0) @binding(2) var<storage, read> a: array<{{T}}>;
@group(0) @binding(3) var<storage, read> b: array<{{T}}>;
@group(0) @binding(4) var<storage, read_write> out: array<{{T}}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    var r = i;
    var ic = p.off_c;
    var ia = p.off_a;
    var ib = p.off_b;
    for (var d = {{RANK}}u - 1u; d > 0u; d--) {
        let s = p.shape[d >> 2u][d & 3u];
        let k = i32(r % s);
        ic += k * p.sc[d >> 2u][d & 3u];
        ia += k * p.sa[d >> 2u][d & 3u];
        ib += k * p.sb[d >> 2u][d & 3u];
        r /= s;
    }
    ic += i32(r) * p.sc[0][0];
    ia += i32(r) * p.sa[0][0];
    ib += i32(r) * p.sb[0][0];
    out[i] = select(b[ib], a[ia], c[ic] != 0u);
}
