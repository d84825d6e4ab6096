// Loop in and out points (I and O, or the buttons), the loop toggle (Shift+L, or its button) and
// the playback rate (¼×, ½×, 1×: the select, < and >). Playback runs inside the in..out range
// (playback.js), looping or stopping at its end; the range is marked on the timeline.

import { RATES } from "./state.js";

export function bindLoopControls(viewer) {
  const root = viewer.root;
  root.querySelector(".cv-loop").addEventListener("click", (event) => {
    const action = event.target.closest("[data-loop]")?.dataset.loop;
    if (action === "in") setInPoint(viewer);
    else if (action === "out") setOutPoint(viewer);
    else if (action === "toggle") toggleLoop(viewer);
    else if (action === "clear") clearRange(viewer);
  });
  viewer.rateSelect.addEventListener("change", () => {
    viewer._userState({ rate: Number(viewer.rateSelect.value) });
    viewer.rateSelect.blur(); // the keys (Space, < >) go back to the viewer
  });
}

// The frame on screen is where a reviewer sets a point, not a playhead running ahead of it.
const shownFrame = (viewer) => viewer.drawnFrame ?? viewer._state.frame;

export function setInPoint(viewer) {
  viewer._userState({ inPoint: shownFrame(viewer) });
}

export function setOutPoint(viewer) {
  viewer._userState({ outPoint: shownFrame(viewer) });
}

export function clearRange(viewer) {
  viewer._userState({ inPoint: null, outPoint: null });
}

export function toggleLoop(viewer) {
  viewer._userState({ loop: !viewer._state.loop });
}

/** One rate slower (direction -1) or faster (+1), within RATES. */
export function stepRate(viewer, direction) {
  const index = RATES.indexOf(viewer._state.rate) + direction;
  if (index >= 0 && index < RATES.length) viewer._userState({ rate: RATES[index] });
}
