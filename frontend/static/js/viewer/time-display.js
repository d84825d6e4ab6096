// The frame counter: the number of the frame on screen (typed to seek), "/ last", the timecode, and
// the start number that maps shot frames to the numbers people use (e.g. 1001).

import { displayNumber, displayNumberProblem, formatTimecode, parseDisplayNumber } from "./timecode.js";

export function bindCounter(viewer) {
  const { frameInput, startInput } = viewer;
  const inputTitle = frameInput.title;
  // A number outside the shot says so (the browser's validation bubble, the field's title) until
  // the field is typed in again or left.
  const clearProblem = () => {
    frameInput.classList.remove("invalid");
    frameInput.setCustomValidity("");
    frameInput.removeAttribute("aria-invalid");
    frameInput.title = inputTitle;
  };
  frameInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      const frame = parseDisplayNumber(frameInput.value, viewer.startNumber, viewer.frameCount);
      if (frame === null) {
        const problem = displayNumberProblem(frameInput.value, viewer.startNumber, viewer.frameCount);
        frameInput.classList.add("invalid");
        frameInput.setCustomValidity(problem);
        frameInput.setAttribute("aria-invalid", "true");
        frameInput.title = problem;
        frameInput.reportValidity();
      } else {
        clearProblem();
        viewer.seek(frame);
        frameInput.blur();
      }
    } else if (event.key === "Escape") {
      updateCounter(viewer);
      frameInput.blur();
    }
  });
  frameInput.addEventListener("input", clearProblem);
  frameInput.addEventListener("blur", () => { clearProblem(); updateCounter(viewer); });
  startInput.addEventListener("change", () => {
    const value = Number(startInput.value);
    if (viewer.startEditable && Number.isInteger(value) && value >= 0) viewer.setStartNumber(value, { user: true });
    else startInput.value = String(viewer.startNumber);
  });
}

// The frame drawn, not the playhead: while frames are late the counter must not run ahead.
export function updateCounter(viewer) {
  const shown = viewer.drawnFrame ?? viewer._state.frame;
  if (document.activeElement !== viewer.frameInput) {
    viewer.frameInput.value = String(displayNumber(shown, viewer.startNumber));
  }
  viewer.root.querySelector(".cv-timecode").textContent = formatTimecode(viewer.timecodeStart + shown, viewer.fps);
  viewer.root.querySelector(".cv-of").textContent = `/ ${displayNumber(viewer.frameCount - 1, viewer.startNumber)}`;
}
