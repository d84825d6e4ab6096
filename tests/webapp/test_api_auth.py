"""Authentication: token for scripts (expiring, revocable, locked out after failed tries), session +
CSRF for the browser, 401 for nobody."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.webapp.factories import TEST_PASSWORD, InReviewVersionFactory, ShotFactory
from webapp.review.models import Comment

pytestmark = pytest.mark.django_db


def test_anonymous_requests_are_401_with_a_challenge(api_client):
    response = api_client.get("/api/films/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_token_endpoint_gives_a_token_that_authenticates(film, member):
    user = member(film, "viewer")
    client = APIClient()
    response = client.post("/api/auth/token/", {"username": user.username, "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=user).key == token
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [row["id"] for row in client.get("/api/films/").json()["results"]] == [film.pk]


def test_token_endpoint_refuses_a_wrong_password(film, member):
    user = member(film, "viewer")
    response = APIClient().post("/api/auth/token/", {"username": user.username, "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["detail"]


def test_a_bad_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/films/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_token_clients_need_no_csrf(film, member):
    user = member(film, "viewer")
    version = InReviewVersionFactory(shot=ShotFactory(film=film))
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = client.post("/api/comments/", {"version": version.pk, "frame": 0, "text": "ok"}, format="json")
    assert response.status_code == 201


def test_session_post_without_csrf_token_is_refused(film, member, session_client_for):
    user = member(film, "viewer")
    version = InReviewVersionFactory(shot=ShotFactory(film=film))
    client = session_client_for(user)
    assert client.get("/api/films/").status_code == 200  # the session itself works for reads
    response = client.post("/api/comments/", {"version": version.pk, "frame": 0, "text": "forged"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Comment.objects.count() == 0


def test_session_post_with_csrf_token_is_accepted(film, member, session_client_for):
    user = member(film, "viewer")
    version = InReviewVersionFactory(shot=ShotFactory(film=film))
    client = session_client_for(user)
    client.get("/admin/login/")  # any page that renders the CSRF token sets the cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/comments/", {"version": version.pk, "frame": 0, "text": "real"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.content


# ---- tokens expire and can be revoked ----


def _issue(user) -> dict:
    response = APIClient().post("/api/auth/token/", {"username": user.username, "password": TEST_PASSWORD},
                                format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _age_token(user, days: float) -> None:
    Token.objects.filter(user=user).update(created=timezone.now() - timedelta(days=days))


def test_a_token_says_when_it_expires(film, member, settings):
    user = member(film, "viewer")
    body = _issue(user)
    token = Token.objects.get(user=user)
    assert settings.API_TOKEN_TTL.days == 30
    assert parse_datetime(body["expires_at"]) == token.created + timedelta(days=30)


def test_an_expired_token_is_401_naming_the_expiry(film, member):
    user = member(film, "viewer")
    key = _issue(user)["token"]
    _age_token(user, days=30.01)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/films/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "token_expired"
    assert "expired" in response.json()["detail"] and "POST /api/auth/token/" in response.json()["detail"]


def test_a_token_still_valid_is_given_again_and_works(film, member):
    user = member(film, "viewer")
    first = _issue(user)["token"]
    _age_token(user, days=29.9)
    assert _issue(user)["token"] == first
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert client.get("/api/films/").status_code == 200


def test_asking_again_after_expiry_gives_a_new_token(film, member):
    user = member(film, "viewer")
    old = _issue(user)["token"]
    _age_token(user, days=31)
    new = _issue(user)["token"]
    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/films/").json()["code"] == "authentication_failed"
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get("/api/films/").status_code == 200


def test_delete_revokes_the_current_token(film, member):
    user = member(film, "viewer")
    key = _issue(user)["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.delete("/api/auth/token/").status_code == 204
    assert not Token.objects.filter(user=user).exists()
    response = client.get("/api/films/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert _issue(user)["token"] != key  # a new one on request


def test_a_browser_session_revokes_its_users_token(film, member, session_client_for):
    user = member(film, "viewer")
    _issue(user)
    client = session_client_for(user)
    client.get("/accounts/login/")
    response = client.delete("/api/auth/token/", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 204
    assert not Token.objects.filter(user=user).exists()


def test_revoking_needs_authentication(api_client):
    response = api_client.delete("/api/auth/token/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# ---- failed token requests lock the user and the address out ----


@pytest.fixture
def fast_hashing(settings):
    """Each try hashes a password (unknown user names too): MD5 keeps dozens of tries quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return lambda user: user.set_password(TEST_PASSWORD) or user.save()


def _ask_token(username: str, password: str, address: str = "127.0.0.1"):
    return APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json",
                            REMOTE_ADDR=address)


def _expire_lockouts(settings) -> None:
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1))


def test_wrong_passwords_lock_the_user_out_of_tokens_even_with_the_right_one(film, member, settings, fast_hashing):
    user = member(film, "viewer")
    fast_hashing(user)
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 10
    answers = [_ask_token(user.username, "nope", address=f"10.0.0.{n}").status_code for n in range(limit)]
    assert answers == [400] * (limit - 1) + [429]  # the attempt reaching the limit is refused as such
    response = _ask_token(user.username, TEST_PASSWORD, address="10.0.1.1")  # another address, right password
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "Too many failed logins" in response.json()["detail"]
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert not Token.objects.filter(user=user).exists()
    _expire_lockouts(settings)  # the cool-off has passed
    assert _ask_token(user.username, TEST_PASSWORD, address="10.0.1.1").status_code == 200


def test_wrong_passwords_from_one_address_lock_that_address_out_of_tokens(film, member, settings, fast_hashing):
    user = member(film, "viewer")
    fast_hashing(user)
    for n in range(settings.AXES_FAILURE_LIMIT):
        _ask_token(f"nobody{n}", "nope", address="10.9.9.9")
    assert _ask_token(user.username, TEST_PASSWORD, address="10.9.9.9").status_code == 429
    assert _ask_token(user.username, TEST_PASSWORD, address="10.9.9.10").status_code == 200
