// A conformance report (the JSON `avatar-emulator conformance --report` writes): score, clauses, reasons, sources.

import { api, specUrl } from "./api.js";
import { card, dateTime, empty, fill, h, icon, pageHeader, providerTag, seconds, statusBadge, toast } from "./dom.js";

const ORDER = ["FAIL", "WARN", "XFAIL", "NA", "UNTESTED", "PASS"];
const LINK = /(https?:\/\/[^\s;,()"]+)|(\bopenapi\/[A-Za-z0-9_-]+\.(?:ya?ml|json)\b)|(\b(?:[a-z0-9-]+\.)+[a-z]{2,}\/[^\s;,()"]*)/g;

/** Text with its URLs, doc paths (docs.example.com/page) and openapi/*.yaml names as links. */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const match of String(text || "").matchAll(LINK)) {
    out.push(text.slice(last, match.index));
    const [whole, url, spec, docPath] = match;
    const href = url || (spec ? specUrl(spec.slice("openapi/".length)) : `https://${docPath}`);
    out.push(h("a", { href, target: "_blank", rel: "noopener noreferrer" }, whole));
    last = match.index + whole.length;
  }
  out.push(String(text || "").slice(last));
  return out;
}

function percent(value) {
  if (typeof value !== "number" || Number.isNaN(value)) return null;
  return value <= 1 ? `${(value * 100).toFixed(1)}%` : `${value.toFixed(1)}%`;
}

/** [[label, text]] for a score given as a number, {name: number}, or {value|score|ratio, passed, applicable}. */
export function scoreRows(score) {
  if (score === null || score === undefined) return [];
  if (typeof score === "number") return [["Score", percent(score)]];
  if (typeof score !== "object") return [["Score", String(score)]];
  const main = score.value ?? score.score ?? score.ratio ?? score.percent;
  if (typeof main === "number") {
    const detail = score.passed !== undefined && score.applicable !== undefined ? ` (${score.passed}/${score.applicable})` : "";
    return [["Score", `${percent(main)}${detail}`]];
  }
  return Object.entries(score).flatMap(([name, value]) => scoreRows(value).map(([, text]) => [`Score · ${name}`, text]));
}

/** A card of the report's `coverage` (any shape: numbers, lists, nested objects), or null without one. */
function coverageCard(coverage) {
  if (!coverage || typeof coverage !== "object") return null;
  const text = (value) => (typeof value === "number" ? (value <= 1 && !Number.isInteger(value) ? percent(value) : String(value))
    : Array.isArray(value) ? `${value.length}: ${value.slice(0, 8).join(", ")}${value.length > 8 ? ", …" : ""}`
      : value && typeof value === "object" ? Object.entries(value).map(([k, v]) => `${k} ${text(v)}`).join(" · ")
        : String(value));
  return card("Coverage", "As the report states it.", h("div", { class: "card-body" }, h("dl", { class: "props" },
    Object.entries(coverage).map(([key, value]) => [h("dt", null, key.replaceAll("_", " ")), h("dd", null, text(value))]))));
}

function counts(clauses) {
  const out = {};
  for (const clause of clauses) out[clause.status] = (out[clause.status] || 0) + 1;
  return out;
}

