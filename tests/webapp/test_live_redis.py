"""Two servers, one session: consumers with their own channel layer and their own Redis state
store client (as two ASGI processes would have) share the session through Redis, and a server
started later (a restart) finds the state where it was. Integration layer: needs REDIS_URL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.urls import path

from tests.webapp.factories import FilmFactory, InReviewVersionFactory, MembershipFactory, ShotFactory, UserFactory
from webapp.live import services
from webapp.live.consumers import SessionConsumer
from webapp.live.state import RedisStateStore

pytestmark = [pytest.mark.integration, pytest.mark.asyncio, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("consumer_db_connections_closed")]


@pytest.fixture(autouse=True)
def two_channel_layers(settings):
    if not settings.ENV.redis_url:
        pytest.fail("needs REDIS_URL=redis://... (run with `make test-integration`)")
    # As in production (settings.py): sessions fan out by Redis pub/sub, one layer per server. The
    # prefix keeps parallel test workers (whose databases reuse session ids) off each other's groups.
    layer = {"BACKEND": "webapp.realtime.layers.ResilientRedisPubSubChannelLayer",
             "CONFIG": {"hosts": [settings.ENV.redis_url], "prefix": f"test-{uuid.uuid4().hex}"}}
    settings.CHANNEL_LAYERS = {"default": layer, "live": layer, "server-a": layer, "server-b": layer,
                               "server-c": layer}


def server(name: str) -> URLRouter:
    """An ASGI app as one server process would run it: its own layer connection, its own store client."""
    consumer = SessionConsumer.as_asgi(channel_layer_alias=name, store=RedisStateStore(settings.ENV.redis_url))
    return URLRouter([path("ws/sessions/<int:session_id>/", consumer)])


@sync_to_async
def make_session():
    film = FilmFactory()
    version = InReviewVersionFactory(shot=ShotFactory(film=film, number=1), number=1)
    host, viewer = UserFactory(), UserFactory()
    MembershipFactory(film=film, user=host, role="archivist")
    MembershipFactory(film=film, user=viewer, role="viewer")
    session = services.session_create(film=film, created_by=host, title="Across servers", versions=[version])
    return session, host, viewer


async def join(app, session_id: int, user) -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(app, f"/ws/sessions/{session_id}/")
    communicator.scope["user"] = user
    assert (await communicator.connect(timeout=5))[0]
    first = await communicator.receive_json_from(timeout=5)
    assert first["type"] == "session.state"
    return communicator, first


async def next_state(communicator: WebsocketCommunicator) -> dict:
    while True:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "state":
            return message["state"]
        assert message["type"] == "presence", message


async def test_participants_on_two_servers_share_one_session():
    session, host, viewer = await make_session()
    server_a, server_b = server("server-a"), server("server-b")
    host_socket, _ = await join(server_a, session.pk, host)
    follower, first = await join(server_b, session.pk, viewer)
    assert [p["user"] for p in first["participants"]] == [host.pk, viewer.pk]  # presence is shared too

    await host_socket.send_json_to({"type": "state", "changes": {"frame": 21, "mode": "toggle"}})
    heard = await next_state(follower)
    assert (heard["frame"], heard["mode"], heard["version"]) == (21, "toggle", 2)

    # A third server started afterwards (a restart, or a new server behind the balancer) loses nothing.
    late, state = await join(server("server-c"), session.pk, viewer)
    assert (state["state"]["frame"], state["state"]["mode"], state["state"]["version"]) == (21, "toggle", 2)
    for communicator in (late, follower, host_socket):
        await communicator.disconnect()


async def test_concurrent_changes_through_two_servers_are_all_applied():
    """The host has the session open on two servers (two tabs) and both send at once: every
    change gets its own version, none is lost."""
    session, host, _ = await make_session()
    tab_a, _ = await join(server("server-a"), session.pk, host)
    tab_b, _ = await join(server("server-b"), session.pk, host)
    changes = 20
    await asyncio.gather(*(
        tab.send_json_to({"type": "state", "changes": {"frame": frame}})
        for frame in range(changes) for tab in (tab_a, tab_b)
    ))
    versions = set()
    while len(versions) < 2 * changes:
        versions.add((await next_state(tab_a))["version"])
    assert versions == set(range(2, 2 * changes + 2))
    for tab in (tab_a, tab_b):
        await tab.disconnect()
