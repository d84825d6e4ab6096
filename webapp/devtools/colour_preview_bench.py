"""The browser's grade preview, timed: Chromium (Playwright, /usr/bin/chromium) grades a 1920x1080
picture with the WebGL2 renderer (frontend/static/js/colour/grade-gl.js: CDL uniforms and a
33-point 3D LUT), as the review viewer does while a control is dragged. Each repaint changes the
CDL, draws, and waits for the GPU (a 1-pixel readback), then (second figure) composes the graded
picture onto a 1080p 2D canvas as the viewer does. Prints the median and p95 in ms.

No server: the page and the static modules are served to the browser by Playwright's routing.
`manage.py bench_colour` (part of `make bench`); `--gpu` drops Chromium's --disable-gpu (on a
machine with a GPU, Chromium may then use it; without one it is SwiftShader, software GL)."""

from __future__ import annotations

import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "frontend" / "static"
CHROMIUM = "/usr/bin/chromium"
ORIGIN = "http://bench.invalid"

PAGE = "<!doctype html><html><body><script type=module>window.ready = true;</script></body></html>"

BENCH = """async ({repaints, width, height}) => {
  const { GradeRenderer } = await import("/static/js/colour/grade-gl.js");
  const { identityLut } = await import("/static/js/colour/grade-math.js");
  // A picture with detail everywhere, and a LUT that is not the identity (a gentle S-curve).
  const source = document.createElement("canvas");
  source.width = width; source.height = height;
  const ctx = source.getContext("2d");
  const gradient = ctx.createLinearGradient(0, 0, width, height);
  gradient.addColorStop(0, "#102030"); gradient.addColorStop(0.5, "#c08060"); gradient.addColorStop(1, "#f0f0e0");
  ctx.fillStyle = gradient; ctx.fillRect(0, 0, width, height);
  for (let i = 0; i < 2000; i += 1) {
    ctx.fillStyle = `hsl(${(i * 37) % 360} 60% ${20 + (i % 60)}%)`;
    ctx.fillRect((i * 7919) % width, (i * 104729) % height, 24, 24);
  }
  const bitmap = await createImageBitmap(source);
  const lut = identityLut(33);
  for (let i = 0; i < lut.table.length; i += 1) { const v = lut.table[i]; lut.table[i] = v * v * (3 - 2 * v); }
  lut.identity = false;
  const renderer = new GradeRenderer();
  const display = document.createElement("canvas");
  display.width = width; display.height = height;
  const out = display.getContext("2d");
  const cdl = (k) => ({ slope: [1 + (k % 50) / 100, 1, 0.9], offset: [0.01, 0, -0.01], power: [1, 1.05, 0.95], saturation: 1.1 });
  renderer.render(bitmap, { cdl: cdl(0), lut }); renderer.finish();  // upload the picture and the LUT once
  const grade = [], compose = [];
  for (let k = 0; k < repaints; k += 1) {
    const t0 = performance.now();
    renderer.render(bitmap, { cdl: cdl(k + 1), lut });
    renderer.finish();
    const t1 = performance.now();
    out.drawImage(renderer.canvas, 0, 0);
    out.getImageData(0, 0, 1, 1);
    const t2 = performance.now();
    grade.push(t1 - t0); compose.push(t2 - t0);
  }
  const gl = renderer.gl;
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return { grade, compose, lutFormat: renderer.lutFormat,
           renderer: info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER) };
}"""


def _serve(route) -> None:
    path = route.request.url.removeprefix(ORIGIN)
    if path.startswith("/static/"):
        file = (STATIC / path.removeprefix("/static/")).resolve()
        if STATIC in file.parents and file.is_file():
            kind = "text/javascript" if file.suffix == ".js" else "application/octet-stream"
            route.fulfill(status=200, body=file.read_bytes(), headers={"Content-Type": kind})
            return
        route.fulfill(status=404, body="")
        return
    route.fulfill(status=200, body=PAGE, headers={"Content-Type": "text/html"})


def run(*, repaints: int = 120, width: int = 1920, height: int = 1080, gpu: bool = False) -> dict:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-background-networking"]
    if not gpu:
        args.append("--disable-gpu")
    else:
        args += ["--enable-gpu", "--ignore-gpu-blocklist", "--use-angle=vulkan", "--enable-features=Vulkan"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page()
            page.route(f"{ORIGIN}/**", _serve)
            page.goto(f"{ORIGIN}/")
            page.wait_for_function("window.ready === true")
            result = page.evaluate(BENCH, {"repaints": repaints, "width": width, "height": height})
        finally:
            browser.close()

    def stats(values: list[float]) -> tuple[float, float]:
        ordered = sorted(values)
        return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]

    return {"renderer": result["renderer"], "lut_format": result["lutFormat"], "repaints": repaints,
            "size": f"{width}x{height}", "grade": stats(result["grade"]), "compose": stats(result["compose"])}


def report(figures: dict) -> str:
    grade_median, grade_p95 = figures["grade"]
    compose_median, compose_p95 = figures["compose"]
    return (
        "| picture | repaints | GL renderer | LUT texture | grade (CDL + LUT) ms median / p95 "
        "| grade + compose on a 2D canvas ms median / p95 |\n|---|---|---|---|---|---|\n"
        f"| {figures['size']} | {figures['repaints']} | {figures['renderer']} | {figures['lut_format']} "
        f"| {grade_median:.2f} / {grade_p95:.2f} | {compose_median:.2f} / {compose_p95:.2f} |"
    )
