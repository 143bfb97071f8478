// The browser half of the WebGPU adapter (core/webtensor/backends/gpu/webgpu_device.py):
// a recorder over one GPUDevice that holds the pending command encoder and builds
// descriptors on the JS side, so each adapter call is one crossing of Pyodide's FFI.
// Shipped inside the wheel; the adapter reads this text and evaluates it in the page
// (pyodide.code.run_js), taking the `recorder` function below. No other exports.

export function recorder(device) {
  const KIND = { u: "uniform", r: "read-only-storage", w: "storage" };
  const USAGE = { storage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
                  uniform: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST };
  const MAP = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
  const layouts = new Map();
  const staging = new Map();
  // Bind groups by (layout, buffers, storage offsets): pooled buffers recur every
  // training step, so most dispatches reuse one. Uniforms take a dynamic offset, so the
  // parameter slot a dispatch uses is not part of the key.
  const groups = new Map();
  const ids = new WeakMap();
  let nextId = 1;
  const idOf = (o) => { let i = ids.get(o); if (!i) { i = nextId++; ids.set(o, i); } return i; };
  let enc = null, pass = null;
  const encoder = () => (enc ??= device.createCommandEncoder());
  const endPass = () => { if (pass) { pass.end(); pass = null; } return encoder(); };
  const layoutFor = (kinds) => {
    let l = layouts.get(kinds);
    if (!l) {
      const bgl = device.createBindGroupLayout({ entries: [...kinds].map((c, i) => (
        { binding: i, visibility: GPUShaderStage.COMPUTE, buffer: { type: KIND[c], hasDynamicOffset: c === "u" } })) });
      l = { bgl, pl: device.createPipelineLayout({ bindGroupLayouts: [bgl] }) };
      layouts.set(kinds, l);
    }
    return l;
  };
  const self = {
    info() {
      const a = device.adapterInfo ?? {};
      const limits = {};
      for (const k in device.limits) limits[k] = device.limits[k];
      return { name: [a.vendor, a.architecture, a.description].filter(Boolean).join(" ") || "WebGPU",
               fallback: Boolean(a.isFallbackAdapter) || /swiftshader/i.test(a.architecture ?? ""),
               limits, features: [...device.features] };
    },
    createBuffer: (size, usage) => device.createBuffer({ size, usage: USAGE[usage] }),
    write(buf, offset, pybuf) {
      const view = pybuf.getBuffer("u8");
      try { device.queue.writeBuffer(buf, offset, view.data); } finally { view.release(); }
    },
    // resolves to the pipeline, or rejects with the WGSL compiler's messages
    async pipeline(code, entry, kinds, label) {
      const { bgl, pl } = layoutFor(kinds);
      const module = device.createShaderModule({ code, label });
      try {
        const pipe = await device.createComputePipelineAsync({ layout: pl, label, compute: { module, entryPoint: entry } });
        return [pipe, bgl, kinds];
      } catch (e) {
        const info = await module.getCompilationInfo();
        const msgs = info.messages.map((m) => `${m.type} at line ${m.lineNum}:${m.linePos}: ${m.message}`);
        throw new Error(msgs.length ? msgs.join("\n") : String(e.message ?? e));
      }
    },
    pipelineNow(code, entry, kinds, label) {
      const { bgl, pl } = layoutFor(kinds);
      const module = device.createShaderModule({ code, label });
      return [device.createComputePipeline({ layout: pl, label, compute: { module, entryPoint: entry } }), bgl, kinds];
    },
    dispatch(pipe, x, y, z, ...flat) {
      const [pipeline, bgl, kinds] = pipe;
      const offsets = [];
      let key = idOf(bgl);
      for (let i = 0; i < flat.length; i += 3) {
        const dynamic = kinds[i / 3] === "u";
        if (dynamic) offsets.push(flat[i + 1]);
        key += `|${idOf(flat[i])}:${dynamic ? 0 : flat[i + 1]}:${flat[i + 2]}`;
      }
      let group = groups.get(key);
      if (!group) {
        if (groups.size >= 4096) groups.clear();
        const entries = [];
        for (let i = 0; i < flat.length; i += 3) {
          const offset = kinds[i / 3] === "u" ? 0 : flat[i + 1];
          entries.push({ binding: i / 3, resource: { buffer: flat[i], offset, size: flat[i + 2] } });
        }
        group = device.createBindGroup({ layout: bgl, entries });
        groups.set(key, group);
      }
      if (!pass) pass = encoder().beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group, offsets);
      pass.dispatchWorkgroups(x, y, z);
    },
    destroy(buf) {
      groups.clear();  // cached groups may name it
      buf.destroy();
    },
    copy: (src, so, dst, dof, size) => endPass().copyBufferToBuffer(src, so, dst, dof, size),
    submit() {
      if (!enc) return;
      const e = endPass();
      enc = null;
      device.queue.submit([e.finish()]);
    },
    async read(buf, offset, size) {
      const cap = 2 ** Math.max(8, Math.ceil(Math.log2(Math.max(size, 1))));
      const st = staging.get(cap) ?? device.createBuffer({ size: cap, usage: MAP });
      staging.delete(cap);
      endPass().copyBufferToBuffer(buf, offset, st, 0, size);
      self.submit();
      await st.mapAsync(GPUMapMode.READ, 0, size);
      const out = new Uint8Array(st.getMappedRange(0, size).slice(0));
      st.unmap();
      staging.set(cap, st);
      return out;
    },
  };
  return self;
}
