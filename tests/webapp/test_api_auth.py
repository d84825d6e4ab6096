"""Authentication: token for scripts, session + CSRF for the browser, 401 for nobody."""

from __future__ import annotations

import pytest
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
