// Host layouts of dtypes the GPU stores wider: bool is one byte on the host and a u32
// here; int64 is eight bytes on the host and an i32 here (the dispatcher narrows on write,
// checking the range).
// n counts output words.
struct Params { n: u32, count: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

// 4 bools (u32 0/1) -> the 4 bytes of one word, little-endian
@compute @workgroup_size(256)
fn bytes_from_bool(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { bytes_from_bool_at(i); }
}

fn bytes_from_bool_at(i: u32) {
    var w = 0u;
    for (var k = 0u; k < 4u; k++) {
        let j = 4u * i + k;
        if (j < p.count) { w = w | (select(0u, 1u, a[j] != 0u) << (8u * k)); }
    }
    out[i] = w;
}

// bytes (any non-zero byte is true) -> one u32 0/1 per element
@compute @workgroup_size(256)
fn bool_from_bytes(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { bool_from_bytes_at(i); }
}

fn bool_from_bytes_at(i: u32) {
    out[i] = select(0u, 1u, ((a[i / 4u] >> (8u * (i % 4u))) & 0xffu) != 0u);
}

// i32 -> int64 words (low, sign extension)
@compute @workgroup_size(256)
fn i64_from_i32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { i64_from_i32_at(i); }
}

fn i64_from_i32_at(i: u32) {
    let v = a[i / 2u];
    out[i] = select(v, select(0u, 0xffffffffu, (v & 0x80000000u) != 0u), (i & 1u) == 1u);
}
