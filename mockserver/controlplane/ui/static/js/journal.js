// The journal: every provider request of the tenant, filters, a detail view, and assert_called checks.

import { api, operations } from "./api.js";
import {
  bytes, button, card, clockTime, dateTime, empty, fill, h, httpStatus, millis, pageHeader, pretty, redactQuery, toast,
} from "./dom.js";

const LIMIT = 300;
const COMMON_STATUSES = [200, 201, 204, 400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503, 504];

export function operationSelect(routes, { anyLabel = null, value = "" } = {}) {
  const select = h("select", null, anyLabel ? h("option", { value: "" }, anyLabel) : null,
    Object.entries(routes).map(([provider, list]) => h("optgroup", { label: provider === "heygen" ? "HeyGen" : "Boson" },
      list.map((route) => h("option", { value: route.operation_id }, `${route.operation_id}  ·  ${route.method} ${route.path}`)))));
  select.value = value;
  return select;
}

function markers(entry, near) {
  return h("div", { class: "markers" },
    entry.fault ? h("span", { class: "tag fault", title: `Fault rule ${entry.fault} fired on this call` }, `⚡ ${entry.fault}`) : null,
    entry.outcome !== "completed" ? h("span", { class: "tag outcome" }, entry.outcome.replace("_", " ")) : null,
    entry.problems.length ? h("span", { class: "tag problem", title: entry.problems.join("\n") },
      `${entry.problems.length} problem${entry.problems.length > 1 ? "s" : ""}`) : null,
    near ? h("span", { class: "tag near", title: near.join("\n") }, "near miss") : null);
}

function headersTable(headers) {
  const entries = Object.entries(headers || {});
  if (!entries.length) return h("div", { class: "faint" }, "none recorded");
  return h("table", { class: "kv" }, entries.map(([k, v]) => h("tr", null, h("td", null, k), h("td", null, v))));
}

function detailView(entry) {
  const query = redactQuery(entry.query);
  const requestBody = entry.request_json === null || entry.request_json === undefined ? null : pretty(entry.request_json);
  const responseBody = pretty(entry.response_text);
  const headerCount = (headers) => Object.keys(headers || {}).length;
  return [
    h("div", { class: "detail-section" },
      h("div", { class: "row" }, h("span", { class: "method" }, entry.method),
        h("span", { class: "mono", id: "detail-path" }, `${entry.path}${query ? `?${query}` : ""}`)),
      h("dl", { class: "props" },
        h("dt", null, "Operation"), h("dd", { class: "mono" }, entry.operation_id || "—"),
        h("dt", null, "Status"), h("dd", null, httpStatus(entry.status), " ", entry.outcome === "completed" ? ""
          : h("span", { class: "tag outcome" }, entry.outcome.replace("_", " "))),
        entry.fault ? [h("dt", null, "Fault"), h("dd", null, h("span", { class: "tag fault" }, `⚡ ${entry.fault}`),
          h("span", { class: "muted" }, " fired on this call"))] : null,
        entry.problems.length ? [h("dt", null, "Problems"), h("dd", null, entry.problems.join("; "))] : null,
        h("dt", null, "Latency"), h("dd", null, `${millis(entry.latency_ms)} to headers · ${millis(entry.duration_ms)} in all`),
        h("dt", null, "Response size"), h("dd", null, bytes(entry.response_bytes)),
        h("dt", null, "Request id"), h("dd", { class: "mono" }, entry.request_id),
        h("dt", null, "Arrived"), h("dd", null, `${dateTime(entry.wall)} (emulated ${clockTime(entry.clock)})`))),
    h("div", { class: "detail-section", id: "detail-response" }, h("h3", null, "Response body"),
      responseBody ? h("pre", { class: "code" }, responseBody)
        : h("div", { class: "faint" }, entry.response_bytes ? "media or a large body: not recorded" : "empty")),
    h("div", { class: "detail-section", id: "detail-request" }, h("h3", null, "Request body"),
      requestBody ? h("pre", { class: "code" }, requestBody)
        : h("div", { class: "faint" }, "not recorded: the journal keeps JSON bodies up to 64 KiB that the emulator read")),
    h("div", { class: "detail-section" },
      h("details", { open: true }, h("summary", null, h("h3", null, `Request headers (${headerCount(entry.request_headers)})`)),
        headersTable(entry.request_headers)),
      h("details", null, h("summary", null, h("h3", null, `Response headers (${headerCount(entry.response_headers)})`)),
        headersTable(entry.response_headers))),
  ];
}

