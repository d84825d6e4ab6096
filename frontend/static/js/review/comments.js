// The comments panel of the shot review page: threaded comments at a frame or a frame range, with
// drawings over the picture, replies and resolve; a frame chip seeks the viewer; markers on the
// timeline; new comments from others appear live (ws/shots/<id>/). `C` starts a comment at the
// current frame. Mounted by shot-page.js: mountComments(panel, {viewer, shotId, versions, user, role}),
// and by the live session page (live/session.js) with its own event socket (`events`, the
// session's ws/sessions/<id>/shots/<shot>/ that admits guests) and without the export menu.
// The version commented on is the panel's data-version-id (shot-page.js keeps it on B's version).
// Guests' comments carry their name marked "(guest)" (the API's author_name).

//
// Its parts: comments-api.js (the API calls), comments-list.js (filters, threads, the list's HTML,
// markers), comments-composer.js (the form, pinning, drawing tools), comments-live.js (the socket).

import { bindKeys } from "../common/keys.js";
import { escapeHtml } from "../common/format.js";
import { displayNumber, formatTimecode } from "../viewer/timecode.js";
import { fetchComments, toggleResolved } from "./comments-api.js";
import { composerHtml, mountComposer } from "./comments-composer.js";
import {
  bindListClicks, drawingsAt, markersOf, onionDrawingsAt, renderList, threadsOf, visibleComments,
} from "./comments-list.js";
import { followComments } from "./comments-live.js";
import { DrawingLayer } from "./draw.js";
import { shotEvents } from "./shot-events.js";
import { ensureReviewPanelStyles } from "./stylesheet.js";

