// conv2d forward as an implicit GEMM per group g (NHWC input, HWIO filter):
// rows (n, oy, ox), k (ky, kx, ci) in HWIO order, cols = the group's output channels.
struct Params {
    m: u32, n: u32, k: u32, kchunk: u32,
    splits: u32, z_base: u32, row_base: u32, _p0: u32,
    h: u32, w: u32, c: u32, o: u32,
    oh: u32, ow: u32, kh: u32, kw: u32,
    sh: u32, sw: u32, dh: u32, dw: u32,
    pt: i32, pl: i32, cg: u32, og: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read> wt: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{T}}>;

fn bases(g: u32) -> vec3<i32> { return vec3<i32>(i32(g * p.cg), i32(g * p.og), 0); }

fn load_a(b: vec3<i32>, row: u32, k: u32) -> {{T}} {
    let hw = p.oh * p.ow;
    let n = row / hw;
    let oy = (row % hw) / p.ow;
    let ox = row % p.ow;
    let ci = k % p.cg;
    let t = k / p.cg;
    let iy = i32(oy * p.sh + (t / p.kw) * p.dh) - p.pt;
    let ix = i32(ox * p.sw + (t % p.kw) * p.dw) - p.pl;
    if (iy < 0 || ix < 0 || iy >= i32(p.h) || ix >= i32(p.w)) { return {{T}}(0); }
    return x[((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c + u32(b.x) + ci];
}
fn load_b(b: vec3<i32>, k: u32, col: u32) -> {{T}} { return wt[k * p.o + u32(b.y) + col]; }
fn store_c(b: vec3<i32>, part: u32, row: u32, col: u32, v: {{T}}) { out[row * p.o + u32(b.y) + col] = v; }
