// HeyGen webhook endpoints of the tenant and every delivery, attempt by attempt.

import { api } from "./api.js";
import { card, clockTime, dateTime, empty, fill, h, pageHeader, statusBadge } from "./dom.js";

function attemptChip(attempt) {
  return h("span", { class: `tag ${attempt.ok ? "" : "fault"}`, title: attempt.error || `at ${dateTime(attempt.at)}` },
    `#${attempt.attempt} `, attempt.status_code ?? (attempt.error ? attempt.error.split(":")[0] : "—"),
    ` · ${clockTime(attempt.at)}`);
}

export default function webhooksPage(root, ctx) {
  const tenant = ctx.tenant;
  const endpointsBox = h("div", { class: "table-wrap" });
  const deliveriesBox = h("div", { class: "table-wrap" });
  const count = h("span", { class: "muted" });

  fill(root,
    pageHeader("Webhooks", `HeyGen events sent for tenant “${tenant}”; failed attempts are retried on the tenant's clock.`, count),
    h("div", { class: "stack" },
      card("Deliveries", "One row per event and target; attempts in order.", deliveriesBox),
      card("Endpoints", "Registered with POST /v1/webhook/endpoint.add (secrets are not shown).", endpointsBox)));

  return {
    async refresh() {
      const data = await api("webhooks", { tenant });
      count.textContent = `${data.deliveries.length} deliver${data.deliveries.length === 1 ? "y" : "ies"}`;
      fill(endpointsBox, data.endpoints.length ? h("table", { class: "data" },
        h("thead", null, h("tr", null, ["Endpoint", "URL", "Events", "Status", "Created"].map((t) => h("th", null, t)))),
        h("tbody", null, data.endpoints.map((e) => h("tr", null,
          h("td", { class: "mono" }, e.endpoint_id), h("td", { class: "mono" }, e.url),
          h("td", null, e.events ? e.events.join(", ") : h("span", { class: "muted" }, "all events")),
          h("td", null, statusBadge(e.status === "enabled" ? "completed" : "failed", e.status)),
          h("td", { class: "muted" }, dateTime(e.created_at))))))
        : empty("webhooks", "No endpoints", "A callback_url on a video still gets its events."));
      fill(deliveriesBox, data.deliveries.length ? h("table", { class: "data", id: "deliveries" },
        h("thead", null, h("tr", null, ["Event", "Video", "Target", "Signed", "Result", "Attempts"].map((t) => h("th", null, t)))),
        h("tbody", null, data.deliveries.map((d) => {
          const last = d.attempts[d.attempts.length - 1];
          return h("tr", { dataset: { video: d.video_id } },
            h("td", { class: "mono" }, d.event_type),
            h("td", { class: "mono" }, d.video_id),
            h("td", null, h("div", { class: "mono" }, d.target), h("div", { class: "path faint", title: d.url }, d.url)),
            h("td", null, d.signed ? "HMAC" : h("span", { class: "faint" }, "no")),
            h("td", null, d.delivered ? statusBadge("delivered") : statusBadge("failing", `failing (${httpStatusText(last)})`)),
            h("td", null, h("div", { class: "markers" }, d.attempts.map(attemptChip))));
        })))
        : empty("webhooks", "No deliveries yet", "When a HeyGen video ends, its events are posted and each attempt is listed here."));
    },
    interval: 1500,
  };
}

function httpStatusText(attempt) {
  if (!attempt) return "—";
  return attempt.status_code !== null ? String(attempt.status_code) : (attempt.error || "error").split(":")[0];
}
