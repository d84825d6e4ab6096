"""Open sockets keep checking their user's access (webapp/realtime/sockets.py, access.py).

- A member removed from the film: every socket of theirs on that film closes at once with 4404
  (final for the browser client); their other sockets and everyone else's stay.
- A role change that still lets them view keeps the sockets open.
- A guest's invitation revoked (4403), a live session ended (4410): the session's shot and frame
  sockets close at once, as the session socket does.
- A logout closes the sockets of that login (4401), not those of the user's other logins.
- Without any event (one lost with Redis, a change made behind the services' back): a message or
  a relayed event re-reads access once the cached answer is older than ``access_recheck_ns``
  (an injected clock, no waiting), a ``realtime.resync`` re-reads it at once, and a comment (a
  write) re-reads it every time.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client

from tests.webapp import live_fixtures
from tests.webapp.factories import RestorationJobFactory
from tests.webapp.socket_helpers import close_code_after
from webapp.catalogue import services as catalogue_services
from webapp.catalogue.models import Membership
from webapp.config.routing import websocket_urlpatterns
from webapp.realtime import GroupConsumer, film_group, session_group, shot_group, user_group
from webapp.realtime.layers import RESYNC_EVENT
from webapp.realtime.rate import NANOS_PER_SECOND
from webapp.review.models import Comment

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), live_fixtures.sockets]

application = URLRouter(websocket_urlpatterns)
live_scene = live_fixtures.live_scene

# The first message of the sockets that send one on connect.
WELCOMES = {"films": "film.subscribed", "jobs": "job.state", "sessions": "session.state",
            "session-shots": "playlist.versions", "notifications": "notifications.state"}


class FakeClock:
    """The sockets' clock (integer nanoseconds), moved by the test."""

    def __init__(self):
        self.now = 1_000 * NANOS_PER_SECOND

    def __call__(self) -> int:
        return self.now

    def advance_past_access_recheck(self) -> None:
        self.now += GroupConsumer.access_recheck_ns + NANOS_PER_SECOND


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(GroupConsumer, "clock", staticmethod(fake))
    return fake


def paths(scene, job_id: int | None = None) -> dict[str, str]:
    shot_id, session_id = scene.v1.shot_id, scene.session.pk
    found = {
        "films": f"/ws/films/{scene.film.pk}/",
        "shots": f"/ws/shots/{shot_id}/",
        "frames": f"/ws/shots/{shot_id}/frames/",
        "sessions": f"/ws/sessions/{session_id}/",
        "session-shots": f"/ws/sessions/{session_id}/shots/{shot_id}/",
        "session-frames": f"/ws/sessions/{session_id}/frames/{shot_id}/",
        "notifications": "/ws/notifications/",
    }
    if job_id is not None:
        found["jobs"] = f"/ws/jobs/{job_id}/"
    return found


async def opened(path: str, user, kind: str, session_key: str | None = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path)
    communicator.scope["user"] = user
    if session_key is not None:
        communicator.scope["session"] = SessionStore(session_key)
    connected, code = await communicator.connect()
    assert connected, (path, code)
    if kind in WELCOMES:
        assert (await communicator.receive_json_from())["type"] == WELCOMES[kind], path
    return communicator


async def still_open(communicator: WebsocketCommunicator, group: str, kind: str = "shot.status") -> None:
    """The socket relays an event (of type ``kind``, which it relays) of its group: it was not closed."""
    await get_channel_layer().group_send(group, {"type": kind, "probe": group})
    assert (await communicator.receive_json_from(timeout=5)) == {"type": kind, "probe": group}


async def film_moved_silently(scene) -> None:
    """The viewer's membership moves to another film behind the services' back: no signal, no event
    (as if the event were lost)."""
    other_film = await sync_to_async(lambda: scene.foreign.shot.film)()
    await sync_to_async(Membership.objects.filter(film=scene.film, user=scene.viewer).update)(film=other_film)


