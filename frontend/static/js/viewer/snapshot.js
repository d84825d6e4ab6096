// Download the frame on screen as a PNG, made here from the decoded frame: source A or B (the one
// shown in the A/B toggle), at the source's native size (its frame asked of the frame stream at
// the scan's height, not the picture's size on screen), with or without the drawings of the frame
// (the overlay painters, viewer.addOverlayPainter). Named film, shot, source and frame number.

import { toast } from "../common/toast.js";
import { prefetch } from "./prefetch.js";
import { displayNumber } from "./timecode.js";

const FRAME_WAIT_MS = 20000;

export function bindSnapshot(viewer) {
  const menu = viewer.root.querySelector(".cv-snapshot");
  const select = menu.querySelector(".cv-snapshot-source");
  menu.addEventListener("toggle", () => {
    if (!menu.open) return;
    const { a, b, mode, showing } = viewer._state;
    const label = (id) => viewer.sources.find((s) => s.id === id)?.label ?? id;
    const sides = mode === "toggle" ? [showing] : ["a", "b"];
    // The options are relabelled each time the menu opens; the side already chosen is kept (the
    // toggle event comes after the menu opened, possibly after a choice was made).
    const chosen = select.value;
    select.replaceChildren(...sides.map((side) => new Option(`${side.toUpperCase()} · ${label(side === "a" ? a : b)}`, side)));
    if (sides.includes(chosen)) select.value = chosen;
    menu.querySelector(".cv-snapshot-drawings").disabled = viewer._overlayPainters.size === 0;
  });
  menu.querySelector("[data-snapshot]").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    // The frame on screen, held: its drawings are the ones painted over it.
    if (viewer._state.playing) viewer.pause();
    try {
      const side = select.value || "a";
      const drawings = menu.querySelector(".cv-snapshot-drawings").checked;
      const { blob, filename } = await frameSnapshot(viewer, { source: viewer._state[side], drawings });
      saveBlob(blob, filename);
      menu.open = false;
    } catch (error) {
      toast(error.message, { kind: "error", title: "Frame download" });
    } finally {
      button.disabled = false;
    }
  });
}

/**
 * The PNG of frame `frame` (default: the one on screen) of `source`, at the source's native size,
 * with the overlay painters' drawings when `drawings`. Resolves to {blob, filename, width, height}.
 */
export async function frameSnapshot(viewer, { source, frame = viewer.drawnFrame ?? viewer._state.frame, drawings = false }) {
  const info = viewer.sources.find((s) => s.id === source);
  if (!info) throw new Error(`No source ${source} in this shot.`);
  const bitmap = await nativeFrame(viewer, info, frame);
  const width = info.width || bitmap.width;
  const height = info.height || bitmap.height;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, 0, 0, width, height);
  if (drawings) for (const paint of viewer._overlayPainters) paint(ctx, { width, height, frame, source });
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((png) => (png ? resolve(png) : reject(new Error("The frame could not be encoded as PNG."))), "image/png"));
  const number = displayNumber(frame, viewer.startNumber);
  return { blob, width, height, filename: `${slug(viewer.snapshotName)}_${slug(source)}_${number}.png` };
}

// The frame at the source's own height (the frame stream serves at most its largest proxy, 1080
// lines): from the cache when it is there, else asked for and awaited.
function nativeFrame(viewer, info, frame) {
  const store = viewer.store;
  const height = info.height || 1080;
  const cached = () => (store.covers(info.id, frame, height) ? store.get(info.id, frame) : undefined);
  const now = cached();
  if (now) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const done = (result, error) => {
      clearTimeout(timer);
      store.removeEventListener("frame", onFrame);
      prefetch(viewer); // the playhead's window again (the request above replaced it)
      if (result) resolve(result);
      else reject(error);
    };
    const onFrame = (event) => {
      if (event.detail.source !== info.id || event.detail.frame !== frame) return;
      const bitmap = cached();
      if (bitmap) done(bitmap);
    };
    const timer = setTimeout(() => done(null, new Error("The frame did not arrive: try again.")), FRAME_WAIT_MS);
    store.addEventListener("frame", onFrame);
    store.want(info.id, frame, 1, height);
  });
}

function slug(text) {
  return String(text).normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^\w.-]+/g, "-").replace(/^-+|-+$/g, "") || "frame";
}

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
