"""End to end in Chromium: the catalogue (search, filters, sorting, keyboard), the film page
(thumbnails, selection with mouse and keyboard, views, batch restore) and the job dashboard
(the batch's live progress, its shots). Screenshots: docs/img/catalogue.png, film.png, jobs.png.

The catalogue is seeded again (``seed_catalogue --replace``: the demo's own archive goes) with
films whose archivist is ``bench-archivist``, so the rows are known; the demo film stays.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_TITLE, SCREENSHOTS, demo_film_id, demo_manage, login

pytestmark = pytest.mark.e2e

SEEDED_FILMS = 24
JOB_TIMEOUT_MS = 300_000  # a restore on a busy CI machine; the wait ends as soon as the row turns


@pytest.fixture(scope="module")
def seeded_catalogue(demo_server):
    """24 invented films whose archivist is ``bench-archivist`` (password ``demo`` for this test)."""
    base_url, log = demo_server
    demo_manage(log.parent, "seed_catalogue", "--films", str(SEEDED_FILMS), "--shots-per-film", "12", "--seed", "3",
                "--replace")
    demo_manage(log.parent, "shell", "-c", "from django.contrib.auth import get_user_model; "
            "u = get_user_model().objects.get(username='bench-archivist'); u.set_password('demo'); u.save()")
    return base_url


def _rows(page):
    return page.locator("table.films tbody tr")


def test_catalogue_search_filters_sorting_and_keyboard(seeded_catalogue, browser):
    base_url = seeded_catalogue
    context, page = login(browser, base_url, "bench-archivist")
    expect(_rows(page)).to_have_count(SEEDED_FILMS)
    assert DEMO_TITLE not in page.inner_text("main")  # not a member of the demo film

    # "/" focuses the search box; typing filters live and the URL follows.
    first_director = _rows(page).first.locator("td.directors").inner_text().split(",")[0].strip()
    page.keyboard.press("/")
    expect(page.locator("#film-search")).to_be_focused()
    page.keyboard.type(first_director)
    page.wait_for_url(re.compile(r"search="))
    expect(_rows(page)).not_to_have_count(SEEDED_FILMS)
    for row in _rows(page).all():
        assert first_director.lower() in row.inner_text().lower()

    # Filters by status and sorting by a column keep each other; the URL can be shared.
    page.fill("#film-search", "")
    page.wait_for_url(re.compile(r"/$|/\?$"))
    page.select_option("#filter-status", "in_review")
    page.wait_for_url(re.compile(r"status=in_review"))
    statuses = page.locator("table.films tbody td .status").all_inner_texts()
    assert statuses and set(statuses) == {"In review"}
    page.click("th a.sort:text('Year')")
    page.wait_for_url(re.compile(r"ordering=year"))
    expect(page.locator("th[aria-sort=ascending]")).to_have_text("Year")
    years = [int(text) for text in page.locator("table.films tbody td.num:nth-child(2)").all_inner_texts()]
    assert years == sorted(years)
    assert set(page.locator("table.films tbody td .status").all_inner_texts()) == {"In review"}
    shared = page.url

    # The same URL opened afresh (no JavaScript state) shows the same rows.
    other = context.new_page()
    other.goto(shared)
    assert other.locator("table.films tbody tr").evaluate_all("rows => rows.map(r => r.dataset.filmId)") == \
        _rows(page).evaluate_all("rows => rows.map(r => r.dataset.filmId)")
    other.close()

    page.click("#filters-reset")
    page.wait_for_url(f"{base_url}/")
    expect(_rows(page)).to_have_count(SEEDED_FILMS)
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOTS / "catalogue.png"))

    # Arrow keys pick a film, Enter opens it.
    page.locator("main").focus()
    second_id = _rows(page).nth(1).get_attribute("data-film-id")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(_rows(page).nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/films/{second_id}/")

    # A seeded shot has no scan: the API refuses the restore and the page says why.
    page.click("#restore-all")
    expect(page.locator("#confirm-restore-all")).to_contain_text("All 12 shots")
    page.click("#confirm-restore-all button[value=confirm]")
    expect(page.locator(".toast.error")).to_contain_text("without a source scan")
    context.close()


def test_film_page_selection_views_and_batch_restore_seen_on_the_job_dashboard(demo_server, browser):
    base_url, _ = demo_server
    context, page = login(browser, base_url, "archivist")
    film_id = demo_film_id(page, base_url)
    page.goto(f"{base_url}/films/{film_id}/")
    cards = page.locator("#shots .shot")
    expect(cards).to_have_count(5)
    page.wait_for_function("[...document.querySelectorAll('#shots .shot img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)")
    expect(page.locator("#live-indicator")).to_have_text("Live")  # ws/films/<id>/ is connected

    # Ctrl-click one shot, shift-click another: the range between them is selected.
    cards.nth(1).click(modifiers=["Control"])
    cards.nth(3).click(modifiers=["Shift"])
    expect(page.locator("#shots .shot[aria-selected=true]")).to_have_count(3)
    expect(page.locator("#restore-selected")).to_have_text("Restore 3")
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOTS / "film.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#shots .shot[aria-selected=true]")).to_have_count(0)

    # Keyboard: arrows move between shots, x selects, v switches grid and filmstrip.
    cards.first.focus()
    page.keyboard.press("ArrowRight")
    expect(cards.nth(1)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("x")
    expect(cards.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("v")
    expect(page.locator("#shots")).to_have_class(re.compile(r"\bstrip\b"))
    assert "view=strip" in page.url
    page.keyboard.press("v")
    expect(page.locator("#shots")).to_have_class(re.compile(r"\bgrid\b"))

    # Restore the selected (first) shot with the clean preset.
    page.select_option("#restore-preset", "clean")
    with page.expect_response(f"{base_url}/api/films/{film_id}/restore/") as answer:
        page.click("#restore-selected")
    assert answer.value.status == 202, answer.value.text()
    batch_id = answer.value.json()["id"]
    expect(page.locator(".toast.ok")).to_contain_text("Restoration started")

    # The job dashboard lists the batch; its row follows the job live until it succeeds.
    page.click(".topnav a:text('Jobs')")
    page.wait_for_url(f"{base_url}/jobs/")
    row = page.locator(f"#jobs-table tr[data-job-id='{batch_id}']")
    expect(row).to_contain_text("Restore shots (batch)")
    expect(row).to_have_attribute("data-status", "succeeded", timeout=JOB_TIMEOUT_MS)
    expect(row.locator("[data-role=status]")).to_have_text("Succeeded")
    expect(row.locator("[data-role=percent]")).to_have_text(re.compile(r"100\s*%"))
    row.locator("[data-expand]").click()
    child = page.locator(f"#jobs-table tr.child-row[data-child-of='{batch_id}'][data-job-id]")
    expect(child).to_have_count(1)
    expect(child).to_contain_text("shot 1")
    expect(child.locator("[data-role=status]")).to_have_text("Succeeded")
    page.mouse.move(0, 0)
    page.screenshot(path=str(SCREENSHOTS / "jobs.png"))
    row.locator("[data-expand]").click()  # collapses: the shots' rows go, the batch stays
    expect(child).to_have_count(0)
    expect(row).to_have_attribute("aria-expanded", "false")
    context.close()


def test_roles_on_the_film_page_and_a_review_session_from_the_selection(seeded_catalogue, browser):
    base_url = seeded_catalogue
    context, page = login(browser, base_url, "creator")
    film_id = demo_film_id(page, base_url)
    page.goto(f"{base_url}/films/{film_id}/")
    expect(page.locator("#shots .shot")).to_have_count(5)
    expect(page.locator("#restore-all")).to_have_count(0)  # creators decide; they do not run jobs
    # Any member can gather shots into a live review session: the last shot's latest version.
    page.locator("#shots .shot").last.click(modifiers=["Control"])
    page.click("#start-session")
    page.wait_for_url(re.compile(rf"{re.escape(base_url)}/sessions/\d+/$"))
    context.close()

    context, page = login(browser, base_url, "bench-archivist")
    assert page.goto(f"{base_url}/films/{film_id}/").status == 404  # not a member of the demo film
    context.close()
