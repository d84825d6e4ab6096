"""Memberships: archivists manage their film's members; a film always keeps an archivist."""

from __future__ import annotations

import pytest

from tests.webapp.factories import UserFactory
from webapp.catalogue.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def archivist(film, member):
    return member(film, "archivist")


def test_archivist_adds_a_member_by_username(film, archivist, client_for):
    newcomer = UserFactory(username="cinematographer")
    response = client_for(archivist).post(
        "/api/memberships/", {"film": film.pk, "user": "cinematographer", "role": "creator"}
    )
    assert response.status_code == 201, response.content
    assert response.json() | {"id": 0, "created_at": ""} == {
        "id": 0, "film": film.pk, "user": "cinematographer", "user_id": newcomer.pk, "role": "creator",
        "created_at": "",
    }


def test_unknown_user_and_duplicate_membership_are_400(film, archivist, client_for, member):
    client = client_for(archivist)
    response = client.post("/api/memberships/", {"film": film.pk, "user": "ghost", "role": "viewer"})
    assert response.status_code == 400 and "user" in response.json()["fields"]
    viewer = member(film, "viewer")
    response = client.post("/api/memberships/", {"film": film.pk, "user": viewer.username, "role": "creator"})
    assert response.status_code == 400
    assert "already a member" in response.json()["fields"]["user"][0]
    assert Membership.objects.get(user=viewer).role == "viewer"


def test_bad_role_is_400(film, archivist, client_for):
    UserFactory(username="someone")
    response = client_for(archivist).post("/api/memberships/", {"film": film.pk, "user": "someone", "role": "boss"})
    assert response.status_code == 400 and "role" in response.json()["fields"]


def test_role_changes_but_film_and_user_do_not(film, other_film, archivist, member, client_for):
    viewer_membership = Membership.objects.get(user=member(film, "viewer"))
    client = client_for(archivist)
    response = client.patch(f"/api/memberships/{viewer_membership.pk}/", {"role": "restorer"})
    assert response.status_code == 200 and response.json()["role"] == "restorer"
    response = client.patch(f"/api/memberships/{viewer_membership.pk}/", {"film": other_film.pk})
    assert response.status_code == 400
    assert response.json()["fields"] == {"film": ["Cannot be changed after creation."]}


def test_the_last_archivist_can_be_neither_removed_nor_demoted(film, archivist, client_for, staff_user):
    own = Membership.objects.get(user=archivist)
    client = client_for(archivist)
    response = client.delete(f"/api/memberships/{own.pk}/")
    assert response.status_code == 400 and "last archivist" in response.json()["detail"]
    response = client.patch(f"/api/memberships/{own.pk}/", {"role": "viewer"})
    assert response.status_code == 400 and "last archivist" in response.json()["fields"]["role"][0]
    # Not even staff: add another archivist first.
    assert client_for(staff_user).delete(f"/api/memberships/{own.pk}/").status_code == 400
    assert Membership.objects.get(pk=own.pk).role == "archivist"


def test_with_a_second_archivist_one_may_leave(film, archivist, member, client_for):
    member(film, "archivist")
    own = Membership.objects.get(user=archivist)
    assert client_for(archivist).delete(f"/api/memberships/{own.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=own.pk).exists()


def test_members_see_their_films_members_only(film, other_film, member, client_for):
    viewer = member(film, "viewer")
    member(other_film, "viewer")
    rows = client_for(viewer).get("/api/memberships/").json()["results"]
    assert {row["film"] for row in rows} == {film.pk}
    assert client_for(viewer).get("/api/memberships/", {"role": "viewer"}).json()["count"] == 1
