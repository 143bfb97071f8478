"""The native device adapter: ``gpu_device.Device`` over wgpu-py (wgpu-native).

Everything wgpu-specific lives here. wgpu-py finds Vulkan, Metal or D3D12; on a host
without a GPU, Mesa's lavapipe (Debian ``mesa-vulkan-drivers``) is a Vulkan CPU adapter.
"""

from __future__ import annotations

from .device import LIMITS, NoAdapterError, ShaderError

_NO_ADAPTER = (
    "wgpu-py found no GPU adapter (no Vulkan/Metal/D3D12 driver). On Debian/Ubuntu "
    "install a Vulkan driver, e.g. `apt-get install mesa-vulkan-drivers` for the "
    "lavapipe CPU adapter; the CPU backend stays usable meanwhile"
)


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name)


def _request_adapter(power_preference: str):
    import wgpu

    return wgpu.gpu.request_adapter_sync(power_preference=power_preference)


def open_device(power_preference: str = "high-performance") -> "WgpuDevice":
    try:
        import wgpu  # noqa: F401
    except ImportError as e:
        raise NoAdapterError(f"the GPU backend needs wgpu-py natively: pip install 'webtensor[gpu]' ({e})") from None
    try:
        adapter = _request_adapter(power_preference)
    except Exception as e:  # wgpu raises when no backend/driver exists at all
        raise NoAdapterError(f"{_NO_ADAPTER} ({e})") from None
    if adapter is None:
        raise NoAdapterError(_NO_ADAPTER)
    return WgpuDevice(adapter)


class WgpuDevice:
    """One wgpu device and queue, with one pending command encoder."""

    def __init__(self, adapter):
        import wgpu

        self._wgpu = wgpu
        info = adapter.info
        self.adapter_name = info.get("device") or info.get("description") or "wgpu adapter"
        self.backend_type = info.get("backend_type", "")
        self.is_fallback = bool(getattr(adapter, "is_fallback_adapter", False) or info.get("adapter_type") == "CPU")
        want = {_kebab(k): adapter.limits[_kebab(k)] for k in LIMITS if _kebab(k) in adapter.limits}
        feats = [f for f in ("shader-f16",) if f in adapter.features]
        self._dev = adapter.request_device_sync(required_features=feats, required_limits=want, label="webtensor")
        lim = self._dev.limits
        self.limits = {k: int(lim[_kebab(k)]) for k in LIMITS if _kebab(k) in lim}
        self.features = frozenset(self._dev.features)
        self._queue = self._dev.queue
        self._enc = None
        self._pass = None
        self._layouts: dict = {}
        self._groups: dict = {}  # bind groups by (layout, buffers): pooled buffers recur every step
        self._staging: dict = {}
        U = wgpu.BufferUsage
        self._usage = {"storage": U.STORAGE | U.COPY_SRC | U.COPY_DST, "uniform": U.UNIFORM | U.COPY_DST}
        self._map_usage = U.MAP_READ | U.COPY_DST

    # -- buffers -------------------------------------------------------------------------
    def create_buffer(self, size: int, usage: str):
        return self._dev.create_buffer(size=size, usage=self._usage[usage])

    def destroy_buffer(self, buf) -> None:
        self._groups.clear()  # cached bind groups may name it (keys are object ids)
        buf.destroy()

    def write_buffer(self, buf, offset: int, data) -> None:
        self._queue.write_buffer(buf, offset, data)

    # -- pipelines -----------------------------------------------------------------------
    def _layout(self, layout: str):
        pl = self._layouts.get(layout)
        if pl is None:
            S, B = self._wgpu.ShaderStage, self._wgpu.BufferBindingType
            kind = {"u": B.uniform, "r": B.read_only_storage, "w": B.storage}
            # uniforms take a dynamic offset, so a bind group does not depend on which
            # parameter slot a dispatch uses and can be reused (see dispatch)
            entries = [
                {"binding": i, "visibility": S.COMPUTE, "buffer": {"type": kind[c], "has_dynamic_offset": c == "u"}}
                for i, c in enumerate(layout)
            ]
            bgl = self._dev.create_bind_group_layout(entries=entries)
            pl = self._layouts[layout] = (bgl, self._dev.create_pipeline_layout(bind_group_layouts=[bgl]))
        return pl

    def create_pipeline(self, code: str, entry: str, layout: str, label: str):
        bgl, pl = self._layout(layout)
        try:
            module = self._dev.create_shader_module(code=code, label=label)
            pipe = self._dev.create_compute_pipeline(
                layout=pl, compute={"module": module, "entry_point": entry}, label=label
            )
        except Exception as e:
            raise ShaderError(str(e).strip()) from None
        return (pipe, bgl, tuple(i for i, c in enumerate(layout) if c == "u"))

    # -- commands ------------------------------------------------------------------------
    def _compute_pass(self):
        if self._pass is None:
            if self._enc is None:
                self._enc = self._dev.create_command_encoder()
            self._pass = self._enc.begin_compute_pass()
        return self._pass

    def _end_pass(self):
        if self._pass is not None:
            self._pass.end()
            self._pass = None
        if self._enc is None:
            self._enc = self._dev.create_command_encoder()
        return self._enc

    def dispatch(self, pipeline, bindings, groups) -> None:
        pipe, bgl, uniforms = pipeline
        offsets = [bindings[i][1] for i in uniforms]
        key = (id(bgl),) + tuple((id(b), 0 if i in uniforms else o, n) for i, (b, o, n) in enumerate(bindings))
        bg = self._groups.get(key)
        if bg is None:
            if len(self._groups) >= 4096:
                self._groups.clear()
            bg = self._groups[key] = self._dev.create_bind_group(
                layout=bgl,
                entries=[
                    {"binding": i, "resource": {"buffer": b, "offset": 0 if i in uniforms else o, "size": n}}
                    for i, (b, o, n) in enumerate(bindings)
                ],
            )
        cp = self._compute_pass()
        cp.set_pipeline(pipe)
        cp.set_bind_group(0, bg, offsets)
        cp.dispatch_workgroups(*groups)

    def copy(self, src, src_offset: int, dst, dst_offset: int, size: int) -> None:
        self._end_pass().copy_buffer_to_buffer(src, src_offset, dst, dst_offset, size)

    def submit(self) -> None:
        if self._enc is None:
            return
        enc = self._end_pass()
        self._enc = None
        self._queue.submit([enc.finish()])

    # -- readback ------------------------------------------------------------------------
    def _stage(self, buf, offset: int, size: int):
        cap = 1 << max(8, (size - 1).bit_length())
        st = self._staging.pop(cap, None) or self._dev.create_buffer(size=cap, usage=self._map_usage)
        self._end_pass().copy_buffer_to_buffer(buf, offset, st, 0, size)
        self.submit()
        return st, cap

    def _unstage(self, st, cap: int, size: int) -> memoryview:
        data = st.read_mapped(0, size, copy=True)
        st.unmap()
        self._staging[cap] = st
        return memoryview(data).cast("B")

    def read(self, buf, offset: int, size: int) -> memoryview:
        st, cap = self._stage(buf, offset, size)
        st.map_sync(self._wgpu.MapMode.READ, 0, size)
        return self._unstage(st, cap, size)

    async def read_async(self, buf, offset: int, size: int) -> memoryview:
        st, cap = self._stage(buf, offset, size)
        await st.map_async(self._wgpu.MapMode.READ, 0, size)
        return self._unstage(st, cap, size)
