"""End to end: a version's life in review. The creator requests changes on a frame with a drawing
(version and shot turn "changes requested", the film page filters them); the restorer's next
version supersedes it and its decisions panel carries the request, whose button seeks to the
frame and shows the drawing; both deciders approve it and the archivist reopens it with a reason."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import demo_shot, drag_rectangle, latest_version, login

pytestmark = pytest.mark.e2e


def _open(page, base_url: str, shot: dict, query: str = "") -> None:
    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/{query}")
    expect(page.locator("#decisions-panel .dc-roles")).to_be_visible()
    expect(page.locator("#comments-panel .cm-composer textarea")).to_be_enabled()


def _post_as(context, page, url: str, body: dict | None = None) -> dict:
    """A POST with the page's session (and its CSRF token, as the site's own scripts send it)."""
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(url, data=body or {}, headers={"X-CSRFToken": token, "Referer": url})
    assert response.ok, response.text()
    return response.json()


def test_changes_requested_carried_to_the_next_version_then_approved_and_reopened(demo_server, browser):
    base_url, _ = demo_server
    creator_context, creator = login(browser, base_url, "creator")
    restorer_context, restorer = login(browser, base_url, "restorer")
    archivist_context, archivist = login(browser, base_url, "archivist")
    # Shot 4: the other e2e tests on it only comment, and find their comments by their text.
    shot = demo_shot(creator, base_url, 4)
    current = latest_version(creator, base_url, shot)
    label = f"v{current['number']}"

    # The creator asks for changes at frame 6, with a rectangle round the problem.
    _open(creator, base_url, shot, f"?a=original&b={label}&frame=6")
    expect(creator.locator(".cv-frame-input")).to_have_value("6")
    creator.click(".cm-tool[data-tool=rect]")
    drag_rectangle(creator, ".cv-overlay", (0.3, 0.3), (0.6, 0.6))
    expect(creator.locator(".draw-layer .draft rect[data-shape=rect]")).to_have_count(1)
    creator.fill(".dc-form textarea", "Sky too cyan on the left")
    creator.click(".dc-form [data-verdict=changes_requested]")
    expect(creator.locator("#decisions-panel [data-status]")).to_have_text("Changes requested")
    expect(creator.locator("[data-shot-status]")).to_have_text("Changes requested")
    expect(creator.locator("select[data-side=b] option:checked")).to_have_text(f"{label} · Changes requested")

    # The film page lists it under its status.
    creator.goto(f"{base_url}/films/{shot['film']}/")
    creator.click("#status-filter [data-status=changes_requested]")
    creator.wait_for_url(re.compile(r"status=changes_requested"))
    expect(creator.locator(f"[data-shot-id='{shot['id']}']")).to_have_count(1)
    expect(creator.locator("[data-shot-id]")).to_have_count(1)

    # The restorer's next version (here on the same pictures) goes into review and supersedes it:
    # the archivist, on the old version meanwhile, sees it so at once.
    _open(archivist, base_url, shot, f"?a=original&b={label}")
    created = _post_as(restorer_context, restorer, f"{base_url}/api/versions/",
                       {"shot": shot["id"], "media": current["media"], "notes": "Sky regraded"})
    _post_as(restorer_context, restorer, f"{base_url}/api/versions/{created['id']}/publish/")
    assert restorer.request.get(f"{base_url}/api/versions/{current['id']}/").json()["status"] == "superseded"
    expect(archivist.locator("select[data-side=b] option:checked")).to_have_text(f"{label} · Superseded")
    expect(archivist.locator("#decisions-panel [data-status]")).to_have_text("Superseded")
    expect(archivist.locator("#decisions-panel .dc-reason")).to_contain_text("newer version")

    # Its decisions panel carries the request: the button goes to frame 6 and shows the drawing.
    _open(creator, base_url, shot)
    expect(creator.locator("select[data-side=b] option:checked")).to_have_text(f"v{created['number']} · In review")
    carried = creator.locator(".dc-carried")
    expect(carried.locator(".dc-carried-title")).to_have_text(f"Changes requested on {label}")
    expect(carried).to_contain_text("Sky too cyan on the left")
    carried.locator(".dc-seek").click()
    expect(creator.locator(".cv-frame-input")).to_have_value("6")
    expect(creator.locator(".draw-layer .saved.emphasis rect[data-shape=rect]")).to_have_count(1)
    expect(creator.locator("[data-shot-status]")).to_have_text("In review")

    # Both approve; the archivist reopens it with a reason, and the shot is back in review.
    creator.click(".dc-form [data-verdict=approve]")
    expect(creator.locator(".dc-role[data-role=creator] .status-approved")).to_be_visible()
    _open(archivist, base_url, shot)
    archivist.click(".dc-form [data-verdict=approve]")
    expect(archivist.locator("[data-shot-status]")).to_have_text("Approved")
    archivist.click(".dc-reopen [data-reopen]")  # without a reason: refused in the form
    expect(archivist.locator(".dc-reopen .dc-error")).to_contain_text("Say why")
    archivist.fill(".dc-reopen textarea", "The regrade bands in the sky at the end")
    archivist.click(".dc-reopen [data-reopen]")
    expect(archivist.locator("#decisions-panel [data-status]")).to_have_text("In review")
    expect(archivist.locator("[data-shot-status]")).to_have_text("In review")
    expect(archivist.locator(".dc-role[data-role=creator]")).to_contain_text("Waiting")  # approvals set aside
    expect(creator.locator("[data-shot-status]")).to_have_text("In review")  # live, on the other page
    archivist.locator(".dc-history summary").click()
    expect(archivist.locator(".dc-history .dc-event[data-verdict=reopen]")).to_contain_text("bands in the sky")
    for context in (creator_context, restorer_context, archivist_context):
        context.close()
