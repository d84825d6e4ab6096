// The decisions panel of the shot review page: the version's status, each required role's current
// verdict (the film's approval policy), approve / request changes / reject with a note for
// archivists and creators (others see why they cannot), and the append-only history.
// Mounted by shot-page.js: mountDecisions(panel, {shotId, versions}), and by the live session page
// (live/session.js) on the playlist item's version with the session's own shot socket (`events`,
// ws/sessions/<id>/shots/<shot>/). The version is the panel's data-version-id. Decisions post to
// POST /api/decisions/ either way; updates arrive live as decision.recorded events.

import { api } from "../common/api.js";
import { escapeHtml, relativeTime } from "../common/format.js";
import { toastOk } from "../common/toast.js";
import { displayNumber } from "../viewer/timecode.js";
import { DrawingLayer } from "./draw.js";
import { shotEvents } from "./shot-events.js";
import { ensureReviewPanelStyles } from "./stylesheet.js";

const VERDICTS = {
  approve: { label: "Approve", done: "Approved", css: "approved", button: "primary" },
  changes_requested: { label: "Request changes", done: "Changes requested", css: "changes_requested", button: "" },
  reject: { label: "Reject", done: "Rejected", css: "rejected", button: "danger" },
};
// How each past verdict reads in the history (a reopen is not one of the form's buttons).
const HISTORY = { ...VERDICTS, reopen: { done: "Reopened", css: "in_review" } };
export const STATUS_LABELS = {
  draft: "Draft", in_review: "In review", changes_requested: "Changes requested", approved: "Approved",
  rejected: "Rejected", superseded: "Superseded",
};
const SHOT_STATUS_LABELS = {
  pending: "Pending", in_restoration: "In restoration", in_review: "In review", changes_requested: "Changes requested",
  approved: "Approved", rejected: "Rejected",
};
const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

