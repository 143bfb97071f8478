// Fused bias add + activation (Dense / Conv2D epilogue): out[i] = act(x[i] + bias[i % c]).
// {{ACT}} is the activation of v.
struct Params { n: u32, c: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn act(v: f32) -> f32 { return {{ACT}}; }

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { out[i] = act(x[i] + bias[i % p.c]); }
}
