// Every page loads this first, as a plain script in <head> (the Content-Security-Policy allows no
// inline script or style attribute, so what a page once wrote inline is done here):
// - marks that scripts run, before the first paint (CSS hides the no-script fallbacks under html.js);
// - once the document is parsed, sizes the progress bars from the percentage the server wrote in
//   data-width (in place of a style attribute).
document.documentElement.classList.add("js");

{
  const sizeBars = () => {
    for (const bar of document.querySelectorAll("[data-width]")) bar.style.width = `${bar.dataset.width}%`;
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", sizeBars);
  else sizeBars();
}
