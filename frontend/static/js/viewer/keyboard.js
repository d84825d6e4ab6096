// The viewer's keys: arrows step (Shift: 10 frames), Home/End, Space plays, J/K/L shuttle,
// T toggles A/B, 1-4 pick the mode, +/-/0 zoom. Left to text fields, Ctrl/Alt/Meta and open dialogs.

import { hasCommandModifier, isTypingTarget } from "../common/keys.js";
import { shuttle, step } from "./playback.js";
import { MODES } from "./state.js";
import { fitView, zoomBy } from "./zoom-pan.js";

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
  if (event.shiftKey && !["+", "?"].includes(key)) return;
  const state = viewer._state;
  switch (key) {
    case "Home": viewer.seek(0); break;
    case "End": viewer.seek(viewer.frameCount - 1); break;
    case " ": state.playing ? viewer.pause() : viewer.play(); break;
    case "j": case "J": shuttle(viewer, -1); break;
    case "k": case "K": viewer.pause(); break;
    case "l": case "L": shuttle(viewer, 1); break;
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
