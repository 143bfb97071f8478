// Draw a digit: a pointer-driven pad (mouse, touch, pen), the drawing reduced to the
// digits dataset's 8x8 grid, and the model's ten probabilities, live.
//
// The digits set (UCI optdigits) was made from 32x32 binary bitmaps, each 4x4 block
// counted into 0..16. Its pen strokes are thick: a "1" inks about as many of the 1024
// pixels as an "8" does (~310, scikit-learn's load_digits). So the pad's recorded strokes
// are redrawn into 32x32, scaled to 32 px high (at most 32 wide), with the pen width that
// inks that many pixels, and shifted so the ink's centre of mass is the grid's centre;
// then threshold, count per 4x4 block, divide by 16. At the pad's own thin pen a clear
// "1" filled one column of blocks and the MLP read it as a "3".

import { digitModels } from "./gallery.mjs";

const $ = (id) => document.getElementById(id);
const TARGET_INK = 310;  // mean inked pixels of a 32x32 optdigits bitmap, any class

/** The strokes (pad coordinates) drawn into 32x32 at pen `width`: 0/1 per pixel. */
function rasterize(strokes, place, width) {
  const ctx = new OffscreenCanvas(32, 32).getContext("2d", { willReadFrequently: true });
  ctx.strokeStyle = "#000";
  ctx.lineWidth = width;
  ctx.lineCap = ctx.lineJoin = "round";
  for (const stroke of strokes) {
    const pts = stroke.map(place);
    if (pts.length === 1) pts.push([pts[0][0] + 0.01, pts[0][1]]);  // a dot still inks a pen's disc
    ctx.beginPath();
    pts.forEach(([u, v], i) => (i ? ctx.lineTo(u, v) : ctx.moveTo(u, v)));
    ctx.stroke();
  }
  const px = ctx.getImageData(0, 0, 32, 32).data, out = new Uint8Array(1024);
  for (let i = 0; i < 1024; i++) out[i] = px[i * 4 + 3] >= 128 ? 1 : 0;
  return out;
}

/** Strokes to a 32x32 bitmap as optdigits made them: size, pen width and centre normalised. */
export function normalizedBitmap(strokes) {
  const pts = strokes.flat();
  if (!pts.length) return null;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), y0 = Math.min(...ys);
  const bw = Math.max(...xs) - x0, bh = Math.max(...ys) - y0, long = Math.max(bw, bh);
  const placer = (width, dx = 0, dy = 0) => {
    const scale = long ? (32 - width) / long : 0;
    return ([x, y]) => [16 + dx + (x - x0 - bw / 2) * scale, 16 + dy + (y - y0 - bh / 2) * scale];
  };
  const inked = (bits) => bits.reduce((a, v) => a + v, 0);
  let lo = 1, hi = 14;
  for (let i = 0; i < 8; i++) {  // bisect the pen width on the inked count
    const mid = (lo + hi) / 2;
    if (inked(rasterize(strokes, placer(mid), mid)) < TARGET_INK) lo = mid; else hi = mid;
  }
  const width = (lo + hi) / 2, bits = rasterize(strokes, placer(width), width);
  let m = 0, mx = 0, my = 0;
  bits.forEach((v, i) => { m += v; mx += v * (i % 32); my += v * Math.floor(i / 32); });
  return m ? rasterize(strokes, placer(width, 15.5 - mx / m, 15.5 - my / m), width) : bits;
}

/** 64 floats in [0, 1] (4x4-block counts / 16) from the pad's strokes, or null when it is blank. */
export function digitFeatures(pad) {
  const bits = normalizedBitmap(pad.strokes ?? []);
  if (!bits) return null;
  const out = new Float32Array(64);
  bits.forEach((v, i) => { if (v) out[((i >> 5) >> 2) * 8 + ((i & 31) >> 2)] += 1 / 16; });
  return out;
}

/** The first test-set image of each digit (data/digits_split.bin, demos/demo_data.py's format). */
async function sampleDigits() {
  const resp = await fetch("data/digits_split.bin");
  if (!resp.ok) throw new Error(`data/digits_split.bin: HTTP ${resp.status}`);
  const buf = await resp.arrayBuffer();
  const [nTrain, nTest] = new Int32Array(buf, 0, 2);
  const xOff = 8 + nTrain * 65 * 4, yOff = xOff + nTest * 64 * 4;
  const labels = new Int32Array(buf, yOff, nTest), out = new Map();
  labels.forEach((d, i) => { if (!out.has(d)) out.set(d, new Float32Array(buf, xOff + i * 256, 64).slice()); });
  return out;
}

function paintSample(pad, x) {
  const ctx = pad.getContext("2d"), cell = pad.width / 8;
  for (let i = 0; i < 64; i++) {
    ctx.fillStyle = `rgba(27, 32, 48, ${x[i]})`;
    ctx.fillRect((i % 8) * cell, Math.floor(i / 8) * cell, cell, cell);
  }
}

function drawPreview(canvas, features) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(8, 8);
  for (let i = 0; i < 64; i++) {
    const v = 255 - Math.round((features?.[i] ?? 0) * 255);
    img.data.set([v, v, v, 255], i * 4);
  }
  const tmp = new OffscreenCanvas(8, 8);
  tmp.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}

