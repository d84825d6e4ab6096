"""The live session socket: who may join, the state a late joiner gets, host-only control,
hand-over, guests, and bad messages that change nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from tests.webapp.factories import (
    FilmFactory,
    InReviewVersionFactory,
    MediaAssetFactory,
    MembershipFactory,
    ShotFactory,
    UserFactory,
)
from tests.webapp.socket_helpers import refused_with
from webapp.live import services
from webapp.live.consumers import SessionConsumer
from webapp.live.messages import MAX_MESSAGE_BYTES
from webapp.live.models import ReviewSession
from webapp.live.routing import websocket_urlpatterns
from webapp.live.state import get_state_store
from webapp.realtime import session_group

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("in_memory_channel_layers", "consumer_db_connections_closed")]

application = URLRouter(websocket_urlpatterns)


class World:
    """A film with two shots (48 frames each; the first has v1 and v2), a session on v1, v2 of
    shot 1 and v1 of shot 2, its host and a second member; another film with a version."""

    def __init__(self):
        self.film = FilmFactory()
        scan = MediaAssetFactory(film=self.film, frame_count=240)
        shot1, shot2 = (ShotFactory(film=self.film, number=n, source=scan) for n in (1, 2))
        self.v1, self.v2 = (InReviewVersionFactory(shot=shot1, number=n, media=self.media()) for n in (1, 2))
        self.s2v1 = InReviewVersionFactory(shot=shot2, number=1, media=self.media())
        self.shot_outside = ShotFactory(film=self.film, number=3, source=scan)
        self.host = self.member("archivist", username="host")
        self.viewer = self.member("viewer", username="viewer")
        self.session = services.session_create(film=self.film, created_by=self.host, title="Reel 1 dailies",
                                               versions=[self.v1, self.v2, self.s2v1])
        self.other_film = FilmFactory(title="Other film")
        self.foreign_version = InReviewVersionFactory(shot=ShotFactory(film=self.other_film, number=1), number=7)

    def media(self):
        return MediaAssetFactory(film=self.film, kind="mezzanine", frame_count=48)

    def member(self, role: str, **fields):
        user = UserFactory(**fields)
        MembershipFactory(film=self.film, user=user, role=role)
        return user


@pytest.fixture
async def world():
    return await sync_to_async(World)()


def socket(session_id: int, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/sessions/{session_id}/")
    communicator.scope["user"] = user
    return communicator


async def join(session_id: int, user) -> tuple[WebsocketCommunicator, dict]:
    communicator = socket(session_id, user)
    connected, code = await communicator.connect()
    assert connected, code
    first = await communicator.receive_json_from()
    assert first["type"] == "session.state"
    return communicator, first


async def next_of_type(communicator: WebsocketCommunicator, kind: str) -> dict:
    """The next message of this type, skipping presence updates that joins and leaves cause."""
    while True:
        message = await communicator.receive_json_from()
        if message["type"] == kind:
            return message
        assert message["type"] == "presence", message


async def presence_of(communicator: WebsocketCommunicator, count: int) -> list[dict]:
    """The participants once the presence list has ``count`` people (earlier updates skipped)."""
    while True:
        participants = (await next_of_type(communicator, "presence"))["participants"]
        if len(participants) == count:
            return participants


async def send_state(communicator: WebsocketCommunicator, **changes) -> dict:
    await communicator.send_json_to({"type": "state", "changes": changes})
    return await next_of_type(communicator, "state")


async def test_anonymous_and_non_members_are_refused(world):
    assert await refused_with(socket(world.session.pk, AnonymousUser())) == 4401
    outsider = await sync_to_async(UserFactory)()
    other_member = await sync_to_async(MembershipFactory)(film=world.other_film, role="archivist")
    for user in (outsider, other_member.user):
        # The same answer as for a session that does not exist.
        assert await refused_with(socket(world.session.pk, user)) == 4404
        assert await refused_with(socket(world.session.pk + 999, user)) == 4404


async def test_an_ended_session_refuses_joiners(world):
    invite, _ = await sync_to_async(services.guest_invite_create)(
        session=world.session, created_by=world.host, display_name="Guest")
    guest = await sync_to_async(lambda: invite.user)()
    await sync_to_async(services.session_end)(session=world.session, ended_by=world.host)
    for user in (world.viewer, guest):
        assert await refused_with(socket(world.session.pk, user)) == 4410


async def test_a_late_joiner_gets_the_whole_state_at_once(world):
    host, first = await join(world.session.pk, world.host)
    assert first["state"]["version"] == 1 and first["state"]["host"] == world.host.pk
    assert [item["version"] for item in first["playlist"]] == [world.v1.pk, world.v2.pk, world.s2v1.pk]
    assert [s["id"] for s in first["playlist"][0]["sources"]] == ["original", "v1", "v2"]
    assert first["you"]["user"] == world.host.pk and first["session"]["may_manage"] is True

    await send_state(host, index=1, frame=30, mode="side", a="v1", b="v2", zoom=2.0)
    await send_state(host, playing=True)

    late, state = await join(world.session.pk, world.viewer)
    shared = state["state"]
    assert {k: shared[k] for k in ("index", "frame", "mode", "a", "b", "zoom", "playing")} == {
        "index": 1, "frame": 30, "mode": "side", "a": "v1", "b": "v2", "zoom": 2.0, "playing": True}
    assert shared["started_at"] is not None and shared["version"] == 3
    assert [p["user"] for p in state["participants"]] == [world.host.pk, world.viewer.pk]
    assert state["session"]["may_manage"] is False
    paused = await send_state(host, playing=False, frame=31)
    assert (paused["state"]["playing"], paused["state"]["started_at"], paused["state"]["frame"]) == (False, None, 31)
    await late.disconnect()
    await host.disconnect()


async def test_the_hosts_changes_reach_everyone_and_others_cannot_control(world):
    host, _ = await join(world.session.pk, world.host)
    follower, _ = await join(world.session.pk, world.viewer)

    sent = await send_state(host, frame=12, mode="diff")
    heard = await next_of_type(follower, "state")
    assert heard["state"] == sent["state"] and heard["by"] == world.host.pk
    assert (heard["state"]["frame"], heard["state"]["mode"]) == (12, "diff")

    await follower.send_json_to({"type": "state", "changes": {"frame": 40}})
    error = await next_of_type(follower, "error")
    assert error["code"] == "not_host"
    assert await host.receive_nothing(timeout=0.1)  # nothing was broadcast
    _, again = await join(world.session.pk, world.viewer)
    assert again["state"]["frame"] == 12 and again["state"]["version"] == sent["state"]["version"]
    await follower.disconnect()
    await host.disconnect()


GRADE_CDL = {"slope": [1.1, 1.0, 0.9], "offset": [0.01, 0.0, -0.01], "power": [1.0, 1.05, 0.95], "saturation": 1.2}

BAD_MESSAGES = [
    ("not json", "malformed"),
    ("[1, 2]", "malformed"),
    (json.dumps({"type": "state", "changes": {"frame": 1}, "pad": "x" * MAX_MESSAGE_BYTES}), "too_large"),
    (json.dumps({"type": "launch"}), "unknown_type"),
    (json.dumps({"type": "state", "changes": {}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"frame": 48}}), "out_of_range"),  # shot has frames 0..47
    (json.dumps({"type": "state", "changes": {"frame": -1}}), "out_of_range"),
    (json.dumps({"type": "state", "changes": {"frame": "12"}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"frame": True}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"index": 3}}), "out_of_range"),
    (json.dumps({"type": "state", "changes": {"b": "v7"}}), "unknown_source"),  # the other film's version
    (json.dumps({"type": "state", "changes": {"version": 1}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"mode": "sepia"}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"wipe": 1.5}}), "out_of_range"),
    (json.dumps({"type": "state", "changes": {"zoom": 1e309}}), "invalid"),  # Infinity once parsed
    (json.dumps({"type": "state", "changes": {"frame": 3, "mode": "sepia"}}), "invalid"),  # nothing half-applied
    (json.dumps({"type": "control.hand_over", "to": "everyone"}), "invalid"),
    # The shared grade: a CDL within the engine's limits, and a grade id or null as its base.
    (json.dumps({"type": "state", "changes": {"grade": {"cdl": {**GRADE_CDL, "slope": [1, 1]}, "base": None}}}),
     "invalid"),
    (json.dumps({"type": "state", "changes": {"grade": {"cdl": {**GRADE_CDL, "slope": [101, 1, 1]}}}}),
     "out_of_range"),
    (json.dumps({"type": "state", "changes": {"grade": {"cdl": {**GRADE_CDL, "power": [0, 1, 1]}}}}), "out_of_range"),
    (json.dumps({"type": "state", "changes": {"grade": {"cdl": {**GRADE_CDL, "offset": [-11, 0, 0]}}}}),
     "out_of_range"),
    (json.dumps({"type": "state", "changes": {"grade": {"cdl": {**GRADE_CDL, "saturation": True}}}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"grade": {"cdl": {**GRADE_CDL, "saturation": 1e309}}}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"grade": {"cdl": {**GRADE_CDL, "gamma": 2}}}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"grade": {"cdl": GRADE_CDL, "base": "12"}}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"grade": {"cdl": GRADE_CDL, "lut": "x"}}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"grade": [1, 2]}}), "invalid"),
    (json.dumps({"type": "state", "changes": {"frame": 3, "grade": {"cdl": {}}}}), "invalid"),  # nothing half-applied
]


async def test_bad_messages_are_refused_with_an_error_and_change_nothing(world):
    host, first = await join(world.session.pk, world.host)
    for text, code in BAD_MESSAGES:
        await host.send_to(text_data=text)
        reply = await next_of_type(host, "error")
        assert reply["code"] == code, (text[:80], reply)
        assert reply["detail"]
    await host.send_to(bytes_data=b"\x00\x01")
    assert (await next_of_type(host, "error"))["code"] == "malformed"

    _, again = await join(world.session.pk, world.viewer)
    assert again["state"] == first["state"]  # not one field moved, version included
    await host.disconnect()


async def test_the_grade_being_adjusted_is_shared_and_reset_by_moving_on(world):
    host, first = await join(world.session.pk, world.host)
    follower, _ = await join(world.session.pk, world.viewer)
    assert first["state"]["grade"] is None
    sent = await send_state(host, grade={"cdl": GRADE_CDL, "base": None})
    heard = await next_of_type(follower, "state")
    assert heard["state"]["grade"] == sent["state"]["grade"] == {"cdl": GRADE_CDL, "base": None}
    _, late = await join(world.session.pk, world.viewer)
    assert late["state"]["grade"]["cdl"]["slope"] == [1.1, 1.0, 0.9]
    moved = (await send_state(host, index=1))["state"]
    assert moved["grade"] is None  # a look belongs to the shot it was made on
    cleared = await send_state(host, index=0, grade=None)
    assert cleared["state"]["grade"] is None
    await follower.disconnect()
    await host.disconnect()


async def test_moving_to_another_item_validates_against_that_items_shot(world):
    host, _ = await join(world.session.pk, world.host)
    moved = (await send_state(host, index=2))["state"]
    assert (moved["index"], moved["frame"], moved["a"], moved["b"], moved["playing"]) == (2, 0, "original", "v1",
                                                                                          False)
    await host.send_json_to({"type": "state", "changes": {"b": "v2"}})  # shot 2 has no v2
    assert (await next_of_type(host, "error"))["code"] == "unknown_source"
    await host.disconnect()


async def test_hand_over_to_a_present_participant(world):
    host, _ = await join(world.session.pk, world.host)
    follower, _ = await join(world.session.pk, world.viewer)

    await follower.send_json_to({"type": "control.request"})
    request = await next_of_type(host, "control.requested")
    assert request["user"]["user"] == world.viewer.pk
    await next_of_type(follower, "control.requested")  # a broadcast: only the host's page shows it

    absent = await sync_to_async(world.member)("creator")
    await host.send_json_to({"type": "control.hand_over", "to": absent.pk})
    assert (await next_of_type(host, "error"))["code"] == "not_present"

    await host.send_json_to({"type": "control.hand_over", "to": world.viewer.pk})
    handed = await next_of_type(follower, "state")
    assert handed["state"]["host"] == world.viewer.pk
    assert (await next_of_type(host, "state"))["state"] == handed["state"]
    assert (await sync_to_async(ReviewSession.objects.get)(pk=world.session.pk)).host_id == world.viewer.pk

    # Now the old host is a follower, and the new one drives.
    await host.send_json_to({"type": "state", "changes": {"frame": 2}})
    assert (await next_of_type(host, "error"))["code"] == "not_host"
    assert (await send_state(follower, frame=2))["state"]["frame"] == 2
    await follower.disconnect()
    await host.disconnect()


async def test_a_member_takes_control_only_while_the_host_is_away(world):
    host, _ = await join(world.session.pk, world.host)
    follower, _ = await join(world.session.pk, world.viewer)
    await follower.send_json_to({"type": "control.take"})
    assert (await next_of_type(follower, "error"))["code"] == "host_present"
    await host.disconnect()
    await follower.send_json_to({"type": "control.take"})
    assert (await next_of_type(follower, "state"))["state"]["host"] == world.viewer.pk
    await follower.disconnect()


async def test_guests_with_valid_expired_and_revoked_links(world):
    invite, _ = await sync_to_async(services.guest_invite_create)(
        session=world.session, created_by=world.host, display_name="Ann Director")
    guest = await sync_to_async(lambda: invite.user)()
    host, _ = await join(world.session.pk, world.host)
    guest_socket, state = await join(world.session.pk, guest)
    assert state["you"] == {"user": guest.pk, "name": "Ann Director", "initials": "AD", "guest": True}
    assert state["session"]["may_manage"] is False
    assert [p["guest"] for p in await presence_of(host, 2)] == [False, True]

    # A guest follows; they may not take control.
    await guest_socket.send_json_to({"type": "control.take"})
    assert (await next_of_type(guest_socket, "error"))["code"] == "not_allowed"

    # Revoking the link removes the guest at once, and they cannot come back.
    await sync_to_async(services.guest_invite_revoke)(invite=invite)
    removed = await next_of_type(guest_socket, "error")
    assert removed["code"] == "removed"
    assert (await guest_socket.receive_output())["type"] == "websocket.close"
    assert await refused_with(socket(world.session.pk, guest)) == 4403

    expired, _ = await sync_to_async(services.guest_invite_create)(
        session=world.session, created_by=world.host, display_name="Late Guest")
    await sync_to_async(type(expired).objects.filter(pk=expired.pk).update)(
        expires_at=timezone.now() - timedelta(minutes=1), created_at=timezone.now() - timedelta(hours=2))
    expired_user = await sync_to_async(lambda: expired.user)()
    assert await refused_with(socket(world.session.pk, expired_user)) == 4403
    # A guest of one session is nobody in another session of the same film.
    other_session = await sync_to_async(services.session_create)(
        film=world.film, created_by=world.host, title="Other", versions=[world.v1])
    assert await refused_with(socket(other_session.pk, guest)) == 4404
    await host.disconnect()


async def test_ending_the_session_tells_and_closes_everyone(world):
    host, _ = await join(world.session.pk, world.host)
    follower, _ = await join(world.session.pk, world.viewer)
    await sync_to_async(services.session_end)(session=world.session, ended_by=world.host)
    assert (await next_of_type(follower, "session.ended"))["type"] == "session.ended"
    assert (await follower.receive_output())["code"] == 4410
    await host.disconnect()
    assert await get_state_store().read(str(world.session.state_key)) is None  # nothing left in the store


async def test_a_socket_closed_by_the_session_ending_is_sent_nothing_more(world):
    """Ending a session a guest is in: the presence changes that the others' departures cause still
    reach the guest's consumer until it leaves the group; it drops them rather than sending on a
    closed connection (the server's "Attempt to send on a closed protocol")."""
    invite, _ = await sync_to_async(services.guest_invite_create)(
        session=world.session, created_by=world.host, display_name="Ann Director")
    guest = await sync_to_async(lambda: invite.user)()
    host, _ = await join(world.session.pk, world.host)
    guest_socket, _ = await join(world.session.pk, guest)
    await sync_to_async(services.session_end)(session=world.session, ended_by=world.host)
    assert (await next_of_type(guest_socket, "session.ended"))["type"] == "session.ended"
    assert (await guest_socket.receive_output())["code"] == 4410
    await get_channel_layer(services.LIVE_CHANNEL_LAYER).group_send(
        session_group(world.session.pk), {"type": "presence.changed", "participants": []})
    assert await guest_socket.receive_nothing(timeout=0.5)
    await host.disconnect()


async def test_a_closed_session_consumer_drops_what_it_would_send():
    sent = []
    consumer = SessionConsumer()

    async def record(message):
        sent.append(message)

    consumer.base_send = record
    await consumer.presence_changed({"participants": []})
    assert [m["type"] for m in sent] == ["websocket.send"]
    await consumer.close(code=4410)
    await consumer.presence_changed({"participants": []})
    await consumer.state_changed({"text": "{}"})
    assert [m["type"] for m in sent] == ["websocket.send", "websocket.close"]


async def test_presence_lists_who_is_here(world):
    host, first = await join(world.session.pk, world.host)
    assert [p["user"] for p in first["participants"]] == [world.host.pk]
    follower, _ = await join(world.session.pk, world.viewer)
    assert [p["name"] for p in await presence_of(host, 2)] == ["host", "viewer"]
    await follower.disconnect()
    assert [p["user"] for p in await presence_of(host, 1)] == [world.host.pk]
    await host.send_json_to({"type": "heartbeat"})
    assert await host.receive_nothing(timeout=0.1)
    await host.disconnect()


async def test_the_sessions_frame_socket_serves_its_playlist_shots_to_participants_and_guests(world):
    invite, _ = await sync_to_async(services.guest_invite_create)(
        session=world.session, created_by=world.host, display_name="Guest")
    guest = await sync_to_async(lambda: invite.user)()
    shot_id = await sync_to_async(lambda: world.v1.shot_id)()
    for user in (world.viewer, guest):
        frames = WebsocketCommunicator(application, f"/ws/sessions/{world.session.pk}/frames/{shot_id}/")
        frames.scope["user"] = user
        assert (await frames.connect())[0]
        # The review app's frame protocol, with this shot's sources.
        await frames.send_json_to({"type": "frames", "request": 1, "source": "v9", "start": 0, "count": 1,
                                   "height": 240})
        error = await frames.receive_json_from()
        assert error["type"] == "error" and "no source 'v9'" in error["detail"]
        await frames.disconnect()
    outsider = await sync_to_async(UserFactory)()
    for user, path in ((guest, f"/ws/sessions/{world.session.pk}/frames/{world.shot_outside.pk}/"),
                       (outsider, f"/ws/sessions/{world.session.pk}/frames/{shot_id}/")):
        frames = WebsocketCommunicator(application, path)
        frames.scope["user"] = user
        assert await refused_with(frames) == 4404
