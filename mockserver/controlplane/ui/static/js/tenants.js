// Tenants: what the emulator serves, and each tenant's jobs at a glance.

import { api } from "./api.js";
import { button, card, empty, fill, h, pageHeader, toast } from "./dom.js";

const COUNTED = 40;

export default function tenantsPage(root, ctx) {
  const stats = h("div", { class: "stats" });
  const tableBox = h("div", { class: "table-wrap" });

  fill(root,
    pageHeader("Tenants", "Each X-Emulator-Tenant gets its own jobs, faults, clock and journal."),
    h("div", { class: "stack" }, stats,
      card("Tenants", "Created on first use by a provider or control request.", tableBox)));

  function stat(label, value, small = false) {
    return h("div", { class: "stat" }, h("div", { class: "label" }, label), h("div", { class: `value ${small ? "small" : ""}` }, value));
  }

  async function act(what, call) {
    try {
      await call();
      toast(what);
      await refresh();
    } catch (error) {
      toast(error.message, true);
    }
  }

  async function refresh() {
    const [health, list] = await Promise.all([api("health"), api("tenants")]);
    const names = list.tenants.slice().sort();
    // Job counts for the first tenants only: a test suite may leave hundreds of tenants behind.
    const jobs = await Promise.all(names.map((name, i) => (i < COUNTED
      ? api("jobs", { tenant: name }).then((d) => d.jobs) : Promise.resolve(null))));
    const all = jobs.filter(Boolean).flat();
    fill(stats,
      stat("Version", health.version, true),
      stat("Providers", health.providers.map((p) => (p === "heygen" ? "HeyGen" : "Boson")).join(", "), true),
      stat("Default pace", health.pace, true),
      stat("Tenants", names.length),
      stat(names.length > COUNTED ? `Jobs (first ${COUNTED} tenants)` : "Jobs", all.length),
      stat("Rendering", all.filter((j) => !["completed", "failed"].includes(j.provider_status)).length));
    if (!names.length) {
      fill(tableBox, empty("tenants", "No tenants yet", "Send a request with X-Emulator-Tenant, or open a tenant in the picker."));
      return;
    }
    fill(tableBox, h("table", { class: "data", id: "tenant-table" },
      h("thead", null, h("tr", null, h("th", null, "Tenant"), h("th", { class: "num" }, "Jobs"),
        h("th", { class: "num" }, "Active"), h("th", { class: "num" }, "Completed"), h("th", { class: "num" }, "Failed"),
        h("th", { class: "num" }, ""))),
      h("tbody", null, names.map((name, i) => {
        const own = jobs[i];
        const n = (s) => (own ? own.filter((j) => j.provider_status === s).length : "—");
        const total = own ? own.length : "—";
        return h("tr", { class: `clickable ${name === ctx.tenant ? "selected" : ""}`, dataset: { tenant: name },
          onclick: () => ctx.navigate("jobs", { tenant: name }) },
        h("td", { class: "mono" }, name),
        h("td", { class: "num" }, total),
        h("td", { class: "num" }, own ? total - n("completed") - n("failed") : "—"),
        h("td", { class: "num" }, n("completed")),
        h("td", { class: "num" }, n("failed")),
        h("td", { class: "num", onclick: (event) => event.stopPropagation() }, h("div", { class: "row" },
          button("Journal", () => ctx.navigate("journal", { tenant: name }), { small: true }),
          button("Reset", () => act(`Reset ${name}`, () => api("reset", { method: "POST", tenant: name })),
            { small: true, title: "Forget its jobs, faults, clock and journal" }),
          button("Delete", () => act(`Deleted ${name}`, () => api(`tenants/${encodeURIComponent(name)}`, { method: "DELETE" })),
            { small: true, kind: "danger" }))));
      }))));
  }

  return { refresh, interval: 3000 };
}
