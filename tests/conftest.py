"""Shared fixtures for every test. Keep them generic: other areas add tests that use them.

Web fixtures give a film, users with each role on it, and API clients logged in as them:

    def test_something(film, client_for, member):
        viewer = member(film, "viewer")
        response = client_for(viewer).get(f"/api/films/{film.pk}/")

``api_client`` is anonymous; ``client_for(user)`` authenticates with ``force_authenticate``
(no CSRF, like a token client); ``session_client_for(user)`` logs in with a session and
enforces CSRF like a browser.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

ROLES = ("archivist", "creator", "restorer", "viewer")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_for() -> Callable:
    from rest_framework.test import APIClient

    def make(user) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def session_client_for() -> Callable:
    from rest_framework.test import APIClient

    def make(user) -> APIClient:
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def film(db):
    from tests.webapp.factories import FilmFactory

    return FilmFactory()


@pytest.fixture
def other_film(db):
    """A second film, for "another film's objects answer 404" tests."""
    from tests.webapp.factories import FilmFactory

    return FilmFactory(title="Another film")


@pytest.fixture
def member(db) -> Callable:
    """``member(film, role)`` makes a new user with that role on the film."""
    from tests.webapp.factories import MembershipFactory

    def make(film, role: str, **user_fields):
        from tests.webapp.factories import UserFactory

        user = UserFactory(**user_fields)
        MembershipFactory(user=user, film=film, role=role)
        return user

    return make


@pytest.fixture
def staff_user(db):
    from tests.webapp.factories import StaffFactory

    return StaffFactory(username="staff")


@pytest.fixture
def outsider(db):
    """A logged-in user who is a member of no film."""
    from tests.webapp.factories import UserFactory

    return UserFactory(username="outsider")


@pytest.fixture
def film_members(film, member) -> dict:
    """One user per role on ``film``: ``film_members["archivist"]`` and so on."""
    return {role: member(film, role, username=f"{role}-of-film") for role in ROLES}


@pytest.fixture
def role_client(film, member, client_for) -> Callable:
    """``role_client("restorer")``: an API client of a new user with that role on ``film``
    (``role_client("viewer", on=other_film)`` for another film)."""

    def make(role: str, on=None):
        return client_for(member(on or film, role))

    return make


# Websocket consumer tests ---------------------------------------------------------------------


@pytest.fixture
def in_memory_channel_layers(settings):
    """Consumers and services talk through in-memory layers (both the default and the live one)."""
    layer = {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    settings.CHANNEL_LAYERS = {"default": layer, "live": layer}


@pytest.fixture
async def consumer_db_connections_closed():
    """A consumer's database calls run on asgiref's one sync thread; close that thread's
    connections after the test, or PostgreSQL cannot drop the test database while they linger."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    yield
    await sync_to_async(connections.close_all)()
