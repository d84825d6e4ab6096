// The comments list: which comments the filters show, grouped in threads (a comment and its
// replies, by frame), their HTML, the timeline markers and drawings they bring, and the clicks on
// them (seek and select, reply, resolve).

import { escapeHtml, relativeTime } from "../common/format.js";

const PEN_ICON = '<svg class="cm-has-drawing" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" aria-label="Has a drawing"><path d="M4 20c3-1 4-5 7-8s6-5 9-8"/></svg>';
const MENTION = /(^|[^\w@.+-])@([\w.@+-]*[\w@+-])/g;

export const authorName = (c) => c.author_name || c.author_username;

/** The comments that pass the filters: this version or all, open or all. */
export function visibleComments(state, version) {
  // A reply follows its thread: hidden when the comment it answers is resolved.
  const resolved = (c) => (c.reply_to ? state.comments.get(c.reply_to)?.resolved ?? c.resolved : c.resolved);
  return [...state.comments.values()].filter((c) =>
    (state.scope === "all" || c.version === version) && (state.filter === "all" || !resolved(c)));
}

/** Threads in frame order: [{root, replies}]; a reply whose comment is not shown stands alone. */
export function threadsOf(shown) {
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

// `view`: {state, user, canResolveAny, versionLabel, frameLabel, timecodeOf}.
function itemHtml(c, view, { reply = false } = {}) {
  const { state, frameLabel } = view;
  const frames = c.frame_end !== null && c.frame_end !== undefined ? `${frameLabel(c.frame)}–${frameLabel(c.frame_end)}` : frameLabel(c.frame);
  const mayResolve = !reply && state.locked === null && (c.author === view.user?.id || view.canResolveAny);
  const classes = ["cm-item", reply ? "reply" : "", c.resolved ? "resolved" : "", state.selected === c.id ? "selected" : "",
    state.fresh.has(c.id) ? "fresh" : ""].filter(Boolean).join(" ");
  return `<article class="${classes}" data-comment-id="${c.id}" tabindex="-1">
      <header>
        ${reply ? "" : `<button type="button" class="cm-frame" data-seek="${c.frame}" title="${view.timecodeOf(c.frame)} · go to frame">${frames}</button>`}
        <span class="cm-author${c.author_is_guest ? " guest" : ""}">${escapeHtml(authorName(c))}</span>
        ${state.scope === "all" ? `<span class="tag">${escapeHtml(view.versionLabel.get(c.version) || "")}</span>` : ""}
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

export function renderList(list, groups, view) {
  if (!groups.length) {
    const none = view.state.comments.size ? "No comments match these filters." : "No comments yet. Press C to comment on the current frame.";
    list.innerHTML = `<li class="cm-empty muted small">${none}</li>`;
  } else {
    list.innerHTML = groups.map(({ root, replies }) => `<li class="cm-thread">${itemHtml(root, view)}${replies.length ?
      `<ol class="cm-replies">${replies.map((r) => `<li>${itemHtml(r, view, { reply: true })}</li>`).join("")}</ol>` : ""}</li>`).join("");
  }
}

/** One timeline marker per thread. */
export function markersOf(groups, frameLabel) {
  return groups.map(({ root }) => ({
    frame: root.frame, frameEnd: root.frame_end ?? root.frame, id: root.id, kind: root.resolved ? "resolved" : "note",
    title: `${frameLabel(root.frame)} · ${authorName(root)}: ${root.text.slice(0, 80)}`,
  }));
}

/**
 * The onion skin at `frame`: the drawings of the nearest annotated frame before it and after it
 * (a comment's range counts as annotated on each of its frames), as [{shapes, onion}] with onion
 * "before" or "after".
 */
export function onionDrawingsAt(shown, frame) {
  const drawn = shown.filter((c) => c.drawing?.length);
  const last = (c) => c.frame_end ?? c.frame;
  const before = Math.max(-1, ...drawn.map(last).filter((f) => f < frame));
  const after = Math.min(Infinity, ...drawn.map((c) => c.frame).filter((f) => f > frame));
  const at = (f, onion) => drawn.filter((c) => c.frame <= f && f <= last(c)).map((c) => ({ shapes: c.drawing, onion }));
  return [...(before >= 0 ? at(before, "before") : []), ...(after < Infinity ? at(after, "after") : [])];
}

/** The drawings to show at `frame`: those of comments on it, and the selected comment's anywhere. */
export function drawingsAt(shown, frame, selected) {
  return shown
    .filter((c) => c.drawing?.length && (c.id === selected || (frame >= c.frame && frame <= (c.frame_end ?? c.frame))))
    .map((c) => ({ shapes: c.drawing, emphasis: c.id === selected }));
}

/** Clicks in the list: {reply(comment), resolve(comment), select(id)}. */
export function bindListClicks(list, state, { reply, resolve, select }) {
  list.addEventListener("click", async (event) => {
    const seekButton = event.target.closest("[data-seek]");
    const replyButton = event.target.closest("[data-reply]");
    const resolveButton = event.target.closest("[data-resolve]");
    if (replyButton) {
      reply(state.comments.get(Number(replyButton.dataset.reply)));
      return;
    }
    if (resolveButton) {
      await resolve(state.comments.get(Number(resolveButton.dataset.resolve)));
      return;
    }
    const item = event.target.closest("[data-comment-id]");
    if (seekButton || item) {
      const article = item ?? seekButton.closest("[data-comment-id]");
      const id = Number(article.dataset.commentId);
      const comment = state.comments.get(id);
      // A reply selects its thread, unless it has a drawing of its own to show.
      select(comment.reply_to && state.comments.has(comment.reply_to) && !comment.drawing?.length ? comment.reply_to : id);
    }
  });
}
