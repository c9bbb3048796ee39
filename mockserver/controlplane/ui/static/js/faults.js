// Fault rules of a tenant: the list (with how often each saw and fired), a form to add one, remove.

import { api, operations } from "./api.js";
import { button, card, empty, fill, h, pageHeader, toast } from "./dom.js";
import { operationSelect } from "./journal.js";

const ERRORS = [
  [429, "429 all_replicas_busy (Retry-After 1)"],
  [500, "500 internal_error"],
  [503, "503 service_unavailable (Retry-After 1)"],
  [502, "502 bad_gateway"],
  [504, "504 gateway_timeout"],
  [400, "400 invalid_request_error"],
  [401, "401 invalid_api_key"],
  [403, "403 forbidden"],
  [404, "404 not_found"],
];
const NETWORK = [
  ["reset", "reset: TCP RST before any byte"],
  ["truncate", "truncate: headers, then part of the body"],
  ["cut", "cut: a stream stops after N fragments or bytes"],
  ["stall", "stall: nothing is sent for a while"],
];
const EFFECTS = [["error", "HTTP error"], ["network", "Network fault"], ["job_error", "Job fails"], ["latency", "Latency only"]];

export function effectText(rule) {
  const parts = [];
  if (rule.error) {
    parts.push(`HTTP ${rule.error.status} ${rule.error.code}`);
    if (rule.error.retry_after !== null && rule.error.retry_after !== undefined) parts.push(`Retry-After ${rule.error.retry_after}`);
  }
  if (rule.network) {
    const n = rule.network;
    const where = n.fragments !== null && n.fragments !== undefined ? ` after ${n.fragments} fragment(s)`
      : n.bytes !== null && n.bytes !== undefined ? ` after ${n.bytes} bytes` : "";
    parts.push(`network ${n.kind}${where}${n.seconds ? ` for ${n.seconds} s` : ""}`);
  }
  if (rule.job_error) parts.push(`job fails: “${rule.job_error}”`);
  if (rule.latency) parts.push(`+${rule.latency} s latency`);
  return parts.join(" · ");
}

function firing(rule) {
  const times = rule.times === null || rule.times === undefined ? "every call" : `${rule.times} call${rule.times > 1 ? "s" : ""}`;
  const after = rule.after ? ` after ${rule.after}` : "";
  const chance = rule.probability !== undefined ? ` · p=${rule.probability}` : "";
  return `${times}${after}${chance}`;
}

