// Where the pictures are on the stage: the canvas sized to the stage (device pixels), and the
// image rectangle of each pane for the current mode, zoom and pan. Drawing, overlays and pointer
// handling all measure with these.

const SIDE_GAP = 4; // CSS px between the two images side by side

export function resizeCanvas(viewer) {
  const box = viewer.stage.getBoundingClientRect();
  const ratio = window.devicePixelRatio || 1;
  viewer.stageWidth = box.width;
  viewer.stageHeight = box.height;
  const width = Math.max(1, Math.round(box.width * ratio));
  const height = Math.max(1, Math.round(box.height * ratio));
  if (viewer.canvas.width !== width || viewer.canvas.height !== height) {
    viewer.canvas.width = width;
    viewer.canvas.height = height;
  }
}

// A's size: its bitmap on screen, else the scan's size, else 4:3 until anything is known.
function imageSize(viewer) {
  const bitmap = viewer.store?.get(viewer._state.a, viewer.drawnFrame ?? viewer._state.frame);
  if (bitmap) return { w: bitmap.width, h: bitmap.height };
  const source = viewer.sources.find((s) => s.id === viewer._state.a);
  return { w: source?.width || 4, h: source?.height || 3 };
}

// The image rectangles (CSS px in the stage): one per pane, two side by side.
export function paneRects(viewer) {
  const W = viewer.stageWidth || 1;
  const H = viewer.stageHeight || 1;
  const panes = viewer._state.mode === "side"
    ? [{ x: 0, w: (W - SIDE_GAP) / 2 }, { x: (W + SIDE_GAP) / 2, w: (W - SIDE_GAP) / 2 }]
    : [{ x: 0, w: W }];
  const { w: iw, h: ih } = imageSize(viewer);
  return panes.map((pane) => {
    const scale = Math.min(pane.w / iw, H / ih) * viewer._state.zoom;
    const w = iw * scale;
    const h = ih * scale;
    return {
      x: pane.x + (pane.w - w) / 2 + viewer._state.panX * w,
      y: (H - h) / 2 + viewer._state.panY * h,
      w, h, pane,
    };
  });
}

// The pane drawings belong to: the one showing the annotated source (the version under review),
// which side by side may be B's, the right-hand pane. Any other mode has one picture (A's rect).
export function annotationRect(viewer, rects = paneRects(viewer)) {
  const { mode, a, b } = viewer._state;
  const annotated = viewer.annotatedSource;
  return mode === "side" && annotated !== null && b === annotated && a !== annotated ? rects[1] : rects[0];
}
