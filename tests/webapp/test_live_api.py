"""Live sessions over REST and as pages: create, list, end, guest invitations and the join link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webapp.factories import InReviewVersionFactory, MembershipFactory, ShotFactory, ShotVersionFactory
from webapp.live import services
from webapp.live.models import GuestInvite, PlaylistItem, ReviewSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(film):
    shot = ShotFactory(film=film, number=1)
    return [InReviewVersionFactory(shot=shot, number=1), InReviewVersionFactory(shot=shot, number=2)]


@pytest.fixture
def session(film, film_members, versions):
    return services.session_create(film=film, created_by=film_members["restorer"], title="Dailies",
                                   versions=versions)


def test_a_member_opens_a_session_with_a_playlist_in_order(film, versions, member, client_for):
    creator = member(film, "creator")
    response = client_for(creator).post("/api/sessions/", {
        "film": film.pk, "title": "Colour pass", "versions": [versions[1].pk, versions[0].pk]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["playlist"] == [versions[1].pk, versions[0].pk]
    assert (body["host"], body["created_by"], body["active"]) == (creator.pk, creator.pk, True)
    assert body["url"] == f"/sessions/{body['id']}/"
    listed = client_for(creator).get(f"/api/sessions/?film={film.pk}&active=true").json()
    assert [s["id"] for s in listed["results"]] == [body["id"]]


def test_bad_session_bodies_are_refused_and_nothing_is_written(film, versions, other_film, member, client_for):
    client = client_for(member(film, "archivist"))
    foreign = InReviewVersionFactory(shot=ShotFactory(film=other_film, number=1))
    foreign_visible = InReviewVersionFactory(shot=ShotFactory(film=other_film, number=2))
    cases = [
        ({"film": film.pk, "title": "x", "versions": []}, "versions"),
        ({"film": film.pk, "title": "", "versions": [versions[0].pk]}, "title"),
        ({"film": film.pk, "title": "x", "versions": [foreign.pk]}, "versions"),  # not visible: "does not exist"
        ({"film": film.pk, "title": "x", "versions": [versions[0].pk, versions[0].pk]}, "versions"),
        ({"film": film.pk, "title": "x", "versions": [versions[0].pk], "host": 1}, "host"),
        ({"film": other_film.pk, "title": "x", "versions": [versions[0].pk]}, "film"),
    ]
    for body, field in cases:
        response = client.post("/api/sessions/", body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["fields"], response.json()
    # A member of both films still cannot mix their versions in one session.
    both = member(film, "archivist")
    MembershipFactory(user=both, film=other_film, role="viewer")
    response = client_for(both).post("/api/sessions/", {"film": film.pk, "title": "x",
                                                       "versions": [versions[0].pk, foreign_visible.pk]})
    assert response.status_code == 400 and "not of this film" in response.json()["detail"]
    assert ReviewSession.objects.count() == 0 and PlaylistItem.objects.count() == 0


def test_sessions_of_other_films_are_not_found(session, other_film, member, client_for, outsider):
    for user in (outsider, member(other_film, "archivist")):
        client = client_for(user)
        assert client.get(f"/api/sessions/{session.pk}/").status_code == 404
        assert client.post(f"/api/sessions/{session.pk}/end/").status_code == 404
        assert client.get("/api/sessions/").json()["results"] == []


def test_who_may_end_a_session_and_manage_guests(session, film_members, client_for):
    viewer = client_for(film_members["viewer"])
    for url in (f"/api/sessions/{session.pk}/end/", f"/api/sessions/{session.pk}/invites/"):
        response = viewer.post(url, {"display_name": "X"} if "invites" in url else None)
        assert response.status_code == 403 and "creator" in response.json()["detail"]
    archivist = client_for(film_members["archivist"])  # not the creator, but the film's archivist
    ended = archivist.post(f"/api/sessions/{session.pk}/end/")
    assert ended.status_code == 200 and ended.json()["active"] is False
    again = archivist.post(f"/api/sessions/{session.pk}/end/")
    assert again.status_code == 400 and "already ended" in again.json()["detail"]


def test_only_archivists_give_guest_links_unless_the_film_lets_hosts(film, versions, session, film_members,
                                                                      client_for):
    def invite(user, session_id):
        return client_for(user).post(f"/api/sessions/{session_id}/invites/", {"display_name": "Outsider",
                                                                             "expires_in_hours": 168})

    viewer, restorer = film_members["viewer"], film_members["restorer"]
    viewer_session = services.session_create(film=film, created_by=viewer, title="Mine", versions=versions)
    refused = invite(viewer, viewer_session.pk)  # a viewer hosting their own session
    assert refused.status_code == 403 and "A viewer hosts this session" in refused.json()["detail"]
    refused = invite(restorer, session.pk)  # the restorer hosts: hosts may not, by default
    assert refused.status_code == 403 and "does not let hosts" in refused.json()["detail"]
    assert GuestInvite.objects.count() == 0

    # Only an archivist turns the film's setting on.
    assert client_for(viewer).patch(f"/api/films/{film.pk}/", {"hosts_may_invite_guests": True}).status_code == 403
    response = client_for(film_members["archivist"]).patch(f"/api/films/{film.pk}/", {"hosts_may_invite_guests": True})
    assert response.status_code == 200 and response.json()["hosts_may_invite_guests"] is True
    assert invite(restorer, session.pk).status_code == 201  # the host, a restorer
    assert invite(viewer, viewer_session.pk).status_code == 403  # a viewer host, never
    creator_session = services.session_create(film=film, created_by=film_members["creator"], title="C",
                                              versions=versions)
    assert invite(restorer, creator_session.pk).status_code == 403  # not its host
    # Nobody invites guests into a session a viewer hosts, not even an archivist: take control first.
    refused = invite(film_members["archivist"], viewer_session.pk)
    assert refused.status_code == 403 and "A viewer hosts this session" in refused.json()["detail"]
    services.session_host_record(session_id=viewer_session.pk, host_id=film_members["archivist"].pk)
    assert invite(film_members["archivist"], viewer_session.pk).status_code == 201
    assert GuestInvite.objects.count() == 2


def test_the_session_page_offers_guest_links_only_to_who_may_give_them(film, versions, session, film_members, client):
    client.force_login(film_members["restorer"])  # the session's host
    assert b'id="live-invite"' not in client.get(f"/sessions/{session.pk}/").content
    client.force_login(film_members["archivist"])
    assert b'id="live-invite"' in client.get(f"/sessions/{session.pk}/").content


def test_guest_invites_show_the_link_once_and_store_only_a_hash(session, film_members, client_for):
    host = client_for(film_members["archivist"])
    response = host.post(f"/api/sessions/{session.pk}/invites/", {"display_name": "Ann Director",
                                                                  "expires_in_hours": 2})
    assert response.status_code == 201, response.content
    body = response.json()
    token = body["join_url"].rstrip("/").rsplit("/", 1)[1]
    invite = GuestInvite.objects.get(pk=body["id"])
    assert token not in invite.token_hash and len(invite.token_hash) == 64
    assert not invite.user.has_usable_password() and invite.user.memberships.count() == 0
    listed = host.get(f"/api/sessions/{session.pk}/invites/").json()
    assert [i["id"] for i in listed] == [invite.pk] and "join_url" not in listed[0] and listed[0]["active"]

    for bad in ({"display_name": ""}, {"display_name": "X", "expires_in_hours": 0},
                {"display_name": "X", "expires_in_hours": 10_000}, {"display_name": "X", "role": "archivist"}):
        assert host.post(f"/api/sessions/{session.pk}/invites/", bad).status_code == 400
    assert GuestInvite.objects.count() == 1

    revoked = host.post(f"/api/sessions/{session.pk}/invites/{invite.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert host.post(f"/api/sessions/{session.pk}/invites/{invite.pk + 99}/revoke/").status_code == 404


def test_the_join_link_logs_the_guest_into_this_session_only(session, film_members, client, versions):
    invite, token = services.guest_invite_create(session=session, created_by=film_members["archivist"],
                                                 display_name="Ann Director")
    page = client.get(f"/sessions/join/{token}/")
    assert page.status_code == 200 and b"Join as Ann Director" in page.content
    assert "_auth_user_id" not in client.session  # looking at the link signs nobody in

    joined = client.post(f"/sessions/join/{token}/")
    assert joined.status_code == 302 and joined["Location"] == f"/sessions/{session.pk}/"
    assert client.get(f"/sessions/{session.pk}/").status_code == 200
    # The guest is nobody anywhere else.
    other = services.session_create(film=session.film, created_by=film_members["archivist"], title="Other",
                                    versions=versions[:1])
    assert client.get(f"/sessions/{other.pk}/").status_code == 404
    assert client.get(f"/api/films/{session.film_id}/").status_code == 404
    assert client.get("/api/sessions/").json()["results"] == []


@pytest.mark.parametrize("how, status, words", [
    ("revoked", 403, b"withdrawn"), ("expired", 410, b"expired"), ("ended", 410, b"has ended"),
])
def test_dead_join_links_get_a_clear_page(session, film_members, client, how, status, words):
    invite, token = services.guest_invite_create(session=session, created_by=film_members["archivist"],
                                                 display_name="Guest")
    if how == "revoked":
        services.guest_invite_revoke(invite=invite)
    elif how == "expired":
        GuestInvite.objects.filter(pk=invite.pk).update(created_at=timezone.now() - timedelta(hours=3),
                                                        expires_at=timezone.now() - timedelta(hours=1))
    else:
        services.session_end(session=session, ended_by=film_members["restorer"])
    for method in (client.get, client.post):
        response = method(f"/sessions/join/{token}/")
        assert response.status_code == status and words in response.content
    assert "_auth_user_id" not in client.session
    client.force_login(invite.user)  # a guest already in when the link stopped working
    response = client.get(f"/sessions/{session.pk}/")
    assert response.status_code == status and words in response.content
    client.logout()
    assert client.get("/sessions/join/not-a-token/").status_code == 404


def test_session_page_for_members_and_not_for_others(session, film_members, client, other_film, member):
    client.force_login(film_members["viewer"])
    page = client.get(f"/sessions/{session.pk}/")
    assert page.status_code == 200 and b'id="live-session"' in page.content
    assert b"live-invite" not in page.content  # a viewer does not manage the session
    assert client.get("/sessions/").status_code == 200
    client.force_login(member(other_film, "archivist"))
    assert client.get(f"/sessions/{session.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/sessions/{session.pk}/").status_code == 302  # to the login page


def test_the_sessions_page_opens_a_session_on_the_films_versions_in_review(film, versions, member, client,
                                                                           other_film):
    ShotVersionFactory(shot=versions[0].shot, number=3)  # a draft: not in the playlist
    client.force_login(member(film, "creator"))
    response = client.post("/sessions/", {"film": film.pk, "title": "Colour pass"})
    session = ReviewSession.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sessions/{session.pk}/"
    assert list(session.items.values_list("version_id", flat=True)) == [v.pk for v in versions]

    for body, words in (({"film": other_film.pk, "title": "x"}, b"Choose one of your films"),
                        ({"film": film.pk, "title": " "}, b"needs a title")):
        response = client.post("/sessions/", body)
        assert response.status_code == 400 and words in response.content
    empty = member(other_film, "archivist")
    client.force_login(empty)
    response = client.post("/sessions/", {"film": other_film.pk, "title": "x"})
    assert response.status_code == 400 and b"no versions in review" in response.content
    assert ReviewSession.objects.count() == 1


def test_the_admin_lists_sessions_and_invites(session, film_members, client, staff_user):
    invite, _ = services.guest_invite_create(session=session, created_by=film_members["archivist"],
                                             display_name="Guest")
    client.force_login(staff_user)
    for name, obj in (("reviewsession", session), ("guestinvite", invite)):
        assert client.get(f"/admin/live/{name}/").status_code == 200
        assert client.get(f"/admin/live/{name}/{obj.pk}/change/").status_code == 200
