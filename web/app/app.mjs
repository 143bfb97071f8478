// The web app: tabs, the gallery, and one webtensor runtime shared by every tab.
//
// The gallery needs no Python (it reads models.json, which the server answers live and
// a static build writes once), so it shows at once while the runtime boots. Python runs
// in a module Worker (python-worker.mjs): app.call(target, name, ...args) is a message.

import { startPython } from "./remote.mjs";
import { renderGallery } from "./gallery.mjs";
import { setupDraw } from "./draw.mjs";
import { setupTrain } from "./train.mjs";
import { setupRegression } from "./regression.mjs";

const $ = (id) => document.getElementById(id);
const TABS = ["gallery", "draw", "train", "regression", "embed"];
const PYTHON_FILES = ["demo_data.py", "webapp.py"];  // the app's Python, imported in the page

/** Shared state: the runtime once booted, the model list, whether a server is behind us. */
export const app = {
  wt: null,                // {backend, reason, jspi, adapterInfo} once booted
  py: null, catalog: null,
  ready: null,             // resolves to app once Python and webapp.py are loaded
  listeners: new Set(),    // called when the model list changes
  /** target: "webapp" | "browser" (webtensor.serving.browser) | a handle an earlier call returned */
  call: (target, name, ...args) => app.py.call(target, name, ...args),
  release: (handle) => app.py?.release(handle),
  async refreshModels() {
    const resp = await fetch("models.json", { cache: "no-store" });
    if (!resp.ok) throw new Error(`models.json: HTTP ${resp.status}`);
    app.catalog = await resp.json();
    for (const f of app.listeners) f(app.catalog);
    return app.catalog;
  },
};
window.webtensorApp = app;  // for the console and the browser tests

function showTab() {
  const want = location.hash.slice(1);
  const tab = TABS.includes(want) ? want : "gallery";
  for (const t of TABS) {
    $(t).hidden = t !== tab;
    $(`tab-${t}`).setAttribute("aria-selected", String(t === tab));
  }
  window.scrollTo(0, 0);
  document.dispatchEvent(new CustomEvent("tabshown", { detail: tab }));
}

async function boot() {
  const backend = new URLSearchParams(location.search).get("backend") ?? "auto";
  const bar = $("boot-bar"), text = $("boot-text");
  app.py = startPython();
  const wt = await app.py.boot({
    backend, files: PYTHON_FILES,
    onProgress: (p) => { bar.value = p.fraction; text.textContent = p.message; },
  });
  app.wt = wt;
  $("runtime").classList.add("ready");
  text.innerHTML = "";
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = wt.backend === "gpu" ? "WebGPU" : wt.backend === "wasm" ? "WebAssembly" : wt.backend;
  badge.title = wt.reason;
  text.append("running on ", badge);
  $("backend-note").textContent = `backend: ${wt.backend} (${wt.reason})`;
  return app;
}

function main() {
  window.addEventListener("hashchange", showTab);
  showTab();
  app.listeners.add((catalog) => renderGallery($("model-list"), $("source-pill"), catalog));
  const models = app.refreshModels().catch((e) => {
    $("model-list").innerHTML = "";
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = `Could not read the model list: ${e.message}`;
    $("model-list").append(p);
    return null;
  });
  app.ready = boot().catch((e) => {
    $("runtime").classList.add("failed");
    $("boot-text").textContent = e.message;
    throw e;
  });
  app.ready.catch(() => {});
  setupDraw(app, models);
  setupTrain(app);
  setupRegression(app);
}

main();
