// The shot review page: mounts the comparison viewer, keeps the address bar in step with what is
// compared (?a=&b=&frame=, so a link shows the same thing), and mounts the comments and decisions
// panels (frontend/static/js/review/comments.js, decisions.js) when those modules exist.

import { api } from "../common/api.js";
import { bindKeys } from "../common/keys.js";
import { ComparisonViewer } from "../viewer/viewer.js";
import { shotEvents } from "./shot-events.js";

const data = JSON.parse(document.getElementById("shot-data").textContent);
const host = document.getElementById("viewer");
const commentsPanel = document.getElementById("comments-panel");
const decisionsPanel = document.getElementById("decisions-panel");
const colourPanel = document.getElementById("colour-panel");
// A version in one of these is superseded when a newer version of the shot goes into review.
const OPEN_STATUSES = ["in_review", "changes_requested"];
// A tablet or phone has no room for two panes side by side: the viewer opens on A/B toggle there.
const NARROW_SCREEN = window.matchMedia("(max-width: 900px)").matches;

let viewer = null;
if (host) {
  viewer = new ComparisonViewer(host, {
    shotId: data.shot.id,
    frameCount: data.shot.frame_count,
    fps: data.shot.fps,
    sources: data.sources.map((s) => ({
      id: s.id,
      label: s.version_id ? `${s.label} · ${s.status_label}` : s.label,
      width: s.width,
      height: s.height,
      frameCount: s.frame_count,
    })),
    a: data.a,
    b: data.b,
    frame: data.frame,
    mode: NARROW_SCREEN ? "toggle" : "side",
    socketUrl: data.frames_socket,
    // Display only (the server's numbering: the film's start number, or a scan's own file numbers
    // and timecode); frames stay counted from 0.
    startNumber: data.numbering.start_number,
    timecodeStart: data.numbering.timecode_start,
    numberedBy: data.numbering.scan_numbers ? "scan" : "film",
    timecodeOf: data.numbering.scan_timecode ? "scan" : "film",
    startEditable: data.film.may_edit,
    snapshotName: `${data.film.title} shot ${data.shot.number}`,
  });
  host.comparisonViewer = viewer; // for tests and for modules mounted later
  viewer.setTransitions(data.transitions);

  // The start number is the film's: an archivist's change is stored for everyone (and undone if refused).
  viewer.addEventListener("startnumberchange", async (event) => {
    const previous = data.film.frame_number_start;
    try {
      const film = await api(`/api/films/${data.film.id}/`, { method: "PATCH", body: { frame_number_start: event.detail.value } });
      data.film.frame_number_start = film.frame_number_start;
    } catch {
      viewer.setStartNumber(previous);
    }
  });

  // A decision changes its version's status, and a newer version in review supersedes the open
  // ones: the pickers and picture labels follow, live.
  const relabel = (versionId, status) => {
    const version = data.versions.find((v) => v.id === versionId);
    if (version) version.status = status;
    const source = data.sources.find((s) => s.version_id === versionId);
    const statusLabel = data.version_status_labels[status];
    if (!source || !statusLabel) return;
    source.status_label = statusLabel;
    viewer.setSourceLabel(source.id, `${source.label} · ${statusLabel}`);
  };
  shotEvents(data.shot.id).addEventListener("message", (event) => {
    const message = event.detail;
    if (message?.type === "decision.recorded" && message.decision) {
      relabel(message.decision.version, message.version_status);
    } else if (message?.type === "version.created" && message.status === "in_review") {
      const superseded = data.versions.filter((v) => v.number < message.number && OPEN_STATUSES.includes(v.status));
      for (const version of superseded) relabel(version.id, "superseded");
      if (superseded.length) decisions?.reload();
    }
  });
}

// The version the panels are about: B when it is a version (the one under review), else A, else the latest.
function reviewedVersionId() {
  const byId = new Map(data.sources.map((s) => [s.id, s]));
  const state = viewer?.state;
  for (const side of state ? [state.b, state.a] : []) {
    const source = byId.get(side);
    if (source?.version_id) return source.version_id;
  }
  return data.versions.length ? data.versions[data.versions.length - 1].id : null;
}

function syncPanels() {
  const versionId = reviewedVersionId();
  for (const panel of [commentsPanel, decisionsPanel]) panel.dataset.versionId = versionId ?? "";
  // Drawings go over the reviewed version's picture (B's pane side by side), the one the comment is filed on.
  viewer?.setAnnotatedSource(data.sources.find((s) => s.version_id && s.version_id === versionId)?.id ?? null);
}

let urlTimer = null;
function syncAddress() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => {
    const url = new URL(location.href);
    const state = viewer.state;
    url.searchParams.set("a", state.a);
    url.searchParams.set("b", state.b);
    url.searchParams.set("frame", String(state.frame));
    history.replaceState(null, "", url);
  }, 250);
}

syncPanels();
if (viewer) {
  viewer.addEventListener("statechange", () => { syncPanels(); syncAddress(); });
  viewer.addEventListener("framechange", () => { if (!viewer.state.playing) syncAddress(); });
}

// [ and ] go through the film's shots.
const stepShot = (which) => {
  const link = document.querySelector(`[data-shot-step="${which}"]`);
  if (link) location.href = link.href;
};
bindKeys({ "[": () => stepShot("previous"), "]": () => stepShot("next") });

let comments = null; // the comments panel once mounted: its drawing in progress goes with a change request
let decisions = null; // the decisions panel once mounted
const context = { viewer, shotId: data.shot.id, filmId: data.film.id, versions: data.versions, user: data.user,
  role: data.role, csrf: data.csrf, draftDrawing: () => comments?.drawing?.drawing ?? null };

function unavailable(panel) {
  const placeholder = panel.querySelector(".review-panel-placeholder");
  if (placeholder) placeholder.textContent = "Not available.";
}

import("./comments.js")
  .then((module) => { comments = module.mountComments(commentsPanel, context); })
  .catch((error) => { console.debug("comments panel:", error); unavailable(commentsPanel); });
import("./decisions.js")
  .then((module) => { decisions = module.mountDecisions(decisionsPanel, context); })
  .catch((error) => { console.debug("decisions panel:", error); unavailable(decisionsPanel); });
if (colourPanel && viewer) {
  import("../colour/colour-panel.js")
    .then((module) => {
      const gradeId = Number(new URL(location.href).searchParams.get("grade")) || null;
      colourPanel.colourPanel = module.mountColourPanel(colourPanel, { ...context, gradeId });
    })
    .catch((error) => { console.debug("colour panel:", error); unavailable(colourPanel); });
} else if (colourPanel) {
  unavailable(colourPanel);
}