/** Pointer drawing on a canvas; `onInk()` after each change, `clear()` to wipe. */
function makePad(pad, onInk) {
  const ctx = pad.getContext("2d", { willReadFrequently: true });
  let last = null;
  pad.strokes = [];  // what digitFeatures redraws at the dataset's pen width
  const pos = (e) => {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  };
  const line = (a, b) => {
    ctx.strokeStyle = "#1b2030";
    ctx.lineWidth = pad.width / 13;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...a);
    ctx.lineTo(...b);
    ctx.stroke();
  };
  pad.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    try { pad.setPointerCapture(e.pointerId); } catch { /* a pointer already gone: draw without capture */ }
    last = pos(e);
    pad.strokes.push([last]);
    line(last, last);
    onInk();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!last) return;
    const events = e.getCoalescedEvents?.() ?? [e];
    for (const ev of events.length ? events : [e]) {
      const p = pos(ev);
      line(last, p);
      pad.strokes.at(-1).push(p);
      last = p;
    }
    onInk();
  });
  const end = () => { last = null; };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  return { clear() { ctx.clearRect(0, 0, pad.width, pad.height); pad.strokes = []; onInk(); } };
}

function makeBars(list) {
  list.replaceChildren();
  const rows = [];
  for (let d = 0; d < 10; d++) {
    const li = document.createElement("li");
    li.innerHTML = `<span>${d}</span><span class="track"><span class="fill"></span></span><span class="pct">0%</span>`;
    li.setAttribute("aria-label", `${d}: 0 percent`);
    list.append(li);
    rows.push(li);
  }
  return (probs) => {
    const best = probs ? probs.indexOf(Math.max(...probs)) : -1;
    rows.forEach((li, d) => {
      const p = probs ? probs[d] : 0;
      li.querySelector(".fill").style.width = `${(p * 100).toFixed(1)}%`;
      li.querySelector(".pct").textContent = `${Math.round(p * 100)}%`;
      li.setAttribute("aria-label", `${d}: ${Math.round(p * 100)} percent`);
      li.classList.toggle("best", d === best);
    });
  };
}

export function setupDraw(app, catalogReady) {
  const pad = $("pad"), select = $("draw-model"), status = $("draw-status");
  const showBars = makeBars($("bars"));
  const handles = new Map();   // model URL (or "page:N") -> handle
  let busy = false, again = false, announce = 0;

  const options = (catalog) => {
    const keep = select.value;
    const inPage = [...select.options].filter((o) => o.value.startsWith("page:"));
    select.replaceChildren(...digitModels(catalog).map((m) => new Option(`${m.name} v${m.version}`, m.url)), ...inPage);
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
    if (!select.options.length) status.textContent = "No digits model here yet: train one on Digits in the Train tab.";
  };
  app.listeners.add(options);
  catalogReady.then((c) => {
    if (!c) return;
    options(c);
    prefetch(select.value);
  });

  // The first model's file downloads while Python boots (boot takes seconds, the file is
  // small): after boot, Python's fetch of it revalidates the HTTP cache's copy (a 304).
  const prefetched = new Set();
  function prefetch(url) {
    if (!url || url.startsWith("page:") || prefetched.has(url)) return;
    prefetched.add(url);
    fetch(url).then((r) => r.arrayBuffer()).catch(() => {});  // a failure shows when the model loads
  }

  async function handleFor(value) {
    if (handles.has(value)) return handles.get(value);
    status.textContent = "loading the model…";
    const info = await app.call("browser", "load", new URL(value, location.href).href);
    handles.set(value, info.handle);
    status.textContent = "";
    return info.handle;
  }

  let sample = null;  // a test-set digit's 64 features, while the pad shows it

  async function classify() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        const x = sample ?? digitFeatures(pad);
        drawPreview($("preview"), x);
        if (!x || !select.value) { showBars(null); $("digit").textContent = "–"; $("confidence").textContent = ""; continue; }
        await app.ready;
        const probs = await app.call("browser", "predict", await handleFor(select.value), x, true);
        const best = probs.indexOf(Math.max(...probs));
        showBars(probs);
        $("digit").textContent = String(best);
        $("confidence").textContent = `looks like a ${best} (${(probs[best] * 100).toFixed(0)}%)`;
        clearTimeout(announce);  // the screen reader hears the result once the drawing rests
        announce = setTimeout(() => { $("draw-announce").textContent = `Looks like a ${best}.`; }, 700);
        pad.dataset.prediction = String(best);
        pad.dataset.predictions = String(Number(pad.dataset.predictions ?? 0) + 1);
      } while (again);
    } catch (e) {
      status.textContent = e.message;
      status.classList.add("error");
    } finally {
      busy = false;
    }
  }

  const drawing = makePad(pad, () => { sample = null; $("sample-digit").value = ""; requestAnimationFrame(classify); });
  $("clear").addEventListener("click", () => { drawing.clear(); delete pad.dataset.prediction; });
  let digits = null;
  $("sample-digit").addEventListener("change", async () => {  // the keyboard's way to try the model
    const want = $("sample-digit").value;
    if (want === "") return;
    try {
      digits ??= await sampleDigits();
      const x = digits.get(Number(want));
      drawing.clear();
      paintSample(pad, x);
      $("sample-digit").value = want;
      sample = x;
      classify();
    } catch (e) {
      status.textContent = `no sample digits: ${e.message}`;
    }
  });
  select.addEventListener("change", classify);
  document.addEventListener("click", (e) => {
    const link = e.target.closest("a[data-model]");
    if (link) select.value = link.dataset.model;
  });
  showBars(null);
  drawPreview($("preview"), null);

  /** A model trained in the page (Train tab) becomes a choice here. */
  app.useInDraw = (info) => {
    const value = `page:${info.handle}`;
    handles.set(value, info.handle);
    select.append(new Option(`${info.name} (trained in this page)`, value));
    select.value = value;
    status.textContent = "";
    location.hash = "#draw";
  };
}
