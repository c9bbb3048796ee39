// Small DOM helpers: elements are built with h() (text is never parsed as HTML), plus formatting.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value" || key === "checked" || key === "muted" || key === "selected") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  add(el, children);
  return el;
}

export function add(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function fill(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

const ICONS = {
  tenants: "M4 6h16M4 12h16M4 18h10",
  jobs: "M4 5h16v14H4zM10 9l5 3-5 3z",
  journal: "M5 4h14v16H5zM8 8h8M8 12h8M8 16h5",
  faults: "M12 3l9 16H3zM12 10v4M12 17h.01",
  clock: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2",
  webhooks: "M7 17a3 3 0 1 1 3-5l3-5M17 17h-6M17 17a3 3 0 1 0 0-.01M14 7a3 3 0 1 1 2 5",
  report: "M9 12l2 2 4-4M6 3h9l4 4v14H6z",
  film: "M4 5h16v14H4zM4 9h16M4 15h16M8 5v4M16 5v4M8 15v4M16 15v4",
  play: "M8 5l11 7-11 7z",
  trash: "M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3",
  refresh: "M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7",
  upload: "M12 16V4M7 9l5-5 5 5M5 20h14",
  external: "M14 4h6v6M20 4l-9 9M18 14v6H4V6h6",
  inbox: "M4 13l3-8h10l3 8v6H4zM4 13h5l1 2h4l1-2h5",
  spinner: "M12 3a9 9 0 1 0 9 9",
};

export function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "1.8");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[name] || "");
  svg.append(path);
  return svg;
}

const STATUS_TONE = {
  completed: "ok", succeeded: "ok", PASS: "ok", delivered: "ok",
  in_progress: "run", processing: "run", running: "run", rendering: "run",
  queued: "", pending: "", waiting: "warn",
  failed: "bad", FAIL: "bad", failing: "bad",
  WARN: "warn", XFAIL: "xf", NA: "", UNTESTED: "",
};

export function statusBadge(status, label) {
  const tone = STATUS_TONE[status] ?? "";
  return h("span", { class: `badge ${tone}`, dataset: { status } }, label ?? String(status).replace("_", " "));
}

export function httpStatus(status) {
  if (status === null || status === undefined) return h("span", { class: "http none" }, "—");
  return h("span", { class: `http s${String(status)[0]}` }, status);
}

export function providerTag(provider) {
  return h("span", { class: `tag ${provider || ""}` }, provider === "heygen" ? "HeyGen" : provider === "boson" ? "Boson" : provider || "?");
}

export function empty(iconName, title, text, extra) {
  return h("div", { class: "empty" }, icon(iconName), h("h3", null, title), text ? h("p", null, text) : null, extra);
}

export function pageHeader(title, subtitle, ...actions) {
  return h("div", { class: "page-header" },
    h("div", null, h("h1", null, title), subtitle ? h("p", null, subtitle) : null),
    h("div", { class: "actions" }, actions));
}

export function card(title, sub, body, ...actions) {
  return h("section", { class: "card" },
    h("div", { class: "card-header" }, h("div", null, h("h2", null, title), sub ? h("div", { class: "sub" }, sub) : null),
      actions.length ? h("div", { class: "row" }, actions) : null),
    body);
}

export function button(label, onclick, { kind = "", iconName = null, small = false, title = null, type = "button" } = {}) {
  return h("button", { type, class: `btn ${kind} ${small ? "small" : ""}`.trim(), onclick, title },
    iconName ? icon(iconName) : null, label);
}

export function toast(message, bad = false) {
  const box = document.getElementById("toasts");
  const el = h("div", { class: `toast ${bad ? "bad" : ""}` }, message);
  box.append(el);
  setTimeout(() => el.remove(), bad ? 6000 : 3000);
}

// ---- formatting ----------------------------------------------------------------------------------

const pad = (n, w = 2) => String(n).padStart(w, "0");

export function clockTime(unixSeconds, { ms = false } = {}) {
  if (unixSeconds === null || unixSeconds === undefined) return "—";
  const d = new Date(unixSeconds * 1000);
  const base = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return ms ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

export function dateTime(unixSeconds) {
  if (unixSeconds === null || unixSeconds === undefined) return "—";
  const d = new Date(unixSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clockTime(unixSeconds)}`;
}

export function mediaTime(seconds) {
  if (seconds === null || seconds === undefined) return null;
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${pad(whole % 60)}`;
}

export function millis(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 10 ? `${ms.toFixed(1)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function bytes(n) {
  if (n === null || n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function seconds(s) {
  if (s === null || s === undefined) return "—";
  return s < 60 ? `${s.toFixed(s < 10 ? 2 : 1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

const SECRET_KEY = /(api[_-]?key|secret|token|password|authorization|signature)/i;

/** A copy of a JSON value with credential-looking fields shown as *** (the server redacts headers already). */
export function redact(value) {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v ? "***" : redact(v)]));
  }
  return value;
}

export function redactQuery(query) {
  if (!query) return "";
  const params = new URLSearchParams(query);
  for (const key of [...params.keys()]) if (SECRET_KEY.test(key)) params.set(key, "***");
  return params.toString();
}

export function pretty(text) {
  if (text === null || text === undefined || text === "") return null;
  if (typeof text !== "string") return JSON.stringify(redact(text), null, 2);
  try {
    return JSON.stringify(redact(JSON.parse(text)), null, 2);
  } catch {
    return text;
  }
}
