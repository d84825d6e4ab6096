// The viewer's state: what is compared and how (sources, mode, wipe, toggle side, gain), where the
// view is (zoom, pan), the playhead and how it plays (rate, loop, in and out points). Only valid
// values get in: a live session or an address bar may hand over anything.

export const MODES = ["side", "wipe", "toggle", "diff"];
export const MODE_LABELS = { side: "Side by side", wipe: "Wipe", toggle: "A/B", diff: "Difference" };
export const MIN_ZOOM = 0.1;
export const MAX_ZOOM = 32;
export const SHUTTLE_SPEEDS = [1, 2, 4, 8];
// Playback rates below real time: every frame is shown, in order (playback.js).
export const RATES = [0.25, 0.5, 1];
export const RATE_LABELS = { 0.25: "¼×", 0.5: "½×", 1: "1×" };

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
    rate: 1,
    loop: true,
    inPoint: null, // first frame of the play range, or null (the shot's first)
    outPoint: null, // last frame of the play range, or null (the shot's last)
  };
}

/**
 * `current` with the valid fields of `partial` applied. `playing` and `frame` are left as they
 * are: starting and stopping the clock and moving the playhead are the viewer's to do.
 */
export function mergeState(current, partial, ids, frameCount) {
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
  if (RATES.includes(partial.rate)) next.rate = partial.rate;
  if (typeof partial.loop === "boolean") next.loop = partial.loop;
  const point = (value) => (value === null || (Number.isInteger(value) && value >= 0 && value < frameCount));
  if (partial.inPoint !== undefined && point(partial.inPoint)) next.inPoint = partial.inPoint;
  if (partial.outPoint !== undefined && point(partial.outPoint)) next.outPoint = partial.outPoint;
  if (next.inPoint !== null && next.outPoint !== null && next.outPoint < next.inPoint) {
    // Out before in: both given are swapped; else the point just given wins and the other goes
    // (as an editor's I and O do).
    if (partial.inPoint !== undefined && partial.outPoint !== undefined) {
      [next.inPoint, next.outPoint] = [next.outPoint, next.inPoint];
    } else if (partial.outPoint !== undefined) next.inPoint = null;
    else next.outPoint = null;
  }
  return next;
}

/** The frames playback runs over: the in..out range, or the whole shot. */
export function playRange(state, frameCount) {
  return { first: state.inPoint ?? 0, last: state.outPoint ?? frameCount - 1 };
}

/** A requested frame inside the shot, or null when none was asked for. */
export function requestedFrame(partial, frameCount) {
  return Number.isFinite(partial.frame) ? clamp(Math.round(partial.frame), 0, frameCount - 1) : null;
}

/** A requested shuttle speed (signed), or 1 when it is not one of SHUTTLE_SPEEDS. */
export function requestedSpeed(partial) {
  return SHUTTLE_SPEEDS.includes(Math.abs(partial.speed)) ? partial.speed : 1;
}
