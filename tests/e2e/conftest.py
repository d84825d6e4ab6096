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


# Content-Security-Policy violations seen by any page of any test: the browser reports each as a
# `securitypolicyviolation` event (logged by CSP_PROBE) and a console error "Refused to ...".
# `no_csp_violations` fails the test that caused one.
CSP_VIOLATIONS: list[str] = []
CSP_PROBE = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"} `
    + `in ${event.sourceFile || event.documentURI}:${event.lineNumber} (${event.sample || "no sample"})`);
}, true);
"""


def _watch_csp(context) -> None:
    def on_console(message) -> None:
        text = message.text
        if message.type == "error" and (text.startswith("Refused to") or text.startswith("CSP violation")):
            CSP_VIOLATIONS.append(f"{message.location.get('url', '?')}: {text}")

    context.add_init_script(CSP_PROBE)
    context.on("console", on_console)


def _watching_csp(browser):
    """Every context and page the tests open from ``browser`` report CSP violations."""
    new_context, new_page = browser.new_context, browser.new_page

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        _watch_csp(context)
        return context

    def watched_page(*args, **kwargs):
        page = new_page(*args, **kwargs)  # its own context, still on about:blank
        _watch_csp(page.context)
        return page

    browser.new_context, browser.new_page = watched_context, watched_page
    return browser


WAIT_POLL_MS = 50


def _wait_for_function(page, expression: str, arg=None, *, timeout: float | None = None, polling=None):
    """``Page.wait_for_function`` with the same contract (poll until the expression, or the function
    called with ``arg``, is truthy; TimeoutError after ``timeout`` ms, 30 s by default), evaluated
    through ``page.evaluate``. Playwright's own evaluates the expression with eval() inside the page,
    which the Content-Security-Policy forbids (no 'unsafe-eval'); ``evaluate`` goes through the
    DevTools protocol, which the policy does not cover."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    deadline = time.monotonic() + (30_000 if timeout is None else timeout) / 1000
    interval = polling if isinstance(polling, (int, float)) else WAIT_POLL_MS
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise PlaywrightTimeoutError(f"Timeout {timeout or 30_000} ms exceeded waiting for {expression}")
        page.wait_for_timeout(interval)


@pytest.fixture(autouse=True)
def no_csp_violations():
    CSP_VIOLATIONS.clear()
    yield CSP_VIOLATIONS
    if CSP_VIOLATIONS:
        found = "\n".join(dict.fromkeys(CSP_VIOLATIONS))
        CSP_VIOLATIONS.clear()
        pytest.fail(f"Content-Security-Policy violations:\n{found}")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import Page, sync_playwright

    with sync_playwright() as playwright, pytest.MonkeyPatch.context() as patch:
        patch.setattr(Page, "wait_for_function", _wait_for_function)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield _watching_csp(browser)
        browser.close()


def shape_box(page, selector: str) -> dict:
    """The client box of the shape (a CSS selector) the draw layer shows now: it replaces its elements on every
    render, so an element Playwright resolved may be gone (no box) by the time it is measured."""
    return page.evaluate("""(selector) => {
      const r = document.querySelector(selector).getBoundingClientRect();
      return {x: r.x, y: r.y, width: r.width, height: r.height};
    }""", selector)


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


def demo_user_create(data_dir, username: str, email: str) -> None:
    """An account ``username`` (password ``demo``, address ``email``) on the demo server, a member of no film."""
    demo_manage(data_dir, "shell", "-c",
                "from django.contrib.auth import get_user_model; "
                f"get_user_model().objects.create_user('{username}', '{email}', 'demo')")


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


def demo_shots(page, base_url: str, **params) -> list[dict]:
    """The demo film's shots (the demo users see the seeded archive's too), filtered by ``params``."""
    params = {"film": demo_film_id(page, base_url), "ordering": "number", **params}
    return page.request.get(f"{base_url}/api/shots/", params=params).json()["results"]


def demo_shot(page, base_url: str, number: int) -> dict:
    """The demo film's shot ``number``."""
    return demo_shots(page, base_url, number_min=number, number_max=number)[0]


def latest_version(page, base_url: str, shot: dict) -> dict:
    """The shot's newest version, asked of the API as the page's user."""
    versions = page.request.get(f"{base_url}/api/versions/?shot={shot['id']}").json()["results"]
    return max(versions, key=lambda v: v["number"])
