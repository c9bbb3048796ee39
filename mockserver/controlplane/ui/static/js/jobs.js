// Jobs of a tenant: live cards with thumbnails and progress; a viewer that plays the MP4, or the live fMP4.

import { api, mediaUrl } from "./api.js";
import {
  clockTime, dateTime, empty, fill, h, icon, mediaTime, pageHeader, providerTag, seconds, statusBadge,
} from "./dom.js";
import { LivePlayer } from "./player.js";

const TERMINAL = new Set(["completed", "failed"]);
const STATUS_FILTERS = [["all", "All"], ["active", "Active"], ["completed", "Completed"], ["failed", "Failed"]];

const isActive = (job) => !TERMINAL.has(job.provider_status);

function matches(job, status, provider) {
  if (provider !== "all" && job.provider !== provider) return false;
  if (status === "active") return isActive(job);
  if (status === "completed" || status === "failed") return job.provider_status === status;
  return true;
}

function subtitle(job) {
  const params = job.params || {};
  if (job.provider === "boson") return [params.model, params.size].filter(Boolean).join(" · ");
  return job.title ? job.id : "";
}

export default function jobsPage(root, ctx) {
  const tenant = ctx.tenant;
  let jobs = [];
  let loaded = false;
  let status = ctx.params.status || "all";
  let provider = ctx.params.provider || "all";
  let selected = ctx.params.job || null;
  const cards = new Map();
  let viewer = null;

  const summary = h("span", { class: "muted" });
  const segmented = h("div", { class: "segmented", role: "tablist" });
  const providerSelect = h("select", { "aria-label": "Provider", onchange: () => {
    provider = providerSelect.value;
    ctx.setParams({ provider: provider === "all" ? "" : provider });
    render();
  } }, h("option", { value: "all" }, "All providers"), h("option", { value: "boson" }, "Boson"),
  h("option", { value: "heygen" }, "HeyGen"));
  providerSelect.value = provider;
  const grid = h("div", { class: "job-grid", id: "job-grid" });
  const viewerCard = h("section", { class: "card viewer", id: "viewer" });

  function renderFilters() {
    fill(segmented, STATUS_FILTERS.map(([value, label]) => h("button", {
      type: "button",
      class: value === status ? "active" : "",
      onclick: () => {
        status = value;
        ctx.setParams({ status: value === "all" ? "" : value });
        renderFilters();
        render();
      },
    }, label)));
  }

  fill(root,
    pageHeader("Jobs", `Renders in tenant “${tenant}”, as they happen.`, summary),
    h("div", { class: "jobs-layout" },
      h("div", null, h("div", { class: "toolbar" }, segmented, providerSelect), grid),
      viewerCard));
  renderFilters();

  function select(id) {
    selected = id;
    ctx.setParams({ job: id });
    for (const [jobId, card] of cards) card.el.classList.toggle("selected", jobId === id);
    renderViewer();
  }

  function makeCard(job) {
    const img = h("img", { alt: "" });
    img.hidden = true;
    img.addEventListener("load", () => { img.hidden = false; });
    img.addEventListener("error", () => { img.hidden = true; });
    const card = {
      img,
      live: h("span", { class: "live-pill" }, "LIVE"),
      duration: h("span", { class: "duration" }),
      title: h("div", { class: "job-title" }),
      sub: h("div", { class: "job-id" }),
      badge: h("span"),
      tag: providerTag(job.provider),
      bar: h("span"),
      progress: h("div", { class: "progress" }),
      when: h("span", { class: "faint mono" }),
      pct: h("span", { class: "faint mono" }),
      thumbVersion: null,
    };
    card.progress.append(card.bar);
    card.el = h("article", { class: "job-card", dataset: { jobId: job.id }, onclick: () => select(job.id) },
      h("div", { class: "thumb" }, icon("film"), img, card.live, card.duration),
      h("div", { class: "job-meta" },
        h("div", { class: "job-line" }, card.title, card.tag),
        card.sub,
        h("div", { class: "job-line" }, card.badge, card.pct),
        card.progress,
        card.when));
    return card;
  }

  function updateCard(card, job) {
    const version = job.media.video ? "final" : job.media.thumbnail ? "first" : null;
    if (version && card.thumbVersion !== version) {
      card.thumbVersion = version;
      card.img.src = `${mediaUrl(tenant, job.id, "thumbnail")}&v=${version}`;
    }
    card.live.hidden = !(job.media.live && isActive(job) && job.provider_status !== "queued");
    const length = mediaTime(job.media_seconds);
    card.duration.hidden = !length;
    card.duration.textContent = length || "";
    card.title.textContent = job.title || job.id;
    card.title.title = job.title || job.id;
    card.sub.textContent = subtitle(job);
    if (card.badge.dataset.status !== job.provider_status) {
      const badge = statusBadge(job.provider_status);
      card.badge.replaceWith(badge);
      card.badge = badge;
    }
    card.bar.style.width = `${job.provider_status === "failed" ? 100 : job.progress}%`;
    card.progress.className = `progress ${job.provider_status === "completed" ? "done" : job.provider_status === "failed" ? "failed" : ""}`;
    card.pct.textContent = `${job.progress}%`;
    card.when.textContent = `created ${clockTime(job.created_at)}`;
    card.el.classList.toggle("selected", job.id === selected);
  }

  function render() {
    const visible = jobs.filter((job) => matches(job, status, provider));
    const active = jobs.filter(isActive).length;
    summary.textContent = `${jobs.length} job${jobs.length === 1 ? "" : "s"}${active ? ` · ${active} active` : ""}`;
    if (!visible.length) {
      cards.clear();
      if (!loaded) return;
      fill(grid, jobs.length ? empty("film", "No jobs match these filters") : empty("film", `No jobs in “${tenant}” yet`,
        "Jobs appear here the moment a client creates one with this tenant's header.",
        h("pre", { class: "code" }, `curl -s ${location.origin}/v1/videos -H "Authorization: Bearer bai-local" \\\n` +
          `     -H "X-Emulator-Tenant: ${tenant}" -F ref_image=@face.png -F input=@speech.wav`)));
      grid.classList.remove("job-grid");
      renderViewer();
      return;
    }
    grid.classList.add("job-grid");
    if (grid.querySelector(".empty")) fill(grid);
    const keep = new Set(visible.map((job) => job.id));
    for (const [id, card] of cards) {
      if (!keep.has(id)) {
        card.el.remove();
        cards.delete(id);
      }
    }
    visible.forEach((job, index) => {
      let card = cards.get(job.id);
      if (!card) {
        card = makeCard(job);
        cards.set(job.id, card);
      }
      updateCard(card, job);
      if (grid.children[index] !== card.el) grid.insertBefore(card.el, grid.children[index] || null);
    });
    renderViewer();
  }

  // ---- the viewer ---------------------------------------------------------------------------------

  function teardown() {
    if (viewer && viewer.player) viewer.player.stop();
    if (viewer && viewer.video) {
      viewer.video.pause();
      viewer.video.removeAttribute("src");
      viewer.video.load();
    }
    viewer = null;
  }

  function wantedMode(job) {
    if (viewer && viewer.jobId === job.id && viewer.mode === "live" && !viewer.switchToVideo) return "live";
    if (job.media.video) return "video";
    if (job.media.live && isActive(job)) return "live";
    return "wait";
  }

  function buildViewer(job, mode) {
    teardown();
    viewer = { jobId: job.id, mode, switchToVideo: false };
    const bar = h("div", { class: "player-bar", id: "player-bar" });
    const screen = h("div", { class: "player" });
    if (mode === "video" || mode === "live") {
      const video = h("video", { id: "player-video", controls: true, autoplay: true, playsinline: true,
        muted: true, dataset: { mode, jobId: job.id } });
      video.muted = true;
      screen.append(video);
      viewer.video = video;
      if (mode === "video") {
        video.src = mediaUrl(tenant, job.id, "video");
        fill(bar, icon("film"), "MP4", h("span", { class: "spacer" }),
          h("a", { href: mediaUrl(tenant, job.id, "video"), target: "_blank", rel: "noopener" }, "Open file"));
      } else {
        screen.append(h("span", { class: "live-pill" }, "LIVE"));
        const text = h("span", { id: "live-state" }, "connecting…");
        viewer.liveText = text;
        fill(bar, icon("play"), text, h("span", { class: "spacer" }), viewer.switchButton = h("button", {
          type: "button", class: "btn small", hidden: true,
          onclick: () => { viewer.switchToVideo = true; renderViewer(); },
        }, "Play the MP4"));
        viewer.player = new LivePlayer(video, mediaUrl(tenant, job.id, "live"), (s) => {
          video.dataset.phase = s.phase;
          text.textContent = s.phase === "error" ? s.error
            : `${s.phase === "ended" ? "stream ended" : "live"} · ${s.buffered.toFixed(1)} s buffered · ${(s.received / 1024).toFixed(0)} KiB`;
        });
        viewer.player.start();
      }
    } else {
      viewer.placeholder = h("div", { class: "placeholder" });
      screen.append(viewer.placeholder);
      fill(bar, icon("film"), "No video yet");
    }
    viewer.head = h("div", { class: "row" });
    viewer.progress = h("div", { class: "progress" }, h("span"));
    viewer.props = h("dl", { class: "props" });
    fill(viewerCard, screen, bar, h("div", { class: "card-body stack" }, viewer.head, viewer.progress, viewer.props));
  }

  function renderViewer() {
    const job = jobs.find((j) => j.id === selected);
    if (!job) {
      teardown();
      fill(viewerCard, h("div", { class: "player" }, h("div", { class: "placeholder" }, icon("play"),
        "Select a job to watch it. A job that is still rendering plays live.")));
      return;
    }
    const mode = wantedMode(job);
    if (!viewer || viewer.jobId !== job.id || viewer.mode !== mode) buildViewer(job, mode);
    if (viewer.placeholder) {
      fill(viewer.placeholder, icon(job.provider_status === "failed" ? "faults" : "film"),
        job.provider_status === "failed" ? `Failed: ${job.error || "no message"}`
          : job.provider_status === "completed" ? "Completed, but no video is stored (seeded or evicted)."
            : `${job.provider_status.replace("_", " ")} · ${job.progress}%`);
    }
    if (viewer.switchButton) viewer.switchButton.hidden = !job.media.video;
    fill(viewer.head, h("div", { class: "job-title mono" }, job.id), h("span", { class: "spacer" }),
      providerTag(job.provider), statusBadge(job.provider_status));
    viewer.progress.className = `progress ${job.provider_status === "completed" ? "done" : job.provider_status === "failed" ? "failed" : ""}`;
    viewer.progress.firstChild.style.width = `${job.provider_status === "failed" ? 100 : job.progress}%`;
    const compute = job.compute || {};
    const rows = [
      ["Title", job.title],
      ["Status", `${job.provider_status} (emulated: ${job.status})`],
      ["Progress", `${job.progress}%`],
      ["Video length", job.media_seconds === null ? null : seconds(job.media_seconds)],
      ["Created", dateTime(job.created_at)],
      ["Started", job.started_at ? dateTime(job.started_at) : null],
      ["Finished", job.finished_at ? dateTime(job.finished_at) : null],
      ["Status reads", String(job.status_reads)],
      ["Completes on read", job.polls_to_complete ? `#${job.polls_to_complete}` : null],
      ["Real render", `${Math.round((compute.progress || 0) * 100)}%${compute.done ? " · done" : ""}`],
      ["Error", job.error || compute.error || null],
      ["Parameters", Object.entries(job.params || {}).map(([k, v]) => `${k}=${v}`).join("  ") || null],
    ];
    fill(viewer.props, rows.filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => [h("dt", null, k), h("dd", { class: k === "Parameters" ? "mono" : "" }, v)]));
  }

  return {
    async refresh() {
      const data = await api("jobs", { tenant });
      jobs = data.jobs.slice().reverse();
      loaded = true;
      render();
    },
    update(params) {
      if ((params.job || null) !== selected) select(params.job || null);
    },
    destroy: teardown,
  };
}
