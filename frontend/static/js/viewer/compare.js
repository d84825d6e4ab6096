// Drawing one frame of the comparison on the canvas, in the four modes: side by side, wipe (A left
// of the split, B right), A/B toggle, and the amplified difference |A - B|. Also keeps the overlay
// (drawings), the wipe handle and the labels on the picture, and records on the root which frame
// of which source is actually drawn (data-drawn-*).

import { annotationRect, paneRects, resizeCanvas } from "./geometry.js";
import { placeLabels } from "./sources.js";
import { clamp } from "./state.js";
import { updateCounter } from "./time-display.js";

export function renderFrame(viewer) {
  const frame = viewer._state.frame;
  const { a, b, mode, showing } = viewer._state;
  let drawFrame = frame;
  let bitmapA = viewer.store.get(a, frame);
  let bitmapB = viewer.store.get(b, frame);
  const needsB = mode !== "toggle" || showing === "b";
  const needsA = mode !== "toggle" || showing === "a";
  const complete = (!needsA || bitmapA) && (!needsB || bitmapB);
  if (!complete) {
    // Keep the frame on screen (if its bitmaps are still cached) until the new one arrives.
    drawFrame = viewer.drawnFrame;
    bitmapA = drawFrame === null ? undefined : viewer.store.get(a, drawFrame);
    bitmapB = drawFrame === null ? undefined : viewer.store.get(b, drawFrame);
  }
  // A side's display transform (e.g. a colour grade, colour/grade-gl.js) turns its bitmap into
  // what is shown; every mode then composes the transformed pictures.
  if (viewer._transforms.a && bitmapA && needsA) bitmapA = viewer._transforms.a(bitmapA, { side: "a", source: a });
  if (viewer._transforms.b && bitmapB && needsB) bitmapB = viewer._transforms.b(bitmapB, { side: "b", source: b });
  viewer.root.classList.toggle("loading", !complete);
  viewer.statusEl.textContent = !complete ? "Loading frame…" : "";

  resizeCanvas(viewer);
  const ctx = viewer.ctx;
  const ratio = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, viewer.canvas.width, viewer.canvas.height);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const rects = paneRects(viewer);
  // Past 2x magnification of a full-resolution frame, show pixels as pixels: a reviewer zooms
  // in to judge grain and detail. A proxy smaller than the scan stays smoothed: its pixels
  // are not the scan's.
  const sample = bitmapA ?? bitmapB;
  const scanHeight = viewer.sources.find((s) => s.id === a)?.height || 0;
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
  const paneClip = (rect) => ({ x: rect.pane.x, y: 0, w: rect.pane.w, h: viewer.stageHeight });

  let drawn = false;
  if (mode === "side") {
    drawIn(bitmapA, rects[0], paneClip(rects[0]));
    drawIn(bitmapB, rects[1], paneClip(rects[1]));
    drawn = Boolean(bitmapA && bitmapB);
  } else if (mode === "wipe") {
    const rect = rects[0];
    const splitX = rect.x + viewer._state.wipe * rect.w;
    drawIn(bitmapA, rect, { x: 0, y: 0, w: Math.max(0, splitX), h: viewer.stageHeight });
    drawIn(bitmapB, rect, { x: splitX, y: 0, w: Math.max(0, viewer.stageWidth - splitX), h: viewer.stageHeight });
    drawn = Boolean(bitmapA && bitmapB);
  } else if (mode === "toggle") {
    const bitmap = showing === "a" ? bitmapA : bitmapB;
    drawIn(bitmap, rects[0], paneClip(rects[0]));
    drawn = Boolean(bitmap);
  } else if (mode === "diff" && bitmapA && bitmapB) {
    const diff = difference(viewer, bitmapA, bitmapB);
    ctx.save();
    ctx.filter = `brightness(${viewer._state.gain})`;
    drawIn(diff, rects[0], paneClip(rects[0]));
    ctx.restore();
    drawn = true;
  }
  if (drawn) {
    viewer.drawnFrame = drawFrame;
    viewer.root.dataset.drawnFrame = String(drawFrame);
    viewer.root.dataset.drawnA = needsA ? `${a}:${drawFrame}` : "";
    viewer.root.dataset.drawnB = needsB ? `${b}:${drawFrame}` : "";
    viewer.store.pin([`${a}:${drawFrame}`, `${b}:${drawFrame}`]);
  }
  viewer.root.dataset.mode = mode;
  viewer.dispatchEvent(new CustomEvent("render", { detail: { a: bitmapA, b: bitmapB, drawn } }));
  placeOverlay(viewer, rects);
  updateCounter(viewer);
}

// |A - B| at A's resolution, on an offscreen canvas (amplified when drawn, by a brightness filter).
function difference(viewer, bitmapA, bitmapB) {
  const w = bitmapA.width;
  const h = bitmapA.height;
  if (!viewer._diffCanvas) viewer._diffCanvas = document.createElement("canvas");
  const canvas = viewer._diffCanvas;
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext("2d");
  ctx.globalCompositeOperation = "copy";
  ctx.drawImage(bitmapA, 0, 0, w, h);
  ctx.globalCompositeOperation = "difference";
  ctx.drawImage(bitmapB, 0, 0, w, h);
  ctx.globalCompositeOperation = "source-over";
  return canvas;
}

// The overlay covers the annotated image exactly (A's, or side by side the pane of the version under
// review), so drawings stay on the picture they are about; it moves only when that image does, and
// then says so (viewchange).
function placeOverlay(viewer, rects) {
  const rect = annotationRect(viewer, rects);
  viewer.root.dataset.annotatedSide = rect === rects[0] ? "a" : "b";
  const key = `${rect.x},${rect.y},${rect.w},${rect.h}`;
  if (viewer._overlayKey !== key) {
    viewer._overlayKey = key;
    Object.assign(viewer.overlay.style, {
      left: `${rect.x}px`, top: `${rect.y}px`, width: `${rect.w}px`, height: `${rect.h}px`,
    });
    viewer._emitView();
  }
  const wipe = viewer._state.mode === "wipe";
  viewer.wipeHandle.hidden = !wipe;
  if (wipe) {
    const x = clamp(rects[0].x + viewer._state.wipe * rects[0].w, 0, viewer.stageWidth);
    viewer.wipeHandle.style.left = `${x}px`;
  }
  placeLabels(viewer, rects);
}
