"""End to end, in Chromium: the colour panel on the demo film's shot 2 (whose grade the demo
learns from graded stills). The WebGL2 preview matches the engine's own application of the grade
(and the JS reference matches both); the creator sees the proposed grade and its held-out error,
adjusts a slope and sees the picture change, sees a scope drawn, and approves; the archivist
approves too and the grade is approved on both pages, live."""

from __future__ import annotations

import struct

import pytest
from playwright.sync_api import expect

from restoration.api import GradeLut, GradeValues, grade_colours
from tests.e2e.conftest import SCREENSHOTS, demo_film_id, login

pytestmark = pytest.mark.e2e

# 8-bit test colours: greys, primaries, skin, shadows and highlights (each pixel of a 16x16 image).
def _test_colours() -> list[tuple[int, int, int]]:
    colours = []
    for i in range(256):
        r = (i * 37) % 256
        g = (i * 91 + 13) % 256
        b = (i * 53 + 101) % 256
        colours.append((r, g, b))
    colours[:8] = [(0, 0, 0), (255, 255, 255), (128, 128, 128), (255, 0, 0), (0, 255, 0), (0, 0, 255),
                   (224, 172, 140), (16, 24, 32)]
    return colours


def _demo_grade(page, base_url: str) -> tuple[dict, dict]:
    film = demo_film_id(page, base_url)
    shots = page.request.get(f"{base_url}/api/shots/", params={"film": film, "number_min": 2, "number_max": 2})
    shot = shots.json()["results"][0]
    grades = page.request.get(f"{base_url}/api/grades/", params={"shot": shot["id"], "ordering": "-number"}).json()
    grades = grades["results"]
    assert grades, "the demo learns a grade for shot 2"
    return shot, grades[-1]  # the fitted one (the first)


def _open(page, base_url: str, shot: dict) -> None:
    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/")
    expect(page.locator("#colour-panel[data-loaded=true]")).to_be_attached()


GL_CHECK = """async ({colours, gradeId}) => {
  const gl = await import("/static/js/colour/grade-gl.js");
  const math = await import("/static/js/colour/grade-math.js");
  const response = await fetch(`/api/grades/${gradeId}/lut/`);
  const lut = math.parseLut(await response.arrayBuffer());
  const grade = await (await fetch(`/api/grades/${gradeId}/`)).json();
  const canvas = document.createElement("canvas");
  canvas.width = 16; canvas.height = 16;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(16, 16);
  colours.forEach((c, i) => { image.data.set([c[0], c[1], c[2], 255], i * 4); });
  ctx.putImageData(image, 0, 0);
  const bitmap = await createImageBitmap(canvas);
  const renderer = new gl.GradeRenderer();
  renderer.render(bitmap, {cdl: grade.cdl, lut});
  const pixels = Array.from(renderer.readPixels());
  const reference = colours.map((c) => math.gradeApply(c.map((v) => v / 255), grade.cdl, lut));
  return {pixels, reference, format: renderer.lutFormat, headerCdl: lut.cdl, size: lut.size};
}"""


def test_webgl_preview_matches_the_engine(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "creator")
    shot, grade = _demo_grade(page, base_url)
    _open(page, base_url, shot)
    colours = _test_colours()
    result = page.evaluate(GL_CHECK, {"colours": colours, "gradeId": grade["id"]})
    assert result["size"] == 33 and result["headerCdl"] == grade["cdl"]

    payload = page.request.get(f"{base_url}/api/grades/{grade['id']}/lut/").body()
    (length,) = struct.unpack(">I", payload[:4])
    lut = GradeLut(size=33, table=payload[4 + length:]) if grade["has_lut"] else None
    engine = grade_colours(GradeValues(cdl=grade["cdl"], lut=lut), [[v / 255 for v in c] for c in colours])

    worst_gl = worst_reference = 0.0
    for i, expected in enumerate(engine):
        for channel in range(3):
            worst_gl = max(worst_gl, abs(result["pixels"][i * 4 + channel] - expected[channel] * 255))
            worst_reference = max(worst_reference, abs(result["reference"][i][channel] - expected[channel]))
    # One 8-bit step (plus the GPU's rounding and a half-float LUT where float textures do not filter).
    assert worst_gl <= 1.5, f"WebGL preview off the engine by {worst_gl:.2f}/255 ({result['format']} LUT)"
    assert worst_reference <= 1e-4, f"JS reference off the engine by {worst_reference}"
    context.close()


