// The review panels bring their own stylesheet, so any page that mounts them is styled.

const href = new URL("../../css/review-panel.css", import.meta.url).href;

export function ensureReviewPanelStyles() {
  if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}