export default function reportPage(root, ctx) {
  let report = null;
  let source = "";
  let filter = ctx.params.status || "all";
  let search = "";
  const body = h("div", { class: "stack", id: "report" });
  const fileInput = h("input", { type: "file", accept: "application/json,.json", id: "report-file" });
  fileInput.addEventListener("change", () => fileInput.files[0] && readFile(fileInput.files[0]));
  const openButton = h("label", { class: "btn", for: "report-file" }, icon("upload"), "Open report file…");

  fill(root, pageHeader("Conformance report", "What a conformance run found, clause by clause.", fileInput, openButton), body);

  function readFile(file) {
    file.text().then((text) => {
      const data = JSON.parse(text);
      if (!data || !Array.isArray(data.clauses)) throw new Error("this JSON has no 'clauses': is it a conformance report?");
      report = data;
      source = file.name;
      render();
    }).catch((error) => toast(`${file.name}: ${error.message}`, true));
  }

  function dropZone() {
    const zone = h("div", { class: "file-drop" }, icon("upload"),
      h("p", null, "Drop a report JSON here, or ", h("label", { for: "report-file", class: "link" }, "choose a file"), "."),
      h("pre", { class: "code light" }, "avatar-emulator conformance --target emulator --report report.json\navatar-emulator report report.json"));
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      if (event.dataTransfer.files[0]) readFile(event.dataTransfer.files[0]);
    });
    return zone;
  }

  function clauseView(clause) {
    const tests = clause.tests || [];
    return h("div", { class: `clause ${clause.status}`, dataset: { clause: clause.id, status: clause.status } },
      h("div", null, statusBadge(clause.status, clause.status)),
      h("div", null,
        h("div", { class: "head" }, h("span", { class: "mono" }, clause.id),
          clause.level ? h("span", { class: `tag ${String(clause.level).toLowerCase()}` }, clause.level) : null),
        h("p", { class: "sentence" }, clause.sentence),
        clause.reason && clause.status !== "PASS" ? h("div", { class: "reason" }, clause.reason) : null,
        clause.source ? h("div", { class: "source" }, "Source: ", linkify(clause.source)) : null,
        tests.length ? h("details", null, h("summary", null, `${tests.length} test${tests.length > 1 ? "s" : ""}`),
          h("ul", null, tests.map((t) => h("li", null, t)))) : null));
  }

  function render() {
    if (!report) return;
    const clauses = report.clauses || [];
    const tally = counts(clauses);
    const statuses = [...ORDER.filter((s) => tally[s]), ...Object.keys(tally).filter((s) => !ORDER.includes(s))];
    const judged = (tally.PASS || 0) + (tally.FAIL || 0);
    const scores = scoreRows(report.score);
    const target = report.target || {};
    const searchBox = h("input", { type: "search", placeholder: "Search clauses", value: search,
      oninput: (event) => { search = event.target.value.toLowerCase(); renderList(); } });
    const chips = h("div", { class: "chips" },
      [["all", "All", clauses.length], ...statuses.map((s) => [s, s, tally[s]])].map(([value, label, n]) =>
        h("button", { type: "button", class: `chip ${filter === value ? "active" : ""}`, dataset: { filter: value },
          onclick: () => { filter = value; ctx.setParams({ status: value === "all" ? "" : value }); render(); } },
        label, h("span", { class: "n" }, n))));
    const list = h("div", { id: "clauses" });
    function renderList() {
      const rows = clauses
        .map((clause, index) => [clause, index])
        .filter(([c]) => (filter === "all" || c.status === filter)
          && (!search || `${c.id} ${c.sentence} ${c.reason}`.toLowerCase().includes(search)))
        .sort(([a, i], [b, j]) => (ORDER.indexOf(a.status) - ORDER.indexOf(b.status)) || i - j)
        .map(([clause]) => clauseView(clause));
      fill(list, rows.length ? rows : empty("report", "No clauses match"));
    }
    renderList();
    fill(body,
      h("div", { class: "stats" },
        scores.length ? scores.map(([label, text]) => h("div", { class: "stat" }, h("div", { class: "label" }, label),
          h("div", { class: "score", id: "report-score" }, text)))
          : h("div", { class: "stat" }, h("div", { class: "label" }, "Pass rate (PASS ÷ PASS+FAIL)"),
            h("div", { class: "score" }, judged ? percent(tally.PASS / judged || 0) : "—")),
        statuses.map((s) => h("div", { class: "stat" }, h("div", { class: "label" }, s), h("div", { class: "value" }, tally[s])))),
      card(h("span", { class: "row" }, providerTag(report.provider), target.name || "target",
        target.base_url ? h("span", { class: "mono muted" }, target.base_url) : null),
      [report.summary, source ? `file ${source}` : null].filter(Boolean).join(" · "),
      h("div", { class: "card-body" },
        h("div", { class: "stackbar" }, statuses.map((s) => {
          const seg = h("span", { class: `seg-${s}`, title: `${s}: ${tally[s]}` });
          seg.style.width = `${(100 * tally[s]) / Math.max(1, clauses.length)}%`;
          return seg;
        })),
        h("div", { class: "legend" }, statuses.map((s) => h("span", null, h("i", { class: `seg-${s}` }), `${s} ${tally[s]}`)),
          h("span", { class: "spacer" }),
          report.tier ? h("span", null, `tier ${report.tier}`) : null,
          report.started ? h("span", null, `started ${dateTime(report.started)}`) : null,
          report.duration_s !== undefined ? h("span", null, `took ${seconds(report.duration_s)}`) : null))),
      coverageCard(report.coverage),
      h("section", { class: "card" }, h("div", { class: "card-header" }, chips, searchBox), list),
      (report.tests || []).length ? card("Tests", `${report.tests.length} tests ran`, h("div", { class: "table-wrap" },
        h("table", { class: "data" }, h("thead", null, h("tr", null, h("th", null, "Test"), h("th", null, "Outcome"),
          h("th", { class: "num" }, "Time"), h("th", null, "Message"))),
        h("tbody", null, report.tests.map((t) => h("tr", null, h("td", { class: "mono" }, t.nodeid),
          h("td", null, statusBadge(t.outcome === "passed" ? "PASS" : t.outcome === "failed" ? "FAIL" : "NA", t.outcome)),
          h("td", { class: "num mono" }, seconds(t.duration_s)),
          h("td", null, h("div", { class: "path", title: t.message || "" }, t.message || "")))))))) : null);
  }

  async function load() {
    try {
      report = await api("report");
      source = "";
      render();
    } catch (error) {
      if (error.status !== 404) toast(error.message, true);
      fill(body, card("No report loaded", error.status === 404 ? "Start the page on a report, or open one here." : error.message,
        h("div", { class: "card-body" }, dropZone())));
    }
  }
  load();

  return {};
}
