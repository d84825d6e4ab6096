"""The login page locks out a user name, or an address, after AXES_FAILURE_LIMIT failed logins,
for AXES_COOLOFF_TIME: the right password is refused with a page that says why (429), and the
lockout ends by itself. A forged X-Forwarded-For changes nothing (no proxy is trusted)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from tests.webapp.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """Each try hashes a password (unknown user names too): MD5 keeps dozens of tries quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user():
    return UserFactory(password=make_password(TEST_PASSWORD))


def _log_in(username: str, password: str, address: str = "127.0.0.1", **headers):
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password},
                           REMOTE_ADDR=address, **headers)
    return client, response


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_defaults_lock_after_ten_failures_for_fifteen_minutes(settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


def test_wrong_passwords_for_a_user_lock_that_user_out_with_a_clear_page(settings):
    user = _user()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _client, response = _log_in(user.username, "wrong", address=f"10.1.0.{n}")
        assert response.status_code == 200 and b"did not match" in response.content  # the form again
    _client, response = _log_in(user.username, "wrong", address="10.1.0.99")
    assert response.status_code == 429
    client, response = _log_in(user.username, TEST_PASSWORD, address="10.2.0.1")  # right password, other address
    assert response.status_code == 429
    assert b"Logging in is paused" in response.content and b"15 minutes" in response.content
    assert response["Retry-After"] == str(15 * 60)
    assert not _signed_in(client)


def test_failures_from_one_address_lock_that_address_only(settings):
    user = _user()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _log_in(f"guess{n}", "wrong", address="10.3.0.1")
    client, response = _log_in(user.username, TEST_PASSWORD, address="10.3.0.1")
    assert response.status_code == 429 and not _signed_in(client)
    client, response = _log_in(user.username, TEST_PASSWORD, address="10.3.0.2")
    assert response.status_code == 302 and _signed_in(client)


def test_a_forged_forwarded_for_header_does_not_escape_the_address_lockout(settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _log_in(f"guess{n}", "wrong", address="10.4.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    client, response = _log_in(_user().username, TEST_PASSWORD, address="10.4.0.1",
                               HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert response.status_code == 429 and not _signed_in(client)


def test_the_lockout_ends_after_the_cool_off(settings):
    user = _user()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(user.username, "wrong")
    assert _log_in(user.username, TEST_PASSWORD)[1].status_code == 429
    # The cool-off has passed since the last failure (the attempts' time is what axes compares).
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    client, response = _log_in(user.username, TEST_PASSWORD)
    assert response.status_code == 302 and _signed_in(client)


def test_a_success_before_the_limit_forgets_the_failures(settings):
    user = _user()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(user.username, "wrong", address="10.5.0.1")
    assert _log_in(user.username, TEST_PASSWORD, address="10.5.0.1")[1].status_code == 302
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(user.username, "wrong", address="10.5.0.1")
    assert _log_in(user.username, TEST_PASSWORD, address="10.5.0.1")[1].status_code == 302