def _picture_probe(page) -> list[int]:
    """A few pixels of the viewer's canvas inside the B picture (side by side: the right pane)."""
    return page.evaluate("""() => {
      const viewer = document.getElementById("viewer").comparisonViewer;
      const canvas = viewer.canvas;
      const ctx = canvas.getContext("2d");
      const out = [];
      for (const fx of [0.6, 0.7, 0.8, 0.9]) for (const fy of [0.3, 0.5, 0.7]) {
        out.push(...ctx.getImageData(Math.floor(canvas.width * fx), Math.floor(canvas.height * fy), 1, 1).data.slice(0, 3));
      }
      return out;
    }""")


def test_creator_adjusts_the_learned_grade_with_scopes_and_both_sign_it(demo_server, browser):
    base_url, _ = demo_server
    creator_context, creator = login(browser, base_url, "creator")
    archivist_context, archivist = login(browser, base_url, "archivist")
    shot, grade = _demo_grade(creator, base_url)
    _open(creator, base_url, shot)
    panel = creator.locator("#colour-panel")
    expect(panel.locator("[data-grade-status]")).to_have_text("Proposed")
    expect(panel.locator("[data-applies]")).to_contain_text("learned from stills")
    expect(panel.locator("[data-holdout]")).to_contain_text("held-out ΔE00")
    expect(panel.locator("[data-save]")).to_have_count(0)  # creators sign, they do not save grades
    expect(creator.locator("#viewer[data-drawn-frame]")).to_be_attached()

    # The scope is drawn from the picture on screen.
    expect(panel.locator(".cl-scope[data-drawn]")).to_be_attached()
    panel.locator("[data-scope-kind]").select_option("vectorscope")
    expect(panel.locator(".cl-scope[data-scope=vectorscope]")).to_be_attached()

    # Dragging the red slope repaints the graded picture.
    creator.wait_for_timeout(300)
    before = _picture_probe(creator)
    slope = panel.locator('[data-control="slope-0"]')
    start = float(slope.input_value())
    frame = creator.locator(".cv-frame-input").input_value()
    slope.focus()
    for _ in range(40):
        creator.keyboard.press("ArrowRight")  # keyboard-accessible: 0.001 a step
    assert float(slope.input_value()) > start  # the slider moved, not the playhead
    expect(creator.locator(".cv-frame-input")).to_have_value(frame)
    panel.locator('[data-number="slope-0"]').fill("2.5")
    creator.wait_for_function("""(before) => {
      const viewer = document.getElementById("viewer").comparisonViewer;
      const ctx = viewer.canvas.getContext("2d");
      const c = viewer.canvas; let i = 0;
      for (const fx of [0.6, 0.7, 0.8, 0.9]) for (const fy of [0.3, 0.5, 0.7]) {
        const px = ctx.getImageData(Math.floor(c.width * fx), Math.floor(c.height * fy), 1, 1).data;
        for (let ch = 0; ch < 3; ch++, i++) if (Math.abs(px[ch] - before[i]) > 2) return true;
      }
      return false;
    }""", arg=before)
    expect(panel).to_have_attribute("data-edited", "true")
    creator.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")
    creator.screenshot(path=str(SCREENSHOTS / "review-colour.png"))
    panel.locator("[data-reset]").click()
    expect(panel).to_have_attribute("data-edited", "false")

    # Both signing roles approve; the archivist's page follows live.
    _open(archivist, base_url, shot)
    panel.locator("[data-grade-verdict=approve]").click()
    expect(panel.locator(".cl-role[data-role=creator] .status-approved")).to_be_visible()
    expect(archivist.locator("#colour-panel .cl-role[data-role=creator] .status-approved")).to_be_visible()
    archivist.locator("#colour-panel [data-grade-verdict=approve]").click()
    for page in (archivist, creator):
        expect(page.locator("#colour-panel [data-grade-status]")).to_have_text("Approved")
    assert creator.request.get(f"{base_url}/api/grades/{grade['id']}/").json()["status"] == "approved"
    creator_context.close()
    archivist_context.close()


