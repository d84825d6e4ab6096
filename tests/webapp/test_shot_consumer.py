"""The shot events websocket: who may listen, live comments and decisions, and refused messages."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from tests.webapp.factories import (
    FilmFactory,
    InReviewVersionFactory,
    MembershipFactory,
    ShotFactory,
    ShotVersionFactory,
    UserFactory,
)
from tests.webapp.socket_helpers import refused_with
from webapp.catalogue.services import version_publish
from webapp.review.consumers import MAX_MESSAGE_BYTES as MAX_MESSAGE_CHARS
from webapp.review.models import Comment
from webapp.review.routing import websocket_urlpatterns
from webapp.review.services import decision_record

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("in_memory_channel_layers", "consumer_db_connections_closed")]

application = URLRouter(websocket_urlpatterns)


@sync_to_async
def make_shot():
    """A 48-frame shot with a version in review, an archivist, a creator, and a second film."""
    film, other_film = FilmFactory(), FilmFactory()
    shot = ShotFactory(film=film, number=1)
    version = InReviewVersionFactory(shot=shot, number=1)
    users = {}
    for role in ("archivist", "creator", "viewer"):
        users[role] = UserFactory()
        MembershipFactory(film=film, user=users[role], role=role)
    users["outsider"] = UserFactory()
    MembershipFactory(film=other_film, user=users["outsider"], role="archivist")
    other_version = InReviewVersionFactory(shot=ShotFactory(film=other_film, number=1))
    sibling_version = InReviewVersionFactory(shot=ShotFactory(film=film, number=2))
    return shot, version, users, other_version, sibling_version


async def connected(shot_id: int, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/shots/{shot_id}/")
    communicator.scope["user"] = user
    ok, code = await communicator.connect()
    assert ok, code
    return communicator


async def refused(shot_id: int, user) -> int:
    communicator = WebsocketCommunicator(application, f"/ws/shots/{shot_id}/")
    communicator.scope["user"] = user
    return await refused_with(communicator)


comment_count = sync_to_async(lambda: Comment.objects.count())


async def test_anonymous_and_non_members_are_refused():
    shot, _, users, other_version, _ = await make_shot()
    assert await refused(shot.pk, AnonymousUser()) == 4401
    assert await refused(shot.pk, users["outsider"]) == 4404
    assert await refused(shot.pk + 10_000, users["viewer"]) == 4404  # the same as a shot that does not exist
    assert await refused(other_version.shot_id, users["viewer"]) == 4404  # another film's shot


async def test_a_comment_sent_by_one_member_reaches_the_others_live():
    shot, version, users, _, _ = await make_shot()
    sender, listener = await connected(shot.pk, users["viewer"]), await connected(shot.pk, users["archivist"])
    drawing = [{"type": "rect", "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2, "colour": "#ff8800"}]
    await sender.send_json_to({"type": "comment.create", "request": "r1", "version": version.pk, "frame": 7,
                               "text": "a hair in the gate", "drawing": drawing})
    event = await listener.receive_json_from()
    assert event["type"] == "comment.created"
    assert (event["comment"]["frame"], event["comment"]["text"], event["comment"]["drawing"]) == (
        7, "a hair in the gate", drawing
    )
    assert event["comment"]["author_username"] == users["viewer"].username
    replies = [await sender.receive_json_from(), await sender.receive_json_from()]
    assert {r["type"] for r in replies} == {"comment.accepted", "comment.created"}
    accepted = next(r for r in replies if r["type"] == "comment.accepted")
    assert accepted["request"] == "r1" and accepted["comment"] == event["comment"]["id"]
    await sender.disconnect()
    await listener.disconnect()


@pytest.mark.parametrize("message, code, words", [
    ("not json", "malformed", "not JSON"),
    ("[1, 2]", "malformed", "JSON object"),
    ('{"type": "comment.delete", "id": 1}', "unknown_type", "comment.delete"),
    ('{"type": "comment.create", "request": {"a": 1}}', "malformed", "request"),
])
async def test_malformed_messages_are_refused_and_change_nothing(message, code, words):
    shot, _, users, _, _ = await make_shot()
    communicator = await connected(shot.pk, users["viewer"])
    await communicator.send_to(text_data=message)
    reply = await communicator.receive_json_from()
    assert (reply["type"], reply["code"]) == ("error", code) and words in reply["detail"]
    assert await comment_count() == 0
    await communicator.disconnect()


async def test_an_oversized_message_is_refused():
    shot, version, users, _, _ = await make_shot()
    communicator = await connected(shot.pk, users["viewer"])
    await communicator.send_to(text_data=json.dumps({"type": "comment.create", "version": version.pk, "frame": 0,
                                                     "text": "x" * MAX_MESSAGE_CHARS}))
    reply = await communicator.receive_json_from()
    assert reply["code"] == "too_large" and str(MAX_MESSAGE_CHARS) in reply["detail"]
    assert await comment_count() == 0
    await communicator.disconnect()


async def test_comments_are_validated_like_the_api():
    shot, version, users, other_version, sibling_version = await make_shot()
    communicator = await connected(shot.pk, users["viewer"])
    cases = [
        ({"version": version.pk, "frame": 48, "text": "late"}, "frame", "0 to 47"),
        ({"version": version.pk, "frame": 1, "text": "x", "drawing": [{"type": "circle"}]}, "drawing", "shapes[0].type"),
        ({"version": version.pk, "frame": 1, "text": "x", "author": users["archivist"].pk}, "author", "Read-only"),
        ({"version": other_version.pk, "frame": 1, "text": "x"}, "version", "does not exist"),
        ({"version": sibling_version.pk, "frame": 1, "text": "x"}, "version", "another shot"),
        ({"frame": 1, "text": "x"}, "version", "required"),
    ]
    for body, field, words in cases:
        await communicator.send_json_to({"type": "comment.create", "request": field, **body})
        reply = await communicator.receive_json_from()
        assert (reply["type"], reply["code"], reply["request"]) == ("error", "invalid", field), reply
        assert field in reply["fields"] and words in reply["detail"], reply
    assert await comment_count() == 0
    await communicator.disconnect()


async def test_decisions_and_new_versions_are_pushed_to_the_shot():
    shot, version, users, _, _ = await make_shot()
    listener = await connected(shot.pk, users["viewer"])
    await sync_to_async(decision_record)(version=version, reviewer=users["archivist"], verdict="approve", note="ok")
    event = await listener.receive_json_from()
    assert event["type"] == "decision.recorded"
    assert (event["decision"]["verdict"], event["decision"]["role"], event["decision"]["note"]) == (
        "approve", "archivist", "ok"
    )
    assert (event["version_status"], event["shot_status"]) == ("in_review", shot.status)

    @sync_to_async
    def publish():
        return version_publish(version=ShotVersionFactory(shot=shot, number=2))

    new = await publish()
    event = await listener.receive_json_from()
    assert event == {"type": "version.created", "shot": shot.pk, "version": new.pk, "number": 2,
                     "status": "in_review"}
    await listener.disconnect()


async def test_resolving_a_comment_is_pushed_as_an_update():
    shot, version, users, _, _ = await make_shot()
    listener = await connected(shot.pk, users["creator"])

    @sync_to_async
    def comment_then_resolve():
        from webapp.review.services import comment_create, comment_update

        comment = comment_create(version=version, author=users["viewer"], frame=3, text="scratch")
        return comment_update(comment=comment, editor=users["archivist"], resolved=True)

    comment = await comment_then_resolve()
    created, updated = await listener.receive_json_from(), await listener.receive_json_from()
    assert (created["type"], created["comment"]["resolved"]) == ("comment.created", False)
    assert (updated["type"], updated["comment"]["id"], updated["comment"]["resolved"]) == (
        "comment.updated", comment.pk, True
    )
    await listener.disconnect()
