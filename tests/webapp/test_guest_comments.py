"""Guests of a live session comment (frames, ranges, drawings, replies) on the versions of its
playlist, through the same API, socket and service as members, and nothing else: no other shot or
film, no decisions, no resolving or editing others' comments, nothing once the invitation ends.
Their comments name them "<name> (guest)" in the API, the live events, exports and notifications."""

from __future__ import annotations

import csv
import io
import json

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.exceptions import PermissionDenied

from tests.webapp import live_fixtures
from tests.webapp.factories import (
    CommentFactory,
    UserFactory,
)
from tests.webapp.socket_helpers import closed_with, refused_with
from webapp.catalogue import access
from webapp.config.routing import websocket_urlpatterns
from webapp.notifications.models import Notification
from webapp.review import services as review_services
from webapp.review.models import Comment, Decision

application = URLRouter(websocket_urlpatterns)
DRAWING = [{"type": "rect", "x": 0.1, "y": 0.2, "w": 0.3, "h": 0.2, "colour": "#ffcc00"},
           {"type": "arrow", "from": [0.8, 0.8], "to": [0.5, 0.4]}]


scene = live_fixtures.scene


def test_a_guest_comments_on_a_playlist_version_with_a_range_a_drawing_and_a_reply(scene, client_for):
    guest = client_for(scene.guest)
    response = guest.post("/api/comments/", {"version": scene.v1.pk, "frame": 4, "frame_end": 12,
                                             "text": "Too much magenta in the sky", "drawing": DRAWING}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["author"], body["author_name"], body["author_is_guest"]) == (scene.guest.pk, "Ana Ruiz (guest)", True)
    assert (body["frame"], body["frame_end"], body["drawing"]) == (4, 12, DRAWING)

    members_note = CommentFactory(version=scene.s2v1, author=scene.restorer, frame=2)
    reply = guest.post("/api/comments/", {"version": scene.s2v1.pk, "frame": 2, "text": "Yes, warmer",
                                          "reply_to": members_note.pk})
    assert reply.status_code == 201 and reply.json()["reply_to"] == members_note.pk
    # Members see the guest's name marked the same way.
    listed = client_for(scene.host).get("/api/comments/", {"shot": scene.v1.shot_id}).json()["results"]
    assert [(c["author_name"], c["author_is_guest"]) for c in listed] == [("Ana Ruiz (guest)", True)]
    mine = client_for(scene.restorer).get(f"/api/comments/{members_note.pk}/").json()
    assert (mine["author_name"], mine["author_is_guest"]) == (scene.restorer.username, False)


def test_a_guest_sees_the_comments_of_the_playlist_versions_only(scene, client_for):
    seen = [CommentFactory(version=scene.v1), CommentFactory(version=scene.s2v1)]
    unseen = [CommentFactory(version=v) for v in (scene.v2, scene.outside, scene.foreign)]
    guest = client_for(scene.guest)
    listed = guest.get("/api/comments/", {"page_size": 100}).json()["results"]
    assert sorted(c["id"] for c in listed) == sorted(c.pk for c in seen)
    for comment in unseen:
        assert guest.get(f"/api/comments/{comment.pk}/").status_code == 404
    # Nothing else of the film exists for them.
    for url in (f"/api/films/{scene.film.pk}/", f"/api/versions/{scene.v1.pk}/", f"/api/shots/{scene.v1.shot_id}/"):
        assert guest.get(url).status_code == 404
    assert guest.get("/api/versions/").json()["results"] == []


@pytest.mark.parametrize("target", ["v2", "outside", "foreign"])
def test_a_guest_cannot_comment_outside_the_playlist(scene, client_for, target):
    """Another version of a playlist shot, a shot outside the playlist, another film: the id reads
    as one that does not exist (400 naming the field, the API's answer for any id you cannot see)."""
    version = getattr(scene, target)
    response = client_for(scene.guest).post("/api/comments/", {"version": version.pk, "frame": 1, "text": "x"})
    assert response.status_code == 400
    assert "version" in response.json()["fields"] and "does not exist" in response.json()["detail"]
    with pytest.raises(PermissionDenied):  # the service refuses too, whoever calls it
        review_services.comment_create(version=version, author=scene.guest, frame=1, text="x")
    assert not Comment.objects.exists()


