// The viewer's state: what is compared and how (sources, mode, wipe, toggle side, gain), where the
// view is (zoom, pan) and the playhead. Only valid values get in: a live session or an address
// bar may hand over anything.

export const MODES = ["side", "wipe", "toggle", "diff"];
export const MODE_LABELS = { side: "Side by side", wipe: "Wipe", toggle: "A/B", diff: "Difference" };
export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 32;
export const SHUTTLE_SPEEDS = [1, 2, 4, 8];

export const clamp = (value, low, high) => Math.min(Math.max(value, low), high);

/** The state a viewer opens with; unknown sources fall back to the first (A) and last (B). */
export function initialState({ ids, a, b, mode, frame, frameCount }) {
  return {
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
}

/**
 * `current` with the valid fields of `partial` applied. `playing` and `frame` are left as they
 * are: starting and stopping the clock and moving the playhead are the viewer's to do.
 */
export function mergeState(current, partial, ids) {
  const next = { ...current };
  if (partial.a !== undefined && ids.includes(partial.a)) next.a = partial.a;
  if (partial.b !== undefined && ids.includes(partial.b)) next.b = partial.b;
  if (partial.mode !== undefined && MODES.includes(partial.mode)) next.mode = partial.mode;
  if (Number.isFinite(partial.wipe)) next.wipe = clamp(partial.wipe, 0, 1);
  if (partial.showing === "a" || partial.showing === "b") next.showing = partial.showing;
  if (Number.isFinite(partial.zoom)) next.zoom = clamp(partial.zoom, MIN_ZOOM, MAX_ZOOM);
  if (Number.isFinite(partial.panX)) next.panX = partial.panX;
  if (Number.isFinite(partial.panY)) next.panY = partial.panY;
  if (Number.isFinite(partial.gain)) next.gain = clamp(partial.gain, 1, 64);
  return next;
}

/** A requested frame inside the shot, or null when none was asked for. */
export function requestedFrame(partial, frameCount) {
  return Number.isFinite(partial.frame) ? clamp(Math.round(partial.frame), 0, frameCount - 1) : null;
}

/** A requested shuttle speed (signed), or 1 when it is not one of SHUTTLE_SPEEDS. */
export function requestedSpeed(partial) {
  return SHUTTLE_SPEEDS.includes(Math.abs(partial.speed)) ? partial.speed : 1;
}
