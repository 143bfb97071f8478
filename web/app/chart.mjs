// Small canvas plots: a per-epoch line chart (loss on the left axis, accuracy 0..1 on
// the right) and a 2-D decision-boundary map. Sized to the canvas's CSS box and the
// device pixel ratio on every draw, so they stay sharp at phone widths.

export const COLORS = { loss: "#e4572e", accuracy: "#3355dd", val_accuracy: "#1a8a5a", c0: [228, 87, 46], c1: [51, 85, 221] };
// axis text on white at >= 4.5:1 (WCAG AA): darker shades of the series colours
const TEXT = { loss: "#b5390f", accuracy: "#2a47c2", muted: "#515a6b" };

function fit(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(200, canvas.clientWidth || canvas.width), h = Math.round(w * canvas.height / canvas.width);
  if (canvas._w !== w) {
    canvas._w = w;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(canvas.width / w, 0, 0, canvas.height / h, 0, 0);
  return { ctx, w, h };
}

export class LineChart {
  constructor(canvas, legend, series) {
    this.canvas = canvas;
    this.series = series;  // [{key, label, axis: "left" | "right"}]
    this.rows = [];
    this.xMax = 1;
    legend.replaceChildren(...series.map((s) => {
      const span = document.createElement("span");
      span.style.setProperty("--c", COLORS[s.key]);
      span.textContent = s.label;
      return span;
    }));
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  reset(xMax) {
    this.rows = [];
    this.xMax = Math.max(1, xMax);
    this.draw();
  }

  push(row) {
    this.rows.push(row);
    this.draw();
  }

  draw() {
    const { ctx, w, h } = fit(this.canvas);
    const pad = { l: 44, r: 40, t: 10, b: 26 };
    const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
    const losses = this.rows.map((r) => r.loss).filter((v) => v !== null && Number.isFinite(v));
    const lossMax = Math.max(0.1, ...losses) * 1.1;
    const X = (x) => pad.l + pw * x / this.xMax;
    const Y = { left: (v) => pad.t + ph * (1 - v / lossMax), right: (v) => pad.t + ph * (1 - v) };
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = pad.t + ph * i / 4;
      ctx.strokeStyle = "#e9ecf2";
      ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(pad.l + pw, y); ctx.stroke();
      ctx.fillStyle = TEXT.loss;
      ctx.textAlign = "right";
      if (losses.length) ctx.fillText((lossMax * (1 - i / 4)).toPrecision(2), pad.l - 6, y + 4);  // no scale before data
      ctx.fillStyle = TEXT.accuracy;
      ctx.textAlign = "left";
      ctx.fillText(`${100 - 25 * i}%`, pad.l + pw + 6, y + 4);
    }
    ctx.fillStyle = TEXT.muted;
    ctx.textAlign = "center";
    for (const x of [0, this.xMax]) ctx.fillText(String(x), X(x), h - 8);
    ctx.fillText("epoch", pad.l + pw / 2, h - 8);
    if (!this.rows.length) ctx.fillText("press Train: loss and accuracy appear here, epoch by epoch", pad.l + pw / 2, pad.t + ph / 2);
    for (const s of this.series) {
      const pts = this.rows.filter((r) => r[s.key] !== null && r[s.key] !== undefined && Number.isFinite(r[s.key]));
      ctx.strokeStyle = ctx.fillStyle = COLORS[s.key];
      ctx.lineWidth = 2;
      ctx.beginPath();
      pts.forEach((r, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, X(r.epoch), Y[s.axis](r[s.key])));
      ctx.stroke();
      if (pts.length) {
        const r = pts[pts.length - 1];
        ctx.beginPath(); ctx.arc(X(r.epoch), Y[s.axis](r[s.key]), 3, 0, 2 * Math.PI); ctx.fill();
      }
    }
    this.canvas.dataset.points = String(this.rows.length);
  }
}

/** Probabilities of class 1 on a square grid (rows from the top) under labelled points. */
export function drawBoundary(canvas, grid, n, points, labels, extent = 1.5) {
  const { ctx, w, h } = fit(canvas);
  ctx.clearRect(0, 0, w, h);
  if (grid) {
    const img = new ImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const p = grid[i];
      const c = COLORS.c0.map((a, k) => a + (COLORS.c1[k] - a) * p);
      img.data.set([...c.map((v) => 255 - (255 - v) * 0.35), 255], i * 4);
    }
    const tmp = new OffscreenCanvas(n, n);
    tmp.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(tmp, 0, 0, w, h);
  } else {
    ctx.fillStyle = "#f5f6f9";
    ctx.fillRect(0, 0, w, h);
    if (!points?.length) {  // the empty state says what will be here
      ctx.fillStyle = TEXT.muted;
      ctx.font = "12px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText("the classes the model draws", w / 2, h / 2 - 8);
      ctx.fillText("over the plane appear here", w / 2, h / 2 + 10);
    }
  }
  points?.forEach(([x, y], i) => {
    ctx.fillStyle = `rgb(${(labels[i] ? COLORS.c1 : COLORS.c0).join(",")})`;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc((x + extent) / (2 * extent) * w, (extent - y) / (2 * extent) * h, 3.2, 0, 2 * Math.PI);
    ctx.fill(); ctx.stroke();
  });
}
