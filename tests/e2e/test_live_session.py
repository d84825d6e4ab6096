"""End to end: browsers in one live review session. The archivist hosts, the creator follows;
the host steps frames and changes the compare mode, and the follower's viewer shows the same frame
(drawn from the session's frame socket) in the same mode; then a guest joins by an invite link,
draws and comments on the shot, and the host sees the guest's comment arrive live; then the creator
and the host approve the version on screen from the session page, and everyone, the guest included,
sees its status turn approved live."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_TITLE, SCREENSHOTS, drag_rectangle, login

pytestmark = pytest.mark.e2e

VIEWER_STATE = "document.getElementById('live-viewer').comparisonViewer?.state"
DRAWN_FRAME = "document.querySelector('#live-viewer').dataset.drawnFrame"


def start_session(page, base_url: str) -> int:
    """The host opens a session from the sessions page on the demo film's versions in review."""
    page.goto(f"{base_url}/sessions/")
    page.select_option("#live-new-film", label=DEMO_TITLE)
    page.fill("#live-new-title-input", "Demo dailies")
    page.click(".live-new button[type=submit]")
    page.wait_for_url(f"{base_url}/sessions/*/")
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def test_a_follower_sees_the_hosts_frame_and_mode(demo_server, browser):
    base_url, _ = demo_server
    host_context, host = login(browser, base_url, "archivist")
    follower_context, follower = login(browser, base_url, "creator")
    contexts = [host_context, follower_context]
    try:
        session_id = start_session(host, base_url)
        host.wait_for_function(f"{VIEWER_STATE} !== undefined")
        follower.goto(f"{base_url}/sessions/{session_id}/")
        follower.locator("#live-follow", has_text="Following archivist").wait_for()
        host.locator("#live-participants li").nth(1).wait_for()  # the follower appears on the host's list
        assert "creator" in host.inner_text("#live-participants")

        host.locator(".live-title").click()  # focus the page, not an input: the viewer reads keys on the document
        for _ in range(3):
            host.keyboard.press("ArrowRight")
        host.keyboard.press("4")  # difference mode
        host.wait_for_function(f"{VIEWER_STATE}.frame === 3 && {VIEWER_STATE}.mode === 'diff'")

        follower.wait_for_function(f"{VIEWER_STATE}.frame === 3 && {VIEWER_STATE}.mode === 'diff'")
        follower.wait_for_function(f"{DRAWN_FRAME} === '3'")  # the picture itself, not just the counter

        # Play: the follower runs its own clock from the host's start; pause: both stop on one frame.
        host.keyboard.press("Space")
        follower.wait_for_function(f"{VIEWER_STATE}.playing === true")
        host.wait_for_function(f"{VIEWER_STATE}.frame >= 8")
        host.keyboard.press("Space")
        host.wait_for_function(f"{VIEWER_STATE}.playing === false")
        paused_at = host.evaluate(f"{VIEWER_STATE}.frame")
        follower.wait_for_function(f"{VIEWER_STATE}.playing === false && {VIEWER_STATE}.frame === {paused_at}")

        # The host moves to the next shot of the playlist; the follower goes along.
        host.locator("#live-playlist-items button").nth(1).click()
        follower.locator("#live-playlist-items button[aria-current=true]", has_text="Shot 2").wait_for()
        follower.wait_for_function(f"{VIEWER_STATE}.frame === 0")

        host.keyboard.press("2")  # wipe, for the screenshot
        follower.wait_for_function(f"{VIEWER_STATE}.mode === 'wipe'")

        # A guest without an account joins by a link and sees the same picture (their frames come
        # through the session's frame socket: they are no member of the film).
        host.click("#live-invite")
        host.fill("#live-invite-name", "Ann Director")
        host.click("#live-invite-form button[type=submit]")
        link = host.locator("#live-invite-link")
        link.wait_for()
        join_url = link.input_value()
        host.keyboard.press("Escape")
        contexts.append(browser.new_context(viewport={"width": 1280, "height": 800}))
        guest = contexts[-1].new_page()
        guest.goto(join_url)
        guest.click("text=Join as Ann Director")
        guest.locator("#live-follow", has_text="Following archivist").wait_for()
        guest.wait_for_function(f"{VIEWER_STATE}.mode === 'wipe' && {DRAWN_FRAME} === '0'")
        host.locator("#live-participants", has_text="Ann Director").wait_for()
        assert guest.request.get(f"{base_url}/api/sessions/").json()["results"] == []

        # The guest draws a rectangle and comments; it reaches the host live, marked as a guest's.
        # Deciding is not theirs, and the page says so.
        expect(guest.locator("#live-guest-note")).to_contain_text("Approving or rejecting versions stays with")
        expect(guest.locator("#live-comments .cm-composer textarea")).to_be_enabled()
        expect(guest.locator("#live-comments [data-export]")).to_have_count(0)
        guest.click("#live-comments .cm-tool[data-tool=rect]")
        drag_rectangle(guest, "#live-viewer .cv-overlay", (0.3, 0.3), (0.55, 0.6))
        expect(guest.locator(".draw-layer .draft rect[data-shape=rect]")).to_have_count(1)
        guest.fill("#live-comments .cm-composer textarea", "The sky is too magenta here")
        guest.click("#live-comments .cm-composer [data-submit]")
        expect(guest.locator("#live-comments .cm-item", has_text="The sky is too magenta here")).to_have_count(1)

        heard = host.locator("#live-comments .cm-item", has_text="The sky is too magenta here")
        expect(heard).to_have_count(1)
        expect(heard.locator(".cm-author")).to_have_text("Ann Director (guest)")
        expect(heard.locator(".cm-has-drawing")).to_have_count(1)
        expect(host.locator("#live-comments .cm-item", has_text="The sky is too magenta here")
               .locator("[data-resolve]")).to_have_count(1)  # the archivist may resolve anyone's comment
        expect(guest.locator("#live-comments .cm-item", has_text="The sky is too magenta here")
               .locator("[data-resolve]")).to_have_count(1)  # the guest resolves only their own

        # Deciding together, on the spot: the film's creator and archivist approve the version on
        # screen from the session page (the decisions panel of the shot page, on the same API); the
        # guest has no controls, and everyone sees the version's status change live.
        expect(guest.locator("#live-decisions")).to_have_count(0)
        expect(guest.locator("#live-item-status")).to_have_text("In review")
        expect(guest.locator("#live-playlist-items [aria-current=true] .live-item-status")).to_have_text("In review")
        follower.click("#live-decisions .dc-form [data-verdict=approve]")
        expect(host.locator("#live-decisions .dc-role[data-role=creator] .status-approved")).to_be_visible()
        expect(host.locator("#live-item-status")).to_have_text("In review")  # the archivist's approval is missing
        host.fill("#live-decisions .dc-form textarea", "Approved in the session, with Ann")
        host.click("#live-decisions .dc-form [data-verdict=approve]")
        for page in (guest, follower, host):
            expect(page.locator("#live-item-status")).to_have_text("Approved")
            # The playlist marks the item too, and only it: the other shots' versions are still in review.
            expect(page.locator("#live-playlist-items [aria-current=true] .live-item-status")).to_have_text("Approved")
            expect(page.locator("#live-playlist-items .live-item-status", has_text="Approved")).to_have_count(1)
            expect(page.locator("#live-playlist-items .live-item-status").first).to_have_text("In review")
        expect(host.locator("#live-decisions .dc-reason")).to_contain_text("this one is approved")
        expect(follower.locator("#live-decisions .dc-role[data-role=archivist] .status-approved")).to_be_visible()
        expect(host.locator("#live-decisions .dc-history .dc-event")).to_have_count(2)
        expect(host.locator("#live-decisions .dc-history")).to_contain_text("Approved in the session, with Ann")
        host.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")

        host.wait_for_function(f"{DRAWN_FRAME} === '0'")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        host.screenshot(path=str(SCREENSHOTS / "live-session.png"))
        guest.evaluate("document.querySelectorAll('.toast').forEach((toast) => toast.remove())")
        guest.screenshot(path=str(SCREENSHOTS / "live-session-guest.png"))
    finally:
        for context in contexts:
            context.close()
