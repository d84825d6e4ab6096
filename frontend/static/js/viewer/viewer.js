// The comparison viewer: two sources of one shot (A and B), composed on a canvas in four modes
// (side by side, wipe, A/B toggle, amplified difference), frame-exact stepping and scrubbing,
// playback at the shot's fps, zoom and pan shared by both sides.
//
// Contract (other modules build on it, see docs/API.md "Frame stream" and docs/ARCHITECTURE.md):
//   new ComparisonViewer(root, {shotId, frameCount, fps, sources: [{id, label, width?, height?, frameCount?}],
//     a, b, frame, mode?, socketUrl? (a path such as /ws/sessions/1/frames/2/, or a ws:// URL),
//     keyboard?, startNumber?, timecodeStart?, startEditable?, numberedBy?, timecodeOf?, snapshotName?})
//   startNumber: the number shown for frame 0 (the film's, e.g. 1001, or with numberedBy "scan" the
//   scan's own file number, e.g. 86400); timecodeStart: the frame whose timecode frame 0 shows (the
//   film's frame of shot frame 0, or with timecodeOf "scan" the scan's own timecode's); display
//   only: frames stay counted from 0 in seek(), state and events; startEditable: the Start field
//   may be changed, which emits startnumberchange {value} for the page to store on the film
//   (never for a scan's own numbers); snapshotName: the start of a downloaded frame's file name
//   viewer.frame, viewer.state, seek(frame), play(), pause(), setState(partial, {silent})
//   events: framechange {frame}, statechange (full state, user actions), viewchange, markerclick {marker},
//     render {a, b, drawn} (the pictures just drawn, after their display transforms)
//   setDisplayTransform("a"|"b", fn|null): fn(bitmap, {side, source}) -> what to draw (a colour grade)
//   viewer.overlay, toImage(clientX, clientY), fromImage(x, y), setMarkers([{frame, frameEnd, id, kind}])
//   setAnnotatedSource(id|null): the source drawings are made on (the version under review); side by
//     side the overlay, toImage and fromImage follow that source's pane (data-annotated-side on the root)
//   addOverlayPainter(fn) -> remove(): fn(ctx, {width, height, frame, source}) paints drawings on a
//     downloaded frame (snapshot.js); every drawing layer adds its own (the comment's and the change
//     request's both live on the review page); state also holds rate (¼, ½, 1), loop, inPoint, outPoint
//
// The frame counter always shows the frame actually drawn (data-drawn-frame on the root); while
// the playhead's frames are on their way the viewer says "buffering" rather than pretend.

//
// The parts live beside it, one job each: state.js (valid state), markup.js (DOM), sources.js
// (pickers, labels), controls.js (mode, gain, showing the state), time-display.js (frame counter,
// start number), playback.js (clock, stepping, transport), prefetch.js (what to fetch),
// geometry.js (image rectangles), zoom-pan.js, compare.js (drawing the modes), keyboard.js,
// loop.js (in/out points, loop, rate), fullscreen.js, snapshot.js (a frame as PNG).

import { bindModeControls, syncControls } from "./controls.js";
import { renderFrame } from "./compare.js";
import { FrameStore } from "./frame-store.js";
import { annotationRect, paneRects, resizeCanvas } from "./geometry.js";
import { bindFullscreen, unbindFullscreen } from "./fullscreen.js";
import { bindViewerKeys } from "./keyboard.js";
import { bindLoopControls } from "./loop.js";
import { buildMarkup } from "./markup.js";
import { bindTransport, startPlayback, stopPlayback } from "./playback.js";
import { onFrameArrived, prefetch, requestHeight } from "./prefetch.js";
import { bindSnapshot } from "./snapshot.js";
import { bindSourcePickers, renameSource } from "./sources.js";
import { clamp, initialState, mergeState, requestedFrame, requestedSpeed } from "./state.js";
import { bindCounter, updateCounter } from "./time-display.js";
import { Timeline } from "./timeline.js";
import { displayNumber, MAX_START_NUMBER } from "./timecode.js";
import { bindStagePointer, bindZoomButtons } from "./zoom-pan.js";

export { MODES } from "./state.js";