async def test_a_member_removed_from_the_film_is_cut_off_at_once(live_scene):
    scene = live_scene
    job = await sync_to_async(RestorationJobFactory)(film=scene.film)
    sockets = {kind: await opened(path, scene.viewer, kind) for kind, path in paths(scene, job.pk).items()}
    bystander = await opened(f"/ws/films/{scene.film.pk}/", scene.restorer, "films")

    membership = await sync_to_async(Membership.objects.get)(film=scene.film, user=scene.viewer)
    await sync_to_async(catalogue_services.membership_delete)(membership=membership)

    notifications = sockets.pop("notifications")  # the user's own, about no film
    for kind, communicator in sockets.items():
        # Not a member any more: the film is as absent as one that does not exist (final for clients).
        assert await close_code_after(communicator) == 4404, kind
    await still_open(notifications, user_group(scene.viewer.pk), "notification.read")
    await still_open(bystander, film_group(scene.film.pk))
    for communicator in (notifications, bystander):
        await communicator.disconnect()


async def test_a_role_change_that_still_lets_them_view_keeps_the_sockets_open(live_scene):
    scene = live_scene
    film_socket = await opened(f"/ws/films/{scene.film.pk}/", scene.viewer, "films")
    shot_socket = await opened(f"/ws/shots/{scene.v1.shot_id}/", scene.viewer, "shots")
    membership = await sync_to_async(Membership.objects.get)(film=scene.film, user=scene.viewer)
    await sync_to_async(catalogue_services.membership_update)(membership=membership, role="creator")
    await still_open(film_socket, film_group(scene.film.pk))
    await still_open(shot_socket, shot_group(scene.v1.shot_id), "comment.updated")
    for communicator in (film_socket, shot_socket):
        await communicator.disconnect()


@pytest.mark.parametrize("how, code", [("revoked", 4403), ("ended", 4410)])
async def test_a_revoked_guest_and_an_ended_session_close_the_sessions_shot_and_frame_sockets(live_scene, how, code):
    scene = live_scene
    shot_id, session_id = scene.v1.shot_id, scene.session.pk
    guest_sockets = [await opened(f"/ws/sessions/{session_id}/shots/{shot_id}/", scene.guest, "session-shots"),
                     await opened(f"/ws/sessions/{session_id}/frames/{shot_id}/", scene.guest, "session-frames")]
    member_frames = await opened(f"/ws/sessions/{session_id}/frames/{shot_id}/", scene.viewer, "session-frames")

    await sync_to_async(scene.end_invitation)(how)

    for communicator in guest_sockets:
        assert await close_code_after(communicator) == code
    if how == "ended":  # everyone's: the session is over
        assert await close_code_after(member_frames) == 4410
    else:  # the guest's only
        await member_frames.send_json_to({"type": "frames", "request": 1, "source": "v9", "start": 0, "count": 1,
                                          "height": 240})
        assert (await member_frames.receive_json_from())["code"] == "unknown_source"
    await member_frames.disconnect()


async def test_logging_out_closes_the_sockets_of_that_login_only(live_scene):
    scene = live_scene
    this_browser, other_browser = Client(), Client()
    await sync_to_async(this_browser.force_login)(scene.viewer)
    await sync_to_async(other_browser.force_login)(scene.viewer)
    film_path, frames_path = f"/ws/films/{scene.film.pk}/", f"/ws/shots/{scene.v1.shot_id}/frames/"
    here = [await opened(film_path, scene.viewer, "films", this_browser.session.session_key),
            await opened(frames_path, scene.viewer, "frames", this_browser.session.session_key)]
    elsewhere = await opened(film_path, scene.viewer, "films", other_browser.session.session_key)

    await sync_to_async(this_browser.logout)()

    for communicator in here:
        assert await close_code_after(communicator) == 4401
    await still_open(elsewhere, film_group(scene.film.pk))
    await elsewhere.disconnect()


