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
  bootProgress: [],        // the loader's progress events ({stage, loaded, total, fraction})
  bootEndMs: null,         // performance.now() when boot ended
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

// What the header says while Python starts, by the loader's stage (no jargon; details on hover).
const STAGE_TEXT = { manifest: "Getting ready…", runtime: "Loading Python into this page…",
                     wheel: "Loading webtensor…", backend: "Checking your graphics card…", ready: "Ready" };

const mb = (n) => (n / 1e6).toFixed(1);

/** The sticky header's height, so a deep link's heading is not hidden under it. */
function headerHeight() {
  document.documentElement.style.setProperty("--header-h", `${document.querySelector(".topbar").offsetHeight}px`);
}

function showTab() {
  const want = location.hash.slice(1);
  const tab = TABS.includes(want) ? want : "gallery";
  for (const t of TABS) {
    $(t).hidden = t !== tab;
    $(`tab-${t}`).setAttribute("aria-selected", String(t === tab));
    $(`tab-${t}`).tabIndex = t === tab ? 0 : -1;
  }
  document.title = `${$(`tab-${tab}`).textContent} · webtensor`;
  window.scrollTo(0, 0);
  requestAnimationFrame(() => window.scrollTo(0, 0));  // after the browser's own jump to the #fragment
  document.dispatchEvent(new CustomEvent("tabshown", { detail: tab }));
}

async function boot() {
  const backend = new URLSearchParams(location.search).get("backend") ?? "auto";
  const bar = $("boot-bar"), text = $("boot-text");
  app.py = startPython();
  const wt = await app.py.boot({
    backend, files: PYTHON_FILES,
    onProgress: (p) => {
      app.bootProgress.push({ stage: p.stage, loaded: p.loaded, total: p.total, fraction: p.fraction });
      bar.value = p.fraction;
      text.textContent = p.stage === "download" ? `Loading Python into this page… ${mb(p.loaded)} / ${mb(p.total)} MB`
        : STAGE_TEXT[p.stage] ?? p.message;
      text.title = p.message;
    },
  });
  app.wt = wt;
  app.bootEndMs = performance.now();
  $("runtime").classList.add("ready");
  text.innerHTML = "";
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = wt.backend === "gpu" ? "your GPU (WebGPU)" : wt.backend === "wasm" ? "your CPU (WebAssembly)" : wt.backend;
  badge.title = `${wt.backend}: ${wt.reason}`;
  text.title = "";
  text.append("Running on ", badge);
  $("backend-note").textContent = `backend: ${wt.backend} (${wt.reason})`;
  return app;
}

/** The tab list's keys (WAI-ARIA tabs): arrows, Home and End move between tabs. */
function tabKeys(e) {
  const i = TABS.indexOf(e.target.id.replace(/^tab-/, ""));
  if (i < 0) return;
  const j = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
  if (j === undefined) return;
  e.preventDefault();
  const next = TABS[(j + TABS.length) % TABS.length];
  location.hash = `#${next}`;
  $(`tab-${next}`).focus();
}

function main() {
  headerHeight();
  new ResizeObserver(headerHeight).observe(document.querySelector(".topbar"));
  document.querySelector("[role=tablist]").addEventListener("keydown", tabKeys);
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
    $("boot-text").textContent = "Python could not start in this page";
    $("boot-text").title = e.message;
    for (const id of ["draw-status", "train-status", "reg-status"]) {  // each panel says so too
      $(id).textContent = `webtensor could not start here: ${e.message}`;
      $(id).classList.add("error");
    }
    throw e;
  });
  app.ready.catch(() => {});
  setupDraw(app, models);
  setupTrain(app);
  setupRegression(app);
}

main();
