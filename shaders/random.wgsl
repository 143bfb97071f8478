// Counter-based random numbers, bit-identical to backends/base.py random_u32:
// bits(i) = mix(mix(i ^ k0) + k1) with lowbias32 as mix.
// uniform: (bits(i) >> 8) * 2^-24.  normal: Box-Muller on draws 2i and 2i + 1.
struct Params { n: u32, k0: u32, k1: u32, _p0: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

fn mix32(x0: u32) -> u32 {
    var x = x0;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}
fn bits(i: u32) -> u32 { return mix32(mix32(i ^ p.k0) + p.k1); }

@compute @workgroup_size(256)
fn draw_uniform(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { out[i] = f32(bits(i) >> 8u) * 5.9604645e-8; }
}

@compute @workgroup_size(256)
fn draw_normal(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { draw_uniform_at(i); }
}

fn draw_uniform_at(i: u32) {
    let u1 = (f32(bits(2u * i) >> 8u) + 1.0) * 5.9604645e-8;
    let u2 = f32(bits(2u * i + 1u) >> 8u) * 5.9604645e-8;
    out[i] = sqrt(-2.0 * log_(u1)) * cos_(6.2831855 * u2);
}
