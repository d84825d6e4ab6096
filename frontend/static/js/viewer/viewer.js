// The comparison viewer: two sources of one shot (A and B), composed on a canvas in four modes
// (side by side, wipe, A/B toggle, amplified difference), frame-exact stepping and scrubbing,
// playback at the shot's fps, zoom and pan shared by both sides.
//
// Contract (other modules build on it, see docs/API.md "Frame stream" and docs/ARCHITECTURE.md):
//   new ComparisonViewer(root, {shotId, frameCount, fps, sources: [{id, label, width?, height?, frameCount?}],
//     a, b, frame, mode?, socketUrl?, keyboard?, startNumber?})
//   viewer.frame, viewer.state, seek(frame), play(), pause(), setState(partial, {silent})
//   events: framechange {frame}, statechange (full state, user actions), viewchange, markerclick {marker}
//   viewer.overlay, toImage(clientX, clientY), fromImage(x, y), setMarkers([{frame, frameEnd, id, kind}])
//
// The frame counter always shows the frame actually drawn (data-drawn-frame on the root); while
// the playhead's frames are on their way the viewer says "buffering" rather than pretend.

import { escapeHtml } from "../common/format.js";
import { hasCommandModifier, isTypingTarget } from "../common/keys.js";
import { FrameStore } from "./frame-store.js";
import { Timeline } from "./timeline.js";
import {
  displayNumber, formatTimecode, loadStartNumber, parseDisplayNumber, saveStartNumber,
} from "./timecode.js";

export const MODES = ["side", "wipe", "toggle", "diff"];
const MODE_LABELS = { side: "Side by side", wipe: "Wipe", toggle: "A/B", diff: "Difference" };
const MIN_ZOOM = 0.1;
const MAX_ZOOM = 32;
const PREFETCH_AHEAD = 24;
const PREFETCH_BEHIND = 8;
const SIDE_GAP = 4; // CSS px between the two images side by side
const SHUTTLE_SPEEDS = [1, 2, 4, 8];
const PROXY_HEIGHTS = [240, 480, 720, 1080];

const clamp = (value, low, high) => Math.min(Math.max(value, low), high);

