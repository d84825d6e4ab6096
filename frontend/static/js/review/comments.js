// The comments panel of the shot review page: threaded comments at a frame or a frame range, with
// drawings over the picture, replies and resolve; a frame chip seeks the viewer; markers on the
// timeline; new comments from others appear live (ws/shots/<id>/). `C` starts a comment at the
// current frame. Mounted by shot-page.js: mountComments(panel, {viewer, shotId, versions, user, role}),
// and by the live session page (live/session.js) with its own event socket (`events`, the
// session's ws/sessions/<id>/shots/<shot>/ that admits guests) and without the export menu.
// The version commented on is the panel's data-version-id (shot-page.js keeps it on B's version).
// Guests' comments carry their name marked "(guest)" (the API's author_name).

import { api } from "../common/api.js";
import { bindKeys } from "../common/keys.js";
import { escapeHtml, relativeTime } from "../common/format.js";
import { toast } from "../common/toast.js";
import { displayNumber, formatTimecode } from "../viewer/timecode.js";
import { COLOURS, DrawingLayer } from "./draw.js";
import { shotEvents } from "./shot-events.js";
import { ensureReviewPanelStyles } from "./stylesheet.js";

const TOOL_BUTTONS = [
  ["freehand", "Pen", '<path d="M4 20c3-1 4-5 7-8s6-5 9-8"/>'],
  ["arrow", "Arrow", '<path d="M5 19 19 5M10 5h9v9"/>'],
  ["rect", "Rectangle", '<rect x="4" y="6" width="16" height="12" rx="1"/>'],
  ["text", "Text", '<path d="M5 6V4h14v2M12 4v16M9 20h6"/>'],
];
const PEN_ICON = '<svg class="cm-has-drawing" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" aria-label="Has a drawing"><path d="M4 20c3-1 4-5 7-8s6-5 9-8"/></svg>';
const MENTION = /(^|[^\w@.+-])@([\w.@+-]*[\w@+-])/g;

function icon(paths) {
  return `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" aria-hidden="true">${paths}</svg>`;
}

async function fetchAll(url) {
  const rows = [];
  let next = url;
  while (next) {
    const page = await api(next, { quiet: true });
    rows.push(...page.results);
    next = page.next;
  }
  return rows;
}

