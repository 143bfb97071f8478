// Fused Adam step (Keras 3's update, in keras/optimizers/adam.py's float order):
// m' = (g - m) c1 + m, v' = (g^2 - v) c2 + v, w' = w - m' alpha / (sqrt(v') + eps).
// One pass over the four inputs instead of nine elementwise kernels per variable.
struct Params { n: u32, alpha: f32, c1: f32, c2: f32, eps: f32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> m: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> w_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> m_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> v_out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    for (var i = flat_id(wid, nwg, lid); i < p.n; i += grid_stride(nwg)) { element(i); }
}

fn element(i: u32) {
    let gi = g[i];
    let m2 = (gi - m[i]) * p.c1 + m[i];
    let v2 = (gi * gi - v[i]) * p.c2 + v[i];
    m_out[i] = m2;
    v_out[i] = v2;
    w_out[i] = w[i] - m2 * p.alpha / (sqrt(v2) + p.eps);
}
