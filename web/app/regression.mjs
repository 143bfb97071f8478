// The linear-regression lesson: points, the line y = W x + b, and GradientTape steps
// (webapp.Regression) run a few per animation frame so the line visibly moves.

const $ = (id) => document.getElementById(id);
const X_RANGE = [-1.25, 1.25];
const STEPS_PER_FRAME = 2, MAX_STEPS = 300;
const LR_RANGE = [0.001, 2];  // the input's min and max

export function setupRegression(app) {
  const canvas = $("reg-plot");
  let xs = [], ys = [], model = null, fit = { W: 0, b: 0 }, animating = false, seed = 0;

  const yRange = () => {
    const lo = Math.min(-1, ...ys), hi = Math.max(1, ...ys);
    const m = (hi - lo) * 0.12;
    return [lo - m, hi + m];
  };

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || canvas.width, h = Math.round(w * 320 / 420);
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(canvas.width / w, 0, 0, canvas.height / h, 0, 0);
    const [y0, y1] = yRange();
    const X = (x) => (x - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0]) * w;
    const Y = (y) => (y1 - y) / (y1 - y0) * h;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#fafbfd";
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = "#d5dae3";
    ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(X(0), 0); ctx.lineTo(X(0), h); ctx.moveTo(0, Y(0)); ctx.lineTo(w, Y(0)); ctx.stroke();
    ctx.fillStyle = "#3355dd";
    for (let i = 0; i < xs.length; i++) { ctx.beginPath(); ctx.arc(X(xs[i]), Y(ys[i]), 4, 0, 2 * Math.PI); ctx.fill(); }
    ctx.strokeStyle = "#e4572e";
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.moveTo(0, Y(fit.W * X_RANGE[0] + fit.b));
    ctx.lineTo(w, Y(fit.W * X_RANGE[1] + fit.b));
    ctx.stroke();
    ctx.fillStyle = "#5b6476";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(`y = ${fit.W.toFixed(3)} x + ${fit.b.toFixed(3)}`, 10, 18);
  }

  function show(r) {
    fit = r;
    $("reg-w").textContent = r.W.toFixed(4);
    $("reg-b").textContent = r.b.toFixed(4);
    $("reg-loss").textContent = r.loss === undefined ? "–" : r.loss.toFixed(5);
    $("reg-steps").textContent = String(r.step ?? 0);
    canvas.dataset.steps = String(r.step ?? 0);
    draw();
  }

  async function fresh() {
    await app.ready;
    app.regression = { xs, ys };
    const lr = Number($("reg-lr").value);
    if (!(lr >= LR_RANGE[0] && lr <= LR_RANGE[1])) {  // NaN included
      note(`The learning rate must be between ${LR_RANGE[0]} and ${LR_RANGE[1]}; ${$("reg-lr").value || "an empty box"} is not used.`);
      $("reg-lr").setAttribute("aria-invalid", "true");
      app.release(model);
      model = null;  // nothing steps with a refused rate
      return false;
    }
    $("reg-lr").removeAttribute("aria-invalid");
    note("");
    app.release(model);
    model = null;
    model = await app.call("webapp", "Regression", xs, ys, lr);
    show({ W: 0, b: 0, step: 0 });
    return true;
  }

  async function newPoints() {
    await app.ready;
    const data = await app.call("webapp", "sample_line", 24, 3.0, 2.0, 0.3, seed++);
    xs = data.x; ys = data.y;
    await fresh();
  }

  const note = (text) => { $("reg-status").textContent = text; $("reg-status").classList.toggle("error", Boolean(text)); };

  async function run(n) {
    if (!model && !(await fresh())) return false;
    const r = await app.call(model, "run", n);
    if (![r.W, r.b, r.loss].every(Number.isFinite) || r.loss > 1e6) {
      show({ ...r, W: Number.isFinite(r.W) ? r.W : 0, b: Number.isFinite(r.b) ? r.b : 0 });
      note(`The fit diverges: after ${r.step} steps the loss is ${Number.isFinite(r.loss) ? r.loss.toExponential(1) : "not a number"}. ` +
           `The learning rate ${$("reg-lr").value} is too large for these points: lower it (0.1 works) and the fit starts again.`);
      return false;
    }
    show(r);
    return true;
  }

  async function animate() {
    if (animating) return;
    animating = true;
    $("reg-fit").disabled = true;
    try {
      let prev = Infinity;
      for (let i = 0; i < MAX_STEPS / STEPS_PER_FRAME; i++) {
        if (!(await run(STEPS_PER_FRAME))) break;
        await new Promise(requestAnimationFrame);
        if (Math.abs(prev - fit.loss) < 1e-7) break;
        prev = fit.loss;
      }
    } finally {
      animating = false;
      $("reg-fit").disabled = false;
    }
  }

  canvas.addEventListener("click", async (e) => {
    const r = canvas.getBoundingClientRect();
    const [y0, y1] = yRange();
    xs = [...xs, X_RANGE[0] + (e.clientX - r.left) / r.width * (X_RANGE[1] - X_RANGE[0])];
    ys = [...ys, y1 - (e.clientY - r.top) / r.height * (y1 - y0)];
    app.regression = { xs, ys };
    if (!model) { await fresh(); return; }
    show(await app.call(model, "set_points", xs, ys));  // the line stays; Fit continues from it
    if (fit.step > 0) animate();
  });
  $("reg-fit").addEventListener("click", animate);
  $("reg-step").addEventListener("click", () => run(1));
  $("reg-reset").addEventListener("click", newPoints);
  $("reg-lr").addEventListener("change", fresh);
  new ResizeObserver(draw).observe(canvas);
  draw();
  app.ready?.then(async () => {
    $("reg-code").textContent = await app.call("webapp", "Regression.source");
    await newPoints();
  }, () => {});
}
