// The viewer's DOM: toolbar (sources, mode, gain, zoom, frame download, full screen), the stage
// (canvas, overlay for drawings, wipe handle, labels, status line), the transport (buttons, frame
// counter, loop points, rate, start number) and the timeline's host. The other viewer modules find
// their elements by these classes.

import { sourceOptionsHtml } from "./sources.js";
import { MODE_LABELS, MODES, RATE_LABELS, RATES } from "./state.js";

export function buildMarkup(root, sources) {
  root.classList.add("cv");
  const options = sourceOptionsHtml(sources);
  const modeButtons = MODES.map((mode, i) =>
    `<button type="button" data-mode="${mode}" title="${MODE_LABELS[mode]} (${i + 1})">${MODE_LABELS[mode]}<kbd>${i + 1}</kbd></button>`).join("");
  const rateOptions = RATES.map((rate) => `<option value="${rate}">${RATE_LABELS[rate]}</option>`).join("");
  root.innerHTML = `
    <div class="cv-toolbar">
      <label class="cv-source cv-source-a" title="Source A"><span class="cv-tag">A</span><select data-side="a" aria-label="Source A">${options}</select></label>
      <button type="button" class="cv-icon cv-swap" title="Swap A and B" aria-label="Swap A and B">
        <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8"><path d="M7 7h12l-3-3M17 17H5l3 3"/></svg></button>
      <label class="cv-source cv-source-b" title="Source B"><span class="cv-tag">B</span><select data-side="b" aria-label="Source B">${options}</select></label>
      <div class="segmented cv-modes" role="group" aria-label="Compare mode">${modeButtons}</div>
      <label class="cv-gain" title="Amplification of the difference">Gain
        <input type="range" min="1" max="64" step="1" aria-label="Difference gain"><output></output></label>
      <span class="cv-spacer"></span>
      <div class="cv-zoom" role="group" aria-label="Zoom">
        <button type="button" class="cv-icon" data-zoom="out" title="Zoom out (-)" aria-label="Zoom out">&minus;</button>
        <button type="button" class="cv-zoom-level" data-zoom="fit" title="Fit (0)">100%</button>
        <button type="button" class="cv-icon" data-zoom="in" title="Zoom in (+)" aria-label="Zoom in">+</button>
      </div>
      <details class="menu cv-snapshot">
        <summary class="cv-icon" title="Download this frame as PNG" aria-label="Download this frame">
          <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8"><path d="M12 4v11m-5-5 5 5 5-5M5 19h14"/></svg></summary>
        <div class="menu-items cv-snapshot-menu">
          <label class="cv-snapshot-row">Source <select class="cv-snapshot-source" aria-label="Source to download"></select></label>
          <label class="cv-snapshot-row"><input type="checkbox" class="cv-snapshot-drawings" checked> With the frame's drawings</label>
          <button type="button" class="btn primary sm" data-snapshot>Download PNG</button>
        </div>
      </details>
      <button type="button" class="cv-icon cv-fullscreen" title="Full screen (F)" aria-label="Full screen" aria-pressed="false">
        <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8"><path d="M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5"/></svg></button>
    </div>
    <div class="cv-stage">
      <canvas class="cv-canvas"></canvas>
      <div class="cv-overlay"></div>
      <div class="cv-wipe-handle" title="Drag to move the wipe" hidden><span></span></div>
      <div class="cv-label cv-label-a"></div>
      <div class="cv-label cv-label-b"></div>
      <div class="cv-status" role="status" aria-live="polite"></div>
    </div>
    <div class="cv-transport">
      <div class="cv-buttons">
        <button type="button" class="cv-icon" data-action="first" title="First frame (Home)" aria-label="First frame">
          <svg viewBox="0 0 24 24"><path d="M6 5h2v14H6zM19 5v14L9 12z" fill="currentColor"/></svg></button>
        <button type="button" class="cv-icon" data-action="back" title="Previous frame (Left)" aria-label="Previous frame">
          <svg viewBox="0 0 24 24"><path d="M15 5h2v14h-2zM13 5v14L4 12z" fill="currentColor"/></svg></button>
        <button type="button" class="cv-icon cv-play" data-action="play" title="Play / pause (Space)" aria-label="Play">
          <svg class="icon-play" viewBox="0 0 24 24"><path d="M7 4v16l13-8z" fill="currentColor"/></svg>
          <svg class="icon-pause" viewBox="0 0 24 24"><path d="M6 4h4v16H6zM14 4h4v16h-4z" fill="currentColor"/></svg></button>
        <button type="button" class="cv-icon" data-action="forward" title="Next frame (Right)" aria-label="Next frame">
          <svg viewBox="0 0 24 24"><path d="M7 5h2v14H7zM11 5v14l9-7z" fill="currentColor"/></svg></button>
        <button type="button" class="cv-icon" data-action="last" title="Last frame (End)" aria-label="Last frame">
          <svg viewBox="0 0 24 24"><path d="M16 5h2v14h-2zM5 5v14l10-7z" fill="currentColor"/></svg></button>
      </div>
      <div class="cv-counter">
        <input class="cv-frame-input" inputmode="numeric" aria-label="Frame number" title="Frame number: type one and press Enter">
        <span class="cv-of"></span>
        <span class="cv-timecode" title="Timecode (derived from the frame number and fps)"></span>
        <span class="cv-speed"></span>
      </div>
      <div class="cv-loop" role="group" aria-label="Loop">
        <button type="button" class="cv-loop-button" data-loop="in" title="Set the in point at this frame (I)">In<kbd>I</kbd></button>
        <button type="button" class="cv-loop-button" data-loop="out" title="Set the out point at this frame (O)">Out<kbd>O</kbd></button>
        <button type="button" class="cv-loop-button" data-loop="toggle" aria-pressed="true" title="Loop playback in the range, or the whole shot (Shift+L)">Loop</button>
        <button type="button" class="cv-icon cv-loop-clear" data-loop="clear" title="Clear the in and out points" aria-label="Clear the in and out points" hidden>&times;</button>
        <span class="cv-loop-range small"></span>
      </div>
      <label class="cv-rate" title="Playback rate (&lt; slower, &gt; faster): every frame is shown">
        <select class="cv-rate-select" aria-label="Playback rate">${rateOptions}</select></label>
      <span class="cv-spacer"></span>
      <label class="cv-start" title="Number shown for the shot's first frame">Start
        <input class="cv-start-input" type="number" min="0" max="9999999" step="1" aria-label="Start number"></label>
      <span class="cv-fps"></span>
    </div>
    <div class="cv-timeline-host"></div>`;
}
