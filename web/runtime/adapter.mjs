// The WebGPU adapter question, asked before the WebGPU backend is imported: `auto` runs on a
// hardware adapter only (SwiftShader, a CPU fallback, runs WGSL far slower than the wasm
// kernels), so a page on a fallback adapter never fetches or parses the WebGPU backend.

/** {adapter, fallback} of the browser's high-performance adapter; null when there is none, or
 *  when it is a fallback adapter and `allowFallback` is false. */
export async function gpuAdapter(allowFallback = false) {
  if (!globalThis.navigator?.gpu) return null;
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const fallback = Boolean(info.isFallbackAdapter) || /swiftshader/i.test(info.architecture ?? "") || /swiftshader/i.test(info.description ?? "");
  return fallback && !allowFallback ? null : { adapter, fallback };
}
