"""End to end in Chromium: a user turns e-mail notifications off and on from the notifications page
(saved as each box changes, kept on reload), then an invitation reaches them by e-mail: the demo's
in-process worker sends it through the console backend, into the demo server's log."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import demo_film_id, demo_user_create, login

pytestmark = pytest.mark.e2e

MAILER = "e2e-mailer"
ADDRESS = "mailer@example.org"
MAIL_WAIT_S = 60


@pytest.fixture(scope="module")
def mailer(demo_server):
    """An account (password ``demo``) with an address, a member of no film."""
    base_url, log = demo_server
    demo_user_create(log.parent, MAILER, ADDRESS)
    return base_url, log


def saved_settings(page, base_url: str) -> dict:
    return page.request.get(f"{base_url}/api/me/notification-settings/").json()


def test_email_settings_toggle_on_the_notifications_page_and_an_invitation_is_emailed(mailer, browser):
    base_url, log = mailer
    context, page = login(browser, base_url, MAILER)
    page.goto(f"{base_url}/notifications/")
    form = page.locator("#notification-settings-form")
    status = page.locator("#notification-settings-status")
    expect(page.locator("#notification-settings")).to_contain_text(ADDRESS)
    expect(form.locator("input[name=email_enabled]")).to_be_checked()
    expect(form.locator("input[name=email_review_requests]")).not_to_be_checked()

    form.locator("input[name=email_enabled]").uncheck()
    expect(status).to_have_text("Saved.")
    expect(form.locator("input[name=email_mentions]")).to_be_disabled()  # its fieldset is, while e-mail is off
    assert saved_settings(page, base_url)["email_enabled"] is False
    form.locator("input[name=email_enabled]").check()
    expect(form.locator("input[name=email_mentions]")).to_be_enabled()
    form.locator("input[name=email_review_requests]").check()
    expect(status).to_have_text("Saved.")
    page.reload()
    expect(form.locator("input[name=email_review_requests]")).to_be_checked()
    expect(form.locator("input[name=email_enabled]")).to_be_checked()
    assert saved_settings(page, base_url)["email_review_requests"] is True
    context.close()

    context, archivist = login(browser, base_url, "archivist")
    archivist.goto(f"{base_url}/films/{demo_film_id(archivist, base_url)}/")
    archivist.fill(".invite-form input[name=invitee]", MAILER)
    archivist.select_option(".invite-form select[name=role]", "viewer")
    archivist.click(".invite-form button[type=submit]")
    expect(archivist.locator("#invite-sent")).to_be_visible()
    context.close()
    # The console backend prints the message in the server's log once the worker has sent it.
    deadline = time.monotonic() + MAIL_WAIT_S
    while f"To: {ADDRESS}" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    text = log.read_text()
    assert f"To: {ADDRESS}" in text, text[-3000:]
    assert "invites you to join" in text and f"{base_url}/invitations/" in text  # the link opens this server
