// Gradient of 2-D pooling, one invocation per input element (no atomics): sum over the
// windows that cover it. "max" routes a window's gradient to its first maximum in
// row-major order (the window is rescanned); "avg" shares it over the window's
// non-padding count. {{T}} storage type, computed in {{C}}; {{MAX}} true for max.
struct Params {
    n_in: u32, h: u32, w: u32, c: u32,
    oh: u32, ow: u32, kh: u32, kw: u32,
    sh: u32, sw: u32, pt: i32, pl: i32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read> dy: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{T}}>;

fn first_max(n: u32, ch: u32, oy: u32, ox: u32) -> u32 {
    let y0 = i32(oy * p.sh) - p.pt;
    let x0 = i32(ox * p.sw) - p.pl;
    var best = {{LOWEST}};
    var at = 0xffffffffu;
    for (var ky = 0u; ky < p.kh; ky++) {
        let y = y0 + i32(ky);
        if (y < 0 || y >= i32(p.h)) { continue; }
        for (var kx = 0u; kx < p.kw; kx++) {
            let xx = x0 + i32(kx);
            if (xx < 0 || xx >= i32(p.w)) { continue; }
            let v = {{C}}(x[((n * p.h + u32(y)) * p.w + u32(xx)) * p.c + ch]);
            if (at == 0xffffffffu || {{GREATER}}) {
                best = v;
                at = u32(y) * p.w + u32(xx);
            }
        }
    }
    return at;
}

fn window_count(oy: u32, ox: u32) -> f32 {
    let y0 = i32(oy * p.sh) - p.pt;
    let x0 = i32(ox * p.sw) - p.pl;
    let ny = min(y0 + i32(p.kh), i32(p.h)) - max(y0, 0);
    let nx = min(x0 + i32(p.kw), i32(p.w)) - max(x0, 0);
    return f32(ny * nx);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n_in; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    let ch = i % p.c;
    let xx = (i / p.c) % p.w;
    let y = (i / (p.c * p.w)) % p.h;
    let n = i / (p.c * p.w * p.h);
    // windows oy with oy * sh - pt <= y < oy * sh - pt + kh
    let ty = i32(y) + p.pt;
    let tx = i32(xx) + p.pl;
    let oy_lo = max(0, (ty - i32(p.kh) + i32(p.sh)) / i32(p.sh));
    let oy_hi = min(i32(p.oh) - 1, ty / i32(p.sh));
    let ox_lo = max(0, (tx - i32(p.kw) + i32(p.sw)) / i32(p.sw));
    let ox_hi = min(i32(p.ow) - 1, tx / i32(p.sw));
    var g = {{C}}(0);
    for (var oy = oy_lo; oy <= oy_hi; oy++) {
        for (var ox = ox_lo; ox <= ox_hi; ox++) {
            let d = {{C}}(dy[((n * p.oh + u32(oy)) * p.ow + u32(ox)) * p.c + ch]);
            if ({{MAX}}) {
                if (first_max(n, ch, u32(oy), u32(ox)) == y * p.w + xx) { g += d; }
            } else {
                g += d / {{C}}(window_count(u32(oy), u32(ox)));
            }
        }
    }
    out[i] = {{T}}(g);
}
