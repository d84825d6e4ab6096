"""End to end, the viewer's review tools: a loop range (I/O) that playback keeps to, at a lower
rate without skipping a frame; full screen; a frame downloaded as a PNG at the source's own size,
with or without the frame's drawings; the onion skin of the neighbouring annotated frames. The
keys do nothing while the reviewer types in the comment box."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops
from playwright.sync_api import expect

from tests.e2e.conftest import demo_manage, demo_shot, drag_rectangle, latest_version, login, shape_box

pytestmark = pytest.mark.e2e

VIEWER = "document.getElementById('viewer').comparisonViewer"

# Every frame drawn from now on, in order (the root's data-drawn-frame, the frame on screen).
RECORD_DRAWN = """() => {
  const root = document.getElementById('viewer');
  window.drawnFrames = [];
  new MutationObserver(() => window.drawnFrames.push(Number(root.dataset.drawnFrame)))
    .observe(root, {attributes: true, attributeFilter: ['data-drawn-frame']});
}"""


def _open(page, base_url: str, shot: dict, frame: int = 0) -> None:
    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/?frame={frame}")
    page.wait_for_function(f"document.getElementById('viewer').dataset.drawnFrame === '{frame}'", timeout=15000)


def _state(page) -> dict:
    return page.evaluate(f"{VIEWER}.state")


def _seek(page, frame: int) -> None:
    page.evaluate(f"{VIEWER}.seek({frame})")
    page.wait_for_function(f"document.getElementById('viewer').dataset.drawnFrame === '{frame}'", timeout=15000)


def _steps_in_order(frames: list[int], first: int, last: int) -> bool:
    """Each frame is the one after the frame before it, or the range's first after its last (a loop)."""
    distinct = [f for i, f in enumerate(frames) if i == 0 or f != frames[i - 1]]
    return all(b == a + 1 or (a == last and b == first) for a, b in zip(distinct, distinct[1:], strict=False))


def test_a_loop_range_keeps_playback_inside_it_frame_by_frame_at_half_rate(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "archivist")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _open(page, base_url, demo_shot(page, base_url, 3), frame=5)

    # I at 5, O at 9: the range is marked on the timeline.
    page.keyboard.press("i")
    _seek(page, 9)
    page.keyboard.press("o")
    state = _state(page)
    assert (state["inPoint"], state["outPoint"], state["loop"]) == (5, 9, True)
    band = page.locator("#viewer .cv-range")
    expect(band).to_be_visible()
    assert (band.get_attribute("data-first"), band.get_attribute("data-last")) == ("5", "9")

    # The rate: the select and < >.
    page.select_option("#viewer .cv-rate-select", "0.5")
    assert _state(page)["rate"] == 0.5
    page.keyboard.press("<")
    assert _state(page)["rate"] == 0.25
    page.keyboard.press(">")
    assert _state(page)["rate"] == 0.5

    # Played from outside the range, playback goes to the in point and loops 5..9, every frame in order.
    _seek(page, 2)
    page.evaluate(RECORD_DRAWN)
    page.keyboard.press("Space")
    page.wait_for_function("(window.drawnFrames || []).filter((f, i, all) => f === 5 && all[i - 1] === 9).length >= 2",
                           timeout=30000)
    page.keyboard.press("k")
    frames = page.evaluate("window.drawnFrames")
    assert frames[0] == 5 and all(5 <= f <= 9 for f in frames), frames
    assert _steps_in_order(frames, 5, 9), frames

    # Loop off (Shift+L): playback stops on the out point.
    page.keyboard.press("Shift+L")
    assert _state(page)["loop"] is False
    _seek(page, 7)
    page.keyboard.press("Space")
    page.wait_for_function(f"!{VIEWER}.state.playing", timeout=30000)
    assert page.evaluate("document.getElementById('viewer').dataset.drawnFrame") == "9"

    # An out point before the in point drops the in point; Clear drops both.
    _seek(page, 3)
    page.keyboard.press("o")
    state = _state(page)
    assert (state["inPoint"], state["outPoint"]) == (None, 3)
    page.click("#viewer [data-loop=clear]")
    state = _state(page)
    assert (state["inPoint"], state["outPoint"]) == (None, None)
    expect(band).to_be_hidden()
    assert not errors, errors
    context.close()


