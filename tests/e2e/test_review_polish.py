"""End to end, small things reviewers met: the notifications page's unread count follows new
notifications (and the bell keeps its badge); the comment box follows the playhead until
something is written; a shot card is a real link (a middle click opens the shot in a new tab)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import demo_shot, latest_version, login

pytestmark = pytest.mark.e2e


def _shot(page, base_url: str, number: int) -> dict:
    return demo_shot(page, base_url, number)


def _post_as(context, page, url: str, body: dict) -> dict:
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(url, data=body, headers={"X-CSRFToken": token, "Referer": url})
    assert response.ok, response.text()
    return response.json()


def test_the_notifications_pages_count_follows_new_notifications_and_the_bell_keeps_its_badge(demo_server, browser):
    base_url, _ = demo_server
    archivist_context, archivist = login(browser, base_url, "archivist")
    creator_context, creator = login(browser, base_url, "creator")
    errors: list[str] = []
    archivist.on("pageerror", lambda error: errors.append(str(error)))
    archivist.goto(f"{base_url}/notifications/")
    count = archivist.locator("#notifications-summary [data-unread]")
    before = int(count.inner_text())
    archivist.wait_for_function("document.getElementById('notifications-bell').dataset.unread !== undefined")

    shot = _shot(creator, base_url, 4)
    version = latest_version(creator, base_url, shot)
    _post_as(creator_context, creator, f"{base_url}/api/comments/",
             {"version": version["id"], "frame": 2, "text": "@archivist the bell test: grain at the edge"})
    expect(archivist.locator(".notification", has_text="the bell test")).to_have_count(1)
    expect(count).to_have_text(str(before + 1))
    expect(archivist.locator("#notifications-bell .badge")).to_have_text(str(before + 1))

    archivist.click("#notifications-read-all")
    expect(count).to_have_text("0")
    expect(archivist.locator("#notifications-bell .badge")).to_be_hidden()
    assert errors == []
    archivist_context.close()
    creator_context.close()


def test_the_comment_box_follows_the_playhead_until_something_is_written(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "creator")
    shot = _shot(page, base_url, 4)
    page.goto(f"{base_url}/films/{shot['film']}/shots/{shot['id']}/")
    textarea = page.locator(".cm-composer textarea")
    expect(textarea).to_be_enabled()
    chip = page.locator("[data-composer-frame]")

    page.locator(".cv-stage").click()  # the keys go to the viewer
    page.keyboard.press("c")  # the comment box, not yet pinned
    expect(textarea).to_be_focused()
    expect(textarea).to_have_value("")
    page.keyboard.press("Escape")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator(".cv-frame-input")).to_have_value("3")
    expect(chip).to_have_text("3")  # it followed the playhead

    textarea.click()
    page.keyboard.type("Scratch across the sky (composer follows)")
    page.keyboard.press("Escape")
    for _ in range(2):
        page.keyboard.press("ArrowRight")
    expect(page.locator(".cv-frame-input")).to_have_value("5")
    expect(chip).to_have_text("3")  # pinned once written
    page.click(".cm-composer [data-submit]")
    expect(page.locator(".cm-item", has_text="composer follows")).to_have_count(1)
    comment = page.request.get(f"{base_url}/api/comments/", params={"shot": shot["id"], "search": "composer follows"}
                               ).json()["results"][0]
    assert comment["frame"] == 3
    context.close()


def test_a_shot_card_is_a_link_that_opens_in_a_new_tab(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "archivist")
    shot = _shot(page, base_url, 3)
    page.goto(f"{base_url}/films/{shot['film']}/")
    link = page.locator(f".shot[data-shot-id='{shot['id']}'] a.shot-link")
    expected = f"/films/{shot['film']}/shots/{shot['id']}/"
    expect(link).to_have_attribute("href", expected)
    with context.expect_page() as opened:
        link.click(button="middle")
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == f"{base_url}{expected}"
    assert page.url.rstrip("/") == f"{base_url}/films/{shot['film']}"  # the film page stays where it was
    context.close()
