"""Decisions in a live review session: the film's archivists and creators approve, request changes
or reject the version on screen from the session page, through the review app's API and service
(POST /api/decisions/, decision_record) as on the shot page, and everyone in the session, guests
included, hears it on the session's shot socket. Guests and members without a deciding role are
refused; a guest hears only what moved a playlist version, never who decided or their note."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.exceptions import PermissionDenied

from tests.webapp import live_fixtures
from webapp.catalogue.models import ShotVersion, VersionStatus
from webapp.config.routing import websocket_urlpatterns
from webapp.live import services as live_services
from webapp.review import services as review_services
from webapp.review.models import Decision

application = URLRouter(websocket_urlpatterns)


scene = live_fixtures.scene


# --- the page and the API it uses ------------------------------------------------------------------


def test_members_get_the_decisions_panel_guests_the_status_and_the_note(scene, client):
    for member in (scene.host, scene.creator, scene.restorer):
        client.force_login(member)
        page = client.get(f"/sessions/{scene.session.pk}/").content.decode()
        assert 'id="live-decisions"' in page and 'id="live-item-status"' in page
        assert "live-guest-note" not in page
    client.force_login(scene.guest)
    page = client.get(f"/sessions/{scene.session.pk}/").content.decode()
    assert 'id="live-decisions"' not in page and 'id="live-item-status"' in page
    assert "Approving or rejecting versions stays with" in page


def test_the_panel_says_who_may_decide_on_the_version_on_screen(scene, client_for):
    summary = lambda user: client_for(user).get("/api/decisions/summary/", {"version": scene.v1.pk})  # noqa: E731
    for decider in (scene.host, scene.creator):
        body = summary(decider).json()
        assert (body["can_decide"], body["status"], body["required_roles"]) == (True, "in_review",
                                                                                 ["archivist", "creator"])
    for member in (scene.restorer, scene.viewer):
        body = summary(member).json()
        assert body["can_decide"] is False and "Only archivists and creators decide" in body["reason"]
    # Nothing of the decision record for a guest, or for another film's version.
    assert summary(scene.guest).status_code == 404
    assert client_for(scene.host).get("/api/decisions/summary/", {"version": scene.foreign.pk}).status_code == 404
    assert client_for(scene.guest).get("/api/decisions/", {"version": scene.v1.pk}).json()["results"] == []


def test_deciders_in_the_session_approve_the_version_on_screen_together(scene, session_client_for):
    """The live page's path: a logged-in browser (session cookie, CSRF token) posting to the API."""
    creator, host = session_client_for(scene.creator), session_client_for(scene.host)
    csrf = lambda c: {"HTTP_X_CSRFTOKEN": c.get(f"/sessions/{scene.session.pk}/").cookies["csrftoken"].value}  # noqa: E731
    answer = creator.post("/api/decisions/", {"version": scene.v1.pk, "verdict": "approve"}, format="json",
                          **csrf(creator))
    assert answer.status_code == 201, answer.content
    scene.v1.refresh_from_db()
    assert scene.v1.status == VersionStatus.IN_REVIEW  # the archivist's approval is still needed
    answer = host.post("/api/decisions/", {"version": scene.v1.pk, "verdict": "approve", "note": "Agreed on the spot"},
                       format="json", **csrf(host))
    assert answer.status_code == 201 and answer.json()["role"] == "archivist"
    scene.v1.refresh_from_db()
    scene.v1.shot.refresh_from_db()
    assert scene.v1.status == VersionStatus.APPROVED and scene.v1.shot.approved_version_id == scene.v1.pk


@pytest.mark.parametrize("role", ["restorer", "viewer"])
def test_a_member_without_a_deciding_role_is_refused(scene, client_for, role):
    member = getattr(scene, role)
    answer = client_for(member).post("/api/decisions/", {"version": scene.v1.pk, "verdict": "approve"})
    assert answer.status_code == 403 and f"({role}) does not allow deciding" in answer.json()["detail"]
    with pytest.raises(PermissionDenied):
        review_services.decision_record(version=scene.v1, reviewer=member, verdict="approve")
    assert not Decision.objects.exists()


def test_a_guest_is_refused_on_the_version_on_screen(scene, client_for, client):
    """Through the API with their session cookie (the page has no controls for them), and the service."""
    client.force_login(scene.guest)
    answer = client.post("/api/decisions/", {"version": scene.v1.pk, "verdict": "approve"},
                         content_type="application/json")
    assert answer.status_code == 400 and "version" in answer.json()["fields"]  # a version they cannot decide on
    answer = client_for(scene.guest).post("/api/decisions/", {"version": scene.v1.pk, "verdict": "reject"})
    assert answer.status_code == 400 and "does not exist" in answer.json()["detail"]
    with pytest.raises(PermissionDenied):
        review_services.decision_record(version=scene.v1, reviewer=scene.guest, verdict="approve")
    assert not Decision.objects.exists()
    scene.v1.refresh_from_db()
    assert scene.v1.status == VersionStatus.IN_REVIEW