export function mountDecisions(panel, { shotId, versions = [], events = null, viewer = null, draftDrawing = null }) {
  ensureReviewPanelStyles();
  const versionLabel = new Map(versions.map((v) => [v.id, v.label || `v${v.number}`]));
  const currentVersion = () => Number(panel.dataset.versionId) || null;
  const frameLabel = (frame) => String(displayNumber(frame, viewer?.startNumber ?? 0));
  let loading = 0;
  let carried = new Map(); // decision id -> a change request on the version before (its frame, drawing)
  // A carried request's drawing, shown over the picture while its frame is on screen.
  const requestDrawing = viewer ? new DrawingLayer(viewer) : null;
  let drawingFrame = null;
  const onFrame = () => {
    if (drawingFrame !== null && viewer.frame !== drawingFrame) {
      drawingFrame = null;
      requestDrawing.show([]);
    }
  };
  viewer?.addEventListener("framechange", onFrame);

  panel.classList.add("dc-panel");
  panel.innerHTML = `
    <div class="dc-head">
      <h2 class="review-panel-title">Decision</h2>
      <span class="dc-version small muted" data-version></span>
      <span class="status" data-status hidden></span>
    </div>
    <div class="dc-body"><p class="muted small">Loading…</p></div>`;
  const body = panel.querySelector(".dc-body");

  function roleLine(role, current) {
    const mine = current.filter((d) => d.role === role);
    const worst = ["reject", "changes_requested", "approve"].find((verdict) => mine.some((d) => d.verdict === verdict));
    const who = mine.filter((d) => d.verdict === worst).map((d) => escapeHtml(d.reviewer_username)).join(", ");
    const pill = worst
      ? `<span class="status status-${VERDICTS[worst].css}">${VERDICTS[worst].done}</span><span class="muted small">${who}</span>`
      : '<span class="status status-pending">Waiting</span>';
    return `<li class="dc-role" data-role="${role}"><span class="dc-role-name">${capital(role)}</span>${pill}</li>`;
  }

  const seekButton = (d) => (d.frame === null || d.frame === undefined ? "" :
    `<button type="button" class="btn ghost sm dc-seek" data-seek-decision="${d.id}" title="Go to the frame">Frame ${escapeHtml(frameLabel(d.frame))}${d.drawing ? " ✎" : ""}</button>`);

  function historyItem(d) {
    return `<li class="dc-event" data-verdict="${d.verdict}">
      <span class="status status-${HISTORY[d.verdict].css}">${HISTORY[d.verdict].done}</span>
      <span class="dc-who">${escapeHtml(d.reviewer_username)} <span class="muted">· ${escapeHtml(d.role)}</span></span>
      <time class="faint small" datetime="${d.created_at}" title="${new Date(d.created_at).toLocaleString()}">${relativeTime(d.created_at)}</time>
      ${d.note ? `<p class="dc-note">${escapeHtml(d.note)}</p>` : ""}
      ${seekButton(d)}
    </li>`;
  }

  // A required role nobody holds keeps every version from passing: say so, and what to do.
  function unfilledNote(roles) {
    if (!roles || !roles.length) return "";
    return `<p class="dc-unfilled small" role="note">No ${escapeHtml(roles.join(" or "))} is a member of this film:
      nothing is approved until an archivist invites one or changes the approval policy.</p>`;
  }

  // The changes asked for on the version before: what this version was made to answer.
  function carriedSection(previous) {
    if (!previous) return "";
    return `<section class="dc-carried" data-carried-from="${previous.version}">
      <h3 class="dc-carried-title small">Changes requested on v${previous.number}</h3>
      <ol>${previous.requests.map((d) => `<li class="dc-request">
        <span class="dc-who">${escapeHtml(d.reviewer_username)} <span class="muted">· ${escapeHtml(d.role)}</span></span>
        ${d.note ? `<p class="dc-note">${escapeHtml(d.note)}</p>` : ""}
        ${seekButton(d)}
      </li>`).join("")}</ol>
    </section>`;
  }

  const reopenForm = () => `
      <form class="dc-reopen" novalidate>
        <textarea name="reason" rows="2" maxlength="5000" required placeholder="Why reopen it? (required)" aria-label="Reason to reopen"></textarea>
        <div class="dc-buttons"><button type="button" class="btn sm" data-reopen>Reopen</button></div>
        <span class="dc-error small" role="alert"></span>
      </form>`;

  function render(summary, history) {
    const status = panel.querySelector("[data-status]");
    status.hidden = false;
    status.className = `status status-${summary.status}`;
    status.textContent = STATUS_LABELS[summary.status] || summary.status;
    panel.querySelector("[data-version]").textContent = versionLabel.get(summary.version) || "";
    const required = summary.required_roles;
    const policy = required.length > 1 ? `${required.join(" and ")} must both approve` : `the ${required[0] || "decider"}'s approval is enough`;
    const form = summary.can_decide ? `
      <form class="dc-form" novalidate>
        <textarea name="note" rows="2" maxlength="5000" placeholder="Note for the restorer (optional)"></textarea>
        ${viewer ? '<p class="dc-hint faint small">Request changes points at the frame shown, with your drawing in progress.</p>' : ""}
        <div class="dc-buttons">
          ${Object.entries(VERDICTS).map(([verdict, v]) =>
            `<button type="button" class="btn sm ${v.button}" data-verdict="${verdict}">${v.label}</button>`).join("")}
        </div>
        <span class="dc-error small" role="alert"></span>
      </form>` : `<p class="dc-reason muted small">${escapeHtml(summary.reason)}</p>`;
    const previous = summary.changes_requested_on;
    carried = new Map([...(previous?.requests ?? []), ...history].map((d) => [d.id, d]));
    body.innerHTML = `
      ${carriedSection(previous)}
      <ul class="dc-roles">${required.map((role) => roleLine(role, summary.current)).join("")}</ul>
      <p class="dc-policy faint small">Approval: ${escapeHtml(policy)}.</p>
      ${unfilledNote(summary.unfilled_roles)}
      ${form}
      ${summary.can_reopen ? reopenForm() : ""}
      <details class="dc-history"${history.length ? "" : " hidden"}>
        <summary class="small">History <span class="count">${history.length}</span></summary>
        <ol>${history.map(historyItem).join("")}</ol>
      </details>`;
  }

  async function load() {
    const version = currentVersion();
    const ticket = ++loading;
    if (!version) {
      panel.querySelector("[data-status]").hidden = true;
      body.innerHTML = '<p class="muted small">No version of this shot to decide on yet.</p>';
      return;
    }
    try {
      const [summary, history] = await Promise.all([
        api(`/api/decisions/summary/?version=${version}`, { quiet: true }),
        api(`/api/decisions/?version=${version}&ordering=-created_at&page_size=200`, { quiet: true }),
      ]);
      if (ticket === loading) render(summary, history.results);
    } catch (error) {
      body.innerHTML = `<p class="dc-error small">Decisions could not be loaded: ${escapeHtml(error.message)}</p>`;
    }
  }

  // Go to a decision's frame and show its drawing there.
  function seekTo(decision) {
    if (!viewer) return;
    if (viewer.state.playing) viewer.pause();
    viewer.seek(decision.frame);
    drawingFrame = decision.frame;
    requestDrawing.show(decision.drawing ? [{ shapes: decision.drawing, emphasis: true }] : []);
  }

  async function post(form, body, done) {
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      await api("/api/decisions/", { method: "POST", quiet: true, idempotent: true, body: { version: currentVersion(), ...body } });
      toastOk(`${done}: ${versionLabel.get(currentVersion()) || "version"}.`);
      await load();
    } catch (error) {
      form.querySelector(".dc-error").textContent = error.message;
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  }

  body.addEventListener("click", (event) => {
    const seek = event.target.closest("[data-seek-decision]");
    if (seek) {
      const decision = carried.get(Number(seek.dataset.seekDecision));
      if (decision) seekTo(decision);
      return;
    }
    if (event.target.closest("[data-reopen]")) {
      const form = event.target.closest("form");
      const reason = form.elements.reason.value.trim();
      if (!reason) {
        form.querySelector(".dc-error").textContent = "Say why it is reopened.";
        form.elements.reason.focus();
        return;
      }
      post(form, { verdict: "reopen", note: reason }, "Reopened");
      return;
    }
    const button = event.target.closest("[data-verdict]");
    if (!button) return;
    const form = button.closest("form");
    const verdict = button.dataset.verdict;
    const decision = { verdict, note: form.elements.note.value.trim() };
    // A change request points at the frame on screen, with the drawing in progress if there is one.
    if (verdict === "changes_requested" && viewer) {
      decision.frame = viewer.frame;
      const drawing = draftDrawing?.() ?? null;
      if (drawing) decision.drawing = drawing;
    }
    post(form, decision, VERDICTS[verdict].done);
  });

  const socket = events ?? shotEvents(shotId);
  const onResync = () => load(); // after a reconnect, or events the server may have lost
  const onMessage = (event) => {
    const message = event.detail;
    if (message.type !== "decision.recorded") return;
    const pill = document.querySelector("[data-shot-status]");
    if (pill && message.shot_status) {
      pill.className = `status status-${message.shot_status}`;
      pill.textContent = SHOT_STATUS_LABELS[message.shot_status] || message.shot_status;
    }
    if (message.decision.version === currentVersion()) load();
  };
  socket.addEventListener("resync", onResync);
  socket.addEventListener("message", onMessage);
  // shot-page.js rewrites data-version-id on every viewer state change: reload on real changes only.
  let shownVersion = currentVersion();
  const versionWatch = new MutationObserver(() => {
    if (currentVersion() === shownVersion) return;
    shownVersion = currentVersion();
    drawingFrame = null;
    requestDrawing?.show([]);
    load();
  });
  versionWatch.observe(panel, { attributes: true, attributeFilter: ["data-version-id"] });
  load();

  /** Unmount: the page shows another shot (the live session's playlist moves on). */
  function destroy() {
    loading++; // an answer still on its way is for a panel that is gone
    versionWatch.disconnect();
    viewer?.removeEventListener("framechange", onFrame);
    requestDrawing?.destroy();
    socket.removeEventListener("resync", onResync);
    socket.removeEventListener("message", onMessage);
  }

  return { reload: load, destroy };
}