export class ComparisonViewer extends EventTarget {
  constructor(root, { shotId, frameCount, fps, sources, a, b, frame = 0, mode = "side", socketUrl = null,
    keyboard = true, startNumber = 0, timecodeStart = 0, startEditable = false, annotatedSource = null,
    numberedBy = "film", timecodeOf = "film", snapshotName = null }) {
    super();
    if (!sources?.length) throw new Error("ComparisonViewer needs at least one source");
    this.root = root;
    this.shotId = shotId;
    this.frameCount = frameCount;
    this.fps = fps;
    this.sources = sources;
    this._state = initialState({ ids: sources.map((s) => s.id), a, b, mode, frame, frameCount });
    this.speed = 1; // signed shuttle speed while playing
    this.drawnFrame = null;
    this._transforms = { a: null, b: null };
    this.annotatedSource = sources.some((s) => s.id === annotatedSource) ? annotatedSource : null;
    this.startNumber = Number.isInteger(startNumber) && startNumber >= 0 ? startNumber : 0;
    this.timecodeStart = Number.isInteger(timecodeStart) && timecodeStart >= 0 ? timecodeStart : 0;
    this.numberedBy = numberedBy === "scan" ? "scan" : "film";
    this.timecodeOf = timecodeOf === "scan" ? "scan" : "film";
    this.startEditable = startEditable && this.numberedBy === "film"; // a scan's numbers are its files'
    this.snapshotName = snapshotName || `shot-${shotId}`;
    this._overlayPainters = new Set();
    this._build();
    // The frame socket's path (common/ws.js's socketUrl makes the URL): the shot's own by default,
    // a live session's (which admits its guests) when given.
    this.store = new FrameStore(socketUrl || `ws/shots/${shotId}/frames/`);
    this.store.addEventListener("frame", (event) => onFrameArrived(this, event.detail));
    this.store.addEventListener("error", (event) => this._showError(event.detail));
    this.store.addEventListener("connection", (event) => {
      this.root.dataset.connection = event.detail.state;
      if (event.detail.state === "open") prefetch(this);
    });
    if (keyboard) this._unbindKeys = bindViewerKeys(this);
    syncControls(this);
    prefetch(this);
    this._invalidate();
  }

  // ---- public API -------------------------------------------------------------------------

  get frame() { return this._state.frame; }

  // The contract's keys, plus `gain` (difference amplification), `speed` (signed shuttle speed), `rate`
  // (¼, ½ or 1 of the shot's fps), `loop`, and the play range's `inPoint` and `outPoint` (or null).
  get state() { return { ...this._state, speed: this.speed }; }

  seek(frame, { user = true } = {}) {
    const target = clamp(Math.round(frame), 0, this.frameCount - 1);
    if (this._state.playing && user) stopPlayback(this);
    this._setFrame(target);
    if (user) this._emitState();
  }

  play(speed = 1) {
    startPlayback(this, speed);
    this._emitState();
  }

  pause() {
    stopPlayback(this);
    this._emitState();
  }

  // Apply a partial state (e.g. from a live session). With {silent: true} nothing is emitted,
  // so a follower does not echo the leader's state back.
  setState(partial, { silent = false } = {}) {
    const frame = requestedFrame(partial, this.frameCount);
    this._state = mergeState(this._state, partial, this.sources.map((s) => s.id), this.frameCount);
    const speed = requestedSpeed(partial);
    if (partial.playing === true && !this._state.playing) startPlayback(this, speed, frame);
    else if (partial.playing === false && this._state.playing) stopPlayback(this);
    if (frame !== null && !(partial.playing === true)) this._setFrame(frame, { silent });
    syncControls(this);
    prefetch(this);
    this._invalidate();
    if (!silent) this._emitState();
  }

  /**
   * Show side "a" or "b" through `transform(bitmap, {side, source})` (returning an image or canvas
   * of the same size), or as it is with null: a per-source display transform such as a colour
   * grade, composed by every mode (wipe, toggle, side by side, difference).
   */
  setDisplayTransform(side, transform) {
    if (side !== "a" && side !== "b") throw new Error(`no side ${side}`);
    this._transforms[side] = transform || null;
    this._invalidate();
  }

  /** Draw again (a display transform changed). */
  redraw() {
    this._invalidate();
  }

  setMarkers(markers) {
    this.timeline.setMarkers(markers);
  }

  /** The shot's dissolves, wipes and fades, shaded on the timeline (Timeline.setTransitions). */
  setTransitions(transitions) {
    this.timeline.setTransitions(transitions);
  }

  /** Rename a source in the pickers and on the picture (e.g. "v2 · Approved" after a decision). */
  setSourceLabel(id, label) {
    if (renameSource(this, id, label)) this._invalidate();
  }

  /**
   * The source that comments' drawings are made on and shown over (the version under review), or
   * null for A. Side by side the drawing overlay covers that source's pane, so a stroke lands on
   * the picture the comment is filed on.
   */
  setAnnotatedSource(id) {
    const source = this.sources.some((s) => s.id === id) ? id : null;
    if (source === this.annotatedSource) return;
    this.annotatedSource = source;
    this._invalidate();
  }

  /** Add what paints a layer's drawings onto a downloaded frame; returns what removes it. */
  addOverlayPainter(painter) {
    this._overlayPainters.add(painter);
    return () => this._overlayPainters.delete(painter);
  }

