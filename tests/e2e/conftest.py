"""Shared end-to-end fixtures: one `manage.py demo` server (daphne, in-process worker, fresh data
folder) and one Chromium for the whole e2e session, and a helper that logs a demo user in.

Screenshots go to var/screenshots/ (ignored by git) so that `make test` leaves the tree clean;
`make screenshots` runs the browser tests with E2E_SCREENSHOTS=docs/img to refresh the README's.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOTS") or ROOT / "var" / "screenshots")
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


@pytest.fixture(scope="session")
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


@pytest.fixture(scope="session")
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


def drag_rectangle(page, overlay: str, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Drag the mouse over the element ``overlay`` from ``start`` to ``end`` (fractions of its width
    and height), as a reviewer draws a rectangle with the rectangle tool."""
    box = page.locator(overlay).bounding_box()
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1], steps=6)
    page.mouse.up()


def demo_manage(data_dir, *args: str) -> str:
    """Run a ``manage.py`` command on the demo server's data folder (its SQLite database); its output."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ENV"}}
    env["DATA_DIR"] = str(data_dir)
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def login(browser, base_url: str, username: str, password: str = "demo"):
    """A new browser context logged in as ``username``; returns (context, page) on the home page."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return context, page


def demo_film_id(page, base_url: str) -> int:
    """The demo film's id, asked of the API as the page's user."""
    films = page.request.get(f"{base_url}/api/films/", params={"search": DEMO_TITLE[:11]}).json()["results"]
    return next(film["id"] for film in films if film["title"] == DEMO_TITLE)
