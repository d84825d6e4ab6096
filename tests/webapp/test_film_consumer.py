"""The film events websocket (``ws/films/<id>/``): who may listen, and what a restore job tells it."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from tests.webapp import jobs_fixtures
from tests.webapp.factories import FilmFactory, MembershipFactory, UserFactory
from tests.webapp.jobs_fixtures import CHEAP_SPEC
from tests.webapp.socket_helpers import refused_with
from webapp.config.routing import websocket_urlpatterns
from webapp.jobs import services

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("in_memory_channel_layers", "consumer_db_connections_closed")]

application = URLRouter(websocket_urlpatterns)


@sync_to_async
def film_and_user(role: str | None):
    film = FilmFactory()
    user = UserFactory()
    # A non-member is still somebody: an archivist of another film.
    MembershipFactory(film=film if role else FilmFactory(), user=user, role=role or "archivist")
    return film, user


def connect(film_id: int, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/films/{film_id}/")
    communicator.scope["user"] = user
    return communicator


async def test_anonymous_is_refused():
    film, _ = await film_and_user("viewer")
    assert await refused_with(connect(film.pk, AnonymousUser())) == 4401


async def test_a_non_member_is_told_the_film_does_not_exist():
    film, outsider = await film_and_user(None)
    for film_id in (film.pk, film.pk + 1000):  # the same answer as a film that does not exist
        assert await refused_with(connect(film_id, outsider)) == 4404


@pytest.mark.parametrize("role", ["viewer", "creator", "restorer", "archivist"])
async def test_every_member_hears_a_restore_from_start_to_new_version(role, media_root):
    film, user = await film_and_user(role)
    shot = (await sync_to_async(jobs_fixtures.make_shots)(film, media_root))[0]
    communicator = connect(film.pk, user)
    assert (await communicator.connect())[0]
    assert await communicator.receive_json_from() == {"type": "film.subscribed", "film": film.pk}

    @sync_to_async
    def restore():
        job = services.job_create(film=film, kind="restore", shot=shot, created_by=None, params={"spec": CHEAP_SPEC})
        return services.job_run(job_id=job.pk)

    job = await restore()
    events = []
    while not events or events[-1]["type"] != "job.finished":
        events.append(await communicator.receive_json_from(timeout=5))
    types = [event["type"] for event in events]
    assert types[:2] == ["job.progress", "shot.status"] and types[-1] == "job.finished"
    assert events[1] == {"type": "shot.status", "shot": shot.pk, "status": "in_restoration"}
    assert {"type": "version.created", "shot": shot.pk, "version": job.result_version_id, "number": 1} in events
    assert {"type": "shot.status", "shot": shot.pk, "status": "in_review"} in events
    assert (events[-1]["job"], events[-1]["shot"], events[-1]["status"]) == (job.pk, shot.pk, "succeeded")
    await communicator.send_to(text_data='{"type": "cancel"}')
    reply = await communicator.receive_json_from()
    assert reply["type"] == "error" and reply["code"] == "read_only"
    await communicator.disconnect()


async def test_another_films_events_are_not_heard():
    from channels.layers import get_channel_layer

    from webapp.jobs.events import film_group

    film, user = await film_and_user("viewer")
    other, _ = await film_and_user("viewer")
    communicator = connect(film.pk, user)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()
    await get_channel_layer().group_send(film_group(other.pk), {"type": "shot.status", "shot": 1, "status": "x"})
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_the_asgi_application_authenticates_from_the_session_cookie():
    from django.conf import settings
    from django.test import Client

    from webapp.config.asgi import application as asgi_application

    film, user = await film_and_user("viewer")
    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()
    headers = [(b"origin", b"http://localhost"), (b"cookie", cookie)]
    communicator = WebsocketCommunicator(asgi_application, f"/ws/films/{film.pk}/", headers=headers)
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "film.subscribed"
    await communicator.disconnect()
    anonymous = WebsocketCommunicator(asgi_application, f"/ws/films/{film.pk}/", headers=headers[:1])
    assert await refused_with(anonymous) == 4401
