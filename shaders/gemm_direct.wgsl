// The GEMM core for CPU adapters (lavapipe, SwiftShader): no workgroup memory and no
// barriers, which such adapters run as slow thread switches; each invocation reads its
// operands straight from memory (CPU caches play the tiles' role) and accumulates a
// 4 x 4 block. Same hooks and parameters as gemm.wgsl.
@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let z = wid.z + p.z_base;
    let batch = z / p.splits;
    let part = z % p.splits;
    let b = bases(batch);
    let row = wid.y * 32u + lid.y * 4u + p.row_base;
    let col = wid.x * 32u + lid.x * 4u;
    if (row >= p.m || col >= p.n) { return; }
    let k_begin = part * p.kchunk;
    let k_end = min(p.k, k_begin + p.kchunk);
    let r0 = row_ctx(b, row);
    let r1 = row_ctx(b, min(row + 1u, p.m - 1u));
    let r2 = row_ctx(b, min(row + 2u, p.m - 1u));
    let r3 = row_ctx(b, min(row + 3u, p.m - 1u));
    let c1 = min(col + 1u, p.n - 1u);
    let c2 = min(col + 2u, p.n - 1u);
    let c3 = min(col + 3u, p.n - 1u);
    var acc0 = vec4<{{C}}>();
    var acc1 = vec4<{{C}}>();
    var acc2 = vec4<{{C}}>();
    var acc3 = vec4<{{C}}>();
    for (var k = k_begin; k < k_end; k++) {
        let bv = vec4<{{C}}>(vec4<{{T}}>(load_b(b, k, col), load_b(b, k, c1), load_b(b, k, c2), load_b(b, k, c3)));
        acc0 += {{C}}(load_a(b, r0, k)) * bv;
        acc1 += {{C}}(load_a(b, r1, k)) * bv;
        acc2 += {{C}}(load_a(b, r2, k)) * bv;
        acc3 += {{C}}(load_a(b, r3, k)) * bv;
    }
    store_row(b, part, row, col, acc0);
    store_row(b, part, row + 1u, col, acc1);
    store_row(b, part, row + 2u, col, acc2);
    store_row(b, part, row + 3u, col, acc3);
}

fn store_row(b: vec3<i32>, part: u32, row: u32, col: u32, v: vec4<{{C}}>) {
    if (row >= p.m) { return; }
    for (var j = 0u; j < 4u; j++) {
        if (col + j < p.n) { store_c(b, part, row, col + j, {{T}}(v[j])); }
    }
}
