"""End to end: `manage.py demo` builds the demo and serves it with daphne; a real Chromium logs in
as the demo archivist, sees the demo film on the home page and in the API.

Screenshots go to docs/img/ (the README shows them).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
DEMO_TITLE = "Still Lives in Motion (demo)"
START_TIMEOUT_S = 600  # builds the demo film first: seconds on an idle machine, minutes on a busy one


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"manage.py demo exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(1)
    pytest.fail(f"manage.py demo did not serve on port {port} within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """`manage.py demo` on a fresh data folder and a free port; stopped (only this process) afterwards."""
    data_dir = tmp_path_factory.mktemp("demo-var")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ENV"}}
    env.update({"DATA_DIR": str(data_dir), "PORT": str(port), "PYTHONUNBUFFERED": "1"})
    log = data_dir / "demo.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "manage.py", "demo"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(process, port, log)
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def test_demo_archivist_logs_in_and_sees_the_demo_film(demo_server, browser):
    base_url, log = demo_server
    assert "DEMO ONLY" in log.read_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 720})

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
    page.screenshot(path=str(SCREENSHOTS / "home.png"))

    api = page.request.get(f"{base_url}/api/films/", headers={"Accept": "application/json"})
    assert api.status == 200
    films = api.json()["results"]
    demo = next(f for f in films if f["title"] == DEMO_TITLE)
    assert demo["my_role"] == "archivist" and demo["shot_count"] == 5

    page.goto(f"{base_url}/api/films/")
    assert DEMO_TITLE in page.content()

    # Logging out ends the session: the home page asks for a login again.
    page.goto(f"{base_url}/")
    page.click("text=Log out")
    page.wait_for_url(f"{base_url}/accounts/login/")
    page.goto(f"{base_url}/")
    assert "/accounts/login/" in page.url


def test_other_demo_users_see_the_film_with_their_role(demo_server, browser):
    base_url, _ = demo_server
    for username, role in (("creator", "Creator"), ("restorer", "Restorer")):
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{base_url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/")
        assert role in page.locator("table.films tbody tr", has_text=DEMO_TITLE).inner_text()
        context.close()


def test_restorer_uploads_a_scan_through_the_asgi_server(demo_server, browser, tmp_path):
    """The streamed, size-limited upload works behind daphne with a browser session and its CSRF token."""
    import torch

    from restoration.io import write_video

    base_url, _ = demo_server
    clip = tmp_path / "reel.mkv"
    write_video(clip, torch.rand(5, 3, 48, 64, generator=torch.Generator().manual_seed(3)), fps=24)

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", "restorer")
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    film_id = page.locator("table.films tbody tr", has_text=DEMO_TITLE).get_attribute("data-film-id")
    csrf = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    url = f"{base_url}/api/films/{film_id}/assets/upload/"
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
