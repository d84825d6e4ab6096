// Playback at the shot's fps times the rate (forwards or backwards, shuttle speeds), inside the play
// range (in..out, or the whole shot: looping, or stopping at its end), frame stepping, and the
// transport buttons. The clock is wall time from a start frame, so at full rate a slow draw skips
// frames rather than slowing the film down; below full rate every frame is shown, in order (the
// clock waits for the screen); late frames stop the clock instead (see tick).

import { syncControls } from "./controls.js";
import { prefetch, ready } from "./prefetch.js";
import { playRange, SHUTTLE_SPEEDS } from "./state.js";

export function bindTransport(viewer) {
  viewer.root.querySelector(".cv-buttons").addEventListener("click", (event) => {
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (action === "first") viewer.seek(0);
    else if (action === "last") viewer.seek(viewer.frameCount - 1);
    else if (action === "back") step(viewer, -1);
    else if (action === "forward") step(viewer, 1);
    else if (action === "play") (viewer._state.playing ? viewer.pause() : viewer.play());
  });
}

export function step(viewer, delta) {
  if (viewer._state.playing) stopPlayback(viewer);
  viewer.seek(viewer._state.frame + delta);
}

export function startPlayback(viewer, speed, fromFrame = null) {
  viewer.speed = speed;
  viewer._state.playing = true;
  let from = fromFrame;
  if (from === null) {
    // Play starts inside the range: from its start when the playhead is outside it, or (not
    // looping) already on its last frame.
    const shown = viewer.drawnFrame ?? viewer._state.frame;
    const { start, end } = rangeEnds(viewer);
    const outside = (shown - start) * Math.sign(speed) < 0 || (shown - end) * Math.sign(speed) > 0;
    if (outside || (!viewer._state.loop && shown === end)) from = start;
  }
  viewer._clock = { t0: performance.now(), f0: from ?? viewer.drawnFrame ?? viewer._state.frame };
  if (from !== null) viewer._setFrame(from);
  syncControls(viewer);
  cancelAnimationFrame(viewer._playRaf);
  viewer._playRaf = requestAnimationFrame((now) => tick(viewer, now));
}

export function stopPlayback(viewer) {
  viewer._state.playing = false;
  cancelAnimationFrame(viewer._playRaf);
  syncControls(viewer);
  // Land on the frame on screen, so what is shown and the playhead agree.
  if (viewer.drawnFrame !== null && viewer.drawnFrame !== viewer._state.frame) viewer._setFrame(viewer.drawnFrame);
  setBuffering(viewer, false);
}

// J and L: play that way, or faster if already playing that way.
export function shuttle(viewer, direction) {
  if (viewer._state.playing && Math.sign(viewer.speed) === direction) {
    const next = SHUTTLE_SPEEDS[Math.min(SHUTTLE_SPEEDS.indexOf(Math.abs(viewer.speed)) + 1, SHUTTLE_SPEEDS.length - 1)];
    viewer.speed = direction * next;
    viewer._clock = { t0: performance.now(), f0: viewer.drawnFrame ?? viewer._state.frame };
    syncControls(viewer);
    viewer._emitState();
  } else {
    viewer.play(direction);
  }
}

// The range's first and last frame in the direction of play: `start` is where a loop goes back to.
function rangeEnds(viewer) {
  const { first, last } = playRange(viewer._state, viewer.frameCount);
  return viewer.speed < 0 ? { start: last, end: first } : { start: first, end: last };
}

function tick(viewer, now) {
  if (!viewer._state.playing) return;
  const direction = Math.sign(viewer.speed);
  const { start, end } = rangeEnds(viewer);
  const elapsed = (now - viewer._clock.t0) / 1000;
  const advance = Math.trunc(elapsed * viewer.fps * viewer.speed * viewer._state.rate);
  let target = viewer._clock.f0 + advance;
  // Below full rate no frame is skipped: one frame further at most, and the clock starts again
  // from it (a slow screen slows the film down rather than drop frames).
  if (viewer._state.rate < 1 && viewer.drawnFrame !== null && (target - viewer.drawnFrame) * direction > 1) {
    target = viewer.drawnFrame + direction;
    viewer._clock = { t0: now, f0: target };
  }
  const behind = (target - start) * direction < 0; // the range moved ahead of the playhead
  const beyond = (target - end) * direction > 0;
  if (behind || (beyond && viewer._state.loop)) {
    // Loop: start the clock again at the range's start.
    target = start;
    viewer._clock = { t0: now, f0: target };
  } else if (beyond) {
    // Not looping: stop on the range's last frame, once it has been shown.
    if (viewer.drawnFrame === end) {
      viewer.pause();
      return;
    }
    target = end;
  }
  if (target !== viewer.drawnFrame) {
    if (ready(viewer, target)) {
      setBuffering(viewer, false);
      viewer._setFrame(target);
      viewer._render(); // draw now, in this animation frame
    } else {
      // Late frames: hold the picture and stop the clock rather than show a frame we do not
      // have; playback goes on from the frame after the one on screen when it arrives.
      setBuffering(viewer, true);
      const shown = viewer.drawnFrame ?? target;
      let next = viewer.drawnFrame === null ? target : shown + direction;
      if ((next - end) * direction > 0) next = viewer._state.loop ? start : end;
      viewer._state.frame = next;
      viewer._clock = { t0: now, f0: shown };
      prefetch(viewer);
    }
  }
  viewer._playRaf = requestAnimationFrame((t) => tick(viewer, t));
}

function setBuffering(viewer, on) {
  viewer.root.classList.toggle("buffering", on);
}
