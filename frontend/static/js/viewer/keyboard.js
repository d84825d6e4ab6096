// The viewer's keys: arrows and , . step (Shift+arrows: 10 frames), Home/End, Space plays, J/K/L
// shuttle, I/O set the loop's in and out points, Shift+L loops, < and > change the rate, F goes
// full screen, T toggles A/B, 1-4 pick the mode, +/-/0 zoom. Left to text fields (the comment
// box), Ctrl/Alt/Meta and open dialogs.

import { hasCommandModifier, isTypingTarget } from "../common/keys.js";
import { exitFullscreen, toggleFullscreen } from "./fullscreen.js";
import { setInPoint, setOutPoint, stepRate, toggleLoop } from "./loop.js";
import { shuttle, step } from "./playback.js";
import { MODES } from "./state.js";
import { fitView, zoomBy } from "./zoom-pan.js";

// Keys that are their own character with Shift held (on a US layout) or that mean something else with it.
const SHIFTED_KEYS = ["+", "?", "<", ">", "L"];

/** Listen for the viewer's keys on the document; returns a function that stops listening. */
export function bindViewerKeys(viewer) {
  const listener = (event) => handleKey(viewer, event);
  document.addEventListener("keydown", listener);
  return () => document.removeEventListener("keydown", listener);
}

function handleKey(viewer, event) {
  if (event.defaultPrevented || isTypingTarget(event) || hasCommandModifier(event)) return;
  if (document.querySelector("dialog[open]")) return;
  const key = event.key;
  const handled = () => event.preventDefault();
  if (key === "ArrowLeft" || key === "ArrowRight") {
    step(viewer, (key === "ArrowLeft" ? -1 : 1) * (event.shiftKey ? 10 : 1));
    return handled();
  }
  if (event.shiftKey && !SHIFTED_KEYS.includes(key)) return;
  const state = viewer._state;
  switch (key) {
    case "Home": viewer.seek(0); break;
    case "End": viewer.seek(viewer.frameCount - 1); break;
    case ",": step(viewer, -1); break;
    case ".": step(viewer, 1); break;
    case " ": state.playing ? viewer.pause() : viewer.play(); break;
    case "j": shuttle(viewer, -1); break;
    case "k": viewer.pause(); break;
    case "l": shuttle(viewer, 1); break;
    case "L":
      // Shift+L loops; an L with Caps Lock on is still the shuttle.
      if (event.shiftKey) toggleLoop(viewer);
      else shuttle(viewer, 1);
      break;
    case "J": shuttle(viewer, -1); break;
    case "K": viewer.pause(); break;
    case "i": case "I": setInPoint(viewer); break;
    case "o": case "O": setOutPoint(viewer); break;
    case "<": stepRate(viewer, -1); break;
    case ">": stepRate(viewer, 1); break;
    case "f": case "F": toggleFullscreen(viewer); break;
    case "Escape":
      // The browser leaves full screen on Esc itself; this covers browsers that pass the key on.
      if (!exitFullscreen(viewer)) return;
      break;
    case "t": case "T":
      viewer._userState({ mode: "toggle", showing: state.mode === "toggle" && state.showing === "a" ? "b" : "a" });
      break;
    case "1": case "2": case "3": case "4": viewer._userState({ mode: MODES[Number(key) - 1] }); break;
    case "+": case "=": zoomBy(viewer, 1.25); break;
    case "-": case "_": zoomBy(viewer, 0.8); break;
    case "0": fitView(viewer); break;
    default: return;
  }
  handled();
}
