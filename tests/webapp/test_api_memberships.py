"""Memberships: archivists change roles and remove members (nobody is added directly: invitations);
a film always keeps an archivist; removing a member is announced (``membership_removed``)."""

from __future__ import annotations

import pytest

from tests.webapp.factories import UserFactory
from webapp.catalogue.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def archivist(film, member):
    return member(film, "archivist")


def test_nobody_adds_a_member_directly(film, archivist, client_for, staff_user):
    """Members join by accepting an invitation (tests/webapp/test_invitations.py), never by POST."""
    newcomer = UserFactory(username="cinematographer")
    for client in (client_for(archivist), client_for(staff_user)):
        response = client.post("/api/memberships/", {"film": film.pk, "user": newcomer.username, "role": "creator"})
        assert response.status_code == 405
    assert not Membership.objects.filter(user=newcomer).exists()


def test_the_browsable_api_lists_no_usernames(film, archivist, client):
    UserFactory(username="nobody-should-see-me")
    client.force_login(archivist)
    for url in ("/api/memberships/", f"/api/memberships/{Membership.objects.get(user=archivist).pk}/",
                "/api/invitations/"):
        page = client.get(url, HTTP_ACCEPT="text/html")
        assert page.status_code == 200 and b"nobody-should-see-me" not in page.content


def test_role_changes_but_film_and_user_do_not(film, other_film, archivist, member, client_for):
    viewer_membership = Membership.objects.get(user=member(film, "viewer"))
    client = client_for(archivist)
    response = client.patch(f"/api/memberships/{viewer_membership.pk}/", {"role": "restorer"})
    assert response.status_code == 200 and response.json()["role"] == "restorer"
    response = client.patch(f"/api/memberships/{viewer_membership.pk}/", {"film": other_film.pk})
    assert response.status_code == 400
    assert response.json()["fields"] == {"film": ["Cannot be changed after creation."]}
    response = client.patch(f"/api/memberships/{viewer_membership.pk}/", {"user": archivist.username})
    assert response.status_code == 400
    assert response.json()["fields"] == {"user": ["Cannot be changed after creation."]}


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


def test_removing_a_member_sends_membership_removed_after_the_commit(film, archivist, member, client_for,
                                                                     django_capture_on_commit_callbacks):
    from webapp.catalogue.signals import membership_removed

    heard = []

    def receiver(sender, film_id, user_id, role, **kwargs):
        heard.append((film_id, user_id, role))

    viewer = member(film, "viewer")
    membership_removed.connect(receiver, dispatch_uid="test-membership-removed")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(archivist).delete(f"/api/memberships/{Membership.objects.get(user=viewer).pk}/")
            assert response.status_code == 204 and heard == []  # not before the commit
        assert heard == [(film.pk, viewer.pk, "viewer")]
    finally:
        membership_removed.disconnect(dispatch_uid="test-membership-removed")


def test_a_membership_deleted_anywhere_is_announced_once_committed(film, member, django_capture_on_commit_callbacks):
    """The admin or a cascade deletes rows without the service: the signal still goes."""
    from webapp.catalogue.signals import membership_removed

    heard = []
    viewer, creator = member(film, "viewer"), member(film, "creator")
    membership_removed.connect(lambda sender, **kw: heard.append(kw["user_id"]), weak=False,
                               dispatch_uid="test-membership-removed-anywhere")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            Membership.objects.filter(user=viewer).delete()
        with django_capture_on_commit_callbacks(execute=True):
            film.delete()
        assert sorted(heard) == sorted([viewer.pk, creator.pk])
    finally:
        membership_removed.disconnect(dispatch_uid="test-membership-removed-anywhere")
