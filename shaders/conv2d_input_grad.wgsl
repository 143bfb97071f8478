// Gradient of conv2d w.r.t. its input (also conv2d_transpose) as an implicit GEMM per
// group g: rows (n, y, x) of dx, k (ky, kx, o) over the group's output channels, cols ci.
// dy[n, oy, ox, o] contributes where y + pt - ky * dh = oy * sh (same for x).
// Geometry compiled in, as conv2d.wgsl.
struct Params {
    m: u32, n: u32, k: u32, kchunk: u32,
    splits: u32, z_base: u32, row_base: u32, _p0: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<{{T}}>;
@group(0) @binding(2) var<storage, read> wt: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{T}}>;
{{GEOMETRY}}

fn bases(g: u32) -> vec3<i32> { return vec3<i32>(i32(g * CG), i32(g * OG), 0); }

// (first dy row of image n, y + pt, x + pl)
fn row_ctx(b: vec3<i32>, row: u32) -> vec4<i32> {
    let n = row / (H * W);
    let y = (row / W) % H;
    let x = row % W;
    return vec4<i32>(i32(n * OH), i32(y) + PT, i32(x) + PL, 0);
}
fn load_a(b: vec3<i32>, r: vec4<i32>, k: u32) -> {{T}} {
    let o = k % OG;
    let t = k / OG;
    let ty = r.y - i32((t / KW) * DH);
    let tx = r.z - i32((t % KW) * DW);
    if (ty < 0 || tx < 0) { return {{T}}(0); }
    let oy = u32(ty) / SH;
    let ox = u32(tx) / SW;
    if (oy * SH != u32(ty) || ox * SW != u32(tx) || oy >= OH || ox >= OW) { return {{T}}(0); }
    return dy[((u32(r.x) + oy) * OW + ox) * O + u32(b.y) + o];
}
fn load_b(b: vec3<i32>, k: u32, col: u32) -> {{T}} {
    return wt[((k / OG) * CG + col) * O + u32(b.y) + k % OG];
}
fn store_c(b: vec3<i32>, part: u32, row: u32, col: u32, v: {{T}}) { out[row * C + u32(b.x) + col] = v; }
