// The comment composer: text at the viewer's frame, following the playhead until the user starts
// writing or drawing, then pinned (so playing on does not move it), widened to a range, or a reply in a thread; drawing tools for a drawing on the
// picture; Ctrl+Enter posts.

import { postComment } from "./comments-api.js";
import { authorName } from "./comments-list.js";
import { COLOURS } from "./draw.js";

const TOOL_BUTTONS = [
  ["freehand", "Pen", '<path d="M4 20c3-1 4-5 7-8s6-5 9-8"/>'],
  ["arrow", "Arrow", '<path d="M5 19 19 5M10 5h9v9"/>'],
  ["rect", "Rectangle", '<rect x="4" y="6" width="16" height="12" rx="1"/>'],
  ["text", "Text", '<path d="M5 6V4h14v2M12 4v16M9 20h6"/>'],
];

function icon(paths) {
  return `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" aria-hidden="true">${paths}</svg>`;
}

export function composerHtml() {
  return `<form class="cm-composer" novalidate>
      <div class="cm-reply-to" hidden><span></span><button type="button" class="link" data-cancel-reply>Cancel</button></div>
      <div class="cm-tools" role="toolbar" aria-label="Drawing tools">
        ${TOOL_BUTTONS.map(([tool, label, path]) =>
          `<button type="button" class="cm-tool" data-tool="${tool}" title="${label}" aria-label="${label}" aria-pressed="false">${icon(path)}</button>`).join("")}
        <span class="cm-tools-sep"></span>
        ${COLOURS.map((colour, i) =>
          `<button type="button" class="cm-colour" data-colour="${colour}" title="Colour ${colour}" aria-label="Colour ${colour}" aria-pressed="${i === 0}"></button>`).join("")}
        <span class="cm-tools-sep"></span>
        <button type="button" class="cm-tool" data-undo title="Undo the last shape" aria-label="Undo">${icon('<path d="M9 14 4 9l5-5"/><path d="M4 9h10a6 6 0 0 1 0 12h-3"/>')}</button>
        <button type="button" class="cm-tool" data-clear title="Remove the drawing" aria-label="Clear drawing">${icon('<path d="M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3"/>')}</button>
        <button type="button" class="cm-tool" data-onion aria-pressed="false" title="Onion skin: the drawings of the annotated frames before (red) and after (green), faintly" aria-label="Onion skin">${icon('<circle cx="9" cy="12" r="5"/><circle cx="15" cy="12" r="5"/>')}</button>
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
}

/**
 * Wire the composer's form. `state` is the panel's (pinnedFrame, pinnedEnd, replyTo, locked);
 * `onPosted(comment)` runs after a successful post. Returns {render, reset, start, replyTo, setTool}.
 */
export function mountComposer(form, { state, viewer, draw, currentVersion, frameLabel, timecodeOf, onPosted }) {
  const textarea = form.elements.text;
  const errorLine = form.querySelector(".cm-error");
  if (!draw) form.querySelector(".cm-tools").hidden = true;
  // Set here, not as a style attribute in the HTML: the Content-Security-Policy allows none.
  for (const swatch of form.querySelectorAll("[data-colour]")) swatch.style.setProperty("--swatch", swatch.dataset.colour);

  function composerFrame() {
    return state.replyTo ? state.replyTo.frame : (state.pinnedFrame ?? viewer?.frame ?? 0);
  }

  function pin() {
    if (state.pinnedFrame === null && !state.replyTo) state.pinnedFrame = viewer?.frame ?? 0;
    render();
  }

  function render() {
    const frame = composerFrame();
    const end = state.replyTo ? null : state.pinnedEnd;
    const chip = form.querySelector("[data-composer-frame]");
    chip.textContent = end !== null ? `${frameLabel(frame)}–${frameLabel(end)}` : frameLabel(frame);
    chip.title = `${timecodeOf(frame)} · go to this frame`;
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

  function reset() {
    textarea.value = "";
    state.pinnedFrame = null;
    state.pinnedEnd = null;
    state.replyTo = null;
    errorLine.textContent = "";
    draw?.clear();
    setTool(null);
    render();
  }

  // Choosing the active tool again puts it down.
  function setTool(tool) {
    if (!draw) return;
    const next = draw.tool === tool ? null : tool;
    draw.setTool(next);
    for (const button of form.querySelectorAll("[data-tool]")) button.setAttribute("aria-pressed", String(button.dataset.tool === next));
  }

  /** `C`: the comment box, at the current frame; it pins once something is written or drawn. */
  function start() {
    if (!textarea.disabled) textarea.focus();
  }

  function replyTo(comment) {
    state.replyTo = comment;
    render();
    textarea.focus();
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
      render();
    } else if ("unpin" in button.dataset) { state.pinnedFrame = null; state.pinnedEnd = null; render(); }
    else if ("cancelReply" in button.dataset) { state.replyTo = null; render(); }
  });
  // Writing pins the frame; only focusing the box (C, a click) leaves it following the playhead.
  textarea.addEventListener("input", () => { if (textarea.value.trim()) pin(); });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
    if (event.key === "Escape") textarea.blur();
  });
  draw?.addEventListener("change", () => { if (draw.draft.length) pin(); render(); });

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
      const comment = await postComment(body);
      onPosted(comment);
    } catch (error) {
      errorLine.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });

  return { render, reset, start, replyTo, setTool };
}
