// Train in the page: the form builds a Trainer (web/app/py/webapp.py) in the Python
// Worker, whose run() reports progress per step and per epoch by messages; Stop is a
// message too, answered between two steps, so the page keeps drawing while it trains.
// The trained model can be downloaded, sent to the server as a new version, or (digits)
// used by the Draw tab.

import { LineChart, drawBoundary } from "./chart.mjs";

const $ = (id) => document.getElementById(id);
const GRID = 40;  // webapp.GRID

export function setupTrain(app) {
  const form = $("train-form"), status = $("train-status"), bar = $("train-bar");
  const chart = new LineChart($("chart"), $("legend"), [
    { key: "loss", label: "loss", axis: "left" },
    { key: "accuracy", label: "train accuracy", axis: "right" },
    { key: "val_accuracy", label: "held-out accuracy", axis: "right" },
  ]);
  let trainer = null, running = false, digitsRaw = null, data = null;

  const showDataset = () => {
    const toy = $("dataset").value !== "digits";
    $("boundary-card").hidden = !toy;
    $("use-draw").hidden = toy;
    if ($("export-name").dataset.touched !== "1") $("export-name").value = $("dataset").value;
    if (!toy && $("hidden").value.trim() === "16, 16") $("hidden").value = "64";
  };
  $("dataset").addEventListener("change", showDataset);
  $("export-name").addEventListener("input", () => { $("export-name").dataset.touched = "1"; });
  showDataset();
  drawBoundary($("boundary"), null, GRID, null, null);
  chart.reset(Number($("epochs").value));

  app.ready?.then(() => {
    status.textContent = "ready";
  }, (e) => { status.textContent = `webtensor could not start here: ${e.message}`; });

  async function boundary() {
    if (!trainer || !data?.points) return;
    drawBoundary($("boundary"), await app.call(trainer, "boundary"), GRID, data.points, data.labels);
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (running || !form.reportValidity()) return;
    running = true;
    $("train-start").disabled = true;
    $("train-stop").disabled = false;
    for (const id of ["download", "send", "use-draw"]) $(id).disabled = true;
    $("export-status").textContent = "";
    try {
      await app.ready;
      const spec = {
        dataset: $("dataset").value,
        hidden: $("hidden").value.split(",").map((s) => Number(s.trim())).filter((n) => n > 0),
        activation: $("activation").value,
        epochs: Number($("epochs").value),
        learning_rate: Number($("lr").value),
        batch_size: Number($("batch").value),
      };
      if (spec.dataset === "digits" && !digitsRaw) {
        status.textContent = "fetching the digits data…";
        const resp = await fetch("data/digits_split.bin");
        if (!resp.ok) throw new Error(`data/digits_split.bin: HTTP ${resp.status}`);
        digitsRaw = new Uint8Array(await resp.arrayBuffer());
      }
      status.textContent = "building the model…";
      app.release(trainer);
      trainer = null;
      trainer = await app.call("webapp", "Trainer", spec, spec.dataset === "digits" ? digitsRaw : null);
      data = await app.call(trainer, "data");
      chart.reset(spec.epochs);
      app.trainHistory = chart.rows;
      bar.value = 0;
      await boundary();
      const t0 = performance.now();
      const onProgress = (p) => {
        bar.value = p.progress;
        if (p.kind === "epoch") {
          chart.push(p);
          status.textContent = p.epoch === 0
            ? "training…"
            : `epoch ${p.epoch}/${spec.epochs} · loss ${p.loss.toFixed(4)} · accuracy ${(p.accuracy * 100).toFixed(1)}% · held-out ${(p.val_accuracy * 100).toFixed(1)}%`;
          if (p.epoch > 0) boundary();
        } else {
          status.textContent = `epoch ${p.epoch}/${spec.epochs} · loss ${p.loss.toFixed(4)}`;
        }
      };
      const result = await app.call(trainer, "run", onProgress);
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      status.textContent = `${result.stopped ? "stopped" : "done"} after ${result.epochs} epochs in ${secs} s · held-out accuracy ${(result.val_accuracy * 100).toFixed(1)}%`;
      form.dataset.done = String(Number(form.dataset.done ?? 0) + 1);
      $("download").disabled = false;
      $("send").disabled = !app.catalog?.upload;
      $("send").title = app.catalog?.upload ? "" : "only with the server (make demo)";
      $("use-draw").disabled = false;
    } catch (err) {
      status.textContent = err.message;
      status.classList.add("error");
    } finally {
      running = false;
      $("train-start").disabled = false;
      $("train-stop").disabled = true;
    }
  });

  $("train-stop").addEventListener("click", () => { if (trainer) app.call(trainer, "stop"); });

  const modelBytes = async () => app.call(trainer, "save_bytes");
  const exportName = () => {
    const name = $("export-name").value.trim();
    if (!$("export-name").checkValidity() || !name) throw new Error("name: letters, digits, '_', '-', '.'");
    return name;
  };

  $("download").addEventListener("click", async () => {
    try {
      const bytes = await modelBytes();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
      a.download = `${exportName()}.safetensors`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      $("export-status").textContent = `${a.download}: ${bytes.length.toLocaleString()} bytes`;
    } catch (e) {
      $("export-status").textContent = e.message;
    }
  });

  $("send").addEventListener("click", async () => {
    try {
      const name = exportName();
      const resp = await fetch(`models/${encodeURIComponent(name)}`, {
        method: "POST", body: await modelBytes(), headers: { "Content-Type": "application/octet-stream" },
      });
      const body = await resp.json();
      if (!resp.ok) throw new Error(body.error ?? `HTTP ${resp.status}`);
      $("export-status").textContent = `the server now serves ${body.name} version ${body.version}`;
      $("export-status").dataset.version = body.version;
      await app.refreshModels();
    } catch (e) {
      $("export-status").textContent = `not sent: ${e.message}`;
    }
  });

  $("use-draw").addEventListener("click", async () => {
    app.useInDraw?.(await app.call(trainer, "adopt"));
  });
}
