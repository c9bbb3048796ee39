// The tenant's clock (mode, scale, advance), render pace and progression.

import { api } from "./api.js";
import { button, card, dateTime, fill, h, pageHeader, toast } from "./dom.js";

const MODES = [["real", "Real"], ["frozen", "Frozen"], ["scaled", "Scaled"]];
const STEPS = [[1, "+1 s"], [10, "+10 s"], [60, "+1 min"], [600, "+10 min"], [3600, "+1 h"]];

export default function clockPage(root, ctx) {
  const tenant = ctx.tenant;
  let clock = null;

  const now = h("div", { class: "value", id: "clock-now" }, "—");
  const mode = h("div", { class: "value small", id: "clock-mode" }, "—");
  const pace = h("div", { class: "value small", id: "clock-pace" }, "—");
  const polls = h("div", { class: "value small", id: "clock-polls" }, "—");
  const modeButtons = h("div", { class: "segmented", id: "clock-modes" });
  const scale = h("input", { type: "number", min: "0.01", step: "any", value: "10", id: "clock-scale" });
  const custom = h("input", { type: "number", min: "0", step: "any", placeholder: "seconds", id: "clock-advance" });
  const paceSelect = h("select", { id: "clock-pace-select" }, h("option", { value: "fast" }, "fast: as fast as the machine renders"),
    h("option", { value: "realtime" }, "realtime: first frame after ~2 s, then 1x"), h("option", { value: "custom" }, "N x real time"));
  const paceN = h("input", { type: "number", min: "0.01", step: "any", value: "4", id: "clock-pace-n" });
  paceSelect.addEventListener("change", () => { paceN.hidden = paceSelect.value !== "custom"; });
  const pollsInput = h("input", { type: "number", min: "1", placeholder: "off", id: "clock-polls-input" });

  async function post(body, done) {
    try {
      clock = await api("clock", { method: "POST", tenant, body });
      render();
      if (done) toast(done);
    } catch (error) {
      toast(error.message, true);
    }
  }

  function renderModes() {
    fill(modeButtons, MODES.map(([value, label]) => h("button", {
      type: "button", class: clock && clock.mode === value ? "active" : "", dataset: { mode: value },
      onclick: () => post(value === "scaled" ? { mode: value, scale: Number(scale.value) } : { mode: value }, `Clock ${value}`),
    }, label)));
  }

  function field(label, ...controls) {
    return h("div", { class: "field" }, h("span", null, label), h("div", { class: "row" }, controls));
  }

  fill(root,
    pageHeader("Clock", `Emulated time of tenant “${tenant}”: job progress, webhook retries and link expiry read it.`),
    h("div", { class: "stack" },
      h("div", { class: "stats" },
        h("div", { class: "stat" }, h("div", { class: "label" }, "Emulated now"), now),
        h("div", { class: "stat" }, h("div", { class: "label" }, "Mode"), mode),
        h("div", { class: "stat" }, h("div", { class: "label" }, "Render pace"), pace),
        h("div", { class: "stat" }, h("div", { class: "label" }, "Progression"), polls)),
      h("div", { class: "grid-2" },
        card("Time", "Freeze it to step through a job; scale it to make minutes pass in seconds.", h("div", { class: "card-body stack" },
          field("Mode", modeButtons, h("span", { class: "muted" }, "scale ×"), scale),
          field("Advance", STEPS.map(([s, label]) => button(label, () => post({ advance: s }, `Advanced ${label.slice(1)}`),
            { small: true, title: `advance ${s} s` })),
          custom, button("Advance", () => custom.value && post({ advance: Number(custom.value) }, `Advanced ${custom.value} s`),
            { kind: "primary", small: true })))),
        card("Jobs", "How long renders take in emulated time, and when they complete.", h("div", { class: "card-body stack" },
          field("Pace", paceSelect, paceN, button("Apply", () => post({
            pace: paceSelect.value === "custom" ? Number(paceN.value) : paceSelect.value }, "Pace changed"), { small: true })),
          field("Complete on status read", pollsInput,
            button("Apply", () => post({ polls: pollsInput.value ? Number(pollsInput.value) : null }, "Progression changed"),
              { small: true }),
            h("span", { class: "muted" }, "empty: follow the clock")))))));

  let paceShown = false;

  function render() {
    if (!clock) return;
    if (!paceShown) {
      paceShown = true;
      const known = clock.pace === "fast" || clock.pace === "realtime";
      paceSelect.value = known ? clock.pace : "custom";
      if (!known) paceN.value = clock.pace;
      paceN.hidden = paceSelect.value !== "custom";
    }
    const [date, time] = dateTime(clock.now).split(" ");
    fill(now, time, h("span", { class: "date" }, date));
    mode.textContent = clock.mode === "scaled" ? `scaled × ${clock.scale}` : clock.mode;
    pace.textContent = clock.pace;
    polls.textContent = clock.polls ? `complete on read #${clock.polls}` : "follows the clock";
    renderModes();
  }
  renderModes();

  return {
    async refresh() {
      clock = await api("clock", { tenant });
      render();
    },
    interval: 1000,
  };
}
