// Gradient of conv2d w.r.t. its filter as an implicit GEMM per group g: rows (ky, kx, ci),
// cols = the group's output channels, k (n, oy, ox). k is long and the output small, so
// the dispatcher splits k; part q writes partial sums to out[q] (summed afterwards).
// Geometry compiled in, as conv2d.wgsl.
struct Params {
    m: u32, n: u32, k: u32, kchunk: u32,
    splits: u32, z_base: u32, row_base: u32, _p0: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read> dy: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{T}}>;
{{GEOMETRY}}

fn bases(g: u32) -> vec3<i32> { return vec3<i32>(i32(g * CG), i32(g * OG), 0); }

// (ky * dh - pt, kx * dw - pl, channel)
fn row_ctx(b: vec3<i32>, row: u32) -> vec4<i32> {
    let t = row / CG;
    return vec4<i32>(i32((t / KW) * DH) - PT, i32((t % KW) * DW) - PL, i32(row % CG) + b.x, 0);
}
fn load_a(b: vec3<i32>, r: vec4<i32>, k: u32) -> {{T}} {
    let n = k / (OH * OW);
    let oy = (k / OW) % OH;
    let ox = k % OW;
    let iy = i32(oy * SH) + r.x;
    let ix = i32(ox * SW) + r.y;
    if (iy < 0 || ix < 0 || iy >= i32(H) || ix >= i32(W)) { return {{T}}(0); }
    return x[((n * H + u32(iy)) * W + u32(ix)) * C + u32(r.z)];
}
fn load_b(b: vec3<i32>, k: u32, col: u32) -> {{T}} { return dy[k * O + u32(b.y) + col]; }
fn store_c(b: vec3<i32>, part: u32, row: u32, col: u32, v: {{T}}) {
    out[part * KH * KW * CG * O + row * O + u32(b.y) + col] = v;
}
