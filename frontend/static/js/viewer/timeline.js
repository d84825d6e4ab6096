// The timeline under the viewer: one cell per frame, ticks, second marks labelled with frame
// numbers, a bar of cached frames, the loop's in..out range, the shot's transitions (the frames of a
// dissolve, wipe or fade into or out of it), markers (comments, decisions) and the playhead.
// Dragging scrubs.

import { displayNumber, nominalFps } from "./timecode.js";

export class Timeline {
  constructor(root, { frameCount, fps, onSeek, onMarker }) {
    this.frameCount = frameCount;
    this.fps = fps;
    this.onSeek = onSeek;
    this.onMarker = onMarker;
    this.startNumber = 0;
    this.frame = 0;
    this.cached = [];
    this.markers = [];
    this.transitions = [];

    root.classList.add("cv-timeline");
    root.innerHTML = `
      <canvas class="cv-ticks" aria-hidden="true"></canvas>
      <div class="cv-transitions"></div>
      <div class="cv-range" aria-hidden="true" hidden></div>
      <div class="cv-markers"></div>
      <div class="cv-playhead" aria-hidden="true"><span class="cv-playhead-label"></span></div>`;
    root.setAttribute("role", "slider");
    root.setAttribute("aria-label", "Timeline");
    root.setAttribute("aria-valuemin", "0");
    root.setAttribute("aria-valuemax", String(frameCount - 1));
    this.root = root;
    this.canvas = root.querySelector(".cv-ticks");
    this.markerLayer = root.querySelector(".cv-markers");
    this.rangeBand = root.querySelector(".cv-range");
    this.transitionLayer = root.querySelector(".cv-transitions");
    this.playhead = root.querySelector(".cv-playhead");
    this.playheadLabel = root.querySelector(".cv-playhead-label");

    root.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || event.target.closest(".cv-marker")) return;
      root.setPointerCapture(event.pointerId);
      this.scrubbing = true;
      root.classList.add("scrubbing");
      this.onSeek(this.frameAt(event.clientX), { scrub: true });
    });
    root.addEventListener("pointermove", (event) => {
      if (this.scrubbing) this.onSeek(this.frameAt(event.clientX), { scrub: true });
      else this._hover(event.clientX);
    });
    const stop = (event) => {
      if (!this.scrubbing) return;
      this.scrubbing = false;
      root.classList.remove("scrubbing");
      root.releasePointerCapture?.(event.pointerId);
      this.onSeek(this.frameAt(event.clientX), { scrub: false });
    };
    root.addEventListener("pointerup", stop);
    root.addEventListener("pointercancel", stop);
    root.addEventListener("pointerleave", () => root.removeAttribute("title"));
    new ResizeObserver(() => this.draw()).observe(root);
  }

  frameAt(clientX) {
    const box = this.root.getBoundingClientRect();
    const x = Math.min(Math.max(clientX - box.left, 0), box.width - 0.001);
    return Math.floor((x / box.width) * this.frameCount);
  }

  _hover(clientX) {
    this.root.title = `Frame ${displayNumber(this.frameAt(clientX), this.startNumber)}`;
  }

  setFrame(frame) {
    this.frame = frame;
    this.playhead.style.left = `${((frame + 0.5) / this.frameCount) * 100}%`;
    this.playheadLabel.textContent = String(displayNumber(frame, this.startNumber));
    this.root.setAttribute("aria-valuenow", String(frame));
    this.root.setAttribute("aria-valuetext", `Frame ${displayNumber(frame, this.startNumber)}`);
  }

  setStartNumber(startNumber) {
    this.startNumber = startNumber;
    this.setFrame(this.frame);
    this.setTransitions(this.transitions); // their titles name frames
    this.draw();
  }

  /** Mark the play range: frames inPoint..outPoint (either null: the shot's first or last). */
  setRange(inPoint, outPoint) {
    const band = this.rangeBand;
    band.hidden = inPoint === null && outPoint === null;
    if (band.hidden) return;
    const first = inPoint ?? 0;
    const last = outPoint ?? this.frameCount - 1;
    band.style.left = `${(first / this.frameCount) * 100}%`;
    band.style.width = `${((last - first + 1) / this.frameCount) * 100}%`;
    band.classList.toggle("has-in", inPoint !== null);
    band.classList.toggle("has-out", outPoint !== null);
    band.dataset.first = String(first);
    band.dataset.last = String(last);
  }

  /** Shade the transitions' frames: [{side: "in"|"out", type, start_frame, end_frame, length}] in
   * the shot's frames, as the analysis found them (the page's data.transitions). */
  setTransitions(transitions) {
    this.transitions = transitions;
    this.transitionLayer.replaceChildren(...transitions.map((transition) => {
      const band = document.createElement("div");
      const first = Math.max(0, transition.start_frame);
      const last = Math.min(this.frameCount - 1, transition.end_frame);
      band.className = `cv-transition side-${transition.side === "out" ? "out" : "in"}`;
      band.dataset.type = transition.type;
      band.dataset.first = String(first);
      band.dataset.last = String(last);
      band.style.left = `${(first / this.frameCount) * 100}%`;
      band.style.width = `${((last - first + 1) / this.frameCount) * 100}%`;
      const way = transition.side === "out" ? "out of" : "into";
      band.title = `${transition.type[0].toUpperCase()}${transition.type.slice(1)} ${way} the shot `
        + `(${transition.length} frames in all): frames ${displayNumber(first, this.startNumber)}`
        + `–${displayNumber(last, this.startNumber)} here`;
      band.textContent = transition.type;
      return band;
    }));
  }

  setCached(cached) {
    this.cached = cached;
    this.draw();
  }

  setMarkers(markers) {
    this.markers = markers;
    this.markerLayer.replaceChildren(...markers.map((marker) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `cv-marker kind-${String(marker.kind || "note").replace(/[^a-z0-9_-]/gi, "")}`;
      const first = Math.max(0, Math.min(this.frameCount - 1, marker.frame));
      const last = Math.max(first, Math.min(this.frameCount - 1, marker.frameEnd ?? marker.frame));
      button.style.left = `${(first / this.frameCount) * 100}%`;
      button.style.width = `max(6px, ${((last - first + 1) / this.frameCount) * 100}%)`;
      if (last > first) button.classList.add("range");
      button.title = marker.title || `Frame ${displayNumber(first, this.startNumber)}`;
      button.dataset.markerId = String(marker.id);
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        this.onMarker(marker);
      });
      return button;
    }));
  }

  draw() {
    const box = this.root.getBoundingClientRect();
    if (!box.width) return;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(box.width * ratio);
    const height = Math.round(box.height * ratio);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, box.width, box.height);
    const cell = box.width / this.frameCount;
    const styles = getComputedStyle(this.root);
    const tick = styles.getPropertyValue("--cv-tick").trim() || "#4a4e57";
    const label = styles.getPropertyValue("--cv-tick-label").trim() || "#8a8f98";
    const cachedColour = styles.getPropertyValue("--cv-cached").trim() || "#3d6b4f";

    // Cached frames: a thin bar along the bottom.
    ctx.fillStyle = cachedColour;
    let runStart = -1;
    for (let f = 0; f <= this.frameCount; f += 1) {
      const on = f < this.frameCount && this.cached[f];
      if (on && runStart < 0) runStart = f;
      if (!on && runStart >= 0) {
        ctx.fillRect(runStart * cell, box.height - 3, (f - runStart) * cell, 3);
        runStart = -1;
      }
    }

    // A tick per frame when there is room; a taller, labelled tick every second.
    const perSecond = nominalFps(this.fps);
    const labelEvery = perSecond * Math.max(1, Math.ceil(56 / (cell * perSecond)));
    ctx.fillStyle = tick;
    ctx.font = `10px ${styles.fontFamily}`;
    ctx.textBaseline = "top";
    for (let f = 0; f < this.frameCount; f += 1) {
      const x = Math.round(f * cell) + 0.5;
      if (f % perSecond === 0) {
        ctx.fillStyle = tick;
        ctx.fillRect(x - 0.5, 0, 1, 12);
        if (f % labelEvery === 0) {
          ctx.fillStyle = label;
          ctx.fillText(String(displayNumber(f, this.startNumber)), x + 3, 1);
        }
      } else if (cell >= 4) {
        ctx.fillStyle = tick;
        ctx.fillRect(x - 0.5, 0, 1, 5);
      }
    }
  }
}
