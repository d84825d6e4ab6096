"""End to end: side by side, a reviewer's drawing lands on the version under review (B's pane, the
picture the comment is filed on), not on the scan, and is stored in that picture's coordinates;
swapped, the drawing follows the version to the left pane."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import demo_shot, latest_version, login, shape_box

pytestmark = pytest.mark.e2e

SIDE_GAP = 4  # CSS px between the two pictures side by side (viewer/geometry.js)


def _pane_image(stage: dict, side: str, width: int, height: int) -> dict:
    """Where a ``width`` x ``height`` picture sits, fitted, in the left ("a") or right ("b") half of
    the stage (client px): worked out here, not asked of the viewer."""
    pane_w = (stage["width"] - SIDE_GAP) / 2
    pane_x = stage["x"] + (0 if side == "a" else (stage["width"] + SIDE_GAP) / 2)
    scale = min(pane_w / width, stage["height"] / height)
    w, h = width * scale, height * scale
    return {"x": pane_x + (pane_w - w) / 2, "y": stage["y"] + (stage["height"] - h) / 2, "width": w, "height": h}


def _near(box: dict, expected: dict, tolerance: float = 2.0) -> bool:
    return all(abs(box[key] - expected[key]) <= tolerance for key in ("x", "y", "width", "height"))


def test_a_drawing_side_by_side_lands_on_the_versions_pane_in_its_coordinates(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "creator")
    # Shot 4: the comment is found again by its text, so other tests' comments on it do not matter.
    shot = demo_shot(page, base_url, 4)
    version = latest_version(page, base_url, shot)
    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/?a=original&b=v{version['number']}")
    expect(page.locator("#comments-panel .cm-composer textarea")).to_be_enabled()
    page.wait_for_function("document.querySelector('#viewer').dataset.drawnFrame === '0'")
    expect(page.locator("#viewer")).to_have_attribute("data-annotated-side", "b")
    size = page.evaluate("document.getElementById('viewer').comparisonViewer.sources.find((s) => s.id === 'original')")
    stage = page.locator(".cv-stage").bounding_box()
    right = _pane_image(stage, "b", size["width"], size["height"])
    assert _near(page.locator(".cv-overlay").bounding_box(), right)

    # A rectangle from 20 % to 50 % across and 30 % to 70 % down the right-hand picture.
    page.click(".cm-tool[data-tool=rect]")
    page.mouse.move(right["x"] + right["width"] * 0.2, right["y"] + right["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(right["x"] + right["width"] * 0.5, right["y"] + right["height"] * 0.7, steps=6)
    page.mouse.up()
    draft = ".draw-layer .draft rect[data-shape=rect]"
    expect(page.locator(draft)).to_have_count(1)
    drawn = shape_box(page, draft)
    assert drawn["x"] > stage["x"] + stage["width"] / 2  # on the version's picture, not the scan's
    text = "Halo round the lamp on the restored picture (side by side)"
    page.fill(".cm-composer textarea", text)
    page.click(".cm-composer [data-submit]")
    expect(page.locator(".cm-item", has_text=text)).to_have_count(1)

    comment = page.request.get(f"{base_url}/api/comments/", params={"shot": shot["id"], "search": "Halo round the lamp"}
                               ).json()["results"][0]
    assert comment["version"] == version["id"]
    rect = comment["drawing"][0]
    for key, expected in (("x", 0.2), ("y", 0.3), ("w", 0.3), ("h", 0.4)):
        assert abs(rect[key] - expected) < 0.01, (key, rect)

    # Swapped, the version is on the left: the overlay and the saved drawing go with it.
    page.click(".cv-swap")
    expect(page.locator("#viewer")).to_have_attribute("data-annotated-side", "a")
    left = _pane_image(stage, "a", size["width"], size["height"])
    page.wait_for_function("document.querySelector('.cv-overlay').getBoundingClientRect().x"
                           f" < {stage['x'] + stage['width'] / 2}")
    assert _near(page.locator(".cv-overlay").bounding_box(), left)
    page.locator(".cm-item", has_text=text).click()
    saved = ".draw-layer .saved.emphasis rect[data-shape=rect]"
    expect(page.locator(saved)).to_have_count(1)
    box = shape_box(page, saved)
    assert abs(box["x"] - (left["x"] + left["width"] * 0.2)) < 3
    assert abs(box["width"] - left["width"] * 0.3) < 3
    context.close()
