// The toolbar's mode buttons and gain slider, and one place that shows the state in every control
// (pickers, modes, gain, zoom level, play button, shuttle speed and rate, loop and its range).

import { RATE_LABELS } from "./state.js";
import { displayNumber } from "./timecode.js";

export function bindModeControls(viewer) {
  for (const button of viewer.root.querySelectorAll("[data-mode]")) {
    button.addEventListener("click", () => viewer._userState({ mode: button.dataset.mode }));
  }
  viewer.gainInput.addEventListener("input", () => viewer._userState({ gain: Number(viewer.gainInput.value) }));
}

export function syncControls(viewer) {
  const s = viewer._state;
  const root = viewer.root;
  root.querySelector('select[data-side="a"]').value = s.a;
  root.querySelector('select[data-side="b"]').value = s.b;
  for (const button of root.querySelectorAll("[data-mode]")) {
    button.setAttribute("aria-pressed", String(button.dataset.mode === s.mode));
  }
  root.querySelector(".cv-gain").hidden = s.mode !== "diff";
  viewer.gainInput.value = String(s.gain);
  root.querySelector(".cv-gain output").textContent = `×${s.gain}`;
  root.querySelector(".cv-zoom-level").textContent = `${Math.round(s.zoom * 100)}%`;
  const playButton = root.querySelector(".cv-play");
  playButton.classList.toggle("playing", s.playing);
  playButton.setAttribute("aria-label", s.playing ? "Pause" : "Play");
  root.classList.toggle("playing", s.playing);
  const speed = root.querySelector(".cv-speed");
  const pace = Math.abs(viewer.speed) * s.rate;
  speed.textContent = s.playing && pace !== 1 ? `${viewer.speed < 0 ? "◀" : "▶"} ${RATE_LABELS[pace] ?? `${pace}×`}` : "";
  root.dataset.showing = s.showing;
  viewer.rateSelect.value = String(s.rate);
  root.dataset.rate = String(s.rate);
  root.querySelector('[data-loop="toggle"]').setAttribute("aria-pressed", String(s.loop));
  const ranged = s.inPoint !== null || s.outPoint !== null;
  root.querySelector(".cv-loop-clear").hidden = !ranged;
  root.querySelector(".cv-loop-range").textContent = ranged
    ? `${displayNumber(s.inPoint ?? 0, viewer.startNumber)}–${displayNumber(s.outPoint ?? viewer.frameCount - 1, viewer.startNumber)}`
    : "";
  viewer.timeline.setRange(s.inPoint, s.outPoint);
}
