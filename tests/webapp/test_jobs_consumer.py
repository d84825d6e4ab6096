"""The job progress websocket: who may listen, the state on connect, events from the worker."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from tests.webapp.factories import FilmFactory, MembershipFactory, RestorationJobFactory, ShotFactory, UserFactory
from tests.webapp.socket_helpers import refused_with
from webapp.config.routing import websocket_urlpatterns
from webapp.realtime import job_group

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("in_memory_channel_layers", "consumer_db_connections_closed")]

application = URLRouter(websocket_urlpatterns)


@sync_to_async
def make_job(role: str | None):
    film = FilmFactory()
    job = RestorationJobFactory(film=film, kind="restore", shot=ShotFactory(film=film), status="running",
                                progress=0.25, frames_done=12, frames_total=48)
    user = UserFactory()
    if role is not None:
        MembershipFactory(film=film, user=user, role=role)
    else:
        MembershipFactory(film=FilmFactory(), user=user, role="archivist")  # a member elsewhere only
    return job, user


def connect(job_id: int, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/jobs/{job_id}/")
    communicator.scope["user"] = user
    return communicator


async def test_anonymous_is_refused():
    job, _ = await make_job("viewer")
    assert await refused_with(connect(job.pk, AnonymousUser())) == 4401


async def test_a_non_member_is_told_the_job_does_not_exist():
    job, outsider = await make_job(None)
    for job_id in (job.pk, job.pk + 1000):  # the same answer as a job that does not exist
        assert await refused_with(connect(job_id, outsider)) == 4404


async def test_a_member_gets_the_state_then_the_workers_events():
    job, viewer = await make_job("viewer")
    communicator = connect(job.pk, viewer)
    connected, _ = await communicator.connect()
    assert connected
    state = await communicator.receive_json_from()
    assert state == {"type": "job.state", "job": job.pk, "kind": "restore", "film": job.film_id, "shot": job.shot_id,
                     "parent": None, "status": "running", "progress": 0.25, "frames_done": 12, "frames_total": 48,
                     "eta_seconds": None, "children_summary": None, "failed_shots": [], "message": "", "error": "",
                     "result_version": None}

    layer = get_channel_layer()
    await layer.group_send(job_group(job.pk), {"type": "job.progress", "job": job.pk, "progress": 0.5,
                                                    "frames_done": 24, "frames_total": 48})
    assert (await communicator.receive_json_from())["frames_done"] == 24
    await layer.group_send(job_group(job.pk), {"type": "job.finished", "job": job.pk, "status": "succeeded"})
    assert (await communicator.receive_json_from())["status"] == "succeeded"

    # Read-only: whatever the client says (JSON or not) is answered with an error, nothing else.
    for text in ('{"cancel": true}', "not json"):
        await communicator.send_to(text_data=text)
        reply = await communicator.receive_json_from()
        assert reply["type"] == "error" and reply["code"] == "read_only" and "read-only" in reply["detail"]
    await communicator.disconnect()


async def test_a_job_of_another_film_is_not_heard():
    job, viewer = await make_job("viewer")
    other, _ = await make_job("viewer")
    communicator = connect(job.pk, viewer)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from()
    await get_channel_layer().group_send(job_group(other.pk), {"type": "job.progress", "job": other.pk})
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_the_asgi_application_routes_job_sockets():
    from webapp.config.asgi import application as asgi_application

    job, viewer = await make_job("viewer")
    communicator = WebsocketCommunicator(asgi_application, f"/ws/jobs/{job.pk}/", headers=[(b"origin", b"http://localhost")])
    assert await refused_with(communicator) == 4401  # reached JobConsumer: no session, so anonymous