export default function journalPage(root, ctx) {
  const tenant = ctx.tenant;
  let entries = [];
  let signature = "";
  let selectedSeq = ctx.params.seq ? Number(ctx.params.seq) : null;
  let nearMisses = new Map();
  let matched = new Set();

  const opFilter = h("select", { "aria-label": "Operation", id: "journal-operation" },
    h("option", { value: "" }, "All operations"));
  const statusFilter = h("select", { "aria-label": "Status", id: "journal-status" }, h("option", { value: "" }, "Any status"),
    COMMON_STATUSES.map((s) => h("option", { value: String(s) }, String(s))));
  statusFilter.value = ctx.params.status || "";
  const faultsOnly = h("input", { type: "checkbox", checked: ctx.params.faults === "1" });
  const onFilter = () => {
    ctx.setParams({ operation_id: opFilter.value, status: statusFilter.value, faults: faultsOnly.checked ? "1" : "" });
    signature = "";
    load().catch((e) => toast(e.message, true));
  };
  opFilter.addEventListener("change", onFilter);
  statusFilter.addEventListener("change", onFilter);
  faultsOnly.addEventListener("change", onFilter);

  const count = h("span", { class: "muted" });
  const tbody = h("tbody");
  const tableBox = h("div", { class: "table-wrap" });
  const detail = h("section", { class: "card", id: "journal-detail" });

  // assert_called, as a form: the same matching and the same explanation.
  const verifyOp = h("select", { "aria-label": "Operation to check" });
  const verifyTimes = h("input", { type: "number", min: "0", placeholder: "any", "aria-label": "Times" });
  const verifyWhere = h("textarea", { rows: "2", spellcheck: "false",
    placeholder: '{"status": 200, "request_json.model": "higgs-avatar"}' });
  const verdict = h("div", { id: "verdict", class: "verdict-box" });
  const verifyForm = h("form", { id: "verify-form", onsubmit: (event) => { event.preventDefault(); check(); } },
    h("div", { class: "form-row" },
      h("label", { class: "field grow" }, h("span", null, "Operation"), verifyOp),
      h("label", { class: "field" }, h("span", null, "Times"), verifyTimes, h("small", null, "empty: at least once"))),
    h("div", { class: "form-row" },
      h("label", { class: "field grow" }, h("span", null, "Where: dotted paths of the journal entry → wanted values"), verifyWhere)),
    h("div", { class: "form-row" }, h("div", { class: "actions" },
      button("Check", null, { kind: "primary", type: "submit" }),
      button("Clear", () => { nearMisses = new Map(); matched = new Set(); fill(verdict); signature = ""; renderTable(); },
        { kind: "ghost" }))),
    verdict);

  fill(root,
    pageHeader("Journal", `Provider requests of tenant “${tenant}”, newest first. Credentials show as ***.`, count,
      button("Clear journal", async () => {
        await api("journal", { method: "DELETE", tenant });
        selectedSeq = null;
        signature = "";
        await load();
      }, { kind: "danger", iconName: "trash" })),
    h("div", { class: "journal-layout" },
      h("div", { class: "stack" },
        h("section", { class: "card" },
          h("div", { class: "card-header" }, h("div", { class: "row" }, opFilter, statusFilter,
            h("label", { class: "row muted" }, faultsOnly, "Faults only"))),
          tableBox),
        card("Check calls", "Like assert_called: what matched, and the near misses of the same operation.",
          h("div", { class: "card-body" }, verifyForm))),
      detail));

  operations().then((grouped) => {
    fill(opFilter, h("option", { value: "" }, "All operations"), [...operationSelect(grouped).children]);
    opFilter.value = ctx.params.operation_id || "";
    fill(verifyOp, [...operationSelect(grouped).children]);
    verifyOp.value = "createVideo";
  }).catch((e) => toast(e.message, true));

  async function check() {
    let where = null;
    if (verifyWhere.value.trim()) {
      try {
        where = JSON.parse(verifyWhere.value);
      } catch (error) {
        fill(verdict, h("div", { class: "verdict bad" }, `Where is not JSON: ${error.message}`));
        return;
      }
    }
    const times = verifyTimes.value === "" ? null : Number(verifyTimes.value);
    try {
      const result = await api("journal/verify", { method: "POST", tenant,
        body: { operation_id: verifyOp.value, times, where } });
      nearMisses = new Map(result.near_misses.map((n) => [n.seq, n.differences]));
      matched = new Set(result.matched);
      fill(verdict, result.ok
        ? h("div", { class: "verdict ok" }, `✓ ${verifyOp.value} matched ${result.matched.length} time(s)`)
        : h("div", { class: "verdict bad" }, "✗ assert_called would fail:", h("pre", null, result.message)));
      signature = "";
      renderTable();
    } catch (error) {
      fill(verdict, h("div", { class: "verdict bad" }, error.message));
    }
  }

  function visible() {
    return faultsOnly.checked ? entries.filter((e) => e.fault) : entries;
  }

  function renderTable() {
    const rows = visible();
    count.textContent = `${rows.length} request${rows.length === 1 ? "" : "s"}`;
    const sig = `${rows.length}:${rows[0]?.seq}:${selectedSeq}`;
    if (sig === signature) return;
    signature = sig;
    if (!rows.length) {
      fill(tableBox, empty("journal", "No requests recorded", entries.length ? "None match the filters."
        : `Requests carrying “X-Emulator-Tenant: ${tenant}” show up here as they arrive.`));
      renderDetail().catch((e) => toast(e.message, true));
      return;
    }
    fill(tbody, rows.map((entry) => {
      const near = nearMisses.get(entry.seq);
      const classes = ["clickable", entry.seq === selectedSeq ? "selected" : "", near ? "near" : "",
        entry.fault ? "faulted" : ""].filter(Boolean).join(" ");
      return h("tr", { class: classes, dataset: { seq: String(entry.seq), status: String(entry.status),
        fault: entry.fault || "", operation: entry.operation_id || "" },
      onclick: () => { selectedSeq = entry.seq; ctx.setParams({ seq: String(entry.seq) }); signature = ""; renderTable(); } },
      h("td", { class: "num faint" }, entry.seq),
      h("td", { class: "mono faint", title: clockTime(entry.wall, { ms: true }) }, clockTime(entry.wall)),
      h("td", null, h("div", { class: "path", title: `${entry.method} ${entry.path}` },
        h("span", { class: "method" }, entry.method), " ", entry.path)),
      h("td", { class: "mono" }, entry.operation_id || h("span", { class: "faint" }, "—"),
        matched.has(entry.seq) ? h("span", { class: "tag", title: "matched the check" }, " ✓") : null),
      h("td", null, httpStatus(entry.status)),
      h("td", { class: "num mono" }, millis(entry.latency_ms)),
      h("td", null, markers(entry, near)));
    }));
    if (!tableBox.contains(tbody)) {
      fill(tableBox, h("table", { class: "data", id: "journal-table" }, h("thead", null, h("tr", null,
        ["#", "Time", "Request", "Operation", "Status", "Latency", "Markers"].map((t, i) =>
          h("th", { class: i === 0 || i === 5 ? "num" : "" }, t)))), tbody));
    }
    renderDetail().catch((e) => toast(e.message, true));
  }

  const details = new Map(); // seq -> the full entry (entries never change once recorded)
  let shownSeq = null;
  let fetchingSeq = null;

  async function renderDetail() {
    if (selectedSeq === null) {
      shownSeq = null;
      fill(detail, empty("journal", "Select a request", "Its request and response appear here."));
      return;
    }
    if (shownSeq === selectedSeq || fetchingSeq === selectedSeq) return;
    const seq = selectedSeq;
    if (!details.has(seq)) {
      fetchingSeq = seq;
      const data = await api("journal", { tenant, params: { seq } }).finally(() => { fetchingSeq = null; });
      if (!data.entries.length) {
        fill(detail, empty("journal", `Request #${seq} is gone`, "The journal was cleared, or it rolled over."));
        return;
      }
      details.set(seq, data.entries[0]);
    }
    if (seq !== selectedSeq) return;
    const entry = details.get(seq);
    shownSeq = seq;
    fill(detail, h("div", { class: "card-header" }, h("h2", null, `Request #${entry.seq}`), httpStatus(entry.status)),
      detailView(entry));
  }

  async function load() {
    const data = await api("journal", { tenant, params: {
      operation_id: ctx.params.operation_id, status: ctx.params.status, limit: LIMIT, brief: 1 } });
    entries = data.entries.slice().reverse();
    renderTable();
    await renderDetail();
  }

  return { refresh: load };
}