export class ComparisonViewer extends EventTarget {
  constructor(root, { shotId, frameCount, fps, sources, a, b, frame = 0, mode = "side", socketUrl = null,
    keyboard = true, startNumber = null }) {
    super();
    if (!sources?.length) throw new Error("ComparisonViewer needs at least one source");
    this.root = root;
    this.shotId = shotId;
    this.frameCount = frameCount;
    this.fps = fps;
    this.sources = sources;
    const ids = sources.map((s) => s.id);
    this._state = {
      a: ids.includes(a) ? a : ids[0],
      b: ids.includes(b) ? b : ids[ids.length - 1],
      mode: MODES.includes(mode) ? mode : "side",
      wipe: 0.5,
      showing: "a",
      zoom: 1,
      panX: 0,
      panY: 0,
      playing: false,
      frame: clamp(Math.floor(frame) || 0, 0, frameCount - 1),
      gain: 4,
    };
    this.speed = 1; // signed shuttle speed while playing
    this.drawnFrame = null;
    this.startNumber = startNumber ?? loadStartNumber();
    this._build();
    const url = socketUrl || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/shots/${shotId}/frames/`;
    this.store = new FrameStore(url);
    this.store.addEventListener("frame", (event) => this._onFrameArrived(event.detail));
    this.store.addEventListener("error", (event) => this._showError(event.detail));
    this.store.addEventListener("connection", (event) => {
      this.root.dataset.connection = event.detail.state;
      if (event.detail.state === "open") this._prefetch();
    });
    if (keyboard) {
      this._onKey = (event) => this._handleKey(event);
      document.addEventListener("keydown", this._onKey);
    }
    this._syncControls();
    this._prefetch();
    this._invalidate();
  }

  // ---- public API -------------------------------------------------------------------------

  get frame() { return this._state.frame; }

  // The contract's keys, plus `gain` (difference amplification) and `speed` (signed shuttle speed).
  get state() { return { ...this._state, speed: this.speed }; }

  seek(frame, { user = true } = {}) {
    const target = clamp(Math.round(frame), 0, this.frameCount - 1);
    if (this._state.playing && user) this._stopPlayback();
    this._setFrame(target);
    if (user) this._emitState();
  }

  play(speed = 1) {
    this._startPlayback(speed);
    this._emitState();
  }

  pause() {
    this._stopPlayback();
    this._emitState();
  }

  // Apply a partial state (e.g. from a live session). With {silent: true} nothing is emitted,
  // so a follower does not echo the leader's state back.
  setState(partial, { silent = false } = {}) {
    const ids = this.sources.map((s) => s.id);
    const next = { ...this._state };
    if (partial.a !== undefined && ids.includes(partial.a)) next.a = partial.a;
    if (partial.b !== undefined && ids.includes(partial.b)) next.b = partial.b;
    if (partial.mode !== undefined && MODES.includes(partial.mode)) next.mode = partial.mode;
    if (Number.isFinite(partial.wipe)) next.wipe = clamp(partial.wipe, 0, 1);
    if (partial.showing === "a" || partial.showing === "b") next.showing = partial.showing;
    if (Number.isFinite(partial.zoom)) next.zoom = clamp(partial.zoom, MIN_ZOOM, MAX_ZOOM);
    if (Number.isFinite(partial.panX)) next.panX = partial.panX;
    if (Number.isFinite(partial.panY)) next.panY = partial.panY;
    if (Number.isFinite(partial.gain)) next.gain = clamp(partial.gain, 1, 64);
    const frame = Number.isFinite(partial.frame) ? clamp(Math.round(partial.frame), 0, this.frameCount - 1) : null;
    this._state = { ...next, playing: this._state.playing };
    const speed = SHUTTLE_SPEEDS.includes(Math.abs(partial.speed)) ? partial.speed : 1;
    if (partial.playing === true && !this._state.playing) this._startPlayback(speed, frame);
    else if (partial.playing === false && this._state.playing) this._stopPlayback();
    if (frame !== null && !(partial.playing === true)) this._setFrame(frame, { silent });
    this._syncControls();
    this._prefetch();
    this._invalidate();
    if (!silent) this._emitState();
  }

  setMarkers(markers) {
    this.timeline.setMarkers(markers);
  }

  /** Rename a source in the pickers and on the picture (e.g. "v2 · Approved" after a decision). */
  setSourceLabel(id, label) {
    const source = this.sources.find((s) => s.id === id);
    if (!source) return;
    source.label = label;
    for (const option of this.root.querySelectorAll("select[data-side] option")) {
      if (option.value === id) option.textContent = label;
    }
    this._invalidate();
  }

  setStartNumber(value) {
    if (!Number.isInteger(value) || value < 0) return;
    this.startNumber = value;
    saveStartNumber(value);
    this.startInput.value = String(value);
    this.timeline.setStartNumber(value);
    this._updateCounter();
  }

  // Client coordinates -> normalised coordinates (0..1) in the A image (left image side by side).
  toImage(clientX, clientY) {
    const rect = this._paneRects()[0];
    const box = this.stage.getBoundingClientRect();
    return { x: (clientX - box.left - rect.x) / rect.w, y: (clientY - box.top - rect.y) / rect.h };
  }

  // Normalised image coordinates -> pixel coordinates inside viewer.overlay.
  fromImage(x, y) {
    const rect = this._paneRects()[0];
    return { x: x * rect.w, y: y * rect.h };
  }

  // The A image's rectangle in canvas pixels (for tests and overlays that draw on the canvas).
  imageRect() {
    const ratio = window.devicePixelRatio || 1;
    const r = this._paneRects()[0];
    return { x: r.x * ratio, y: r.y * ratio, w: r.w * ratio, h: r.h * ratio };
  }

  destroy() {
    this.destroyed = true;
    this._stopPlayback();
    if (this._onKey) document.removeEventListener("keydown", this._onKey);
    this.resizeObserver.disconnect();
    this.store.close();
    this.root.replaceChildren();
  }

  // ---- DOM ----------------------------------------------------------------------------------

  _build() {
    const root = this.root;
    root.classList.add("cv");
    const options = this.sources.map((s) => `<option value="${escapeHtml(s.id)}">${escapeHtml(s.label)}</option>`).join("");
    const modeButtons = MODES.map((mode, i) =>
      `<button type="button" data-mode="${mode}" title="${MODE_LABELS[mode]} (${i + 1})">${MODE_LABELS[mode]}<kbd>${i + 1}</kbd></button>`).join("");
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
        <span class="cv-spacer"></span>
        <label class="cv-start" title="Number shown for the shot's first frame">Start
          <input class="cv-start-input" type="number" min="0" max="9999999" step="1"></label>
        <span class="cv-fps"></span>
      </div>
      <div class="cv-timeline-host"></div>`;

    this.stage = root.querySelector(".cv-stage");
    this.canvas = root.querySelector(".cv-canvas");
    this.ctx = this.canvas.getContext("2d");
    this.overlay = root.querySelector(".cv-overlay");
    this.wipeHandle = root.querySelector(".cv-wipe-handle");
    this.statusEl = root.querySelector(".cv-status");
    this.frameInput = root.querySelector(".cv-frame-input");
    this.startInput = root.querySelector(".cv-start-input");
    this.gainInput = root.querySelector(".cv-gain input");
    this.timeline = new Timeline(root.querySelector(".cv-timeline-host"), {
      frameCount: this.frameCount,
      fps: this.fps,
      onSeek: (frame, { scrub }) => {
        this.seek(frame);
        this.root.classList.toggle("scrubbing", scrub);
      },
      onMarker: (marker) => {
        this.seek(marker.frame);
        this.dispatchEvent(new CustomEvent("markerclick", { detail: { marker } }));
      },
    });
    this.timeline.setStartNumber(this.startNumber);
    root.querySelector(".cv-fps").textContent = `${Number(this.fps.toFixed(3))} fps`;
    root.querySelector(".cv-of").textContent =
      `/ ${displayNumber(this.frameCount - 1, this.startNumber)}`;
    this.startInput.value = String(this.startNumber);

    for (const select of root.querySelectorAll(".cv-source select")) {
      select.addEventListener("change", () => this._userState({ [select.dataset.side]: select.value }));
    }
    root.querySelector(".cv-swap").addEventListener("click", () =>
      this._userState({ a: this._state.b, b: this._state.a }));
    for (const button of root.querySelectorAll("[data-mode]")) {
      button.addEventListener("click", () => this._userState({ mode: button.dataset.mode }));
    }
    this.gainInput.addEventListener("input", () => this._userState({ gain: Number(this.gainInput.value) }));
    for (const button of root.querySelectorAll("[data-zoom]")) {
      button.addEventListener("click", () => {
        const kind = button.dataset.zoom;
        if (kind === "fit") this._userState({ zoom: 1, panX: 0, panY: 0 });
        else this._zoomBy(kind === "in" ? 1.25 : 0.8);
      });
    }
    root.querySelector(".cv-buttons").addEventListener("click", (event) => {
      const action = event.target.closest("[data-action]")?.dataset.action;
      if (action === "first") this.seek(0);
      else if (action === "last") this.seek(this.frameCount - 1);
      else if (action === "back") this._step(-1);
      else if (action === "forward") this._step(1);
      else if (action === "play") (this._state.playing ? this.pause() : this.play());
    });
    this.frameInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        const frame = parseDisplayNumber(this.frameInput.value, this.startNumber, this.frameCount);
        if (frame === null) {
          this.frameInput.classList.add("invalid");
        } else {
          this.frameInput.classList.remove("invalid");
          this.seek(frame);
          this.frameInput.blur();
        }
      } else if (event.key === "Escape") {
        this._updateCounter();
        this.frameInput.blur();
      }
    });
    this.frameInput.addEventListener("blur", () => { this.frameInput.classList.remove("invalid"); this._updateCounter(); });
    this.startInput.addEventListener("change", () => {
      const value = Number(this.startInput.value);
      if (Number.isInteger(value) && value >= 0) this.setStartNumber(value);
      else this.startInput.value = String(this.startNumber);
    });

    this._bindStagePointer();
    this.resizeObserver = new ResizeObserver(() => {
      this._resizeCanvas();
      this._invalidate();
      this._prefetch();
    });
    this.resizeObserver.observe(this.stage);
    this._resizeCanvas();
  }

  _bindStagePointer() {
    const stage = this.stage;
    let drag = null;
    stage.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 && event.button !== 1) return;
      if (event.target.closest(".cv-overlay.drawing")) return; // a drawing layer owns the pointer
      const onHandle = event.target.closest(".cv-wipe-handle");
      stage.setPointerCapture(event.pointerId);
      drag = onHandle
        ? { kind: "wipe" }
        : { kind: "pan", x: event.clientX, y: event.clientY, panX: this._state.panX, panY: this._state.panY };
      stage.classList.add(drag.kind === "wipe" ? "wiping" : "panning");
      event.preventDefault();
      // preventDefault keeps the focus where it was: a click on the picture hands the keys back to the viewer.
      if (document.activeElement instanceof HTMLElement && this.root.contains(document.activeElement)) {
        document.activeElement.blur();
      }
    });
    stage.addEventListener("pointermove", (event) => {
      if (!drag) return;
      if (drag.kind === "wipe") {
        const rect = this._paneRects()[0];
        const box = stage.getBoundingClientRect();
        this._userState({ wipe: clamp((event.clientX - box.left - rect.x) / rect.w, 0, 1) });
      } else {
        const rect = this._paneRects()[0];
        this._userState({
          panX: drag.panX + (event.clientX - drag.x) / rect.w,
          panY: drag.panY + (event.clientY - drag.y) / rect.h,
        });
      }
    });
    const end = () => {
      drag = null;
      stage.classList.remove("wiping", "panning");
    };
    stage.addEventListener("pointerup", end);
    stage.addEventListener("pointercancel", end);
    stage.addEventListener("dblclick", () => this._userState({ zoom: 1, panX: 0, panY: 0 }));
    stage.addEventListener("wheel", (event) => {
      event.preventDefault();
      this._zoomBy(Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
    }, { passive: false });
  }

  _resizeCanvas() {
    const box = this.stage.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    this.stageWidth = box.width;
    this.stageHeight = box.height;
    const width = Math.max(1, Math.round(box.width * ratio));
    const height = Math.max(1, Math.round(box.height * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
  }

  // ---- geometry -----------------------------------------------------------------------------

  _imageSize() {
    const bitmap = this.store?.get(this._state.a, this.drawnFrame ?? this._state.frame);
    if (bitmap) return { w: bitmap.width, h: bitmap.height };
    const source = this.sources.find((s) => s.id === this._state.a);
    return { w: source?.width || 4, h: source?.height || 3 };
  }

  // The image rectangles (CSS px in the stage): one per pane, two side by side.
  _paneRects() {
    const W = this.stageWidth || 1;
    const H = this.stageHeight || 1;
    const panes = this._state.mode === "side"
      ? [{ x: 0, w: (W - SIDE_GAP) / 2 }, { x: (W + SIDE_GAP) / 2, w: (W - SIDE_GAP) / 2 }]
      : [{ x: 0, w: W }];
    const { w: iw, h: ih } = this._imageSize();
    return panes.map((pane) => {
      const scale = Math.min(pane.w / iw, H / ih) * this._state.zoom;
      const w = iw * scale;
      const h = ih * scale;
      return {
        x: pane.x + (pane.w - w) / 2 + this._state.panX * w,
        y: (H - h) / 2 + this._state.panY * h,
        w, h, pane,
      };
    });
  }

  _zoomBy(factor, clientX = null, clientY = null) {
    const zoom = clamp(this._state.zoom * factor, MIN_ZOOM, MAX_ZOOM);
    const rects = this._paneRects();
    const box = this.stage.getBoundingClientRect();
    // Keep the image point under the cursor (or the pane's centre) where it is.
    const px = clientX === null ? null : clientX - box.left;
    const rect = px !== null && rects.length > 1 && px >= rects[1].pane.x ? rects[1] : rects[0];
    const X = px ?? rect.pane.x + rect.pane.w / 2;
    const Y = clientY === null ? this.stageHeight / 2 : clientY - box.top;
    const u = (X - rect.x) / rect.w;
    const v = (Y - rect.y) / rect.h;
    const w = rect.w * (zoom / this._state.zoom);
    const h = rect.h * (zoom / this._state.zoom);
    const centreX = rect.pane.x + rect.pane.w / 2;
    const centreY = this.stageHeight / 2;
    this._userState({
      zoom,
      panX: (X - centreX) / w + 0.5 - u,
      panY: (Y - centreY) / h + 0.5 - v,
    });
  }

  // ---- frames, prefetch, playback -----------------------------------------------------------

  _requestHeight() {
    const ratio = window.devicePixelRatio || 1;
    const want = (this.stageHeight || 480) * ratio * Math.min(this._state.zoom, 4);
    return PROXY_HEIGHTS.find((h) => h >= want) ?? PROXY_HEIGHTS[PROXY_HEIGHTS.length - 1];
  }

  _neededSources() {
    return [...new Set([this._state.a, this._state.b])];
  }

  // Frames a source holds: a version's media may be shorter than the shot.
  _framesOf(source) {
    return Math.min(this.frameCount, this.sources.find((s) => s.id === source)?.frameCount ?? this.frameCount);
  }

  _prefetch() {
    if (!this.store) return;
    const height = this._requestHeight();
    const reverse = this._state.playing && this.speed < 0;
    for (const source of this._neededSources()) {
      const limit = this._framesOf(source);
      const frame = Math.min(this._state.frame, limit - 1);
      if (reverse) {
        const start = Math.max(0, frame - PREFETCH_AHEAD + 1);
        this.store.want(source, start, frame - start + 1, height);
      } else {
        this.store.want(source, frame, Math.min(PREFETCH_AHEAD, limit - frame), height, limit);
      }
      // Once the way ahead is cached, a few frames behind, for stepping back.
      if (!this._state.playing && frame > 0 && this.store.laneIdle(source)) {
        const start = Math.max(0, frame - PREFETCH_BEHIND);
        this.store.want(source, start, frame - start, height);
      }
    }
  }

  _ready(frame) {
    return this._neededSources().every((source) => this.store.has(source, frame));
  }

  _onFrameArrived({ frame }) {
    // The frame wanted, or (when paused) a sharper copy of the one on screen after zooming in.
    if (frame === this._state.frame && (!this._state.playing || this.drawnFrame !== frame)) this._invalidate();
    if (!this._cacheBarScheduled) {
      this._cacheBarScheduled = true;
      setTimeout(() => {
        this._cacheBarScheduled = false;
        this._updateCacheBar();
        if (!this._state.playing) this._prefetch();
      }, 120);
    }
  }

  _updateCacheBar() {
    const [first, ...rest] = this._neededSources().map((s) => this.store.cachedFrames(s, this.frameCount));
    this.timeline.setCached(first.map((on, f) => on && rest.every((c) => c[f])));
  }

  _setFrame(frame, { silent = false } = {}) {
    if (frame === this._state.frame && this.drawnFrame === frame) return;
    this._state.frame = frame;
    this.timeline.setFrame(frame);
    this._prefetch();
    this._invalidate();
    if (!silent) this.dispatchEvent(new CustomEvent("framechange", { detail: { frame } }));
  }

  _step(delta) {
    if (this._state.playing) this._stopPlayback();
    this.seek(this._state.frame + delta);
  }

  _startPlayback(speed, fromFrame = null) {
    this.speed = speed;
    this._state.playing = true;
    this._clock = { t0: performance.now(), f0: fromFrame ?? this.drawnFrame ?? this._state.frame };
    if (fromFrame !== null) this._setFrame(fromFrame);
    this._syncControls();
    cancelAnimationFrame(this._playRaf);
    this._playRaf = requestAnimationFrame((now) => this._tick(now));
  }

  _stopPlayback() {
    this._state.playing = false;
    cancelAnimationFrame(this._playRaf);
    this._syncControls();
    // Land on the frame on screen, so what is shown and the playhead agree.
    if (this.drawnFrame !== null && this.drawnFrame !== this._state.frame) this._setFrame(this.drawnFrame);
    this._setBuffering(false);
  }

  _tick(now) {
    if (!this._state.playing) return;
    const elapsed = (now - this._clock.t0) / 1000;
    const advance = Math.trunc(elapsed * this.fps * this.speed);
    let target = this._clock.f0 + advance;
    if (target >= this.frameCount || target < 0) {
      // Loop: start the clock again at the other end.
      target = target >= this.frameCount ? 0 : this.frameCount - 1;
      this._clock = { t0: now, f0: target };
    }
    if (target !== this.drawnFrame) {
      if (this._ready(target)) {
        this._setBuffering(false);
        this._setFrame(target);
        this._render(); // draw now, in this animation frame
      } else {
        // Late frames: hold the picture and stop the clock rather than show a frame we do not
        // have; playback goes on from the frame after the one on screen when it arrives.
        this._setBuffering(true);
        const shown = this.drawnFrame ?? target;
        const next = this.drawnFrame === null ? target : (shown + Math.sign(this.speed) + this.frameCount) % this.frameCount;
        this._state.frame = next;
        this._clock = { t0: now, f0: shown };
        this._prefetch();
      }
    }
    this._playRaf = requestAnimationFrame((t) => this._tick(t));
  }

  _setBuffering(on) {
    this.root.classList.toggle("buffering", on);
  }

  // ---- drawing ------------------------------------------------------------------------------

  _invalidate() {
    if (this._renderScheduled) return;
    this._renderScheduled = true;
    requestAnimationFrame(() => {
      this._renderScheduled = false;
      if (!this.destroyed) this._render();
    });
  }

  _render() {
    const frame = this._state.frame;
    const { a, b, mode, showing } = this._state;
    let drawFrame = frame;
    let bitmapA = this.store.get(a, frame);
    let bitmapB = this.store.get(b, frame);
    const needsB = mode !== "toggle" || showing === "b";
    const needsA = mode !== "toggle" || showing === "a";
    const complete = (!needsA || bitmapA) && (!needsB || bitmapB);
    if (!complete) {
      // Keep the frame on screen (if its bitmaps are still cached) until the new one arrives.
      drawFrame = this.drawnFrame;
      bitmapA = drawFrame === null ? undefined : this.store.get(a, drawFrame);
      bitmapB = drawFrame === null ? undefined : this.store.get(b, drawFrame);
    }
    this.root.classList.toggle("loading", !complete);
    this.statusEl.textContent = !complete ? "Loading frame…" : "";

    this._resizeCanvas();
    const ctx = this.ctx;
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const rects = this._paneRects();
    // Past 2x magnification of a full-resolution frame, show pixels as pixels: a reviewer zooms
    // in to judge grain and detail. A proxy smaller than the scan stays smoothed: its pixels
    // are not the scan's.
    const sample = bitmapA ?? bitmapB;
    const scanHeight = this.sources.find((s) => s.id === a)?.height || 0;
    ctx.imageSmoothingEnabled = !(sample && sample.height >= scanHeight && rects[0].w / sample.width >= 2);
    ctx.imageSmoothingQuality = "high";

    const drawIn = (bitmap, rect, clip) => {
      if (!bitmap) return;
      ctx.save();
      ctx.beginPath();
      ctx.rect(clip.x, clip.y, clip.w, clip.h);
      ctx.clip();
      ctx.drawImage(bitmap, rect.x, rect.y, rect.w, rect.h);
      ctx.restore();
    };
    const paneClip = (rect) => ({ x: rect.pane.x, y: 0, w: rect.pane.w, h: this.stageHeight });

    let drawn = false;
    if (mode === "side") {
      drawIn(bitmapA, rects[0], paneClip(rects[0]));
      drawIn(bitmapB, rects[1], paneClip(rects[1]));
      drawn = Boolean(bitmapA && bitmapB);
    } else if (mode === "wipe") {
      const rect = rects[0];
      const splitX = rect.x + this._state.wipe * rect.w;
      drawIn(bitmapA, rect, { x: 0, y: 0, w: Math.max(0, splitX), h: this.stageHeight });
      drawIn(bitmapB, rect, { x: splitX, y: 0, w: Math.max(0, this.stageWidth - splitX), h: this.stageHeight });
      drawn = Boolean(bitmapA && bitmapB);
    } else if (mode === "toggle") {
      const bitmap = showing === "a" ? bitmapA : bitmapB;
      drawIn(bitmap, rects[0], paneClip(rects[0]));
      drawn = Boolean(bitmap);
    } else if (mode === "diff" && bitmapA && bitmapB) {
      const diff = this._difference(bitmapA, bitmapB);
      ctx.save();
      ctx.filter = `brightness(${this._state.gain})`;
      drawIn(diff, rects[0], paneClip(rects[0]));
      ctx.restore();
      drawn = true;
    }
    if (drawn) {
      this.drawnFrame = drawFrame;
      this.root.dataset.drawnFrame = String(drawFrame);
      this.root.dataset.drawnA = needsA ? `${a}:${drawFrame}` : "";
      this.root.dataset.drawnB = needsB ? `${b}:${drawFrame}` : "";
      this.store.pin([`${a}:${drawFrame}`, `${b}:${drawFrame}`]);
    }
    this.root.dataset.mode = mode;
    this._placeOverlay(rects);
    this._updateCounter();
  }

  // |A - B| at A's resolution, on an offscreen canvas (amplified when drawn, by a brightness filter).
  _difference(bitmapA, bitmapB) {
    const w = bitmapA.width;
    const h = bitmapA.height;
    if (!this._diffCanvas) this._diffCanvas = document.createElement("canvas");
    const canvas = this._diffCanvas;
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    const ctx = canvas.getContext("2d");
    ctx.globalCompositeOperation = "copy";
    ctx.drawImage(bitmapA, 0, 0, w, h);
    ctx.globalCompositeOperation = "difference";
    ctx.drawImage(bitmapB, 0, 0, w, h);
    ctx.globalCompositeOperation = "source-over";
    return canvas;
  }

  _placeOverlay(rects) {
    const rect = rects[0];
    const key = `${rect.x},${rect.y},${rect.w},${rect.h}`;
    if (this._overlayKey !== key) {
      this._overlayKey = key;
      Object.assign(this.overlay.style, {
        left: `${rect.x}px`, top: `${rect.y}px`, width: `${rect.w}px`, height: `${rect.h}px`,
      });
      this._emitView();
    }
    const wipe = this._state.mode === "wipe";
    this.wipeHandle.hidden = !wipe;
    if (wipe) {
      const x = clamp(rect.x + this._state.wipe * rect.w, 0, this.stageWidth);
      this.wipeHandle.style.left = `${x}px`;
    }
    const labelA = this.root.querySelector(".cv-label-a");
    const labelB = this.root.querySelector(".cv-label-b");
    const label = (id) => this.sources.find((s) => s.id === id)?.label ?? id;
    const mode = this._state.mode;
    labelA.textContent = mode === "diff" ? `|A − B| × ${this._state.gain}` :
      mode === "toggle" ? `${this._state.showing.toUpperCase()} · ${label(this._state[this._state.showing])}` :
        `A · ${label(this._state.a)}`;
    labelB.textContent = `B · ${label(this._state.b)}`;
    labelB.hidden = mode === "toggle" || mode === "diff";
    if (mode === "side") labelB.style.left = `${rects[1].pane.x + 8}px`;
    else labelB.style.left = "";
    labelB.classList.toggle("right", mode === "wipe");
  }

  _updateCounter() {
    const shown = this.drawnFrame ?? this._state.frame;
    if (document.activeElement !== this.frameInput) {
      this.frameInput.value = String(displayNumber(shown, this.startNumber));
    }
    this.root.querySelector(".cv-timecode").textContent = formatTimecode(shown, this.fps);
    this.root.querySelector(".cv-of").textContent = `/ ${displayNumber(this.frameCount - 1, this.startNumber)}`;
  }

  _syncControls() {
    const s = this._state;
    this.root.querySelector('select[data-side="a"]').value = s.a;
    this.root.querySelector('select[data-side="b"]').value = s.b;
    for (const button of this.root.querySelectorAll("[data-mode]")) {
      button.setAttribute("aria-pressed", String(button.dataset.mode === s.mode));
    }
    this.root.querySelector(".cv-gain").hidden = s.mode !== "diff";
    this.gainInput.value = String(s.gain);
    this.root.querySelector(".cv-gain output").textContent = `×${s.gain}`;
    this.root.querySelector(".cv-zoom-level").textContent = `${Math.round(s.zoom * 100)}%`;
    const playButton = this.root.querySelector(".cv-play");
    playButton.classList.toggle("playing", s.playing);
    playButton.setAttribute("aria-label", s.playing ? "Pause" : "Play");
    this.root.classList.toggle("playing", s.playing);
    const speed = this.root.querySelector(".cv-speed");
    speed.textContent = s.playing && this.speed !== 1 ? `${this.speed < 0 ? "◀" : "▶"} ${Math.abs(this.speed)}×` : "";
    this.root.dataset.showing = s.showing;
  }

  // ---- user actions -------------------------------------------------------------------------

  _userState(partial) {
    this.setState(partial);
  }

  _emitState() {
    this.dispatchEvent(new CustomEvent("statechange", { detail: this.state }));
  }

  _emitView() {
    this.dispatchEvent(new CustomEvent("viewchange", { detail: { rect: this._paneRects()[0] } }));
  }

  _showError(detail) {
    this.statusEl.textContent = detail.detail || "The frame stream failed.";
    this.root.classList.add("stream-error");
    clearTimeout(this._errorTimer);
    this._errorTimer = setTimeout(() => this.root.classList.remove("stream-error"), 4000);
  }

  _shuttle(direction) {
    if (this._state.playing && Math.sign(this.speed) === direction) {
      const next = SHUTTLE_SPEEDS[Math.min(SHUTTLE_SPEEDS.indexOf(Math.abs(this.speed)) + 1, SHUTTLE_SPEEDS.length - 1)];
      this.speed = direction * next;
      this._clock = { t0: performance.now(), f0: this.drawnFrame ?? this._state.frame };
      this._syncControls();
      this._emitState();
    } else {
      this.play(direction);
    }
  }

  _handleKey(event) {
    if (event.defaultPrevented || isTypingTarget(event) || hasCommandModifier(event)) return;
    if (document.querySelector("dialog[open]")) return;
    const key = event.key;
    const handled = () => event.preventDefault();
    if (key === "ArrowLeft" || key === "ArrowRight") {
      this._step((key === "ArrowLeft" ? -1 : 1) * (event.shiftKey ? 10 : 1));
      return handled();
    }
    if (event.shiftKey && !["+", "?"].includes(key)) return;
    switch (key) {
      case "Home": this.seek(0); break;
      case "End": this.seek(this.frameCount - 1); break;
      case " ": this._state.playing ? this.pause() : this.play(); break;
      case "j": case "J": this._shuttle(-1); break;
      case "k": case "K": this.pause(); break;
      case "l": case "L": this._shuttle(1); break;
      case "t": case "T":
        this._userState({ mode: "toggle", showing: this._state.mode === "toggle" && this._state.showing === "a" ? "b" : "a" });
        break;
      case "1": case "2": case "3": case "4": this._userState({ mode: MODES[Number(key) - 1] }); break;
      case "+": case "=": this._zoomBy(1.25); break;
      case "-": case "_": this._zoomBy(0.8); break;
      case "0": this._userState({ zoom: 1, panX: 0, panY: 0 }); break;
      default: return;
    }
    handled();
  }
}
