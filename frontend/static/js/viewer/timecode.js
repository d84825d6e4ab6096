// Frame numbers and timecode for display. Frames are the key; timecode is derived from the shot's
// fps (non-drop-frame, rounded to whole frames per second, as SMPTE does for 23.976 material), at
// the shot's place in the film (its first frame's film frame), as the film page shows it, or from
// the scan's own timecode. The start number (the number shown for a shot's first frame) is the
// film's (e.g. 1001), or an image sequence's own file number (e.g. 86400): the server says which.

export function nominalFps(fps) {
  return Math.max(1, Math.round(fps));
}

export function formatTimecode(frame, fps) {
  const base = nominalFps(fps);
  const f = Math.max(0, Math.floor(frame));
  const frames = f % base;
  const totalSeconds = Math.floor(f / base);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(Math.floor(totalSeconds / 3600))}:${pad(Math.floor(totalSeconds / 60) % 60)}:${pad(totalSeconds % 60)}:${pad(frames)}`;
}

// The number shown for shot frame `frame`: start number + frame (e.g. 1001 + f).
export function displayNumber(frame, startNumber) {
  return startNumber + frame;
}

// A typed frame number back to a shot frame, or null when it is not a number inside the shot.
export function parseDisplayNumber(text, startNumber, frameCount) {
  const trimmed = String(text).trim();
  if (!/^-?\d+$/.test(trimmed)) return null;
  const frame = Number(trimmed) - startNumber;
  return frame >= 0 && frame < frameCount ? frame : null;
}

// Why a typed frame number cannot be sought (parseDisplayNumber gave null), in the numbers shown.
export function displayNumberProblem(text, startNumber, frameCount) {
  const trimmed = String(text).trim();
  const range = `${displayNumber(0, startNumber)}–${displayNumber(frameCount - 1, startNumber)}`;
  if (!/^-?\d+$/.test(trimmed)) return `Type a frame number of this shot (${range}).`;
  return `Frame ${trimmed} is not in this shot: its frames are ${range}.`;
}

export const MAX_START_NUMBER = 9999999;
