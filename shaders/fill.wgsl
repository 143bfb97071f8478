// Creation kernels. fill: every element is the bit pattern `value`.
// arange: out[i] = T(i) * delta + start, computed in {{C}} (as numpy's arange * delta + start).
// value, start and delta are the bits of the compute type {{C}} ({{T}} is stored).
struct Params { n: u32, value: u32, start: u32, delta: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<{{T}}>;

@compute @workgroup_size(256)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { out[i] = {{T}}(bitcast<{{C}}>(p.value)); }
}

@compute @workgroup_size(256)
fn arange(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { out[i] = {{T}}({{C}}(i) * bitcast<{{C}}>(p.delta) + bitcast<{{C}}>(p.start)); }
}
