"""End to end, the layout: every page fits a phone (390x844) and a tablet (768x1024) with no
sideways scroll and its key controls reachable and uncovered; the viewer at 768 px shows one
picture at full width (A/B toggle) above the panels; a toast covers no button of the review
panels; the live host's Comment button is on screen at 1440x900; shot cards show the analysis'
colour notes and the review page each version's pipeline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import demo_film_id, demo_shot, login
from tests.e2e.test_live_session import start_session

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1440, "height": 900}

# Whether the control is on screen and is what a click at its centre reaches (nothing over it); a
# link that wraps is measured on its first line.
UNCOVERED = """(element) => {
  const box = element.getClientRects()[0] || element.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  if (!box.width || !box.height || x < 0 || y < 0 || x > innerWidth || y > innerHeight) return `off screen at ${x},${y}`;
  const hit = document.elementFromPoint(x, y);
  return hit === element || element.contains(hit) ? "" : `covered by ${hit?.outerHTML.slice(0, 120)}`;
}"""
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= innerWidth"

# Each page (its address from the demo film, shot 4 and the session) and its key controls.
PAGES = {
    "login": ("/accounts/login/", ["#id_username", "main button[type=submit]"]),
    "home": ("/", ["#film-search", "table.films .row-link"]),
    "film": ("/films/{film}/", ["#shots .shot", "#start-session", "#restore-selected"]),
    "shot": ("/films/{film}/shots/{shot}/", [".cv-play", "#decisions-panel [data-verdict=approve]",
                                             ".cm-composer [data-submit]"]),
    "notifications": ("/notifications/", ["#notifications-read-all"]),
    "invitations": ("/invitations/", ["main h1"]),
    "sessions": ("/sessions/", [".live-new button[type=submit]", "table.data a"]),
    "session": ("/sessions/{session}/", [".cv-play", "#live-decisions [data-verdict=approve]",
                                         "#live-comments [data-submit]", "#live-playlist-items button"]),
    "jobs": ("/jobs/", ["#filter-status", "#jobs-table [data-expand]"]),
    "delivery": ("/films/{film}/delivery/", ["#deliver-start"]),
}
EVERY_PAGE = ["#notifications-bell", "#user-menu > summary"]


@pytest.fixture(scope="module")
def archivist(demo_server, browser):
    """One logged-in context for the module, with the demo film's ids and a live session of it."""
    base_url, _ = demo_server
    context, page = login(browser, base_url, "archivist")
    ids = {"film": demo_film_id(page, base_url), "shot": demo_shot(page, base_url, 4)["id"],
           "session": start_session(page, base_url)}
    yield base_url, page, ids
    context.close()


def _assert_uncovered(page, selector: str, where: str, *, scroll: bool = True) -> None:
    """``selector``'s first match is on screen and uncovered, once the page is scrolled to it (a phone
    scrolls the page) or as it stands (``scroll=False``: a full-window page on a desktop)."""
    control = page.locator(selector).first
    expect(control).to_be_visible()
    if scroll:
        control.scroll_into_view_if_needed()
    problem = control.evaluate(UNCOVERED)
    assert problem == "", f"{where}: {selector} is {problem}"


@pytest.mark.parametrize("name", PAGES)
def test_every_page_fits_a_phone_and_a_tablet(archivist, name):
    base_url, page, ids = archivist
    path, controls = PAGES[name]
    for viewport in (PHONE, TABLET):
        page.set_viewport_size(viewport)
        page.goto(base_url + path.format(**ids))
        for selector in controls + ([] if name == "login" else EVERY_PAGE):
            _assert_uncovered(page, selector, f"{name} at {viewport['width']} px")
        page.evaluate("scrollTo(0, 0)")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), (
            f"{name} at {viewport['width']} px scrolls sideways: {page.evaluate('document.documentElement.scrollWidth')} px")
    page.set_viewport_size(DESKTOP)


def test_the_viewer_at_768_px_shows_one_picture_at_full_width_above_the_panels(archivist):
    base_url, page, ids = archivist
    page.set_viewport_size(TABLET)
    page.goto(f"{base_url}/films/{ids['film']}/shots/{ids['shot']}/")
    page.wait_for_function("document.getElementById('viewer').comparisonViewer?.state.mode === 'toggle'")
    stage = page.locator(".cv-stage").bounding_box()
    assert stage["width"] >= TABLET["width"] - 2 and stage["height"] >= 300  # not two panes of 380 px
    assert page.locator("#decisions-panel").bounding_box()["y"] >= stage["y"] + stage["height"]
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base_url}/films/{ids['film']}/shots/{ids['shot']}/")  # a wide screen keeps side by side
    page.wait_for_function("document.getElementById('viewer').comparisonViewer?.state.mode === 'side'")


def test_a_toast_covers_no_button_of_the_review_panels(archivist):
    base_url, page, ids = archivist
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base_url}/films/{ids['film']}/shots/{ids['shot']}/")
    expect(page.locator(".cm-composer [data-submit]")).to_be_visible()
    for _ in range(3):  # a stack of them, as a failing save and its retries make
        page.evaluate("import('/static/js/common/toast.js').then(({ toast }) => "
                      "toast('A long message about something that went wrong while saving', "
                      "{ kind: 'error', title: 'Not saved', timeout: 60000 }))")
    expect(page.locator(".toast")).to_have_count(3)
    for selector in (".cm-composer [data-submit]", "#decisions-panel [data-verdict]", ".cv-play", ".cv-modes button"):
        for index in range(page.locator(selector).count()):
            _assert_uncovered(page, f"{selector} >> nth={index}", "with three toasts", scroll=False)


def test_the_live_hosts_comment_and_decision_buttons_are_on_screen_at_1440x900(archivist):
    base_url, page, ids = archivist
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base_url}/sessions/{ids['session']}/")
    expect(page.locator("#live-follow")).to_have_attribute("data-mode", "hosting")
    for selector in ("#live-comments [data-submit]", "#live-comments textarea", "#live-decisions [data-verdict=approve]",
                     "#live-decisions [data-verdict=reject]"):
        _assert_uncovered(page, selector, "the live session at 1440x900", scroll=False)


def test_shot_cards_show_colour_notes_and_the_review_page_each_versions_pipeline(archivist):
    base_url, page, ids = archivist
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base_url}/films/{ids['film']}/")
    colour = page.locator("#shots .shot [data-role=colour]")
    expect(colour).to_have_count(5)  # every demo shot is analysed, in colour
    expect(page.locator("#shots .shot .cast-swatch")).to_have_count(5)
    notes = page.locator("#shots .shot .colour-note")
    assert notes.count() >= 1 and notes.first.get_attribute("title")  # the analysis' whole note as a tooltip

    page.goto(f"{base_url}/films/{ids['film']}/shots/{ids['shot']}/")
    version = page.request.get(f"{base_url}/api/versions/?shot={ids['shot']}").json()["results"][0]
    steps = page.locator(f"#versions-panel li[data-version-id='{version['id']}'] .pipeline-steps > li")
    ops = [step["op"] for step in version["pipeline_spec"]["ops"]]
    assert ops, "the demo's restore records the ops it ran"
    expect(steps).to_have_count(len(ops))
    for step, op in zip(steps.all(), ops, strict=True):
        expect(step.locator(".pipeline-op")).to_have_text(op)
    expect(steps.first.locator(".pipeline-params")).to_contain_text(next(iter(version["pipeline_spec"]["ops"][0]["params"])))
