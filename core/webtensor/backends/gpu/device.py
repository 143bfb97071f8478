"""The device adapter interface: the narrow waist between the GPU dispatcher and a WebGPU.

The dispatcher (``backends/gpu/__init__.py``) owns everything about tensors: shaders, the
pipeline cache, the buffer pool, parameter packing and command batching. An adapter
only moves bytes and commands to one WebGPU implementation, so it is small and has no
tensor logic. Two adapters implement it:

- ``wgpu_device.py``: wgpu-py natively (Vulkan / Metal / D3D12; lavapipe on CPU hosts);
- ``webgpu_device.py``: ``navigator.gpu`` in the page, through Pyodide's JS FFI.

Rules every adapter follows (they are what makes a JS implementation natural):
- Data crosses as ``bytes``/``memoryview``; never one call per element.
- Commands are *recorded* into one pending command encoder (compute passes and
  copies) and reach the GPU only on ``submit()``. ``read``/``read_async`` submit
  whatever is pending first, so a read always sees every earlier dispatch.
- ``write_buffer`` is a queue write: it runs on the queue *before* commands still
  pending in the encoder. The dispatcher therefore never writes a buffer that a
  pending command uses (freed buffers are recycled only after the next submit).
- Buffers, pipelines and the device are opaque objects to the dispatcher.
- Errors: no usable adapter -> ``NoAdapterError``; WGSL that does not compile ->
  ``ShaderError`` carrying the compiler's message (the dispatcher adds the file).

An adapter module exposes ``open_device(power_preference="high-performance") -> Device``.
"""

from __future__ import annotations

from typing import Protocol, Sequence


class NoAdapterError(RuntimeError):
    """No WebGPU adapter/device could be obtained (no driver, or WebGPU is missing)."""


class ShaderError(RuntimeError):
    """A WGSL module or compute pipeline failed to compile; the message is the compiler's."""


LIMITS = (
    "maxBufferSize",
    "maxStorageBufferBindingSize",
    "maxComputeWorkgroupsPerDimension",
    "maxComputeInvocationsPerWorkgroup",
    "maxComputeWorkgroupSizeX",
    "maxComputeWorkgroupSizeY",
    "maxComputeWorkgroupStorageSize",
    "maxStorageBuffersPerShaderStage",
    "minUniformBufferOffsetAlignment",
    "minStorageBufferOffsetAlignment",
    "maxUniformBufferBindingSize",
)
"""The limits the dispatcher reads, by their WebGPU IDL (camelCase) names."""

BINDING_KINDS = {"u": "uniform", "r": "read-only storage", "w": "read-write storage"}
"""Letters of a pipeline ``layout`` string, one per binding of ``@group(0)`` in order."""


class Device(Protocol):
    adapter_name: str  # human-readable adapter, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
    backend_type: str  # "Vulkan", "Metal", "WebGPU", ...
    is_fallback: bool  # a software adapter (lavapipe, SwiftShader)
    limits: dict  # LIMITS name -> int, as granted to the device (adapter maximums)
    features: frozenset  # WebGPU feature names enabled on the device, e.g. "shader-f16"

    def create_buffer(self, size: int, usage: str) -> object:
        """A zero-initialised buffer of ``size`` bytes (multiple of 4).

        usage "storage": STORAGE | COPY_SRC | COPY_DST; "uniform": UNIFORM | COPY_DST."""

    def destroy_buffer(self, buf) -> None:
        """Release the buffer's memory now (it is no longer used by any command)."""

    def write_buffer(self, buf, offset: int, data) -> None:
        """Queue-write ``data`` (bytes-like, length a multiple of 4) at byte ``offset``."""

    def create_pipeline(self, code: str, entry: str, layout: str, label: str) -> object:
        """A compute pipeline for ``entry`` in WGSL ``code`` with an explicit bind group
        layout: ``layout[i]`` in BINDING_KINDS is binding i of group 0. Raises ShaderError."""

    def dispatch(self, pipeline, bindings: Sequence, groups: tuple) -> None:
        """Record one dispatch: ``bindings[i] = (buf, offset, size)`` for binding i (bytes),
        ``groups = (x, y, z)`` workgroup counts, each <= maxComputeWorkgroupsPerDimension."""

    def copy(self, src, src_offset: int, dst, dst_offset: int, size: int) -> None:
        """Record a buffer-to-buffer copy (multiples of 4 bytes) after earlier dispatches."""

    def submit(self) -> None:
        """Finish the pending encoder (if any) and submit it to the queue."""

    def read(self, buf, offset: int, size: int) -> memoryview:
        """Submit pending work, wait, and return ``size`` bytes of ``buf`` from ``offset``."""

    async def read_async(self, buf, offset: int, size: int) -> memoryview:
        """``read`` without blocking the thread (awaits the buffer map)."""