export function mountComments(panel, { viewer, shotId, versions = [], user, role, events = null, exportable = true }) {
  ensureReviewPanelStyles();
  const state = {
    comments: new Map(), // id -> comment (API JSON)
    filter: "open", // open | all
    scope: "version", // version | all
    selected: null,
    pinnedFrame: null, // the composer's frame once the user started a comment; null follows the viewer
    pinnedEnd: null,
    replyTo: null,
    fresh: new Set(), // ids that arrived live, highlighted once
    locked: null, // why nobody can comment here any more (lock()), or null
    onion: false, // show the neighbouring annotated frames' drawings (onion skin)
  };
  const versionLabel = new Map(versions.map((v) => [v.id, v.label || `v${v.number}`]));
  const currentVersion = () => Number(panel.dataset.versionId) || null;
  const canResolveAny = role === "archivist" || role === "staff";
  const fps = () => viewer?.fps ?? 24;
  // The film's timecode of a shot frame, as the viewer and the film page show it.
  const timecodeOf = (frame) => formatTimecode((viewer?.timecodeStart ?? 0) + frame, fps());
  const startNumber = () => viewer?.startNumber ?? 0;
  const frameLabel = (frame) => String(displayNumber(frame, startNumber()));
  const view = { state, user, canResolveAny, versionLabel, frameLabel, timecodeOf };

  panel.classList.add("cm-panel");
  panel.innerHTML = `
    <div class="cm-head">
      <h2 class="review-panel-title">Comments <span class="count" data-count>0</span></h2>
      ${exportable ? `<details class="menu cm-export">
        <summary class="btn ghost sm" title="Export this shot's notes">Export</summary>
        <div class="menu-items">
          <a href="/api/comments/export/?shot=${shotId}" download data-export="csv">CSV table</a>
          <a href="/api/comments/export/?shot=${shotId}&as=pdf" download data-export="pdf">PDF with annotated stills</a>
        </div>
      </details>` : ""}
    </div>
    <div class="cm-filters">
      <div class="segmented" role="group" aria-label="Which comments">
        <button type="button" data-filter="open" aria-pressed="true">Open</button>
        <button type="button" data-filter="all" aria-pressed="false">All</button>
      </div>
      <div class="segmented" role="group" aria-label="Which versions">
        <button type="button" data-scope="version" aria-pressed="true">This version</button>
        <button type="button" data-scope="all" aria-pressed="false">All versions</button>
      </div>
    </div>
    <ol class="cm-list" aria-live="polite"></ol>
    ${composerHtml()}`;
  panel.querySelector(".review-panel-placeholder")?.remove();

  const list = panel.querySelector(".cm-list");
  const form = panel.querySelector(".cm-composer");
  const draw = viewer ? new DrawingLayer(viewer) : null;
  const composer = mountComposer(form, {
    state, viewer, draw, currentVersion, frameLabel, timecodeOf,
    onPosted: (comment) => {
      upsert(comment);
      composer.reset();
      select(comment.id, { seek: false });
    },
  });
  viewer?.addEventListener("framechange", () => { if (state.pinnedFrame === null) composer.render(); showDrawings(); });

  // ---- list ----------------------------------------------------------------------------------

  const visible = () => visibleComments(state, currentVersion());

  function render() {
    const groups = threadsOf(visible());
    panel.querySelector("[data-count]").textContent = String(groups.length);
    renderList(list, groups, view);
    state.fresh.clear();
    viewer?.setMarkers(markersOf(groups, frameLabel));
    showDrawings();
    composer.render();
  }

  function showDrawings() {
    if (!draw) return;
    const onion = state.onion ? onionDrawingsAt(visible(), viewer.frame) : [];
    draw.show([...onion, ...drawingsAt(visible(), viewer.frame, state.selected)]);
  }

  function select(id, { seek = true } = {}) {
    const comment = state.comments.get(id);
    if (!comment) return;
    state.selected = id;
    if (seek && viewer) {
      if (viewer.state.playing) viewer.pause();
      viewer.seek(comment.frame);
    }
    render();
    const element = list.querySelector(`[data-comment-id="${id}"]`);
    element?.scrollIntoView({ block: "nearest" });
  }

  function upsert(comment, { live = false } = {}) {
    const known = state.comments.has(comment.id);
    state.comments.set(comment.id, comment);
    if (live && !known) state.fresh.add(comment.id);
    render();
  }

  bindListClicks(list, state, {
    reply: (comment) => composer.replyTo(comment),
    resolve: async (comment) => upsert(await toggleResolved(comment)),
    select: (id) => select(id),
  });

  for (const button of panel.querySelectorAll("[data-filter], [data-scope]")) {
    button.addEventListener("click", () => {
      const key = button.dataset.filter ? "filter" : "scope";
      state[key] = button.dataset[key];
      for (const sibling of button.parentElement.children) sibling.setAttribute("aria-pressed", String(sibling === button));
      render();
    });
  }

  // Onion skin: an animator matches positions against the drawings just before and after.
  const onionButton = form.querySelector("[data-onion]");
  onionButton.addEventListener("click", () => {
    state.onion = !state.onion;
    onionButton.setAttribute("aria-pressed", String(state.onion));
    showDrawings();
  });

  viewer?.addEventListener("markerclick", (event) => select(Number(event.detail.marker.id)));
  // shot-page.js rewrites data-version-id on every viewer state change: act on real changes only.
  let shownVersion = currentVersion();
  const versionWatch = new MutationObserver(() => {
    if (currentVersion() === shownVersion) return;
    shownVersion = currentVersion();
    state.selected = null;
    render();
  });
  versionWatch.observe(panel, { attributes: true, attributeFilter: ["data-version-id"] });

  const unbindKeys = bindKeys({
    c: (event) => { event.preventDefault(); composer.start(); },
    C: (event) => { event.preventDefault(); composer.start(); },
  });

  // ---- data ----------------------------------------------------------------------------------

  async function load() {
    try {
      const rows = await fetchComments(shotId);
      state.comments = new Map(rows.map((c) => [c.id, c]));
      render();
    } catch (error) {
      list.innerHTML = `<li class="cm-empty small cm-error">Comments could not be loaded: ${escapeHtml(error.message)}</li>`;
    }
  }

  const unfollow = followComments(events ?? shotEvents(shotId), { upsert, reload: load, user, versionLabel });

  /** Nobody may comment here any more (a guest whose invitation ended): the list stays, the composer closes. */
  function lock(reason) {
    state.locked = reason;
    composer.setTool(null);
    form.querySelector(".cm-tools").hidden = true;
    state.replyTo = null;
    render();
  }

  /** Unmount: the page shows another shot (the live session's playlist moves on). */
  function destroy() {
    unbindKeys();
    versionWatch.disconnect();
    unfollow();
    draw?.destroy();
  }

  render();
  load();
  return { select, reload: load, drawing: draw, lock, destroy };
}
