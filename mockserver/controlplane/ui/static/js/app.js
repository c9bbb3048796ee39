// The dashboard shell: sidebar, hash routing (#/page?tenant=...&...), and each page's refresh loop.

import { api } from "./api.js";
import { fill, h, icon } from "./dom.js";
import clockPage from "./clock.js";
import faultsPage from "./faults.js";
import jobsPage from "./jobs.js";
import journalPage from "./journal.js";
import reportPage from "./report.js";
import tenantsPage from "./tenants.js";
import webhooksPage from "./webhooks.js";

const PAGES = [
  { id: "tenants", label: "Tenants", page: tenantsPage },
  { id: "jobs", label: "Jobs", page: jobsPage },
  { id: "journal", label: "Journal", page: journalPage },
  { id: "faults", label: "Faults", page: faultsPage },
  { id: "clock", label: "Clock", page: clockPage },
  { id: "webhooks", label: "Webhooks", page: webhooksPage },
  { id: "report", label: "Conformance", page: reportPage },
];
const DEFAULT_PAGE = "jobs";
const TENANT_KEY = "avatar-emulator.tenant";

const state = { id: null, tenant: null, params: {}, instance: null, generation: 0 };
const view = document.getElementById("view");
const tenantInput = document.getElementById("tenant");

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const id = PAGES.some((p) => p.id === path) ? path : DEFAULT_PAGE;
  return { id, params: Object.fromEntries(new URLSearchParams(query)) };
}

function hashFor(id, params) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  return `#/${id}?${query}`;
}

/** Go to a page (its params replace the current ones; the tenant stays unless given). */
export function navigate(id, params = {}, { replace = false } = {}) {
  const target = hashFor(id, { tenant: state.tenant || "default", ...params });
  if (replace) history.replaceState(null, "", target);
  else if (location.hash !== target) history.pushState(null, "", target);
  route();
}

function renderNav() {
  const nav = document.getElementById("nav");
  fill(nav, PAGES.map((p) => h("a", {
    href: hashFor(p.id, { tenant: state.tenant }),
    class: p.id === state.id ? "active" : "",
    dataset: { page: p.id },
  }, icon(p.id), p.label)));
}

function route() {
  const { id, params } = parseHash();
  const tenant = params.tenant || localStorage.getItem(TENANT_KEY) || "default";
  if (!params.tenant) {
    history.replaceState(null, "", hashFor(id, { ...params, tenant }));
  }
  localStorage.setItem(TENANT_KEY, tenant);
  if (document.activeElement !== tenantInput) tenantInput.value = tenant;
  const same = state.id === id && state.tenant === tenant && state.instance;
  state.params = { ...params, tenant };
  if (same) {
    state.instance.update?.(state.params);
    return;
  }
  state.instance?.destroy?.();
  state.id = id;
  state.tenant = tenant;
  renderNav();
  fill(view);
  const entry = PAGES.find((p) => p.id === id);
  document.title = `${entry.label} · ${tenant} · avatar-emulator`;
  const ctx = {
    tenant,
    params: state.params,
    setParams: (changes) => {
      const next = { ...state.params, ...changes };
      history.replaceState(null, "", hashFor(id, next));
      state.params = next;
    },
    navigate,
  };
  state.instance = entry.page(view, ctx);
  const generation = ++state.generation;
  refreshLoop(generation);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function refreshLoop(generation) {
  while (generation === state.generation) {
    const instance = state.instance;
    if (!instance || !instance.refresh) return;
    if (!document.hidden) {
      try {
        await instance.refresh();
        setHealth(true);
      } catch (error) {
        if (generation === state.generation) setHealth(false, error.message);
      }
    }
    await sleep(instance.interval ?? 1000);
  }
}

let healthText = "";

function setHealth(up, message) {
  const box = document.getElementById("health");
  box.classList.toggle("up", up);
  box.classList.toggle("down", !up);
  box.querySelector(".health-text").textContent = up ? healthText || "connected" : `unreachable: ${message}`;
}

async function pollHealth() {
  try {
    const [health, tenants] = await Promise.all([api("health"), api("tenants")]);
    healthText = `v${health.version} · pace ${health.pace}`;
    setHealth(true);
    const list = document.getElementById("tenant-list");
    fill(list, tenants.tenants.map((name) => h("option", { value: name })));
  } catch (error) {
    setHealth(false, error.message);
  }
  setTimeout(pollHealth, 5000);
}

tenantInput.addEventListener("change", () => {
  const tenant = tenantInput.value.trim() || "default";
  state.tenant = tenant;
  navigate(state.id || DEFAULT_PAGE, { tenant });
});
tenantInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") tenantInput.blur();
});
window.addEventListener("hashchange", route);
window.addEventListener("popstate", route);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) state.instance?.refresh?.().catch(() => {});
});

route();
pollHealth();
