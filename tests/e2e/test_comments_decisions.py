"""End to end: a creator draws a rectangle on a frame and comments; an archivist on the same shot
sees the comment appear live; both approve and the shot turns approved on both pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, demo_shots, drag_rectangle, login

pytestmark = pytest.mark.e2e


def _open_shot(page, base_url: str, shot: dict) -> None:
    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/")
    expect(page.locator("#comments-panel .cm-composer textarea")).to_be_enabled()
    expect(page.locator("#decisions-panel .dc-roles")).to_be_visible()


def test_comment_with_a_drawing_reaches_the_archivist_live_and_both_approve(demo_server, browser):
    base_url, _ = demo_server
    creator_context, creator = login(browser, base_url, "creator")
    archivist_context, archivist = login(browser, base_url, "archivist")
    # The last shot in review, so that other e2e tests working on the first shots are not disturbed.
    shots = demo_shots(creator, base_url, status="in_review", ordering="-number")
    assert shots, "the demo film has shots in review"
    shot = shots[0]
    _open_shot(creator, base_url, shot)
    _open_shot(archivist, base_url, shot)

    # Step to frame 4 and draw a rectangle over the picture.
    for _ in range(4):
        creator.keyboard.press("ArrowRight")
    expect(creator.locator(".cv-frame-input")).to_have_value("4")
    creator.click(".cm-tool[data-tool=rect]")
    drag_rectangle(creator, ".cv-overlay", (0.25, 0.25), (0.6, 0.55))
    expect(creator.locator(".draw-layer .draft rect[data-shape=rect]")).to_have_count(1)

    creator.fill(".cm-composer textarea", "Dust cluster on the left, @archivist please look")
    creator.click(".cm-composer [data-submit]")

    item = creator.locator(".cm-item", has_text="Dust cluster on the left")
    expect(item).to_have_count(1)
    expect(item.locator(".cm-frame")).to_have_text("4")
    expect(creator.locator(".cv-marker")).to_have_count(1)
    expect(creator.locator(".draw-layer .saved rect[data-shape=rect]")).to_have_count(1)  # the saved drawing shows

    # The archivist's page gets it over the shot's websocket, without a reload.
    live = archivist.locator(".cm-item", has_text="Dust cluster on the left")
    expect(live).to_have_count(1)
    expect(archivist.locator("#notifications-bell .badge")).to_be_visible()  # mentioned
    # Clicking it jumps to its frame and shows its drawing.
    live.click()
    expect(archivist.locator(".draw-layer .saved.emphasis rect[data-shape=rect]")).to_have_count(1)

    comment = creator.request.get(f"{base_url}/api/comments/?shot={shot['id']}").json()["results"][0]
    assert comment["frame"] == 4 and comment["drawing"][0]["type"] == "rect"
    rect = comment["drawing"][0]
    assert 0.2 < rect["x"] < 0.3 and 0.3 < rect["w"] < 0.4

    # Both deciding roles approve; the shot's status follows on both pages.
    creator.click(".dc-form [data-verdict=approve]")
    expect(creator.locator(".dc-role[data-role=creator] .status-approved")).to_be_visible()
    expect(creator.locator("[data-shot-status]")).to_have_text("In review")
    expect(archivist.locator(".dc-role[data-role=creator] .status-approved")).to_be_visible()
    archivist.fill(".dc-form textarea", "Clean enough, approved")
    archivist.click(".dc-form [data-verdict=approve]")
    for page in (archivist, creator):
        expect(page.locator("[data-shot-status]")).to_have_text("Approved")
        expect(page.locator(".dc-reason")).to_contain_text("this one is approved")
        # The version's label in the B picker follows its status, without a reload.
        expect(page.locator("select[data-side=b] option:checked")).to_have_text(re.compile(r"^v\d+ · Approved$"))
    creator.locator(".dc-history summary").click()
    expect(creator.locator(".dc-history .dc-event")).to_have_count(2)
    expect(creator.locator(".dc-history")).to_contain_text("Clean enough, approved")
    creator.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")  # a clean picture
    creator.screenshot(path=str(SCREENSHOTS / "review-notes.png"))
    creator_context.close()
    archivist_context.close()


def test_a_comment_whose_answer_was_lost_is_not_posted_twice_when_sent_again(demo_server, browser):
    """The first post reaches the server but its answer is lost (the connection drops); the
    reviewer sends it again and the browser reuses the action's Idempotency-Key, so the server
    answers with the comment it already has instead of storing a second one."""
    base_url, _ = demo_server
    context, page = login(browser, base_url, "creator")
    # Not the shot the test above comments on (it reads that shot's first comment).
    shot = demo_shots(page, base_url, ordering="-number")[1]
    _open_shot(page, base_url, shot)
    keys: list[str | None] = []

    def lose_the_first_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server stores the comment...
            route.abort("connectionreset")  # ...and the browser never hears back
        else:
            route.continue_()

    page.route(f"{base_url}/api/comments/", lose_the_first_answer)
    text = "Gate weave after the cut (sent twice by a flaky network)"
    page.fill(".cm-composer textarea", text)
    page.click(".cm-composer [data-submit]")
    expect(page.locator(".cm-composer .cm-error")).to_contain_text("cannot be reached")
    page.click(".cm-composer [data-submit]")
    expect(page.locator(".cm-composer textarea")).to_have_value("")  # posted: the composer is reset
    expect(page.locator(".cm-item", has_text=text)).to_have_count(1)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", keys[0])
    stored = page.request.get(f"{base_url}/api/comments/?shot={shot['id']}&search=flaky").json()
    assert stored["count"] == 1
    context.close()
