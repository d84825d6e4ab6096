// Which frames to ask the frame store for: the way ahead (behind, playing backwards) of the
// playhead for A and B, at the smallest proxy height that is sharp at the current zoom; a few
// frames behind once that is cached; and the timeline's bar of cached frames.

import { framesOf, neededSources } from "./sources.js";

const PREFETCH_AHEAD = 24;
const PREFETCH_BEHIND = 8;
const PROXY_HEIGHTS = [240, 480, 720, 1080];

export function requestHeight(viewer) {
  const ratio = window.devicePixelRatio || 1;
  const want = (viewer.stageHeight || 480) * ratio * Math.min(viewer._state.zoom, 4);
  return PROXY_HEIGHTS.find((h) => h >= want) ?? PROXY_HEIGHTS[PROXY_HEIGHTS.length - 1];
}

export function prefetch(viewer) {
  if (!viewer.store) return; // the resize observer can fire before the store exists
  const height = requestHeight(viewer);
  const reverse = viewer._state.playing && viewer.speed < 0;
  for (const source of neededSources(viewer._state)) {
    const limit = framesOf(viewer, source);
    const frame = Math.min(viewer._state.frame, limit - 1);
    if (reverse) {
      const start = Math.max(0, frame - PREFETCH_AHEAD + 1);
      viewer.store.want(source, start, frame - start + 1, height);
    } else {
      viewer.store.want(source, frame, Math.min(PREFETCH_AHEAD, limit - frame), height, limit);
    }
    // Once the way ahead is cached, a few frames behind, for stepping back.
    if (!viewer._state.playing && frame > 0 && viewer.store.laneIdle(source)) {
      const start = Math.max(0, frame - PREFETCH_BEHIND);
      viewer.store.want(source, start, frame - start, height);
    }
  }
}

/** True when every source on screen has `frame` cached. */
export function ready(viewer, frame) {
  return neededSources(viewer._state).every((source) => viewer.store.has(source, frame));
}

export function onFrameArrived(viewer, { frame }) {
  // The frame wanted, or (when paused) a sharper copy of the one on screen after zooming in.
  if (frame === viewer._state.frame && (!viewer._state.playing || viewer.drawnFrame !== frame)) viewer._invalidate();
  // Frames come in bursts: update the cache bar (and ask for more) once per burst.
  if (!viewer._cacheBarScheduled) {
    viewer._cacheBarScheduled = true;
    setTimeout(() => {
      viewer._cacheBarScheduled = false;
      updateCacheBar(viewer);
      if (!viewer._state.playing) prefetch(viewer);
    }, 120);
  }
}

function updateCacheBar(viewer) {
  const [first, ...rest] = neededSources(viewer._state).map((s) => viewer.store.cachedFrames(s, viewer.frameCount));
  viewer.timeline.setCached(first.map((on, f) => on && rest.every((c) => c[f])));
}
