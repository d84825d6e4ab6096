"""End to end: `manage.py demo` builds the demo and serves it with daphne; a real Chromium logs in
as the demo users, sees the demo film on the home page and in the API, and uploads a scan."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DEMO_TITLE, SCREENSHOTS, login

pytestmark = pytest.mark.e2e


def test_demo_archivist_logs_in_and_sees_the_demo_film(demo_server, browser):
    base_url, log = demo_server
    assert "DEMO ONLY" in log.read_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{base_url}/")
    assert page.url == f"{base_url}/accounts/login/?next=/"
    page.screenshot(path=str(SCREENSHOTS / "login.png"))
    page.fill("#id_username", "archivist")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert "did not match" in page.inner_text("main")
    page.fill("#id_username", "archivist")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")

    row = page.locator("table.films tbody tr", has_text=DEMO_TITLE)
    assert row.count() == 1
    text = row.inner_text()
    assert "1927" in text and "In review" in text and "Archivist" in text
    assert row.locator("td.num").last.inner_text() == "5"  # shots
    # The stylesheet loaded: the page background is the dark theme's, not the browser's white.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(22, 23, 26)"
    # Everything the page asks for exists (stylesheets, modules, the icon): nothing failed to load.
    page.wait_for_load_state("networkidle")
    assert console_errors == []

    # The demo users also see the seeded archive's 100 films: find the demo film by its title.
    api = page.request.get(f"{base_url}/api/films/", params={"search": DEMO_TITLE}, headers={"Accept": "application/json"})
    assert api.status == 200
    films = api.json()["results"]
    demo = next(f for f in films if f["title"] == DEMO_TITLE)
    assert demo["my_role"] == "archivist" and demo["shot_count"] == 5

    page.goto(f"{base_url}/api/films/?search=Still+Lives")
    assert DEMO_TITLE in page.content()

    # Logging out ends the session: the home page asks for a login again.
    page.goto(f"{base_url}/")
    page.click("#user-menu summary")
    page.click("text=Log out")
    page.wait_for_url(f"{base_url}/accounts/login/")
    page.goto(f"{base_url}/")
    assert "/accounts/login/" in page.url


def test_other_demo_users_see_the_film_with_their_role(demo_server, browser):
    base_url, _ = demo_server
    for username, role in (("creator", "Creator"), ("restorer", "Restorer")):
        context, page = login(browser, base_url, username)
        assert role in page.locator("table.films tbody tr", has_text=DEMO_TITLE).inner_text()
        context.close()


def test_restorer_uploads_a_scan_through_the_asgi_server(demo_server, browser, tmp_path):
    """The streamed, size-limited upload works behind daphne with a browser session and its CSRF token."""
    import torch

    from restoration.io import write_video

    base_url, _ = demo_server
    clip = tmp_path / "reel.mkv"
    write_video(clip, torch.rand(5, 3, 48, 64, generator=torch.Generator().manual_seed(3)), fps=24)

    context, page = login(browser, base_url, "restorer")
    film_id = page.locator("table.films tbody tr", has_text=DEMO_TITLE).get_attribute("data-film-id")
    csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    # Without the analysis an upload starts by default: its new shot would change the demo film
    # that the other browser tests look at.
    url = f"{base_url}/api/films/{film_id}/assets/upload/?analyse=false"
    headers = {"X-CSRFToken": csrf, "Referer": f"{base_url}/"}

    response = page.request.post(url, headers=headers, multipart={
        "file": {"name": "reel.mkv", "mimeType": "video/x-matroska", "buffer": clip.read_bytes()}})
    assert response.status == 201, response.text()
    assert response.json()["frame_count"] == 5 and response.json()["original_name"] == "reel.mkv"

    response = page.request.post(url, headers=headers, multipart={
        "file": {"name": "notes.mkv", "mimeType": "video/x-matroska", "buffer": b"not a video\n" * 100}})
    assert response.status == 400 and "notes.mkv" in response.json()["detail"]

    response = page.request.post(url, multipart={
        "file": {"name": "reel.mkv", "mimeType": "video/x-matroska", "buffer": clip.read_bytes()}})
    assert response.status == 403  # no CSRF token
    context.close()
