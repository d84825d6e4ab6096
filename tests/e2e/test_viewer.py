"""End to end: the shot review page in Chromium. The archivist opens a demo shot, compares the scan
with v1 in each mode, moves the wipe, steps and shuttles with the keyboard, and the frame number
shown is always the frame drawn, whose pixels are the proxy of that frame."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_TITLE, SCREENSHOTS, demo_shot, login

pytestmark = pytest.mark.e2e

# A small signature of what the canvas shows: mean RGB of a 4x4 grid of cells.
CANVAS_SIGNATURE = """() => {
  const canvas = document.querySelector('#viewer .cv-canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const cells = [];
  for (let gy = 0; gy < 4; gy++) for (let gx = 0; gx < 4; gx++) {
    let sum = 0, n = 0;
    for (let y = Math.floor(gy * canvas.height / 4); y < (gy + 1) * canvas.height / 4; y += 3)
      for (let x = Math.floor(gx * canvas.width / 4); x < (gx + 1) * canvas.width / 4; x += 3) {
        const i = (y * canvas.width + x) * 4; sum += data[i] + data[i + 1] + data[i + 2]; n++;
      }
    cells.push(sum / n / 3);
  }
  return cells;
}"""

# Mean absolute difference, inside the A image, between the viewer's canvas and the proxy JPEG of
# `frame` of `source` fetched on a socket of its own and drawn the same size at the same place.
MATCHES_PROXY = """async ([source, frame]) => {
  const viewer = document.getElementById('viewer').comparisonViewer;
  const rect = viewer.imageRect();
  const url = `ws://${location.host}/ws/shots/${viewer.shotId}/frames/`;
  const jpeg = await new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => socket.send(JSON.stringify({type: 'frames', request: 1, source, start: frame, count: 1,
                                                      height: viewer._requestHeight()}));
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') return reject(new Error(event.data));
      const length = new DataView(event.data).getUint32(0);
      resolve(new Blob([new Uint8Array(event.data, 4 + length)], {type: 'image/jpeg'}));
      socket.close();
    };
  });
  const bitmap = await createImageBitmap(jpeg);
  const shown = document.querySelector('#viewer .cv-canvas');
  const reference = document.createElement('canvas');
  reference.width = shown.width; reference.height = shown.height;
  const ctx = reference.getContext('2d');
  ctx.imageSmoothingEnabled = shown.getContext('2d').imageSmoothingEnabled;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, rect.x, rect.y, rect.w, rect.h);
  const x0 = Math.ceil(rect.x) + 2, y0 = Math.ceil(rect.y) + 2;
  const w = Math.floor(rect.w) - 4, h = Math.floor(rect.h) - 4;
  const a = shown.getContext('2d').getImageData(x0, y0, w, h).data;
  const b = ctx.getImageData(x0, y0, w, h).data;
  let sum = 0;
  for (let i = 0; i < a.length; i += 4) sum += Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]);
  return sum / (a.length / 4) / 3;
}"""


def _drawn(page) -> dict:
    return page.eval_on_selector("#viewer", """el => ({
        frame: Number(el.dataset.drawnFrame), a: el.dataset.drawnA, b: el.dataset.drawnB, mode: el.dataset.mode,
        playhead: el.comparisonViewer.frame, playing: el.comparisonViewer.state.playing,
        counter: el.querySelector('.cv-frame-input').value, timecode: el.querySelector('.cv-timecode').textContent})""")


def _wait_drawn(page, frame: int) -> dict:
    page.wait_for_function(f"document.getElementById('viewer').dataset.drawnFrame === '{frame}'", timeout=15000)
    return _drawn(page)


def _painted(page) -> None:
    """Wait two animation frames: the viewer draws in the next one after a change."""
    page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _differ(first: list[float], second: list[float], by: float = 1.0) -> bool:
    return max(abs(x - y) for x, y in zip(first, second, strict=True)) > by


def _timecode(frame: int, fps: float) -> str:
    """HH:MM:SS:FF non-drop at the nominal whole rate."""
    base = round(fps)
    seconds, frames = divmod(frame, base)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frames:02d}"


def test_archivist_compares_a_shot_in_every_mode_and_steps_frame_exactly(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "archivist")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    shot = demo_shot(page, base_url, 3)

    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/")
    state = _wait_drawn(page, 0)
    assert (state["a"], state["b"], state["mode"], state["counter"]) == ("original:0", "v1:0", "side", "0")
    assert "Shot 3" in page.inner_text(".review-head") and DEMO_TITLE in page.inner_text(".review-head")

    # Each mode shows something else: side by side, wipe, toggle (A), difference.
    signatures = {}
    for key, mode in (("1", "side"), ("2", "wipe"), ("3", "toggle"), ("4", "diff")):
        page.keyboard.press(key)
        page.wait_for_function(f"document.getElementById('viewer').dataset.mode === '{mode}'")
        _painted(page)
        signatures[mode] = page.evaluate(CANVAS_SIGNATURE)
        if mode == "side":  # the README's picture of a demo shot: the damaged scan and v1
            page.locator("#viewer canvas").first.screenshot(path=str(SCREENSHOTS / "demo-shots.png"))
    modes = list(signatures)
    for i, first in enumerate(modes):
        for second in modes[i + 1:]:
            assert _differ(signatures[first], signatures[second]), (first, second)

    # The wipe: dragging the handle moves the split, and what lies between old and new split changes
    # from B (the clean version, right of the split) to A (the damaged scan).
    page.keyboard.press("2")
    _painted(page)
    before = page.evaluate(CANVAS_SIGNATURE)
    handle = page.locator("#viewer .cv-wipe-handle").bounding_box()
    image = page.locator("#viewer .cv-overlay").bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(image["x"] + image["width"] * 0.9, handle["y"] + handle["height"] / 2, steps=5)
    page.mouse.up()
    wipe = page.evaluate("document.getElementById('viewer').comparisonViewer.state.wipe")
    assert 0.85 < wipe < 0.95
    _painted(page)
    after = page.evaluate(CANVAS_SIGNATURE)
    assert _differ(before, after)

    # A/B toggle with T: A, then B, drawn alone.
    page.keyboard.press("t")
    _painted(page)
    assert _drawn(page)["mode"] == "toggle" and _drawn(page)["b"] == ""
    shown_a = page.evaluate(CANVAS_SIGNATURE)
    page.keyboard.press("t")
    _painted(page)
    assert _drawn(page)["a"] == "" and _differ(shown_a, page.evaluate(CANVAS_SIGNATURE))
    page.keyboard.press("t")  # back to A, to check its pixels below

    # Stepping: arrows, Shift+arrows, Home/End; the counter and timecode follow the drawn frame.
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert _wait_drawn(page, 3)["counter"] == "3"
    page.keyboard.press("Shift+ArrowRight")
    state = _wait_drawn(page, 13)
    # The timecode is the film's, as the film page shows it: the shot's first film frame + 13.
    assert (state["counter"], state["timecode"]) == ("13", _timecode(shot["start_frame"] + 13, shot["fps"]))
    page.keyboard.press("ArrowLeft")
    assert _wait_drawn(page, 12)["a"] == "original:12"
    page.keyboard.press("End")
    assert _wait_drawn(page, shot["frame_count"] - 1)["counter"] == str(shot["frame_count"] - 1)
    page.keyboard.press("Home")
    _wait_drawn(page, 0)
    page.keyboard.press("ArrowRight")
    _wait_drawn(page, 1)

    # The picture is the proxy of the frame shown, not of its neighbour.
    assert page.evaluate(MATCHES_PROXY, ["original", 1]) < 1.5
    assert page.evaluate(MATCHES_PROXY, ["original", 2]) > 3 * page.evaluate(MATCHES_PROXY, ["original", 1]) + 1

    # A start number of 1001: the counter shows 1001 + frame; the timeline and link keep frames.
    # It is the film's (an archivist sets it), not this browser's: another reviewer sees it too.
    page.fill("#viewer .cv-start-input", "1001")
    with page.expect_response(lambda r: r.url.endswith(f"/api/films/{shot['film']}/") and r.request.method == "PATCH"
                              ) as stored:
        page.press("#viewer .cv-start-input", "Enter")
    assert stored.value.ok and stored.value.json()["frame_number_start"] == 1001
    other_context, other = login(browser, base_url, "creator")
    other.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/?frame=4")
    expect(other.locator("#viewer .cv-frame-input")).to_have_value("1005")
    expect(other.locator("#viewer .cv-start-input")).to_have_js_property("readOnly", True)  # the archivists' to set
    other_context.close()
    page.locator("#viewer .cv-canvas").click()  # focus back on the picture
    page.keyboard.press("ArrowRight")
    state = _wait_drawn(page, 2)
    assert state["counter"] == "1003"
    page.wait_for_function("new URL(location.href).searchParams.get('frame') === '2'")

    # J/K/L: L plays forward, K stops on the frame drawn, J plays backward.
    page.keyboard.press("l")
    page.wait_for_function("Number(document.getElementById('viewer').dataset.drawnFrame) >= 8", timeout=15000)
    page.keyboard.press("k")
    state = _drawn(page)
    assert not state["playing"] and state["playhead"] == state["frame"]
    assert state["counter"] == str(1001 + state["frame"])
    stopped = state["frame"]
    page.keyboard.press("j")
    page.wait_for_function(f"Number(document.getElementById('viewer').dataset.drawnFrame) < {stopped}", timeout=15000)
    page.keyboard.press("k")
    state = _drawn(page)
    assert state["frame"] < stopped and state["counter"] == str(1001 + state["frame"])

    # Typing a frame number jumps there.
    page.fill("#viewer .cv-frame-input", "1020")
    page.press("#viewer .cv-frame-input", "Enter")
    _wait_drawn(page, 19)
    # The film counts from 0 again for the other tests.
    page.fill("#viewer .cv-start-input", "0")
    with page.expect_response(lambda r: r.url.endswith(f"/api/films/{shot['film']}/") and r.request.method == "PATCH"):
        page.press("#viewer .cv-start-input", "Enter")
    assert not errors, errors
    context.close()


def test_a_link_opens_the_shot_on_its_frame_and_sources(demo_server, browser):
    """A shared link (?a=&b=&frame=) shows that frame of those sources; the page as a reviewer
    sees it is docs/img/review-shot.png."""
    base_url, _ = demo_server
    context, page = login(browser, base_url, "creator")
    shot = demo_shot(page, base_url, 1)
    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/?a=v1&b=original&frame=12")
    state = _wait_drawn(page, 12)
    assert (state["a"], state["b"], state["counter"]) == ("v1:12", "original:12", "12")
    # Without sources in the link: the scan against the shot's latest version (other e2e tests
    # may have restored this shot again).
    versions = page.request.get(f"{base_url}/api/versions/?shot={shot['id']}",
                                headers={"Accept": "application/json"}).json()["results"]
    latest = max(v["number"] for v in versions)
    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/?frame=12")
    state = _wait_drawn(page, 12)
    assert (state["a"], state["b"], state["mode"]) == ("original:12", f"v{latest}:12", "side")
    # The timeline shows which frames are cached: the prefetch window from frame 12 on.
    page.wait_for_function("document.getElementById('viewer').comparisonViewer.timeline.cached[20] === true")
    _painted(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review-shot.png"))
    context.close()
