// Full screen of the viewer (its toolbar, picture, transport and timeline) with the Fullscreen API:
// the button or F enters and leaves, Esc leaves. The layout fills the screen (viewer.css
// `.cv:fullscreen`); the stage's resize observer redraws at the new size.

export function bindFullscreen(viewer) {
  viewer.root.querySelector(".cv-fullscreen").addEventListener("click", () => toggleFullscreen(viewer));
  viewer._onFullscreenChange = () => {
    const on = document.fullscreenElement === viewer.root;
    viewer.root.classList.toggle("fullscreen", on);
    const button = viewer.root.querySelector(".cv-fullscreen");
    button.setAttribute("aria-pressed", String(on));
    button.title = on ? "Leave full screen (F, Esc)" : "Full screen (F)";
  };
  document.addEventListener("fullscreenchange", viewer._onFullscreenChange);
}

export function unbindFullscreen(viewer) {
  document.removeEventListener("fullscreenchange", viewer._onFullscreenChange);
}

export function toggleFullscreen(viewer) {
  if (document.fullscreenElement === viewer.root) {
    exitFullscreen(viewer);
    return;
  }
  if (!document.fullscreenEnabled) return;
  viewer.root.requestFullscreen().catch((error) => viewer._showError({ detail: `Full screen refused: ${error.message}` }));
}

/** Leave full screen if the viewer is in it; true when it was. */
export function exitFullscreen(viewer) {
  if (document.fullscreenElement !== viewer.root) return false;
  document.exitFullscreen().catch(() => {});
  return true;
}
