"""``tf.config``: which devices exist and where ops run."""

from __future__ import annotations

import collections
import types

from . import backends

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])


def list_physical_devices(device_type: str | None = None) -> list:
    """The CPU always; GPU:0 when a GPU backend can start here."""
    kinds = [device_type.upper()] if device_type else ["CPU", "GPU"]
    out = []
    if "CPU" in kinds:
        out.append(PhysicalDevice("/physical_device:CPU:0", "CPU"))
    if "GPU" in kinds and backends.available("gpu"):
        out.append(PhysicalDevice("/physical_device:GPU:0", "GPU"))
    return out


def list_logical_devices(device_type: str | None = None) -> list:
    return [
        LogicalDevice(d.name.replace("/physical_device:", "/device:"), d.device_type)
        for d in list_physical_devices(device_type)
    ]


def get_visible_devices(device_type: str | None = None) -> list:
    return list_physical_devices(device_type)


def set_visible_devices(devices, device_type: str | None = None) -> None:
    """Accepted for compatibility; choose devices with ``tf.device`` or WEBTENSOR_BACKEND."""


def run_functions_eagerly(run_eagerly: bool) -> None:
    """``tf.config.run_functions_eagerly``: tf.function calls run the Python function (debugging)."""
    from .function import trace

    trace.run_functions_eagerly(run_eagerly)


def functions_run_eagerly() -> bool:
    from .function import trace

    return trace.functions_run_eagerly()


def _get_device_details(device) -> dict:
    if device.device_type == "GPU":
        be = backends.get("gpu")
        return {"device_name": getattr(be, "adapter_name", "gpu")}
    return {"device_name": "cpu"}


def _set_memory_growth(device, enable: bool) -> None:
    """Accepted: buffers are pooled and returned when tensors die."""


def _get_memory_info(device: str) -> dict:
    """TF's ``{'current', 'peak'}`` bytes held by a device's tensors (the GPU's buffer pool)."""
    from .placement import backend_for_device

    be = backend_for_device(device)
    stats = getattr(be, "memory_info", None)
    if stats is None:
        raise ValueError(
            f"get_memory_info: device {device!r} keeps no memory statistics (the CPU's arrays are ordinary host memory)"
        )
    m = stats()
    return {"current": m["live_bytes"], "peak": m["peak_bytes"]}


def _counting_backend(device, op: str):
    from .placement import backend_for_device

    if device is None:
        be = backends.default()
    elif device in backends._FACTORIES:  # a backend by name: "numpy", "wasm", "gpu"
        be = backends.get(device)
    else:
        be = backend_for_device(device)
    if not hasattr(be, "kernel_count"):
        raise ValueError(f"{op}: backend {be.name!r} of device {device!r} keeps no kernel count")
    return be


def get_kernel_count(device: str | None = None) -> int:
    """Kernels this device's backend has run since the last reset (docs/tf-function.md):
    numpy primitive calls, wasm kernel calls, GPU compute dispatches. ``None``: the default
    backend; a device string ("/GPU:0") or a backend name ("wasm"). Counts are per backend
    instance and not thread-local."""
    return _counting_backend(device, "get_kernel_count").kernel_count


def reset_kernel_count(device: str | None = None) -> None:
    """Set the device's kernel count back to 0."""
    _counting_backend(device, "reset_kernel_count").kernel_count = 0


experimental = types.SimpleNamespace(
    get_kernel_count=get_kernel_count,
    reset_kernel_count=reset_kernel_count,
    get_device_details=_get_device_details,
    get_memory_info=_get_memory_info,
    set_memory_growth=_set_memory_growth,
    list_physical_devices=list_physical_devices,
    enable_op_determinism=lambda: None,
)
set_backend = backends.set_default
