// The tiled matrix-multiply core shared by matmul and the three convolution kernels.
// C[z](M x N) = sum over k of A[z](row, k) * B[z](k, col), tiled 64 x 64 x 16 in
// workgroup memory, 16 x 16 invocations each accumulating a 4 x 4 block in {{C}}.
// The kernel file placed before this one defines:
//   struct Params { m, n, k, kchunk, splits, z_base, row_base: u32, ... } and binding p
// (z_base and row_base offset the grid when it is split over several dispatches)
//   fn bases(z: u32) -> vec3<i32>            per-batch/group offsets, computed once
//   fn row_ctx(b: vec3<i32>, row: u32) -> vec4<i32>   what load_a needs of a row, once per row
//   fn load_a(b: vec3<i32>, r: vec4<i32>, k: u32) -> {{T}}   (only called in range)
//   fn load_b(b: vec3<i32>, k: u32, col: u32) -> {{T}}
//   fn store_c(b: vec3<i32>, part: u32, row: u32, col: u32, v: {{T}})
// Split-K: workgroup z covers batch z / splits and k in [part * kchunk, (part+1) * kchunk)
// for part = z % splits, so long reductions with few outputs still fill the device.

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;
// As[k][m] is padded to 65 columns: the loads below write it along k, which with 64
// columns would put every write of a warp in one memory bank
var<workgroup> As: array<array<{{C}}, 65>, 16>;
var<workgroup> Bs: array<array<{{C}}, 64>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let z = wid.z + p.z_base;
    let batch = z / p.splits;
    let part = z % p.splits;
    let b = bases(batch);
    let row0 = wid.y * BM + p.row_base;
    let col0 = wid.x * BN;
    let k_begin = part * p.kchunk;
    let k_end = min(p.k, k_begin + p.kchunk);
    // row block i of this invocation accumulates in acc_i (columns in the vec4's lanes)
    var acc0 = vec4<{{C}}>();
    var acc1 = vec4<{{C}}>();
    var acc2 = vec4<{{C}}>();
    var acc3 = vec4<{{C}}>();
    for (var k0 = k_begin; k0 < k_end; k0 += BK) {
        for (var t = 0u; t < 4u; t++) {
            let e = li + 256u * t;
            let am = e / BK;
            let ak = e % BK;
            var va = {{C}}(0);
            if (row0 + am < p.m && k0 + ak < k_end) { va = {{C}}(load_a(b, row_ctx(b, row0 + am), k0 + ak)); }
            As[ak][am] = va;
            let bk = e / BN;
            let bn = e % BN;
            var vb = {{C}}(0);
            if (k0 + bk < k_end && col0 + bn < p.n) { vb = {{C}}(load_b(b, k0 + bk, col0 + bn)); }
            Bs[bk][bn] = vb;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let ra = vec4<{{C}}>(As[kk][lid.y], As[kk][lid.y + 16u], As[kk][lid.y + 32u], As[kk][lid.y + 48u]);
            let rb = vec4<{{C}}>(Bs[kk][lid.x], Bs[kk][lid.x + 16u], Bs[kk][lid.x + 32u], Bs[kk][lid.x + 48u]);
            acc0 += ra.x * rb;
            acc1 += ra.y * rb;
            acc2 += ra.z * rb;
            acc3 += ra.w * rb;
        }
        workgroupBarrier();
    }
    store_row(b, part, row0 + lid.y, col0 + lid.x, acc0);
    store_row(b, part, row0 + lid.y + 16u, col0 + lid.x, acc1);
    store_row(b, part, row0 + lid.y + 32u, col0 + lid.x, acc2);
    store_row(b, part, row0 + lid.y + 48u, col0 + lid.x, acc3);
}

fn store_row(b: vec3<i32>, part: u32, row: u32, col: u32, v: vec4<{{C}}>) {
    if (row >= p.m) { return; }
    for (var j = 0u; j < 4u; j++) {
        let c = col + 16u * j;
        if (c < p.n) { store_c(b, part, row, c, {{T}}(v[j])); }
    }
}
