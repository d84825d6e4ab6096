"""The Content-Security-Policy in a real Chromium: the watch in conftest.py catches a violation, the
API docs (Swagger UI) run under the policy, and the bars sized from data-width get their width."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DEMO_TITLE, login

pytestmark = pytest.mark.e2e


def test_an_inline_style_attribute_is_refused_and_reported(demo_server, browser, no_csp_violations):
    base_url, _log = demo_server
    context, page = login(browser, base_url, "archivist")
    try:
        response = page.goto(f"{base_url}/")
        assert "style-src 'self'" in response.headers["content-security-policy"]
        with page.expect_console_message(lambda message: message.text.startswith("CSP violation")):
            page.evaluate("document.body.setAttribute('style', 'background: red')")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
        assert any("style-src" in violation for violation in no_csp_violations), no_csp_violations
        no_csp_violations.clear()  # expected here; any other test's violation fails it
    finally:
        context.close()


def test_the_api_docs_run_under_the_policy(demo_server, browser):
    base_url, _log = demo_server
    context, page = login(browser, base_url, "archivist")
    try:
        page.goto(f"{base_url}/api/docs/")
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)  # the operations rendered
        assert page.locator(".opblock-summary-path", has_text="/api/films/").count() >= 1
    finally:
        context.close()


def test_progress_bars_get_their_width_from_data_width(demo_server, browser):
    base_url, _log = demo_server
    context, page = login(browser, base_url, "archivist")
    try:
        row = page.locator("table.films tbody tr", has_text=DEMO_TITLE)
        bars = row.locator(".progress .bar[data-width]")
        assert bars.count() >= 1
        widths = bars.evaluate_all("bars => bars.map(bar => [bar.dataset.width, bar.style.width])")
        assert all(style == f"{float(percent):g}%" or style == f"{percent}%" for percent, style in widths), widths
    finally:
        context.close()