def test_in_a_live_session_the_follower_sees_the_hosts_grade_as_it_moves(demo_server, browser):
    from tests.e2e.test_live_session import VIEWER_STATE, start_session

    base_url, _ = demo_server
    host_context, host = login(browser, base_url, "archivist")
    follower_context, follower = login(browser, base_url, "creator")
    try:
        session_id = start_session(host, base_url)
        host.wait_for_function(f"{VIEWER_STATE} !== undefined")
        follower.goto(f"{base_url}/sessions/{session_id}/")
        follower.locator("#live-follow", has_text="Following archivist").wait_for()
        host.locator("#live-playlist-items button", has_text="Shot 2").first.click()
        follower.locator("#live-playlist-items button[aria-current=true]", has_text="Shot 2").wait_for()
        expect(host.locator("#live-colour[data-loaded=true]")).to_be_attached()
        expect(follower.locator("#live-colour[data-loaded=true]")).to_be_attached()

        host.locator('#live-colour [data-number="saturation"]').fill("0.25")
        host.locator('#live-colour [data-number="power-2"]').fill("1.5")
        expect(follower.locator('#live-colour [data-number="saturation"]')).to_have_value("0.25")
        expect(follower.locator('#live-colour [data-number="power-2"]')).to_have_value("1.5")
        expect(follower.locator("#live-colour")).to_have_attribute("data-edited", "true")
        # A late joiner gets the look in the session's first message.
        late_context, late = login(browser, base_url, "restorer")
        late.goto(f"{base_url}/sessions/{session_id}/")
        # Its socket opens after the page and its grades load: on a busy CI machine that takes seconds.
        expect(late.locator('#live-colour [data-number="saturation"]')).to_have_value("0.25", timeout=15_000)
        late_context.close()
    finally:
        host_context.close()
        follower_context.close()


def test_an_adjustment_made_while_the_grades_load_is_kept(demo_server, browser):
    """The grades arrive after the user has moved a control: the panel keeps the adjustment
    instead of replacing it with the grade's values (a live host's look was lost this way)."""
    base_url, _ = demo_server
    context, page = login(browser, base_url, "creator")
    shot, grade = _demo_grade(page, base_url)
    held = []
    page.route(f"**/api/shots/{shot['id']}/grade/", lambda route: held.append(route))
    with page.expect_request(f"**/api/shots/{shot['id']}/grade/"):
        page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/")
    panel = page.locator("#colour-panel")
    expect(panel).to_have_attribute("data-loaded", "false")
    for _ in range(100):  # the route's handler runs as Playwright dispatches its events
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the panel asks for the shot's grades"
    panel.locator('[data-number="saturation"]').fill("0.25")
    for route in held:
        route.continue_()
    expect(panel).to_have_attribute("data-loaded", "true")
    assert grade["cdl"]["saturation"] != 0.25
    expect(panel.locator("[data-applies]")).not_to_have_text("Loading…")
    # The next adjustment builds on the kept one (the panel shows its whole look again).
    panel.locator('[data-number="power-2"]').fill("1.5")
    expect(panel.locator('[data-number="power-2"]')).to_have_value("1.5")
    expect(panel.locator('[data-number="saturation"]')).to_have_value("0.25")
    context.close()


def test_a_restorer_saves_a_new_grade_and_the_creator_asks_for_changes_on_a_frame(demo_server, browser):
    base_url, _ = demo_server
    restorer_context, restorer = login(browser, base_url, "restorer")
    creator_context, creator = login(browser, base_url, "creator")
    shot, fitted = _demo_grade(restorer, base_url)
    _open(restorer, base_url, shot)
    _open(creator, base_url, shot)
    panel = restorer.locator("#colour-panel")
    expect(panel.locator("[data-grade-verdict]")).to_have_count(0)  # restorers save grades, they do not sign them
    panel.locator('[data-number="saturation"]').fill("0.8")
    panel.locator("[data-save-note]").fill("Less saturated (e2e)")
    panel.locator("[data-save]").click()
    expect(panel.locator(".cl-grade", has_text="Less saturated (e2e)")).to_have_count(1)
    saved = restorer.request.get(f"{base_url}/api/grades/", params={"shot": shot["id"], "ordering": "-number"})
    newest = saved.json()["results"][0]
    assert newest["parent"] is not None and newest["cdl"]["saturation"] == 0.8
    assert newest["has_lut"] == fitted["has_lut"]  # the fitted LUT is kept after the new CDL

    # The creator's page hears of it on the film socket and asks for changes on the frame shown.
    creator_panel = creator.locator("#colour-panel")
    expect(creator_panel).to_have_attribute("data-current-grade", str(newest["id"]))
    creator_panel.locator("[data-grade-verdict=changes_requested]").click()
    expect(creator_panel.locator(".cl-error")).to_contain_text("Say what to change")
    creator_panel.locator(".cl-decide textarea").fill("Keep the warmth in the saucer")
    creator_panel.locator("[data-grade-verdict=changes_requested]").click()
    expect(creator_panel.locator("[data-grade-status]")).to_have_text("Changes requested")
    expect(panel.locator("[data-grade-status]")).to_have_text("Changes requested")  # live on the restorer's page
    decision = creator.request.get(f"{base_url}/api/grade-decisions/", params={"grade": newest["id"]}).json()
    decision = decision["results"][0]
    assert decision["verdict"] == "changes_requested" and decision["frame"] is not None
    restorer_context.close()
    creator_context.close()
