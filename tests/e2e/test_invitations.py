"""End to end in Chromium: joining a film by invitation. The demo archivist invites a user (who has an
account but no film) from the film page; the user sees the invitation (the bell, the Invitations
page), accepts it and lands on the film; an invitation declined adds nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import demo_film_id, demo_user_create, login

pytestmark = pytest.mark.e2e

NEWCOMER = "e2e-newcomer"


@pytest.fixture(scope="module")
def newcomer(demo_server):
    """An account (password ``demo``) that is a member of no film."""
    base_url, log = demo_server
    demo_user_create(log.parent, NEWCOMER, "newcomer@example.org")
    return base_url


def test_an_archivist_invites_and_the_user_accepts_on_the_invitations_page(newcomer, browser):
    base_url = newcomer
    context, archivist = login(browser, base_url, "archivist")
    film_id = demo_film_id(archivist, base_url)
    archivist.goto(f"{base_url}/films/{film_id}/")
    archivist.fill(".invite-form input[name=invitee]", "newcomer@example.org")
    archivist.select_option(".invite-form select[name=role]", "viewer")
    archivist.click(".invite-form button[type=submit]")
    expect(archivist.locator("#invite-sent")).to_be_visible()
    # An address nobody has gets the very same answer.
    archivist.fill(".invite-form input[name=invitee]", "nobody@example.org")
    archivist.click(".invite-form button[type=submit]")
    expect(archivist.locator("#invite-sent")).to_be_visible()
    context.close()

    context, page = login(browser, base_url, NEWCOMER)
    assert page.goto(f"{base_url}/films/{film_id}/").status == 404  # not a member before accepting
    page.goto(f"{base_url}/notifications/")
    expect(page.locator(".notification.kind-invitation")).to_have_count(1)
    page.locator(".notification.kind-invitation a").click()
    page.wait_for_url(f"{base_url}/invitations/")
    invitation = page.locator(".invitation")
    expect(invitation).to_have_count(1)
    expect(invitation).to_contain_text("viewer")
    invitation.locator("[data-accept]").click()
    page.wait_for_url(re.compile(rf"{re.escape(base_url)}/films/{film_id}/$"))
    expect(page.locator(".members")).to_contain_text(NEWCOMER)
    page.goto(f"{base_url}/invitations/")
    expect(page.locator("#invitation-list-empty")).to_be_visible()
    context.close()