export default function faultsPage(root, ctx) {
  const tenant = ctx.tenant;
  let effect = "error";
  const tbody = h("tbody");
  const listBox = h("div", { class: "table-wrap" });
  const count = h("span", { class: "muted" });

  const operation = h("select", { id: "fault-operation", "aria-label": "Operation" });
  const status = h("select", { id: "fault-status" }, ERRORS.map(([code, label]) => h("option", { value: String(code) }, label)));
  const message = h("input", { id: "fault-message", placeholder: "default for the status" });
  const network = h("select", { id: "fault-network" }, NETWORK.map(([kind, label]) => h("option", { value: kind }, label)));
  const fragments = h("input", { type: "number", min: "0", id: "fault-fragments", placeholder: "—" });
  const stallSeconds = h("input", { type: "number", min: "0", step: "0.1", id: "fault-seconds", placeholder: "—" });
  const jobError = h("input", { id: "fault-job-error", value: "the render failed (injected)" });
  const latency = h("input", { type: "number", min: "0", step: "0.1", id: "fault-latency", placeholder: "0" });
  const times = h("input", { type: "number", min: "1", value: "1", id: "fault-times" });
  const every = h("input", { type: "checkbox", id: "fault-every" });
  const after = h("input", { type: "number", min: "0", value: "0", id: "fault-after" });
  const formError = h("div");
  const effectButtons = h("div", { class: "segmented", id: "fault-effect" });
  const effectFields = h("div", { class: "form-row" });

  function field(label, control, hint, grow = false) {
    return h("label", { class: `field ${grow ? "grow" : ""}` }, h("span", null, label), control, hint ? h("small", null, hint) : null);
  }

  function renderEffect() {
    fill(effectButtons, EFFECTS.map(([value, label]) => h("button", { type: "button", class: value === effect ? "active" : "",
      dataset: { effect: value }, onclick: () => { effect = value; renderEffect(); } }, label)));
    const fields = {
      error: [field("Status", status, null, true), field("Message", message, "optional: the status's usual message", true)],
      network: [field("Kind", network, null, true), field("After fragments", fragments, "cut / stall"),
        field("Stall seconds", stallSeconds, "stall only")],
      job_error: [field("Job error message", jobError, "the job ends failed with it", true)],
      latency: [],
    }[effect];
    fill(effectFields, fields, field("Extra latency (s)", latency, "before the handler runs"));
  }
  every.addEventListener("change", () => { times.disabled = every.checked; });

  const form = h("form", { id: "fault-form", onsubmit: (event) => { event.preventDefault(); submit(); } },
    h("div", { class: "form-row" }, field("Operation", operation, null, true),
      h("div", { class: "field" }, h("span", null, "Effect"), effectButtons)),
    effectFields,
    h("div", { class: "form-row" },
      field("Fires on", times, "calls, then it is spent"),
      h("label", { class: "check" }, every, "every call"),
      field("Let through first", after, "calls before it fires")),
    h("div", { class: "form-row" }, h("div", { class: "actions" },
      button("Add rule", null, { kind: "primary", type: "submit" }), formError)));

  fill(root,
    pageHeader("Faults", `Deterministic fault rules of tenant “${tenant}”: they answer in the provider's own error envelope.`,
      count, button("Remove all", async () => {
        await api("faults", { method: "DELETE", tenant });
        await refresh();
      }, { kind: "danger", iconName: "trash" })),
    h("div", { class: "stack" },
      card("Rules", "Each counts the calls to its operation; the oldest due rule fires.", listBox),
      card("Add a rule", "Sent as POST /_emulator/faults; the emulator validates it.", h("div", { class: "card-body" }, form))));
  renderEffect();

  operations().then((grouped) => {
    fill(operation, [...operationSelect(grouped).children]);
    operation.value = ctx.params.operation || "createVideo";
  }).catch((e) => toast(e.message, true));

  function ruleBody() {
    const rule = { operation_id: operation.value, after: Number(after.value || 0), times: every.checked ? null : Number(times.value || 1) };
    if (latency.value) rule.latency = Number(latency.value);
    if (effect === "error") {
      rule.error = { status: Number(status.value) };
      if (message.value.trim()) rule.error.message = message.value.trim();
    } else if (effect === "network") {
      rule.network = { kind: network.value };
      if (fragments.value !== "") rule.network.fragments = Number(fragments.value);
      if (stallSeconds.value !== "") rule.network.seconds = Number(stallSeconds.value);
    } else if (effect === "job_error") {
      rule.job_error = jobError.value;
    }
    return rule;
  }

  async function submit() {
    fill(formError);
    try {
      const added = await api("faults", { method: "POST", tenant, body: ruleBody() });
      toast(`Added ${added.rules.map((r) => r.id).join(", ")}`);
      await refresh();
    } catch (error) {
      fill(formError, h("div", { class: "form-error", id: "fault-error" }, error.message));
    }
  }

  async function refresh() {
    const data = await api("faults", { tenant });
    count.textContent = `${data.rules.length} rule${data.rules.length === 1 ? "" : "s"}`;
    if (!data.rules.length) {
      fill(listBox, empty("faults", "No fault rules", "Every call runs normally. Add a rule below to make one fail."));
      return;
    }
    fill(tbody, data.rules.map((rule) => h("tr", { dataset: { rule: rule.id } },
      h("td", { class: "mono" }, rule.id),
      h("td", { class: "mono" }, rule.operation_id),
      h("td", null, effectText(rule)),
      h("td", { class: "muted" }, firing(rule)),
      h("td", { class: "num mono" }, `${rule.seen} / ${rule.fired}`),
      h("td", { class: "num" }, button("Remove", async () => {
        await api(`faults/${encodeURIComponent(rule.id)}`, { method: "DELETE", tenant });
        await refresh();
      }, { kind: "danger", small: true })))));
    if (!listBox.contains(tbody)) {
      fill(listBox, h("table", { class: "data", id: "fault-table" }, h("thead", null, h("tr", null,
        h("th", null, "Rule"), h("th", null, "Operation"), h("th", null, "Effect"), h("th", null, "Fires on"),
        h("th", { class: "num" }, "Seen / fired"), h("th"))), tbody));
    }
  }

  return { refresh, interval: 2000 };
}