def test_another_films_version_is_refused_like_one_that_does_not_exist(scene, client_for):
    answer = client_for(scene.host).post("/api/decisions/", {"version": scene.foreign.pk, "verdict": "approve"})
    assert answer.status_code == 400 and "does not exist" in answer.json()["detail"]
    assert not Decision.objects.exists()


# --- live: the session's shot socket ------------------------------------------------------------------

sockets = live_fixtures.sockets
live_scene = live_fixtures.live_scene


async def connect(path: str, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path)
    communicator.scope["user"] = user
    ok, code = await communicator.connect()
    assert ok, (path, code)
    return communicator


async def join_shot(scene: live_fixtures.Scene, user, shot_id: int) -> tuple[WebsocketCommunicator, dict]:
    """The live page's shot socket, and its first message (the playlist versions' statuses)."""
    communicator = await connect(scene.shot_socket(shot_id), user)
    return communicator, await communicator.receive_json_from()


def post_decision(user, version, verdict: str, note: str = ""):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=user)
    answer = client.post("/api/decisions/", {"version": version.pk, "verdict": verdict, "note": note}, format="json")
    return answer.status_code, answer.json()


@sockets
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_decision_on_the_version_on_screen_reaches_everyone_in_the_session(live_scene):
    scene = live_scene
    shot_id = scene.v1.shot_id
    host, welcome = await join_shot(scene, scene.host, shot_id)
    assert welcome == {"type": "playlist.versions", "shot": shot_id,
                       "versions": [{"version": scene.v1.pk, "number": 1, "status": "in_review"}]}
    creator, _ = await join_shot(scene, scene.creator, shot_id)
    guest, guest_welcome = await join_shot(scene, scene.guest, shot_id)
    assert guest_welcome == welcome  # the playlist's versions only, for members and guests alike
    on_shot_page = await connect(f"/ws/shots/{shot_id}/", scene.restorer)

    # The creator asks for changes from the session page: everyone on the shot hears it at once.
    status, body = await sync_to_async(post_decision)(scene.creator, scene.v1, "changes_requested", "Sky too cyan")
    assert status == 201, body
    for member in (host, creator, on_shot_page):
        event = await member.receive_json_from()
        assert event["type"] == "decision.recorded"
        assert (event["decision"]["id"], event["decision"]["note"], event["decision"]["reviewer"]) == (
            body["id"], "Sky too cyan", scene.creator.pk)
        assert event["version_status"] == "changes_requested" and "shot_status" in event
    # The guest hears what moved the version, not who decided nor the note.
    assert await guest.receive_json_from() == {
        "type": "decision.recorded", "version_status": "changes_requested",
        "decision": {"version": scene.v1.pk, "verdict": "changes_requested", "role": "creator",
                     "created_at": body["created_at"]},
    }

    # Both deciding roles approve: the version turns approved for everyone, the guest included.
    for decider in (scene.creator, scene.host):
        status, body = await sync_to_async(post_decision)(decider, scene.v1, "approve")
        assert status == 201, body
        for listener in (host, creator, guest, on_shot_page):
            event = await listener.receive_json_from()
            assert event["decision"]["verdict"] == "approve"
    assert event["version_status"] == "approved"
    assert await sync_to_async(lambda: ShotVersion.objects.get(pk=scene.v1.pk).status)() == "approved"
    for communicator in (host, creator, guest, on_shot_page):
        await communicator.disconnect()

    # Whoever joins later (or reconnects) gets the new status in the first message.
    late_guest, welcome = await join_shot(scene, scene.guest, shot_id)
    assert welcome["versions"] == [{"version": scene.v1.pk, "number": 1, "status": "approved"}]
    await late_guest.disconnect()


@sockets
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_guest_hears_of_decisions_on_the_playlists_versions_only(live_scene):
    scene = live_scene
    shot_id = scene.v1.shot_id
    host, _ = await join_shot(scene, scene.host, shot_id)
    guest, _ = await join_shot(scene, scene.guest, shot_id)

    # A decision on the shot's other version (not in the playlist), made elsewhere (a script).
    await sync_to_async(review_services.decision_record)(version=scene.v2, reviewer=scene.host, verdict="reject",
                                                         note="Not this one")
    event = await host.receive_json_from()
    assert (event["decision"]["version"], event["version_status"]) == (scene.v2.pk, "rejected")
    assert await guest.receive_nothing(timeout=0.2)

    # The guest cannot decide over the socket either: it takes comments only.
    await guest.send_json_to({"type": "decision.create", "request": "d1", "version": scene.v1.pk,
                              "verdict": "approve"})
    error = await guest.receive_json_from()
    assert (error["type"], error["code"], error["request"]) == ("error", "unknown_type", "d1")
    assert await sync_to_async(Decision.objects.filter(reviewer=scene.guest).exists)() is False

    # Once the invitation is revoked, the next decision on the shot closes the guest's socket.
    await sync_to_async(live_services.guest_invite_revoke)(invite=scene.invite)
    await sync_to_async(review_services.decision_record)(version=scene.v1, reviewer=scene.host, verdict="approve")
    assert (await host.receive_json_from())["decision"]["version"] == scene.v1.pk
    assert (await guest.receive_output())["type"] == "websocket.close"
    await host.disconnect()
