// The toolbar's mode buttons and gain slider, and one place that shows the state in every control
// (pickers, modes, gain, zoom level, play button, shuttle speed).

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
  speed.textContent = s.playing && viewer.speed !== 1 ? `${viewer.speed < 0 ? "◀" : "▶"} ${Math.abs(viewer.speed)}×` : "";
  root.dataset.showing = s.showing;
}