  /** Show frames from `value` (the film's start number changed). {user: true}: the Start field
   * changed it, and the page is told (startnumberchange) to store it on the film. */
  setStartNumber(value, { user = false } = {}) {
    if (!Number.isInteger(value) || value < 0 || value > MAX_START_NUMBER) return;
    this.startNumber = value;
    if (user) this.dispatchEvent(new CustomEvent("startnumberchange", { detail: { value } }));
    this.startInput.value = String(value);
    this.timeline.setStartNumber(value);
    updateCounter(this);
    syncControls(this);
  }

  // Client coordinates -> normalised coordinates (0..1) in the annotated image (its pane side by side).
  toImage(clientX, clientY) {
    const rect = annotationRect(this);
    const box = this.stage.getBoundingClientRect();
    return { x: (clientX - box.left - rect.x) / rect.w, y: (clientY - box.top - rect.y) / rect.h };
  }

  // Normalised image coordinates -> pixel coordinates inside viewer.overlay.
  fromImage(x, y) {
    const rect = annotationRect(this);
    return { x: x * rect.w, y: y * rect.h };
  }

  // The A image's rectangle in canvas pixels (for tests and overlays that draw on the canvas).
  imageRect() {
    const ratio = window.devicePixelRatio || 1;
    const r = paneRects(this)[0];
    return { x: r.x * ratio, y: r.y * ratio, w: r.w * ratio, h: r.h * ratio };
  }

  destroy() {
    this.destroyed = true;
    stopPlayback(this);
    this._unbindKeys?.();
    unbindFullscreen(this);
    if (document.fullscreenElement === this.root) document.exitFullscreen().catch(() => {});
    this.resizeObserver.disconnect();
    this.store.close();
    this.root.replaceChildren();
  }

  // ---- DOM ----------------------------------------------------------------------------------

  _build() {
    const root = this.root;
    buildMarkup(root, this.sources);
    this.stage = root.querySelector(".cv-stage");
    this.canvas = root.querySelector(".cv-canvas");
    this.ctx = this.canvas.getContext("2d");
    this.overlay = root.querySelector(".cv-overlay");
    this.wipeHandle = root.querySelector(".cv-wipe-handle");
    this.statusEl = root.querySelector(".cv-status");
    this.frameInput = root.querySelector(".cv-frame-input");
    this.startInput = root.querySelector(".cv-start-input");
    this.gainInput = root.querySelector(".cv-gain input");
    this.rateSelect = root.querySelector(".cv-rate-select");
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
    this.startInput.readOnly = !this.startEditable;
    this.root.dataset.numberedBy = this.numberedBy;
    this.startInput.closest(".cv-start").title = this.numberedBy === "scan"
      ? "The scan's own file number of the shot's first frame: frames show the scanner's numbering"
      : this.startEditable
        ? "Number shown for each shot's first frame, for everyone on this film"
        : "Number shown for each shot's first frame (the film's archivists set it)";
    root.querySelector(".cv-timecode").title = this.timecodeOf === "scan"
      ? "Source timecode: the scan's own (its first frame's, from the DPX header), counted at the shot's fps"
      : "Timecode (derived from the frame number and fps)";

    bindSourcePickers(this);
    bindModeControls(this);
    bindZoomButtons(this);
    bindTransport(this);
    bindCounter(this);
    bindStagePointer(this);
    bindLoopControls(this);
    bindFullscreen(this);
    bindSnapshot(this);
    this.resizeObserver = new ResizeObserver(() => {
      resizeCanvas(this);
      this._invalidate();
      prefetch(this);
    });
    this.resizeObserver.observe(this.stage);
    resizeCanvas(this);
  }

  // ---- shared by the modules ------------------------------------------------------------------

  // The proxy height asked for (the browser tests read it).
  _requestHeight() {
    return requestHeight(this);
  }

  _setFrame(frame, { silent = false } = {}) {
    if (frame === this._state.frame && this.drawnFrame === frame) return;
    this._state.frame = frame;
    this.timeline.setFrame(frame);
    prefetch(this);
    this._invalidate();
    if (!silent) this.dispatchEvent(new CustomEvent("framechange", { detail: { frame } }));
  }

  // Draw on the next animation frame, once however many changes come before it.
  _invalidate() {
    if (this._renderScheduled) return;
    this._renderScheduled = true;
    requestAnimationFrame(() => {
      this._renderScheduled = false;
      if (!this.destroyed) this._render();
    });
  }

  _render() {
    renderFrame(this);
  }

  _userState(partial) {
    this.setState(partial);
  }

  _emitState() {
    this.dispatchEvent(new CustomEvent("statechange", { detail: this.state }));
  }

  _emitView() {
    this.dispatchEvent(new CustomEvent("viewchange", { detail: { rect: annotationRect(this) } }));
  }

  _showError(detail) {
    this.statusEl.textContent = detail.detail || "The frame stream failed.";
    this.root.classList.add("stream-error");
    clearTimeout(this._errorTimer);
    this._errorTimer = setTimeout(() => this.root.classList.remove("stream-error"), 4000);
  }
}
