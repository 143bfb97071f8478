"""The browser device adapter: ``gpu_device.Device`` over ``navigator.gpu`` in Pyodide.

The same dispatcher and WGSL as natively; only this file knows it runs in a page.
Each adapter call is one crossing of Pyodide's FFI into a small JS recorder (below),
which holds the pending command encoder and builds descriptors on the JS side, so a
dispatch costs one call however many bindings it has. Data moves as whole buffers:
writes hand JS a view of the Python buffer (no element-wise crossing), reads copy the
mapped range once into Python bytes.

Readback is a promise (``mapAsync``): ``read`` blocks on it with JSPI (``page.run_sync``);
``read_async`` awaits it and works in every browser with WebGPU.
"""
from __future__ import annotations

from .device import LIMITS, NoAdapterError, ShaderError

_RECORDER_JS = r"""
(device) => {
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
"""


def _recorder_factory():
    from pyodide.code import run_js

    return run_js(_RECORDER_JS)


class WebGPUDevice:
    """``gpu_device.Device`` over a browser ``GPUDevice`` (a JsProxy)."""

    backend_type = "WebGPU"

    def __init__(self, js_device):
        self._js = _recorder_factory()(js_device)
        info = self._js.info().to_py()
        self.adapter_name = info["name"]
        self.is_fallback = bool(info["fallback"])
        self.limits = {k: int(info["limits"][k]) for k in LIMITS if k in info["limits"]}
        self.features = frozenset(info["features"])
        self._dispatch, self._copy, self._submit = self._js.dispatch, self._js.copy, self._js.submit

    def create_buffer(self, size: int, usage: str):
        return self._js.createBuffer(size, usage)

    def destroy_buffer(self, buf) -> None:
        self._js.destroy(buf)

    def write_buffer(self, buf, offset: int, data) -> None:
        self._js.write(buf, offset, memoryview(data).cast("B"))

    def create_pipeline(self, code: str, entry: str, layout: str, label: str):
        from ... import page

        if not page.can_block():  # no JSPI: compile errors then surface in the console
            return self._js.pipelineNow(code, entry, layout, label)
        try:
            return page.run_sync(self._js.pipeline(code, entry, layout, label), "compiling a shader")
        except Exception as e:
            if type(e).__name__ != "JsException":
                raise
            raise ShaderError(f"{label}: {getattr(e, 'message', e)}") from None

    def dispatch(self, pipeline, bindings, groups) -> None:
        flat = [v for b in bindings for v in b]
        self._dispatch(pipeline, *groups, *flat)

    def copy(self, src, src_offset: int, dst, dst_offset: int, size: int) -> None:
        self._copy(src, src_offset, dst, dst_offset, size)

    def submit(self) -> None:
        self._submit()

    def read(self, buf, offset: int, size: int) -> memoryview:
        from ... import page

        return memoryview(page.run_sync(self._js.read(buf, offset, size)).to_bytes())

    async def read_async(self, buf, offset: int, size: int) -> memoryview:
        return memoryview((await self._js.read(buf, offset, size)).to_bytes())


def open_device(power_preference: str = "high-performance") -> WebGPUDevice:
    """Request an adapter and device from ``navigator.gpu`` (needs JSPI to wait on them);
    the loader normally does this in JS and passes its device to ``WebGPUDevice``."""
    from ... import page

    try:
        from js import navigator
    except ImportError:
        raise NoAdapterError("webgpu_device runs only in a page (Pyodide)") from None
    gpu = getattr(navigator, "gpu", None)
    if gpu is None:
        raise NoAdapterError("WebGPU is not available in this browser (navigator.gpu is missing)")
    from pyodide.ffi import to_js
    from js import Object

    adapter = page.run_sync(gpu.requestAdapter(to_js({"powerPreference": power_preference},
                                                     dict_converter=Object.fromEntries)),
                            "requesting a WebGPU adapter")
    if adapter is None:
        raise NoAdapterError("navigator.gpu.requestAdapter() returned no adapter")
    limits = {k: getattr(adapter.limits, k) for k in LIMITS if hasattr(adapter.limits, k)}
    desc = to_js({"requiredLimits": limits}, dict_converter=Object.fromEntries)
    return WebGPUDevice(page.run_sync(adapter.requestDevice(desc), "requesting a WebGPU device"))


def backend_factory(js_device):
    """A backend-registry factory: the GPU dispatcher over this browser device."""
    def make():
        from . import GPUBackend

        return GPUBackend(device=WebGPUDevice(js_device))

    return make