def test_full_screen_enters_and_leaves_and_keys_are_left_to_the_comment_box(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "creator")
    _open(page, base_url, demo_shot(page, base_url, 3))

    # Typing in the comment box: no shortcut fires (no full screen, no in point, no rate change).
    page.click("#comments-panel textarea")
    page.keyboard.type("fio<L")
    expect(page.locator("#comments-panel textarea")).to_have_value("fio<L")
    assert page.evaluate("document.fullscreenElement") is None
    state = _state(page)
    assert (state["inPoint"], state["outPoint"], state["rate"], state["loop"]) == (None, None, 1, True)
    page.fill("#comments-panel textarea", "")
    page.keyboard.press("Escape")  # leaves the comment box: the keys go to the viewer again

    page.keyboard.press("f")
    page.wait_for_function("document.fullscreenElement?.id === 'viewer'")
    viewport = page.evaluate("[innerWidth, innerHeight]")
    box = page.locator("#viewer").bounding_box()
    assert (round(box["width"]), round(box["height"])) == tuple(viewport)
    expect(page.locator("#viewer .cv-fullscreen")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Escape")
    page.wait_for_function("document.fullscreenElement === null")
    # The button does the same.
    page.click("#viewer .cv-fullscreen")
    page.wait_for_function("document.fullscreenElement?.id === 'viewer'")
    page.click("#viewer .cv-fullscreen")
    page.wait_for_function("document.fullscreenElement === null")
    expect(page.locator("#viewer .cv-fullscreen")).to_have_attribute("aria-pressed", "false")
    context.close()


def _download(page, side: str, drawings: bool):
    page.click("#viewer .cv-snapshot > summary")
    page.select_option("#viewer .cv-snapshot-source", side)
    page.locator("#viewer .cv-snapshot-drawings").set_checked(drawings)
    with page.expect_download() as download:
        page.click("#viewer [data-snapshot]")
    path = download.value.path()
    return download.value.suggested_filename, Image.open(io.BytesIO(path.read_bytes()))


def test_a_frame_downloads_as_a_png_of_the_sources_size_with_or_without_its_drawings(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "creator")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    shot = demo_shot(page, base_url, 3)
    _open(page, base_url, shot, frame=6)
    sources = {s["id"]: s for s in page.evaluate(f"{VIEWER}.sources")}
    state = _state(page)
    # A small desktop window (above the 900 px one-column layout): the picture on screen is
    # smaller than the frame, the PNG is not.
    page.set_viewport_size({"width": 1024, "height": 640})

    name, picture = _download(page, "a", drawings=False)
    source = sources[state["a"]]
    assert picture.format == "PNG" and picture.size == (source["width"], source["height"])
    assert name == f"Still-Lives-in-Motion-demo-shot-3_{state['a']}_6.png"
    assert picture.size[0] > page.locator("#viewer .cv-overlay").bounding_box()["width"]

    # A drawing on the frame (the draft of a comment): in the PNG with drawings, not without.
    page.click("#comments-panel .cm-tool[data-tool=rect]")
    drag_rectangle(page, "#viewer .cv-overlay", (0.2, 0.2), (0.6, 0.6))
    expect(page.locator(".draw-layer .draft rect[data-shape=rect]")).to_have_count(1)
    _, plain = _download(page, "b", drawings=False)
    name, drawn = _download(page, "b", drawings=True)
    assert plain.size == drawn.size == (sources[state["b"]]["width"], sources[state["b"]]["height"])
    assert name == f"Still-Lives-in-Motion-demo-shot-3_{state['b']}_6.png"
    difference = ImageChops.difference(plain.convert("RGB"), drawn.convert("RGB")).getbbox()
    assert difference is not None
    # The rectangle's outline is where it was drawn: about 20%..60% of the frame.
    left, top, right, bottom = difference
    width, height = drawn.size
    assert abs(left / width - 0.2) < 0.03 and abs(right / width - 0.6) < 0.03, difference
    assert abs(top / height - 0.2) < 0.03 and abs(bottom / height - 0.6) < 0.03, difference
    assert not errors, errors
    context.close()


def test_the_onion_skin_shows_the_drawings_of_the_annotated_frames_before_and_after(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "creator")
    shot = demo_shot(page, base_url, 1)
    version = latest_version(page, base_url, shot)
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    for frame, x in ((10, 0.1), (14, 0.5)):
        body = {"version": version["id"], "frame": frame, "text": f"onion skin test at {frame}",
                "drawing": [{"type": "rect", "x": x, "y": 0.3, "w": 0.2, "h": 0.2, "colour": "#ffffff"}]}
        response = page.request.post(f"{base_url}/api/comments/", data=body,
                                     headers={"X-CSRFToken": token, "Referer": base_url + "/"})
        assert response.ok, response.text()

    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/?frame=12&b=v{version['number']}")
    expect(page.locator("#comments-panel .cm-item", has_text="onion skin test at 14")).to_have_count(1)
    expect(page.locator(".draw-layer .onion")).to_have_count(0)

    page.click("#comments-panel [data-onion]")
    before = ".draw-layer .onion-before rect[data-shape=rect]"
    after = ".draw-layer .onion-after rect[data-shape=rect]"
    expect(page.locator(before)).to_have_count(1)
    expect(page.locator(after)).to_have_count(1)
    # Before is frame 10's rectangle (on the left), after frame 14's; tinted apart, and faint.
    assert shape_box(page, before)["x"] < shape_box(page, after)["x"]
    colours = page.evaluate("""() => ['.onion-before rect', '.onion-after rect'].map(
        (s) => getComputedStyle(document.querySelector('.draw-layer ' + s)).stroke)""")
    assert colours[0] != colours[1] and "255, 255, 255" not in colours[0]
    assert float(page.evaluate("getComputedStyle(document.querySelector('.draw-layer .onion')).opacity")) < 0.5

    # On frame 14 itself its drawing is the frame's own; the onion skin shows 10 before, none after.
    page.evaluate(f"{VIEWER}.seek(14)")
    expect(page.locator(".draw-layer .saved rect[data-shape=rect]")).to_have_count(1)
    expect(page.locator(before)).to_have_count(1)
    expect(page.locator(after)).to_have_count(0)
    page.click("#comments-panel [data-onion]")
    expect(page.locator(".draw-layer .onion")).to_have_count(0)
    context.close()


def test_the_timeline_shades_the_dissolve_into_the_shot_and_the_fade_out_of_it(demo_server, browser):
    base_url, log = demo_server
    context, page = login(browser, base_url, "archivist")
    first, second = demo_shot(page, base_url, 2), demo_shot(page, base_url, 3)
    cut = second["start_frame"]
    original = {s["id"]: s["transition_in"] for s in (first, second)}

    def set_transition(shot: dict, transition: dict | None) -> None:
        demo_manage(log.parent, "shell", "-c", "from webapp.catalogue.models import Shot; "
                    f"Shot.objects.filter(pk={shot['id']}).update(transition_in={transition!r})")

    # A 6-frame dissolve at the cut between shots 2 and 3: 3 frames each side.
    set_transition(second, {"type": "dissolve", "start_frame": cut - 3, "end_frame": cut + 2})
    try:
        _open(page, base_url, second)
        band = page.locator("#viewer .cv-transition")
        expect(band).to_have_count(1)
        assert (band.get_attribute("data-type"), band.get_attribute("data-first"), band.get_attribute("data-last")) \
            == ("dissolve", "0", "2")
        assert "Dissolve into the shot (6 frames in all)" in band.get_attribute("title")
        # Over the timeline's first three frames: a seek by clicking the band still scrubs there.
        timeline = page.locator("#viewer .cv-timeline").bounding_box()
        box = band.bounding_box()
        assert abs(box["x"] - timeline["x"]) < 3 and abs(box["width"] - timeline["width"] * 3 / second["frame_count"]) < 3
        page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2)
        page.wait_for_function("document.getElementById('viewer').dataset.drawnFrame === '2'", timeout=15000)

        # Shot 2 sees the same dissolve as its way out, over its last three frames.
        _open(page, base_url, first)
        band = page.locator("#viewer .cv-transition.side-out")
        expect(band).to_have_count(1)
        last = first["frame_count"] - 1
        assert (band.get_attribute("data-first"), band.get_attribute("data-last")) == (str(last - 2), str(last))
    finally:
        for shot in (first, second):
            set_transition(shot, original[shot["id"]])
    context.close()
