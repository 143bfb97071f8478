// conv2d forward as an implicit GEMM per group g (NHWC input, HWIO filter):
// rows (n, oy, ox), k (ky, kx, ci) in HWIO order, cols = the group's output channels.
// The geometry is compiled in (one pipeline per layer shape), so index arithmetic
// divides by constants: cheap everywhere, and far cheaper on CPU adapters.
struct Params {
    m: u32, n: u32, k: u32, kchunk: u32,
    splits: u32, z_base: u32, row_base: u32, _p0: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read> wt: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{T}}>;
{{GEOMETRY}}

fn bases(g: u32) -> vec3<i32> { return vec3<i32>(i32(g * CG), i32(g * OG), 0); }

// (first input row of image n, top-left input y, x of the window)
fn row_ctx(b: vec3<i32>, row: u32) -> vec4<i32> {
    let n = row / (OH * OW);
    let oy = (row / OW) % OH;
    let ox = row % OW;
    return vec4<i32>(i32(n * H), i32(oy * SH) - PT, i32(ox * SW) - PL, 0);
}
fn load_a(b: vec3<i32>, r: vec4<i32>, k: u32) -> {{T}} {
    let ci = k % CG;
    let t = k / CG;
    let iy = r.y + i32((t / KW) * DH);
    let ix = r.z + i32((t % KW) * DW);
    if (iy < 0 || ix < 0 || iy >= i32(H) || ix >= i32(W)) { return {{T}}(0); }
    return x[((u32(r.x + iy)) * W + u32(ix)) * C + u32(b.x) + ci];
}
fn load_b(b: vec3<i32>, k: u32, col: u32) -> {{T}} { return wt[k * O + u32(b.y) + col]; }
fn store_c(b: vec3<i32>, part: u32, row: u32, col: u32, v: {{T}}) { out[row * O + u32(b.y) + col] = v; }
