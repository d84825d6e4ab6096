"""A film's socket (``ws/films/<id>/``) tells its members of new grades and sign-off decisions."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from tests.webapp.colour_fixtures import LOOK, make_grade
from tests.webapp.factories import FilmFactory, MembershipFactory, ShotFactory, UserFactory
from webapp.colour.services import grade_decision_record
from webapp.config.routing import websocket_urlpatterns
from webapp.review.models import ApprovalPolicy

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("in_memory_channel_layers", "consumer_db_connections_closed")]

application = URLRouter(websocket_urlpatterns)


async def test_members_hear_a_grade_proposed_then_signed():
    @sync_to_async
    def setup():
        film = FilmFactory()
        viewer, archivist = UserFactory(), UserFactory()
        MembershipFactory(film=film, user=viewer, role="viewer")
        MembershipFactory(film=film, user=archivist, role="archivist")
        ApprovalPolicy.objects.create(film=film, creator_required=False)  # the archivist signs alone
        return film, viewer, archivist, ShotFactory(film=film)

    film, viewer, archivist, shot = await setup()
    communicator = WebsocketCommunicator(application, f"/ws/films/{film.pk}/")
    communicator.scope["user"] = viewer
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from())["type"] == "film.subscribed"

    grade = await sync_to_async(make_grade)(shot=shot)
    created = await communicator.receive_json_from()
    assert created["type"] == "grade.created" and created["grade"]["id"] == grade.pk and created["grade"]["cdl"] == LOOK

    await sync_to_async(grade_decision_record)(grade=grade, reviewer=archivist, verdict="approve")
    decided = await communicator.receive_json_from()
    # The film's policy requires only the archivist: their approval is enough.
    assert (decided["type"], decided["grade"], decided["grade_status"]) == ("grade.decided", grade.pk, "approved")
    assert decided["decision"]["reviewer_username"] == archivist.username
    await communicator.disconnect()
