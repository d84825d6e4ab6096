// Playback at the shot's fps (forwards or backwards, shuttle speeds), frame stepping, and the
// transport buttons. The clock is wall time from a start frame, so a slow draw skips frames rather
// than slowing the film down; late frames stop the clock instead (see tick).

import { syncControls } from "./controls.js";
import { prefetch, ready } from "./prefetch.js";
import { SHUTTLE_SPEEDS } from "./state.js";

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
  viewer._clock = { t0: performance.now(), f0: fromFrame ?? viewer.drawnFrame ?? viewer._state.frame };
  if (fromFrame !== null) viewer._setFrame(fromFrame);
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

function tick(viewer, now) {
  if (!viewer._state.playing) return;
  const elapsed = (now - viewer._clock.t0) / 1000;
  const advance = Math.trunc(elapsed * viewer.fps * viewer.speed);
  let target = viewer._clock.f0 + advance;
  if (target >= viewer.frameCount || target < 0) {
    // Loop: start the clock again at the other end.
    target = target >= viewer.frameCount ? 0 : viewer.frameCount - 1;
    viewer._clock = { t0: now, f0: target };
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
      const next = viewer.drawnFrame === null ? target : (shown + Math.sign(viewer.speed) + viewer.frameCount) % viewer.frameCount;
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
