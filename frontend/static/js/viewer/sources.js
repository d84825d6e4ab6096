// The two sources compared: the A and B pickers, the swap button, and their names on the picture.

import { escapeHtml } from "../common/format.js";

export function sourceOptionsHtml(sources) {
  return sources.map((s) => `<option value="${escapeHtml(s.id)}">${escapeHtml(s.label)}</option>`).join("");
}

export function bindSourcePickers(viewer) {
  for (const select of viewer.root.querySelectorAll(".cv-source select")) {
    select.addEventListener("change", () => viewer._userState({ [select.dataset.side]: select.value }));
  }
  viewer.root.querySelector(".cv-swap").addEventListener("click", () =>
    viewer._userState({ a: viewer._state.b, b: viewer._state.a }));
}

/** Rename a source in both pickers (the picture's labels follow on the next draw). */
export function renameSource(viewer, id, label) {
  const source = viewer.sources.find((s) => s.id === id);
  if (!source) return false;
  source.label = label;
  for (const option of viewer.root.querySelectorAll("select[data-side] option")) {
    if (option.value === id) option.textContent = label;
  }
  return true;
}

// A and B, or the one toggled to, or the difference's gain: named in the picture's corners.
export function placeLabels(viewer, rects) {
  const state = viewer._state;
  const labelA = viewer.root.querySelector(".cv-label-a");
  const labelB = viewer.root.querySelector(".cv-label-b");
  const label = (id) => viewer.sources.find((s) => s.id === id)?.label ?? id;
  const mode = state.mode;
  labelA.textContent = mode === "diff" ? `|A − B| × ${state.gain}` :
    mode === "toggle" ? `${state.showing.toUpperCase()} · ${label(state[state.showing])}` :
      `A · ${label(state.a)}`;
  labelB.textContent = `B · ${label(state.b)}`;
  labelB.hidden = mode === "toggle" || mode === "diff";
  if (mode === "side") labelB.style.left = `${rects[1].pane.x + 8}px`;
  else labelB.style.left = "";
  labelB.classList.toggle("right", mode === "wipe");
}

/** The sources on screen: A and B, once when they are the same. */
export function neededSources(state) {
  return [...new Set([state.a, state.b])];
}

// Frames a source holds: a version's media may be shorter than the shot.
export function framesOf(viewer, source) {
  return Math.min(viewer.frameCount, viewer.sources.find((s) => s.id === source)?.frameCount ?? viewer.frameCount);
}
