// The main thread's side of python-worker.mjs: calls become messages, results promises.
//
//   const py = startPython();
//   const info = await py.boot({ backend: "auto", files: [...], onProgress });
//   const trainer = await py.call("webapp", "Trainer", spec);     // a handle
//   await py.call(trainer, "run", (p) => chart.push(p));          // functions become callbacks
//   py.call(trainer, "stop");                                     // answered between steps
//
// Errors reject with one line a visitor can read (the traceback goes to the console).

import { readableError } from "./webtensor-model.mjs";

export function startPython() {
  const worker = new Worker(new URL("./python-worker.mjs", import.meta.url), { type: "module" });
  const pending = new Map(), callbacks = new Map();
  let nextId = 1, onProgress = null;

  worker.onmessage = ({ data }) => {
    if (data.progress) return onProgress?.(data.progress);
    if (data.callback) return callbacks.get(data.callback)?.(data.value);
    const p = pending.get(data.id);
    if (!p) return;
    pending.delete(data.id);
    if ("error" in data) {
      const err = readableError({ message: data.error, name: data.name });
      err.url = data.url;
      p.reject(err);
    } else p.resolve(data.result);
  };
  worker.onerror = (e) => {
    const err = new Error(`the Python worker failed to start: ${e.message ?? "a script error"}`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const send = (msg, transfer = []) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, ...msg }, transfer);
  });

  return {
    worker,
    boot({ onProgress: progress, ...opts }) {
      onProgress = progress;
      return send({ op: "boot", ...opts });
    },
    /** target: "webapp" | "browser" | a handle from an earlier call. */
    async call(target, name, ...args) {
      const ids = [];
      const encoded = args.map((a) => {
        if (typeof a !== "function") return a;
        const cb = nextId++;
        callbacks.set(cb, a);
        ids.push(cb);
        return { __callback__: cb };
      });
      try {
        return await send({ op: "call", target, name, args: encoded });
      } finally {
        for (const cb of ids) callbacks.delete(cb);
      }
    },
    release(handle) {
      if (handle?.__handle__) send({ op: "release", handle: handle.__handle__ }).catch(() => {});
    },
  };
}
