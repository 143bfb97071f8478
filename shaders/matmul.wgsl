// Batched matmul: out[batch, m, n] = sum_k a(m, k) * b(k, n). Transposes and broadcast
// batch dims are strides (no copies); up to four collapsed batch dims (nb of them, nbt
// batches in all). With split-K, part q writes its partial product to out[q].
struct Params {
    m: u32, n: u32, k: u32, kchunk: u32,
    splits: u32, z_base: u32, row_base: u32, nbt: u32,
    nb: u32, _p0: u32, _p1: u32, _p2: u32,
    sam: i32, sak: i32, sbk: i32, sbn: i32,
    bshape: vec4<u32>, bsa: vec4<i32>, bsb: vec4<i32>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{T}}>;
@group(0) @binding(2) var<storage, read> bm: array<{{T}}>;
@group(0) @binding(3) var<storage, read_write> out: array<{{T}}>;

fn bases(z: u32) -> vec3<i32> {
    var r = z;
    var oa = 0;
    var ob = 0;
    for (var d = i32(p.nb) - 1; d >= 0; d--) {
        let s = p.bshape[d];
        let c = i32(r % s);
        oa += c * p.bsa[d];
        ob += c * p.bsb[d];
        r /= s;
    }
    return vec3<i32>(oa, ob, i32(z * p.m * p.n));
}
fn row_ctx(b: vec3<i32>, row: u32) -> vec4<i32> { return vec4<i32>(b.x + i32(row) * p.sam, 0, 0, 0); }
fn load_a(b: vec3<i32>, r: vec4<i32>, k: u32) -> {{T}} { return a[r.x + i32(k) * p.sak]; }
fn load_b(b: vec3<i32>, k: u32, col: u32) -> {{T}} { return bm[b.y + i32(k) * p.sbk + i32(col) * p.sbn]; }
fn store_c(b: vec3<i32>, part: u32, row: u32, col: u32, v: {{T}}) {
    out[(part * p.nbt) * p.m * p.n + u32(b.z) + row * p.n + col] = v;
}
