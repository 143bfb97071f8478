// Reductions over arbitrary axes. The dispatcher collapses the input to at most four
// kept and four reduced dims (shape + stride each); output o, part q reduces the q-th
// chunk of the R reduced elements of o into out[o * parts + q] (parts > 1: a second
// pass combines the partials). {{T}} input and {{TO}} output storage types, accumulated
// in {{C}}; combine(a, b) = {{COMBINE}}; identity {{IDENTITY}}.
struct Params {
    n_out: u32, n_red: u32, parts: u32, chunk: u32,
    nk: u32, nr: u32, off: i32, _p0: u32,
    kshape: vec4<u32>, kstride: vec4<i32>,
    rshape: vec4<u32>, rstride: vec4<i32>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{TO}}>;

fn combine(x: {{C}}, y: {{C}}) -> {{C}} { return {{COMBINE}}; }
fn identity() -> {{C}} { return {{IDENTITY}}; }

fn kept_offset(o: u32) -> i32 {
    var r = o;
    var off = p.off;
    for (var d = i32(p.nk) - 1; d >= 0; d--) {
        let s = p.kshape[d];
        off += i32(r % s) * p.kstride[d];
        r /= s;
    }
    return off;
}

fn red_offset(j: u32) -> i32 {
    if (p.nr == 1u) { return i32(j) * p.rstride[0]; }
    var r = j;
    var off = 0;
    for (var d = i32(p.nr) - 1; d >= 0; d--) {
        let s = p.rshape[d];
        off += i32(r % s) * p.rstride[d];
        r /= s;
    }
    return off;
}

var<workgroup> sh: array<{{C}}, 256>;

// one workgroup per (output, part): for reductions whose elements are contiguous; the
// workgroups loop when there are more of those than the grid holds
@compute @workgroup_size(256)
fn group(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    for (var g = wid.y * nwg.x + wid.x; g < p.n_out * p.parts; g += nwg.x * nwg.y) {
        let o = g / p.parts;
        let q = g % p.parts;
        let base = kept_offset(o);
        let end = min(p.n_red, (q + 1u) * p.chunk);
        var acc = identity();
        for (var j = q * p.chunk + lid; j < end; j += 256u) {
            acc = combine(acc, {{C}}(a[base + red_offset(j)]));
        }
        sh[lid] = acc;
        workgroupBarrier();
        for (var s = 128u; s > 0u; s >>= 1u) {
            if (lid < s) { sh[lid] = combine(sh[lid], sh[lid + s]); }
            workgroupBarrier();
        }
        if (lid == 0u) { out[g] = {{TO}}(sh[0]); }
        workgroupBarrier();
    }
}

// one invocation per (output, part): for reductions across outer dims, where
// neighbouring invocations read neighbouring elements
@compute @workgroup_size(256)
fn serial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var g = flat_id(wid, nwg, lid); g < p.n_out * p.parts; g += grid_stride(nwg)) { group_at(g); }
}

fn group_at(g: u32) {
    let o = g % p.n_out;
    let q = g / p.n_out;
    let base = kept_offset(o);
    let end = min(p.n_red, (q + 1u) * p.chunk);
    var acc = identity();
    for (var j = q * p.chunk; j < end; j++) {
        acc = combine(acc, {{C}}(a[base + red_offset(j)]));
    }
    out[o * p.parts + q] = {{TO}}(acc);
}
