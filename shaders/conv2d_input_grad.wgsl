// Gradient of conv2d w.r.t. its input (also conv2d_transpose) as an implicit GEMM per
// group g: rows (n, y, x) of dx, k (ky, kx, o) over the group's output channels, cols ci.
// dy[n, oy, ox, o] contributes where y + pt - ky * dh = oy * sh (same for x).
struct Params {
    m: u32, n: u32, k: u32, kchunk: u32,
    splits: u32, z_base: u32, row_base: u32, _p0: u32,
    h: u32, w: u32, c: u32, o: u32,
    oh: u32, ow: u32, kh: u32, kw: u32,
    sh: u32, sw: u32, dh: u32, dw: u32,
    pt: i32, pl: i32, cg: u32, og: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<{{T}}>;
@group(0) @binding(2) var<storage, read> wt: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{T}}>;

fn bases(g: u32) -> vec3<i32> { return vec3<i32>(i32(g * p.cg), i32(g * p.og), 0); }

fn load_a(b: vec3<i32>, row: u32, k: u32) -> {{T}} {
    let hw = p.h * p.w;
    let n = row / hw;
    let y = (row % hw) / p.w;
    let x = row % p.w;
    let o = k % p.og;
    let t = k / p.og;
    let ty = i32(y) + p.pt - i32((t / p.kw) * p.dh);
    let tx = i32(x) + p.pl - i32((t % p.kw) * p.dw);
    if (ty < 0 || tx < 0) { return {{T}}(0); }
    let oy = u32(ty) / p.sh;
    let ox = u32(tx) / p.sw;
    if (oy * p.sh != u32(ty) || ox * p.sw != u32(tx) || oy >= p.oh || ox >= p.ow) { return {{T}}(0); }
    return dy[((n * p.oh + oy) * p.ow + ox) * p.o + u32(b.y) + o];
}
fn load_b(b: vec3<i32>, k: u32, col: u32) -> {{T}} {
    return wt[((k / p.og) * p.cg + col) * p.o + u32(b.y) + k % p.og];
}
fn store_c(b: vec3<i32>, part: u32, row: u32, col: u32, v: {{T}}) { out[row * p.c + u32(b.x) + col] = v; }
