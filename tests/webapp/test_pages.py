"""Server-rendered pages (home, login, logout) and the production settings check."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.webapp.factories import TEST_PASSWORD, FilmFactory, ShotFactory, ShotVersionFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_home_requires_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_login_page_renders_a_form_with_csrf():
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html
    assert "/static/css/app.css" in html


def test_login_then_home_lists_only_my_films_with_counts(member):
    mine = FilmFactory(title="Rouge Harbour", year=1931, directors="Lin Chan, Marta Rossi", status="in_review")
    hidden = FilmFactory(title="Secret Orchard", year=1950)
    member(mine, "archivist", username="ann")
    member(hidden, "viewer")
    approved = [ShotFactory(film=mine, number=n, status="approved") for n in (1, 2, 3)]
    ShotFactory(film=mine, number=4, status="in_review")
    ShotVersionFactory(shot=approved[0])

    client = Client(enforce_csrf_checks=False)
    response = client.post("/accounts/login/", {"username": "ann", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"

    html = client.get("/").content.decode()
    assert "Rouge Harbour" in html and "1931" in html and "Lin Chan, Marta Rossi" in html
    assert "In review" in html and "Archivist" in html
    assert "Secret Orchard" not in html
    row = html[html.index(f'data-film-id="{mine.pk}"'):]
    row = row[: row.index("</tr>")]
    assert '<td class="num">4</td>' in row  # shots
    assert "3/4" in row and 'aria-valuenow="75"' in row  # approved / shots, progress


def test_wrong_password_shows_an_error(member):
    member(FilmFactory(), "viewer", username="bob")
    response = Client().post("/accounts/login/", {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_user_without_films_sees_an_empty_state(outsider):
    client = Client()
    client.force_login(outsider)
    html = client.get("/").content.decode()
    assert "not a member of any film" in html


def test_logout_needs_post_and_ends_the_session(member):
    user = member(FilmFactory(), "viewer")
    client = Client()
    client.force_login(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_stylesheet_is_found_by_staticfiles():
    assert finders.find("css/app.css")


def _random_secret(length: int = 50) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def test_production_settings_pass_the_deploy_check():
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}},
        "DJANGO_ENV": "production",
        "SECRET_KEY": _random_secret(),
        "ALLOWED_HOSTS": "example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