async def test_without_an_event_a_message_rereads_access_once_the_cached_answer_is_old(live_scene, clock):
    scene = live_scene
    frames = await opened(f"/ws/shots/{scene.v1.shot_id}/frames/", scene.viewer, "frames")
    films = await opened(f"/ws/films/{scene.film.pk}/", scene.viewer, "films")
    await film_moved_silently(scene)
    # Until the cached answer is old, messages are served from it (no query per frame request).
    await frames.send_json_to({"type": "frames", "request": 1, "source": "v9", "start": 0, "count": 1,
                               "height": 240})
    assert (await frames.receive_json_from())["code"] == "unknown_source"

    clock.advance_past_access_recheck()
    await frames.send_json_to({"type": "frames", "request": 2, "source": "v9", "start": 0, "count": 1,
                               "height": 240})
    assert await close_code_after(frames) == 4404
    # A relayed event re-reads it too, rather than reaching a user who may no longer see it.
    await get_channel_layer().group_send(film_group(scene.film.pk), {"type": "shot.status", "shot": 1})
    assert await close_code_after(films) == 4404


async def test_a_resync_rereads_access_at_once(live_scene, clock):
    scene = live_scene
    films = await opened(f"/ws/films/{scene.film.pk}/", scene.viewer, "films")
    await film_moved_silently(scene)
    # The layer's resync after an outage (which may have lost an access.changed): no state again
    # for a user who lost access, but the close.
    await get_channel_layer().group_send(film_group(scene.film.pk), {"type": RESYNC_EVENT})
    assert await close_code_after(films) == 4404


async def test_a_comment_rereads_access_every_time(live_scene, clock):
    scene = live_scene
    shot_socket = await opened(f"/ws/shots/{scene.v1.shot_id}/", scene.viewer, "shots")
    await film_moved_silently(scene)

    # The cached answer is fresh (the clock stands still), yet the write reads access again.
    await shot_socket.send_json_to({"type": "comment.create", "request": "c1", "version": scene.v1.pk,
                                    "frame": 1, "text": "still here?"})
    error = await shot_socket.receive_json_from()
    assert (error["type"], error["code"], error["request"]) == ("error", "forbidden", "c1")
    assert await close_code_after(shot_socket) == 4404
    assert await sync_to_async(Comment.objects.filter(author=scene.viewer).count)() == 0


async def test_taking_control_of_a_session_rereads_access(live_scene, clock):
    scene = live_scene
    session_socket = await opened(f"/ws/sessions/{scene.session.pk}/", scene.viewer, "sessions")
    await film_moved_silently(scene)
    await session_socket.send_json_to({"type": "control.take"})  # the host is not connected
    assert await close_code_after(session_socket) == 4404
    host_id = await sync_to_async(lambda: type(scene.session).objects.get(pk=scene.session.pk).host_id)()
    assert host_id == scene.host.pk


async def test_a_session_event_after_the_cached_answer_is_old_rereads_access(live_scene, clock):
    scene = live_scene
    follower = await opened(f"/ws/sessions/{scene.session.pk}/", scene.viewer, "sessions")
    await film_moved_silently(scene)
    clock.advance_past_access_recheck()
    await get_channel_layer("live").group_send(session_group(scene.session.pk),
                                               {"type": "control.requested", "user": {"user": 1}})
    assert await close_code_after(follower) == 4404


async def test_a_login_whose_session_ended_without_a_logout_closes_at_the_next_check(live_scene, clock):
    scene = live_scene
    this_browser, other_browser = Client(), Client()
    await sync_to_async(this_browser.force_login)(scene.viewer)
    await sync_to_async(other_browser.force_login)(scene.viewer)
    film_path = f"/ws/films/{scene.film.pk}/"
    expired = await opened(film_path, scene.viewer, "films", this_browser.session.session_key)
    elsewhere = await opened(film_path, scene.viewer, "films", other_browser.session.session_key)
    # Gone from the store as an idle timeout or a session clean-up leaves it: no logout, no event.
    await sync_to_async(Session.objects.filter(session_key=this_browser.session.session_key).delete)()

    clock.advance_past_access_recheck()
    await get_channel_layer().group_send(film_group(scene.film.pk), {"type": "shot.status", "probe": "x"})
    assert await close_code_after(expired) == 4401
    assert await elsewhere.receive_json_from() == {"type": "shot.status", "probe": "x"}
    await elsewhere.disconnect()
