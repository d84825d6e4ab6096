"""Sockets and Redis errors (webapp/realtime/sockets.py ``GroupConsumer``), on in-memory layers made
to fail as Redis does: no error of Redis closes an open socket with 1011.

- Joining the group fails even after the layer's retries: the socket closes with 4503, which
  clients retry (a refused handshake would read as 1006, and 1011 as a server bug).
- A client message whose handler meets Redis down is answered ``unavailable``; a group event whose
  handler does is skipped; leaving the group while Redis is down ends the socket quietly.
- ``realtime.resync`` (from the layer, once Redis is back after losing events): each socket sends
  its state again, as on connect, marked ``resync``.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tests.webapp.factories import FilmFactory, InReviewVersionFactory, MembershipFactory, ShotFactory, UserFactory
from webapp.config.routing import websocket_urlpatterns
from webapp.jobs.models import RestorationJob
from webapp.live import services as live_services
from webapp.live.state import LocalStateStore
from webapp.realtime import (
    CLOSE_UNAVAILABLE,
    GroupConsumer,
    film_group,
    job_group,
    session_group,
    shot_group,
    user_group,
)
from webapp.realtime.layers import RESYNC_EVENT

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("in_memory_channel_layers", "consumer_db_connections_closed")]

application = URLRouter(websocket_urlpatterns)


class FlakyEventsConsumer(GroupConsumer):
    relayed = frozenset({"note"})

    async def admit(self, user):
        return "flaky"

    async def flaky_event(self, event):
        raise RedisTimeoutError("Timeout reading from redis")


flaky_application = URLRouter([path("ws/flaky/", FlakyEventsConsumer.as_asgi())])


def connect(app, url: str, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(app, url)
    communicator.scope["user"] = user
    return communicator


@sync_to_async
def film_with(role: str):
    film, user = FilmFactory(), UserFactory()
    MembershipFactory(film=film, user=user, role=role)
    return film, user


async def test_a_socket_that_cannot_join_its_group_closes_with_a_code_clients_retry(monkeypatch):
    attempts = []

    async def group_add(self, group, channel):
        attempts.append(group)
        raise RedisTimeoutError("Timeout connecting to server")

    monkeypatch.setattr(InMemoryChannelLayer, "group_add", group_add)
    film, user = await film_with("viewer")
    communicator = connect(application, f"/ws/films/{film.pk}/", user)
    assert (await communicator.connect())[0]  # accepted only so that the client gets the code
    assert await communicator.receive_output() == {"type": "websocket.close", "code": CLOSE_UNAVAILABLE}
    assert attempts == [film_group(film.pk)]
    await communicator.wait()


async def test_leaving_while_redis_is_down_ends_the_socket_quietly(monkeypatch):
    async def group_discard(self, group, channel):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(InMemoryChannelLayer, "group_discard", group_discard)
    film, user = await film_with("viewer")
    communicator = connect(application, f"/ws/films/{film.pk}/", user)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()
    await communicator.disconnect()  # would raise what the consumer raised


async def test_a_group_event_whose_handler_meets_redis_down_is_skipped_and_the_socket_stays():
    user = await sync_to_async(UserFactory)()
    communicator = connect(flaky_application, "/ws/flaky/", user)
    assert (await communicator.connect())[0]
    layer = get_channel_layer()
    await layer.group_send("flaky", {"type": "flaky.event"})
    await layer.group_send("flaky", {"type": "note", "n": 1})
    assert await communicator.receive_json_from() == {"type": "note", "n": 1}
    await communicator.disconnect()


class FailingReadStore(LocalStateStore):
    failing = True

    async def read(self, key):
        if self.failing:
            raise RedisConnectionError("Connection closed by server.")
        return await super().read(key)


def session_app(consumer, store):
    """The session socket on ``store`` (a class attribute: channels' consumers drop as_asgi's kwargs)."""
    with_store = type("StoreSessionConsumer", (consumer,), {"store": store})
    return URLRouter([path("ws/sessions/<int:session_id>/", with_store.as_asgi())])


@sync_to_async
def live_session():
    film = FilmFactory()
    version = InReviewVersionFactory(shot=ShotFactory(film=film, number=1), number=1)
    host = UserFactory()
    MembershipFactory(film=film, user=host, role="archivist")
    session = live_services.session_create(film=film, created_by=host, title="Dailies", versions=[version])
    return session, host


async def test_a_client_message_meeting_redis_down_is_answered_unavailable_and_the_socket_stays():
    from webapp.live.consumers import SessionConsumer

    store = FailingReadStore()
    app = session_app(SessionConsumer, store)
    session, host = await live_session()
    communicator = connect(app, f"/ws/sessions/{session.pk}/", host)
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "session.state"
    assert (await communicator.receive_json_from())["type"] == "presence"

    await communicator.send_json_to({"type": "state", "changes": {"frame": 3}})
    reply = await communicator.receive_json_from()
    assert (reply["type"], reply.get("code")) == ("error", "unavailable"), reply

    store.failing = False  # Redis is back: the same socket works
    await communicator.send_json_to({"type": "state", "changes": {"frame": 3}})
    assert (await communicator.receive_json_from())["state"]["frame"] == 3
    await communicator.disconnect()


@sync_to_async
def job_of(film):
    return RestorationJob.objects.create(film=film, kind="analyse", status="running", progress=0.25)


async def test_after_a_resync_every_socket_says_its_state_again():
    film, user = await film_with("viewer")
    shot = await sync_to_async(ShotFactory)(film=film, number=1)
    job = await job_of(film)
    sockets = {
        film_group(film.pk): connect(application, f"/ws/films/{film.pk}/", user),
        job_group(job.pk): connect(application, f"/ws/jobs/{job.pk}/", user),
        shot_group(shot.pk): connect(application, f"/ws/shots/{shot.pk}/", user),
        user_group(user.pk): connect(application, "/ws/notifications/", user),
    }
    welcomes = {}
    for group, communicator in sockets.items():
        assert (await communicator.connect())[0], group
        if group != shot_group(shot.pk):  # the shot socket has no first message
            welcomes[group] = await communicator.receive_json_from()

    layer = get_channel_layer()
    for group in sockets:
        await layer.group_send(group, {"type": RESYNC_EVENT})
    for group, communicator in sockets.items():
        expected = {**welcomes[group], "resync": True} if group in welcomes else {"type": "resync"}
        assert await communicator.receive_json_from() == expected, group
        await communicator.disconnect()
    assert welcomes[job_group(job.pk)]["type"] == "job.state"
    assert welcomes[user_group(user.pk)] == {"type": "notifications.state", "unread": 0}


async def test_a_live_session_resyncs_with_its_whole_state():
    from webapp.live.consumers import SessionConsumer

    store = LocalStateStore()
    app = session_app(SessionConsumer, store)
    session, host = await live_session()
    communicator = connect(app, f"/ws/sessions/{session.pk}/", host)
    assert (await communicator.connect())[0]
    first = await communicator.receive_json_from()
    await communicator.receive_json_from()  # presence
    # Redis restarted empty: the state and the presence list are gone.
    store._states.clear()
    store._presence.clear()
    await get_channel_layer("live").group_send(session_group(session.pk), {"type": RESYNC_EVENT})
    again = await communicator.receive_json_from()
    assert again["type"] == "session.state" and again["resync"] is True
    assert again["state"] == first["state"] and [p["user"] for p in again["participants"]] == [host.pk]
    await communicator.disconnect()