const authorName = (c) => c.author_name || c.author_username;

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
  };
  const versionLabel = new Map(versions.map((v) => [v.id, v.label || `v${v.number}`]));
  const currentVersion = () => Number(panel.dataset.versionId) || null;
  const canResolveAny = role === "archivist" || role === "staff";
  const fps = () => viewer?.fps ?? 24;
  const startNumber = () => viewer?.startNumber ?? 0;
  const frameLabel = (frame) => String(displayNumber(frame, startNumber()));

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
    <form class="cm-composer" novalidate>
      <div class="cm-reply-to" hidden><span></span><button type="button" class="link" data-cancel-reply>Cancel</button></div>
      <div class="cm-tools" role="toolbar" aria-label="Drawing tools">
        ${TOOL_BUTTONS.map(([tool, label, path]) =>
          `<button type="button" class="cm-tool" data-tool="${tool}" title="${label}" aria-label="${label}" aria-pressed="false">${icon(path)}</button>`).join("")}
        <span class="cm-tools-sep"></span>
        ${COLOURS.map((colour, i) =>
          `<button type="button" class="cm-colour" data-colour="${colour}" style="--swatch:${colour}" title="Colour ${colour}" aria-label="Colour ${colour}" aria-pressed="${i === 0}"></button>`).join("")}
        <span class="cm-tools-sep"></span>
        <button type="button" class="cm-tool" data-undo title="Undo the last shape" aria-label="Undo">${icon('<path d="M9 14 4 9l5-5"/><path d="M4 9h10a6 6 0 0 1 0 12h-3"/>')}</button>
        <button type="button" class="cm-tool" data-clear title="Remove the drawing" aria-label="Clear drawing">${icon('<path d="M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3"/>')}</button>
        <span class="cm-shape-count muted small" data-shape-count></span>
      </div>
      <textarea name="text" rows="2" maxlength="10000" placeholder="Comment at this frame · @name to mention · C"></textarea>
      <div class="cm-composer-foot">
        <span class="cm-at small">at <button type="button" class="cm-frame" data-composer-frame title="Go to this frame"></button>
          <button type="button" class="link small" data-range title="Make it a range ending at the current frame">to current frame</button>
          <button type="button" class="link small" data-unpin hidden title="Follow the viewer's frame again">×</button></span>
        <span class="cm-error small" role="alert"></span>
        <button type="submit" class="btn primary sm" data-submit>Comment</button>
      </div>
    </form>`;
  panel.querySelector(".review-panel-placeholder")?.remove();

  const list = panel.querySelector(".cm-list");
  const form = panel.querySelector(".cm-composer");
  const textarea = form.elements.text;
  const errorLine = form.querySelector(".cm-error");
  const draw = viewer ? new DrawingLayer(viewer) : null;
  if (!draw) form.querySelector(".cm-tools").hidden = true;

  // ---- composer ------------------------------------------------------------------------------

  function composerFrame() {
    return state.replyTo ? state.replyTo.frame : (state.pinnedFrame ?? viewer?.frame ?? 0);
  }

  function pin() {
    if (state.pinnedFrame === null && !state.replyTo) state.pinnedFrame = viewer?.frame ?? 0;
    renderComposer();
  }

  function renderComposer() {
    const frame = composerFrame();
    const end = state.replyTo ? null : state.pinnedEnd;
    const chip = form.querySelector("[data-composer-frame]");
    chip.textContent = end !== null ? `${frameLabel(frame)}–${frameLabel(end)}` : frameLabel(frame);
    chip.title = `${formatTimecode(frame, fps())} · go to this frame`;
    form.querySelector("[data-unpin]").hidden = state.pinnedFrame === null || Boolean(state.replyTo);
    form.querySelector("[data-range]").hidden = Boolean(state.replyTo);
    const replyBox = form.querySelector(".cm-reply-to");
    replyBox.hidden = !state.replyTo;
    if (state.replyTo) replyBox.querySelector("span").textContent = `Replying to ${authorName(state.replyTo)}`;
    const noVersion = !currentVersion();
    const closed = noVersion || state.locked !== null;
    textarea.disabled = closed;
    form.querySelector("[data-submit]").disabled = closed;
    if (state.locked !== null) textarea.placeholder = state.locked;
    else if (noVersion) textarea.placeholder = "No version of this shot to comment on yet.";
    const shapes = draw?.draft.length ?? 0;
    form.querySelector("[data-shape-count]").textContent = shapes ? `${shapes} shape${shapes > 1 ? "s" : ""}` : "";
  }

  function resetComposer() {
    textarea.value = "";
    state.pinnedFrame = null;
    state.pinnedEnd = null;
    state.replyTo = null;
    errorLine.textContent = "";
    draw?.clear();
    setTool(null);
    renderComposer();
  }

  function setTool(tool) {
    if (!draw) return;
    const next = draw.tool === tool ? null : tool;
    draw.setTool(next);
    for (const button of form.querySelectorAll("[data-tool]")) button.setAttribute("aria-pressed", String(button.dataset.tool === next));
    if (next) pin();
  }

  form.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.tool) setTool(button.dataset.tool);
    else if (button.dataset.colour) {
      draw?.setColour(button.dataset.colour);
      for (const swatch of form.querySelectorAll("[data-colour]")) swatch.setAttribute("aria-pressed", String(swatch === button));
    } else if ("undo" in button.dataset) draw?.undo();
    else if ("clear" in button.dataset) draw?.clear();
    else if ("composerFrame" in button.dataset) viewer?.seek(composerFrame());
    else if ("range" in button.dataset) {
      pin();
      const now = viewer?.frame ?? 0;
      if (now > state.pinnedFrame) state.pinnedEnd = now;
      else if (now < state.pinnedFrame) { state.pinnedEnd = state.pinnedFrame; state.pinnedFrame = now; }
      renderComposer();
    } else if ("unpin" in button.dataset) { state.pinnedFrame = null; state.pinnedEnd = null; renderComposer(); }
    else if ("cancelReply" in button.dataset) { state.replyTo = null; renderComposer(); }
  });
  textarea.addEventListener("focus", pin);
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
    if (event.key === "Escape") textarea.blur();
  });
  draw?.addEventListener("change", () => { if (draw.draft.length) pin(); renderComposer(); });
  viewer?.addEventListener("framechange", () => { if (state.pinnedFrame === null) renderComposer(); showDrawings(); });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    const version = state.replyTo ? state.replyTo.version : currentVersion();
    if (!text) { errorLine.textContent = "Write something first."; textarea.focus(); return; }
    if (!version) return;
    const body = { version, frame: composerFrame(), text };
    if (!state.replyTo && state.pinnedEnd !== null) body.frame_end = state.pinnedEnd;
    if (state.replyTo) body.reply_to = state.replyTo.id;
    else if (draw?.drawing) body.drawing = draw.drawing;
    const submit = form.querySelector("[data-submit]");
    submit.disabled = true;
    errorLine.textContent = "";
    try {
      const comment = await api("/api/comments/", { method: "POST", body, quiet: true });
      upsert(comment);
      resetComposer();
      select(comment.id, { seek: false });
    } catch (error) {
      errorLine.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });

  // ---- list ----------------------------------------------------------------------------------

  function visible() {
    const version = currentVersion();
    // A reply follows its thread: hidden when the comment it answers is resolved.
    const resolved = (c) => (c.reply_to ? state.comments.get(c.reply_to)?.resolved ?? c.resolved : c.resolved);
    return [...state.comments.values()].filter((c) =>
      (state.scope === "all" || c.version === version) && (state.filter === "all" || !resolved(c)));
  }

  function threads() {
    const shown = visible();
    const ids = new Set(shown.map((c) => c.id));
    const roots = shown.filter((c) => !c.reply_to || !ids.has(c.reply_to));
    const byFrame = (a, b) => a.frame - b.frame || a.created_at.localeCompare(b.created_at) || a.id - b.id;
    roots.sort(byFrame);
    return roots.map((root) => ({
      root,
      replies: shown.filter((c) => c.reply_to === root.id).sort((a, b) => a.created_at.localeCompare(b.created_at)),
    }));
  }

  function textHtml(text) {
    return escapeHtml(text).replace(MENTION, (_, before, name) => `${before}<span class="mention">@${name}</span>`);
  }

  function itemHtml(c, { reply = false } = {}) {
    const frames = c.frame_end !== null && c.frame_end !== undefined ? `${frameLabel(c.frame)}–${frameLabel(c.frame_end)}` : frameLabel(c.frame);
    const mayResolve = !reply && state.locked === null && (c.author === user?.id || canResolveAny);
    const classes = ["cm-item", reply ? "reply" : "", c.resolved ? "resolved" : "", state.selected === c.id ? "selected" : "",
      state.fresh.has(c.id) ? "fresh" : ""].filter(Boolean).join(" ");
    return `<article class="${classes}" data-comment-id="${c.id}" tabindex="-1">
      <header>
        ${reply ? "" : `<button type="button" class="cm-frame" data-seek="${c.frame}" title="${formatTimecode(c.frame, fps())} · go to frame">${frames}</button>`}
        <span class="cm-author${c.author_is_guest ? " guest" : ""}">${escapeHtml(authorName(c))}</span>
        ${state.scope === "all" ? `<span class="tag">${escapeHtml(versionLabel.get(c.version) || "")}</span>` : ""}
        ${c.drawing?.length ? PEN_ICON : ""}
        <time class="faint small" datetime="${c.created_at}" title="${new Date(c.created_at).toLocaleString()}">${relativeTime(c.created_at)}</time>
      </header>
      <p class="cm-text">${textHtml(c.text)}</p>
      <footer>
        ${reply || state.locked !== null ? "" : `<button type="button" class="link small" data-reply="${c.id}">Reply</button>`}
        ${mayResolve ? `<button type="button" class="link small" data-resolve="${c.id}">${c.resolved ? "Reopen" : "Resolve"}</button>` : ""}
        ${c.resolved && !reply ? '<span class="status status-ok cm-resolved-pill">Resolved</span>' : ""}
      </footer>
    </article>`;
  }

  function render() {
    const groups = threads();
    panel.querySelector("[data-count]").textContent = String(groups.length);
    if (!groups.length) {
      const none = state.comments.size ? "No comments match these filters." : "No comments yet. Press C to comment on the current frame.";
      list.innerHTML = `<li class="cm-empty muted small">${none}</li>`;
    } else {
      list.innerHTML = groups.map(({ root, replies }) => `<li class="cm-thread">${itemHtml(root)}${replies.length ?
        `<ol class="cm-replies">${replies.map((r) => `<li>${itemHtml(r, { reply: true })}</li>`).join("")}</ol>` : ""}</li>`).join("");
    }
    state.fresh.clear();
    viewer?.setMarkers(groups.map(({ root }) => ({
      frame: root.frame, frameEnd: root.frame_end ?? root.frame, id: root.id, kind: root.resolved ? "resolved" : "note",
      title: `${frameLabel(root.frame)} · ${authorName(root)}: ${root.text.slice(0, 80)}`,
    })));
    showDrawings();
    renderComposer();
  }

  function showDrawings() {
    if (!draw) return;
    const frame = viewer.frame;
    const drawings = visible()
      .filter((c) => c.drawing?.length && (c.id === state.selected || (frame >= c.frame && frame <= (c.frame_end ?? c.frame))))
      .map((c) => ({ shapes: c.drawing, emphasis: c.id === state.selected }));
    draw.show(drawings);
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

  list.addEventListener("click", async (event) => {
    const seekButton = event.target.closest("[data-seek]");
    const replyButton = event.target.closest("[data-reply]");
    const resolveButton = event.target.closest("[data-resolve]");
    if (replyButton) {
      state.replyTo = state.comments.get(Number(replyButton.dataset.reply));
      renderComposer();
      textarea.focus();
      return;
    }
    if (resolveButton) {
      const comment = state.comments.get(Number(resolveButton.dataset.resolve));
      const updated = await api(`/api/comments/${comment.id}/`, { method: "PATCH", body: { resolved: !comment.resolved } });
      upsert(updated);
      return;
    }
    const item = event.target.closest("[data-comment-id]");
    if (seekButton || item) {
      const article = item ?? seekButton.closest("[data-comment-id]");
      const id = Number(article.dataset.commentId);
      const comment = state.comments.get(id);
      select(comment.reply_to && state.comments.has(comment.reply_to) && !comment.drawing?.length ? comment.reply_to : id);
    }
  });

  for (const button of panel.querySelectorAll("[data-filter], [data-scope]")) {
    button.addEventListener("click", () => {
      const key = button.dataset.filter ? "filter" : "scope";
      state[key] = button.dataset[key];
      for (const sibling of button.parentElement.children) sibling.setAttribute("aria-pressed", String(sibling === button));
      render();
    });
  }

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
    c: (event) => { event.preventDefault(); if (!textarea.disabled) { pin(); textarea.focus(); } },
    C: (event) => { event.preventDefault(); if (!textarea.disabled) { pin(); textarea.focus(); } },
  });

  // ---- data ----------------------------------------------------------------------------------

  async function load() {
    try {
      const rows = await fetchAll(`/api/comments/?shot=${shotId}&page_size=200`);
      state.comments = new Map(rows.map((c) => [c.id, c]));
      render();
    } catch (error) {
      list.innerHTML = `<li class="cm-empty small cm-error">Comments could not be loaded: ${escapeHtml(error.message)}</li>`;
    }
  }

  const socket = events ?? shotEvents(shotId);
  let opened = 0;
  const onOpen = () => { if (opened++ > 0) load(); }; // catch up after a reconnect
  const onMessage = (event) => {
    const message = event.detail;
    if (message.type === "comment.created" || message.type === "comment.updated") {
      upsert(message.comment, { live: message.comment.author !== user?.id });
    } else if (message.type === "version.created" && !versionLabel.has(message.version)) {
      toast(`Version ${message.number} of this shot is ready for review. Reload to compare it.`, { title: "New version" });
    }
  };
  socket.addEventListener("open", onOpen);
  socket.addEventListener("message", onMessage);

  /** Nobody may comment here any more (a guest whose invitation ended): the list stays, the composer closes. */
  function lock(reason) {
    state.locked = reason;
    setTool(null);
    form.querySelector(".cm-tools").hidden = true;
    state.replyTo = null;
    render();
  }

  /** Unmount: the page shows another shot (the live session's playlist moves on). */
  function destroy() {
    unbindKeys();
    versionWatch.disconnect();
    socket.removeEventListener("open", onOpen);
    socket.removeEventListener("message", onMessage);
    draw?.destroy();
  }

  render();
  load();
  return { select, reload: load, drawing: draw, lock, destroy };
}