def test_a_guest_cannot_decide(scene, client_for):
    guest = client_for(scene.guest)
    response = guest.post("/api/decisions/", {"version": scene.v1.pk, "verdict": "approve"})
    assert response.status_code == 400 and "version" in response.json()["fields"]
    assert guest.get("/api/decisions/summary/", {"version": scene.v1.pk}).status_code == 404
    with pytest.raises(PermissionDenied):
        review_services.decision_record(version=scene.v1, reviewer=scene.guest, verdict="approve")
    assert not Decision.objects.exists()


def test_a_guest_edits_and_resolves_only_their_own_comments(scene, client_for):
    guest = client_for(scene.guest)
    others = CommentFactory(version=scene.v1, author=scene.creator, text="Grain is fine")
    for body in ({"resolved": True}, {"text": "Grain is awful"}):
        response = guest.patch(f"/api/comments/{others.pk}/", body)
        assert response.status_code == 403 and "author" in response.json()["detail"], response.content
    others.refresh_from_db()
    assert (others.resolved, others.text) == (False, "Grain is fine")

    own = guest.post("/api/comments/", {"version": scene.v1.pk, "frame": 3, "text": "Flicker"}).json()
    assert guest.patch(f"/api/comments/{own['id']}/", {"text": "Flicker at 3"}).json()["text"] == "Flicker at 3"
    assert guest.patch(f"/api/comments/{own['id']}/", {"resolved": True}).json()["resolved"] is True
    # The film's archivist resolves the guest's comment like anyone's.
    assert client_for(scene.host).patch(f"/api/comments/{own['id']}/", {"resolved": False}).status_code == 200


@pytest.mark.parametrize("how", ["expired", "revoked", "ended"])
def test_once_the_invitation_ends_a_guest_can_do_nothing(scene, client_for, how):
    own = review_services.comment_create(version=scene.v1, author=scene.guest, frame=0, text="Before")
    scene.end_invitation(how)
    guest = client_for(scene.guest)
    response = guest.post("/api/comments/", {"version": scene.v1.pk, "frame": 1, "text": "After"})
    assert response.status_code == 400 and "does not exist" in response.json()["detail"]
    assert guest.patch(f"/api/comments/{own.pk}/", {"text": "Changed"}).status_code == 404
    assert guest.get("/api/comments/").json()["results"] == []
    with pytest.raises(PermissionDenied):
        review_services.comment_create(version=scene.v1, author=scene.guest, frame=1, text="After")
    with pytest.raises(PermissionDenied):
        review_services.comment_update(comment=own, editor=scene.guest, resolved=True)
    assert Comment.objects.get().text == "Before"
    # Members still see (and export) what the guest wrote.
    assert client_for(scene.host).get(f"/api/comments/{own.pk}/").json()["author_name"] == "Ana Ruiz (guest)"


def test_access_rules_for_guests(scene):
    assert set(access.guest_versions(user=scene.guest)) == {scene.v1, scene.s2v1}
    assert access.can_comment(user=scene.guest, version=scene.v1)
    assert not access.can_comment(user=scene.guest, version=scene.v2)
    assert access.can_comment(user=scene.restorer, version=scene.v2)  # members: every version of their film
    assert access.can_comment_on_shot(user=scene.guest, film_id=scene.film.pk, shot_id=scene.v1.shot_id)
    assert not access.can_comment_on_shot(user=scene.guest, film_id=scene.film.pk, shot_id=scene.outside.shot_id)
    assert not access.guest_versions(user=scene.host).exists()
    assert not access.can(user=scene.guest, film_id=scene.film.pk, action=access.Action.VIEW)
    assert access.person_label(scene.guest) == "Ana Ruiz (guest)"
    assert access.person_label(scene.host) == scene.host.username
    scene.expire()
    assert not access.guest_versions(user=scene.guest).exists()
    assert not access.can_comment(user=scene.guest, version=scene.v1)


