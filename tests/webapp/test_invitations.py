"""Joining a film: an archivist invites (by username or e-mail, with a role), the invited user sees
the invitation (API, notification, page) and accepts or declines; nobody learns who has an account."""

from __future__ import annotations

import pytest

from tests.webapp.factories import InReviewVersionFactory, ShotFactory, UserFactory
from webapp.catalogue.models import Invitation, Membership
from webapp.catalogue.services import invitation_create
from webapp.live.services import guest_invite_create, session_create
from webapp.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def archivist(film, member):
    return member(film, "archivist")


def invite(client, film, invitee, role="creator", **extra):
    return client.post("/api/invitations/", {"film": film.pk, "invitee": invitee, "role": role, **extra})


def shape(body):
    """An invitation's answer without what differs between any two invitations."""
    return {key: value for key, value in body.items() if key not in {"id", "invitee", "created_at"}}


def test_an_invited_user_becomes_a_member_only_by_accepting(film, archivist, client_for,
                                                             django_capture_on_commit_callbacks):
    newcomer = UserFactory(username="cinematographer")
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client_for(archivist), film, "cinematographer")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["film"], body["role"], body["status"], body["invitee"]) == (film.pk, "creator", "pending",
                                                                           "cinematographer")
    assert "user" not in body and "user_id" not in body
    assert not Membership.objects.filter(user=newcomer).exists()

    mine = client_for(newcomer).get("/api/invitations/", {"mine": "true"}).json()["results"]
    assert [(row["id"], row["film_title"], row["invited_by_username"]) for row in mine] == [
        (body["id"], film.title, archivist.username)
    ]
    notes = client_for(newcomer).get("/api/notifications/").json()["results"]
    assert [(n["kind"], n["invitation"], n["url"]) for n in notes] == [("invitation", body["id"], "/invitations/")]
    assert client_for(newcomer).get(f"/api/films/{film.pk}/").status_code == 404  # not a member yet

    accepted = client_for(newcomer).post(f"/api/invitations/{body['id']}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert Membership.objects.get(user=newcomer, film=film).role == "creator"
    assert client_for(newcomer).get(f"/api/films/{film.pk}/").json()["my_role"] == "creator"
    again = client_for(newcomer).post(f"/api/invitations/{body['id']}/accept/")
    assert again.status_code == 400 and "accepted already" in again.json()["detail"]


def test_the_answer_is_the_same_whether_or_not_the_account_exists(film, archivist, client_for,
                                                                  django_capture_on_commit_callbacks):
    UserFactory(username="real", email="Real.Person@example.org")
    client = client_for(archivist)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [invite(client, film, invitee) for invitee in
                   ("real", "ghost", "real.person@EXAMPLE.org", "ghost@example.org")]
    assert {response.status_code for response in answers} == {201}
    assert len({repr(sorted(shape(response.json()).items())) for response in answers}) == 1
    # Only the existing account hears of its invitations (by username and by e-mail address).
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["real", "real"]
    assert Invitation.objects.filter(user__isnull=True).count() == 2
    assert not Membership.objects.filter(user__username="real").exists()


def test_an_address_several_accounts_share_reaches_nobody(film, archivist, client_for):
    UserFactory(username="twin1", email="twins@example.org")
    UserFactory(username="twin2", email="twins@example.org")
    assert invite(client_for(archivist), film, "twins@example.org").status_code == 201
    assert Invitation.objects.get().user is None


def test_a_live_sessions_guest_is_never_invited(film, archivist, client_for):
    version = InReviewVersionFactory(shot=ShotFactory(film=film, number=1))
    session = session_create(film=film, created_by=archivist, title="Dailies", versions=[version])
    guest = guest_invite_create(session=session, created_by=archivist, display_name="Ana")[0].user
    assert invite(client_for(archivist), film, guest.username).status_code == 201
    assert Invitation.objects.get().user is None


def test_only_archivists_and_staff_invite(film, archivist, member, client_for, other_film, staff_user):
    UserFactory(username="someone")
    for role in ("viewer", "creator", "restorer"):
        response = invite(client_for(member(film, role)), film, "someone")
        assert response.status_code == 403 and "managing members" in response.json()["detail"]
    stranger = client_for(member(other_film, "archivist"))
    response = invite(stranger, film, "someone")
    assert response.status_code == 400 and "does not exist" in response.json()["detail"]
    assert Invitation.objects.count() == 0
    assert invite(client_for(staff_user), film, "someone").status_code == 201


def test_bad_invitations_are_400_and_nothing_is_written(film, archivist, client_for):
    client = client_for(archivist)
    for body, field in [({"invitee": "", "role": "viewer"}, "invitee"),
                        ({"invitee": "   ", "role": "viewer"}, "invitee"),
                        ({"invitee": "x" * 255, "role": "viewer"}, "invitee"),
                        ({"invitee": "someone", "role": "boss"}, "role"),
                        ({"invitee": "someone", "role": "viewer", "user": 1}, "user")]:
        response = client.post("/api/invitations/", {"film": film.pk, **body})
        assert response.status_code == 400 and field in response.json()["fields"], (body, response.content)
    assert Invitation.objects.count() == 0


def test_only_the_invited_user_answers_and_archivists_cancel(film, archivist, member, client_for, outsider):
    newcomer = UserFactory(username="newcomer")
    first = invite(client_for(archivist), film, "newcomer").json()["id"]
    second = invite(client_for(archivist), film, "newcomer", role="viewer").json()["id"]
    assert client_for(outsider).post(f"/api/invitations/{first}/accept/").status_code == 404
    assert client_for(outsider).get("/api/invitations/").json()["count"] == 0
    response = client_for(archivist).post(f"/api/invitations/{first}/accept/")
    assert response.status_code == 403 and "invited user" in response.json()["detail"]
    assert client_for(newcomer).post(f"/api/invitations/{first}/cancel/").status_code == 404  # no member yet

    declined = client_for(newcomer).post(f"/api/invitations/{first}/decline/")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert client_for(newcomer).post(f"/api/invitations/{first}/accept/").status_code == 400
    cancelled = client_for(archivist).post(f"/api/invitations/{second}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client_for(newcomer).post(f"/api/invitations/{second}/accept/").status_code == 400
    assert not Membership.objects.filter(user=newcomer).exists()
    listed = client_for(archivist).get("/api/invitations/", {"film": film.pk}).json()["results"]
    assert {(row["id"], row["status"]) for row in listed} == {(first, "declined"), (second, "cancelled")}


def test_a_member_cannot_accept_their_way_into_a_second_role(film, archivist, member, client_for):
    viewer = member(film, "viewer")
    invitation = invite(client_for(archivist), film, viewer.username, role="archivist").json()["id"]
    response = client_for(viewer).post(f"/api/invitations/{invitation}/accept/")
    assert response.status_code == 400 and "already a member" in response.json()["detail"]
    assert Membership.objects.get(user=viewer).role == "viewer"
    assert Invitation.objects.get(pk=invitation).status == "pending"  # nothing half-written


# Pages ---------------------------------------------------------------------------------------


def test_the_invitations_page_accepts_and_declines(film, other_film, member, client):
    newcomer = UserFactory(username="newcomer")
    archivist = member(film, "archivist")
    to_film = invitation_create(film=film, invited_by=archivist, invitee="newcomer", role="restorer")
    to_other = invitation_create(film=other_film, invited_by=None, invitee="newcomer", role="viewer")
    client.force_login(newcomer)
    page = client.get("/invitations/")
    assert page.status_code == 200
    assert film.title.encode() in page.content and other_film.title.encode() in page.content

    response = client.post(f"/invitations/{to_film.pk}/accept/")
    assert response.status_code == 302 and response["Location"] == f"/films/{film.pk}/"
    assert Membership.objects.get(user=newcomer, film=film).role == "restorer"
    response = client.post(f"/invitations/{to_other.pk}/decline/")
    assert response.status_code == 302 and response["Location"] == "/invitations/"
    assert not Membership.objects.filter(user=newcomer, film=other_film).exists()
    assert b'id="invitation-list-empty"' in client.get("/invitations/").content
    assert client.post(f"/invitations/{to_other.pk}/accept/").status_code == 404  # answered already
    assert client.get(f"/invitations/{to_film.pk}/accept/").status_code == 405


def test_the_film_page_invites_for_archivists_only(film, member, client):
    archivist, viewer = member(film, "archivist"), member(film, "viewer")
    client.force_login(archivist)
    assert b'class="invite-form"' in client.get(f"/films/{film.pk}/").content
    response = client.post(f"/films/{film.pk}/invitations/", {"invitee": "nobody@example.org", "role": "creator"})
    assert response.status_code == 302 and response["Location"] == f"/films/{film.pk}/?invited=1"
    assert b'id="invite-sent"' in client.get(response["Location"]).content
    assert client.post(f"/films/{film.pk}/invitations/", {"invitee": "", "role": "creator"}).status_code == 400
    client.force_login(viewer)
    assert b'class="invite-form"' not in client.get(f"/films/{film.pk}/").content
    assert client.post(f"/films/{film.pk}/invitations/", {"invitee": "x", "role": "viewer"}).status_code == 403
    assert Invitation.objects.count() == 1
