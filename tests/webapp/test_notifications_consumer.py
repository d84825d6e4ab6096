"""The notifications websocket: the unread count on connect, then new and read notifications live."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from tests.webapp.factories import FilmFactory, MembershipFactory, ShotFactory, ShotVersionFactory, UserFactory
from tests.webapp.socket_helpers import refused_with
from webapp.catalogue.services import version_publish
from webapp.notifications.routing import websocket_urlpatterns
from webapp.notifications.services import notification_mark_all_read

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("in_memory_channel_layers", "consumer_db_connections_closed")]

application = URLRouter(websocket_urlpatterns)


def communicator_for(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/notifications/")
    communicator.scope["user"] = user
    return communicator


async def test_anonymous_is_refused():
    assert await refused_with(communicator_for(AnonymousUser())) == 4401


async def test_a_creator_hears_of_a_published_version_and_of_marking_read():
    @sync_to_async
    def setup():
        film = FilmFactory()
        creator, restorer, stranger = UserFactory(), UserFactory(), UserFactory()
        MembershipFactory(film=film, user=creator, role="creator")
        MembershipFactory(film=film, user=restorer, role="restorer")
        return film, creator, restorer, stranger, ShotFactory(film=film, number=2)

    film, creator, restorer, stranger, shot = await setup()
    mine, theirs = communicator_for(creator), communicator_for(stranger)
    assert (await mine.connect())[0] and (await theirs.connect())[0]
    assert await mine.receive_json_from() == {"type": "notifications.state", "unread": 0}
    await theirs.receive_json_from()

    version = await sync_to_async(lambda: version_publish(version=ShotVersionFactory(shot=shot, author=restorer)))()
    event = await mine.receive_json_from()
    assert (event["type"], event["unread"]) == ("notification.created", 1)
    assert event["notification"]["kind"] == "version_ready" and event["notification"]["version"] == version.pk
    assert await theirs.receive_nothing()  # nobody else's socket hears of it

    await sync_to_async(notification_mark_all_read)(user=creator)
    assert await mine.receive_json_from() == {"type": "notification.read", "unread": 0}

    await mine.send_to(text_data='{"type": "read"}')
    reply = await mine.receive_json_from()
    assert (reply["type"], reply["code"]) == ("error", "read_only")
    await mine.disconnect()
    await theirs.disconnect()
