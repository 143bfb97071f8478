// 2-D pooling, NHWC, one invocation per output element. "max" skips padding; "avg"
// divides by the count of non-padding elements. {{T}} storage type, compared in {{C}};
// {{MAX}} true for max.
struct Params {
    n_out: u32, h: u32, w: u32, c: u32,
    oh: u32, ow: u32, kh: u32, kw: u32,
    sh: u32, sw: u32, pt: i32, pl: i32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{T}}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n_out; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    let ch = i % p.c;
    let ox = (i / p.c) % p.ow;
    let oy = (i / (p.c * p.ow)) % p.oh;
    let n = i / (p.c * p.ow * p.oh);
    let y0 = i32(oy * p.sh) - p.pt;
    let x0 = i32(ox * p.sw) - p.pl;
    var best = {{LOWEST}};
    var sum = 0.0;
    var count = 0u;
    for (var ky = 0u; ky < p.kh; ky++) {
        let y = y0 + i32(ky);
        if (y < 0 || y >= i32(p.h)) { continue; }
        for (var kx = 0u; kx < p.kw; kx++) {
            let xx = x0 + i32(kx);
            if (xx < 0 || xx >= i32(p.w)) { continue; }
            let v = {{C}}(x[((n * p.h + u32(y)) * p.w + u32(xx)) * p.c + ch]);
            if ({{MAX}}) {
                best = {{MAXOP}};
            } else {
                sum += f32(v);
            }
            count++;
        }
    }
    if ({{MAX}}) {
        out[i] = {{T}}(best);
    } else {
        out[i] = {{T}}(sum / f32(count));
    }
}
