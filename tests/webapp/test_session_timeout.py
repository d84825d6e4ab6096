"""Idle timeout: a browser session lasts SESSION_COOKIE_AGE (4 hours) after its last use. A request
renews it (the database's expiry and the cookie's) at most once per SESSION_RENEW_INTERVAL_S."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.webapp.factories import UserFactory
from webapp.api.sessions import RENEWED_AT

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in():
    client = Client()
    client.force_login(UserFactory())
    return client


def _row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def _set_renewed_at(client, moment: int) -> None:
    session = client.session
    session[RENEWED_AT] = moment
    session.save()


def test_sessions_time_out_after_four_idle_hours_not_fourteen_days(settings):
    assert settings.SESSION_COOKIE_AGE == 4 * 3600
    assert not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_a_request_after_the_renew_interval_moves_the_expiry(signed_in, settings):
    _set_renewed_at(signed_in, 0)  # renewed long ago
    Session.objects.filter(pk=_row(signed_in).pk).update(expire_date=timezone.now() + timedelta(minutes=5))
    before = timezone.now()
    response = signed_in.get("/")
    assert response.status_code == 200
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    assert _row(signed_in).expire_date >= before + timedelta(seconds=settings.SESSION_COOKIE_AGE)


def test_requests_within_the_renew_interval_write_nothing(signed_in, settings):
    settings.SESSION_RENEW_INTERVAL_S = 10**9  # however slow this test runs, it stays within the interval
    _set_renewed_at(signed_in, int(timezone.now().timestamp()))
    expiry = _row(signed_in).expire_date
    response = signed_in.get("/")
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert _row(signed_in).expire_date == expiry


def test_an_idle_session_past_its_expiry_is_signed_out(signed_in):
    Session.objects.filter(pk=_row(signed_in).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = signed_in.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert signed_in.get("/api/films/").status_code == 401


def test_logging_in_counts_as_a_renewal(signed_in):
    assert signed_in.session[RENEWED_AT] > 0