def test_exports_and_notifications_name_the_guest(scene, client_for):
    parent = review_services.comment_create(version=scene.v1, author=scene.restorer, frame=5, text="Dust removed")
    guest = client_for(scene.guest)
    guest.post("/api/comments/", {"version": scene.v1.pk, "frame": 5, "text": "Thanks", "reply_to": parent.pk})
    guest.post("/api/comments/", {"version": scene.v1.pk, "frame": 9, "text": f"@{scene.creator.username} look here"})
    texts = {n.recipient_id: n.text for n in Notification.objects.all()}
    assert texts[scene.restorer.pk].startswith("Ana Ruiz (guest) replied to your comment")
    assert texts[scene.creator.pk].startswith("Ana Ruiz (guest) mentioned you")

    exported = client_for(scene.host).get("/api/comments/export/", {"shot": scene.v1.shot_id})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [row["author"] for row in rows] == [scene.restorer.username, "Ana Ruiz (guest)", "Ana Ruiz (guest)"]
    pdf = client_for(scene.host).get("/api/comments/export/", {"shot": scene.v1.shot_id, "as": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # A guest exports nothing: the shot is not theirs to export.
    assert guest.get("/api/comments/export/", {"shot": scene.v1.shot_id}).status_code == 404


def test_the_guest_session_page_has_the_comment_box_and_says_who_decides(scene, client):
    client.force_login(scene.guest)
    page = client.get(f"/sessions/{scene.session.pk}/").content.decode()
    assert 'id="live-comments"' in page and 'data-guest="true"' in page
    assert "Approving or rejecting versions stays with" in page
    # the top bar names the guest as invited, with no catalogue, jobs or notifications to go to
    assert '<span class="user">Ana Ruiz (guest)</span>' in page and scene.guest.username not in page
    assert 'class="topnav"' not in page and 'id="notifications-bell"' not in page
    client.force_login(scene.host)
    page = client.get(f"/sessions/{scene.session.pk}/").content.decode()
    assert 'id="live-comments"' in page and 'data-film-role="archivist"' in page and "live-guest-note" not in page
    assert f'<span class="user">{scene.host.username}</span>' in page
    assert 'class="topnav"' in page and 'id="notifications-bell"' in page


def test_listing_guests_comments_costs_no_query_per_row(scene, client_for, django_assert_max_num_queries):
    for frame in range(30):
        review_services.comment_create(version=scene.v1, author=scene.guest, frame=frame, text="note")
    for user in (scene.guest, scene.host):
        with django_assert_max_num_queries(4):
            rows = client_for(user).get("/api/comments/", {"page_size": 100}).json()["results"]
        assert len(rows) == 30 and {row["author_name"] for row in rows} == {"Ana Ruiz (guest)"}


# --- sockets ---------------------------------------------------------------------------------------

sockets = live_fixtures.sockets
live_scene = live_fixtures.live_scene


async def connect(path: str, user) -> tuple[bool, int | None, WebsocketCommunicator]:
    """(True, None, socket) once let in, (False, close code, socket) when refused (accepted, then
    closed with the code at once)."""
    communicator = WebsocketCommunicator(application, path)
    communicator.scope["user"] = user
    ok, _ = await communicator.connect()
    assert ok, "refused in the handshake"
    if path.startswith("/ws/sessions/"):  # the session's shot socket first sends its versions' statuses
        first = await communicator.receive_output()
        if first["type"] == "websocket.close":
            return False, first["code"], communicator
        assert json.loads(first["text"])["type"] == "playlist.versions"
    return True, None, communicator


async def comment_events(communicator: WebsocketCommunicator, count: int) -> list[dict]:
    return [await communicator.receive_json_from() for _ in range(count)]


@sockets
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_guests_comment_over_the_session_socket_reaches_everyone_on_the_shot(live_scene):
    scene = live_scene
    shot_id = scene.v1.shot_id
    ok, code, guest = await connect(scene.shot_socket(shot_id), scene.guest)
    assert ok, code
    _, _, host_in_session = await connect(scene.shot_socket(shot_id), scene.host)
    _, _, member_on_shot_page = await connect(f"/ws/shots/{shot_id}/", scene.restorer)

    await guest.send_json_to({"type": "comment.create", "request": "g1", "version": scene.v1.pk, "frame": 6,
                              "frame_end": 9, "text": "Gate weave here", "drawing": DRAWING})
    for listener in (host_in_session, member_on_shot_page):
        event = await listener.receive_json_from()
        assert event["type"] == "comment.created"
        assert (event["comment"]["author_name"], event["comment"]["drawing"]) == ("Ana Ruiz (guest)", DRAWING)
    replies = {message["type"]: message for message in await comment_events(guest, 2)}
    assert replies["comment.accepted"]["request"] == "g1"
    assert replies["comment.created"]["comment"]["frame_end"] == 9

    # A comment on another version of this shot (not in the playlist) is not for the guest's eyes.
    await sync_to_async(review_services.comment_create)(version=scene.v2, author=scene.host, frame=1, text="v2 only")
    assert (await host_in_session.receive_json_from())["comment"]["text"] == "v2 only"
    assert await guest.receive_nothing(timeout=0.2)
    # Nor may they write on it, or on another shot's version, over this socket.
    for version in (scene.v2, scene.s2v1, scene.foreign):
        await guest.send_json_to({"type": "comment.create", "request": "x", "version": version.pk, "frame": 1,
                                  "text": "x"})
        error = await guest.receive_json_from()
        assert (error["type"], error["code"]) == ("error", "invalid") and "version" in error["fields"], error
    assert await sync_to_async(Comment.objects.filter(author=scene.guest).count)() == 1
    for communicator in (guest, host_in_session, member_on_shot_page):
        await communicator.disconnect()


@sockets
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_session_shot_socket_admits_participants_for_playlist_shots_only(live_scene):
    scene = live_scene
    outsider = await sync_to_async(UserFactory)()
    outside_shot = scene.outside.shot_id
    foreign_shot = await sync_to_async(lambda: scene.foreign.shot_id)()
    refused = [
        (scene.shot_socket(outside_shot), scene.guest, 4404),  # a shot of the film outside the playlist
        (scene.shot_socket(foreign_shot), scene.guest, 4404),  # another film's shot
        (scene.shot_socket(scene.v1.shot_id), outsider, 4404),  # no member, no guest
        (f"/ws/shots/{scene.v1.shot_id}/", scene.guest, 4404),  # the shot page's socket is for members
        (scene.shot_socket(outside_shot), scene.host, 4404),  # members too: this socket serves the playlist
    ]
    for path, user, expected in refused:
        communicator = WebsocketCommunicator(application, path)
        communicator.scope["user"] = user
        assert await refused_with(communicator) == expected, path
    ok, _, member = await connect(scene.shot_socket(scene.s2v1.shot_id), scene.creator)
    assert ok
    await member.disconnect()


@sockets
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how, close_code", [("expired", 4403), ("revoked", 4403), ("ended", 4410)])
async def test_a_guest_whose_invitation_ends_is_refused_and_cut_off(live_scene, how, close_code):
    scene = live_scene
    ok, _, guest = await connect(scene.shot_socket(scene.v1.shot_id), scene.guest)
    assert ok
    await sync_to_async(scene.end_invitation)(how)

    if how == "expired":  # nothing tells the socket: the guest's next comment finds out, and closes it
        await guest.send_json_to({"type": "comment.create", "request": "late", "version": scene.v1.pk, "frame": 1,
                                  "text": "too late"})
        error = await guest.receive_json_from()
        assert (error["code"], error["request"]) == ("forbidden", "late")
    # Revoking the invitation or ending the session closes the socket at once.
    assert await closed_with(guest) == close_code
    ok, code, _ = await connect(scene.shot_socket(scene.v1.shot_id), scene.guest)
    assert (ok, code) == (False, close_code)
    assert await sync_to_async(Comment.objects.filter(author=scene.guest).count)() == 0


def test_a_guest_edits_their_comment_but_the_history_is_for_members(scene, client_for):
    guest = client_for(scene.guest)
    comment = guest.post("/api/comments/", {"version": scene.v1.pk, "frame": 1, "text": "Too dark"}).json()
    assert guest.patch(f"/api/comments/{comment['id']}/", {"text": "Too dark, warmer"}).status_code == 200
    assert guest.get(f"/api/comments/{comment['id']}/history/").status_code == 404
    history = client_for(scene.restorer).get(f"/api/comments/{comment['id']}/history/").json()
    assert [(r["previous_text"], r["editor_name"]) for r in history] == [("Too dark", "Ana Ruiz (guest)")]
