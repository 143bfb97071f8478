// The gallery: one card per model in models.json (name, versions, size, signature).

const fmtShape = (shape) => `(${shape.map((d) => d ?? "None").join(", ")}${shape.length === 1 ? "," : ""})`;
const fmtSize = (n) => n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

/** Models whose input is one 8x8 digit image: 64 values, or 8x8x1. */
export function digitModels(catalog) {
  const out = [];
  for (const m of catalog?.models ?? []) {
    const v = m.versions[0];
    const shape = v.inputs.length === 1 ? v.inputs[0].shape.slice(1).join("x") : "";
    if (["64", "8x8", "8x8x1"].includes(shape)) out.push({ name: m.name, version: v.version, url: v.url });
  }
  return out;
}

function card(model, digits) {
  const latest = model.versions[0];
  const sig = (list) => list.map((t) => `${t.name}: ${t.dtype} ${fmtShape(t.shape)}`).join("\n");
  const actions = el("div", { class: "row wrap" },
    el("a", { class: "button", href: latest.url, download: `${model.name}-${latest.version}.safetensors` }, "Download"),
    digits ? el("a", { class: "button", href: `#draw`, "data-model": latest.url }, "Draw a digit") : null);
  return el("article", { class: "card model-card", "data-name": model.name },
    el("h3", {}, el("span", {}, model.name), el("span", { class: "badge" }, `v${latest.version}`)),
    el("dl", {},
      el("dt", {}, "input"), el("dd", {}, sig(latest.inputs)),
      el("dt", {}, "output"), el("dd", {}, sig(latest.outputs)),
      el("dt", {}, "size"), el("dd", {}, `${fmtSize(latest.size)} · ${latest.params.toLocaleString()} params`)),
    model.versions.length > 1
      ? el("p", { class: "versions" }, `versions: ${model.versions.map((v) => v.version).join(", ")}`) : null,
    actions);
}

export function renderGallery(list, pill, catalog) {
  pill.textContent = catalog.server ? "live from the server" : "static site";
  list.replaceChildren();
  if (!catalog.models.length) {
    list.append(el("p", { class: "muted" }, catalog.server
      ? "No models yet: put one in models/{name}/{version}/model.safetensors, or train one in the Train tab and send it here."
      : "No models in this site. Train one in the Train tab."));
    return;
  }
  const digitURLs = new Set(digitModels(catalog).map((m) => m.url));
  for (const m of catalog.models) list.append(card(m, digitURLs.has(m.versions[0].url)));
}
