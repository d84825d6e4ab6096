// Zoom and pan, shared by both sides: the zoom buttons, the wheel (about the point under the
// cursor), dragging the picture, double-click to fit; and dragging the wipe's handle.

import { paneRects } from "./geometry.js";
import { clamp, MAX_ZOOM, MIN_ZOOM } from "./state.js";

export function fitView(viewer) {
  viewer._userState({ zoom: 1, panX: 0, panY: 0 });
}

export function bindZoomButtons(viewer) {
  for (const button of viewer.root.querySelectorAll("[data-zoom]")) {
    button.addEventListener("click", () => {
      const kind = button.dataset.zoom;
      if (kind === "fit") fitView(viewer);
      else zoomBy(viewer, kind === "in" ? 1.25 : 0.8);
    });
  }
}

export function zoomBy(viewer, factor, clientX = null, clientY = null) {
  const zoom = clamp(viewer._state.zoom * factor, MIN_ZOOM, MAX_ZOOM);
  const rects = paneRects(viewer);
  const box = viewer.stage.getBoundingClientRect();
  // Keep the image point under the cursor (or the pane's centre) where it is.
  const px = clientX === null ? null : clientX - box.left;
  const rect = px !== null && rects.length > 1 && px >= rects[1].pane.x ? rects[1] : rects[0];
  const X = px ?? rect.pane.x + rect.pane.w / 2;
  const Y = clientY === null ? viewer.stageHeight / 2 : clientY - box.top;
  const u = (X - rect.x) / rect.w;
  const v = (Y - rect.y) / rect.h;
  const w = rect.w * (zoom / viewer._state.zoom);
  const h = rect.h * (zoom / viewer._state.zoom);
  const centreX = rect.pane.x + rect.pane.w / 2;
  const centreY = viewer.stageHeight / 2;
  viewer._userState({
    zoom,
    panX: (X - centreX) / w + 0.5 - u,
    panY: (Y - centreY) / h + 0.5 - v,
  });
}

export function bindStagePointer(viewer) {
  const stage = viewer.stage;
  let drag = null;
  stage.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 && event.button !== 1) return;
    if (event.target.closest(".cv-overlay.drawing")) return; // a drawing layer owns the pointer
    const onHandle = event.target.closest(".cv-wipe-handle");
    stage.setPointerCapture(event.pointerId);
    drag = onHandle
      ? { kind: "wipe" }
      : { kind: "pan", x: event.clientX, y: event.clientY, panX: viewer._state.panX, panY: viewer._state.panY };
    stage.classList.add(drag.kind === "wipe" ? "wiping" : "panning");
    event.preventDefault();
    // preventDefault keeps the focus where it was: a click on the picture hands the keys back to the viewer.
    if (document.activeElement instanceof HTMLElement && viewer.root.contains(document.activeElement)) {
      document.activeElement.blur();
    }
  });
  stage.addEventListener("pointermove", (event) => {
    if (!drag) return;
    if (drag.kind === "wipe") {
      const rect = paneRects(viewer)[0];
      const box = stage.getBoundingClientRect();
      viewer._userState({ wipe: clamp((event.clientX - box.left - rect.x) / rect.w, 0, 1) });
    } else {
      const rect = paneRects(viewer)[0];
      viewer._userState({
        panX: drag.panX + (event.clientX - drag.x) / rect.w,
        panY: drag.panY + (event.clientY - drag.y) / rect.h,
      });
    }
  });
  const end = () => {
    drag = null;
    stage.classList.remove("wiping", "panning");
  };
  stage.addEventListener("pointerup", end);
  stage.addEventListener("pointercancel", end);
  stage.addEventListener("dblclick", () => fitView(viewer));
  stage.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoomBy(viewer, Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
  }, { passive: false });
}
