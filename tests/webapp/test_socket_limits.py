"""What a client may send on a socket (webapp/realtime/sockets.py): size, JSON depth, rate.

- JSON nested 2,000 deep in 4 KB (which crashed the session, frame and shot sockets with 1011), or
  deeper than Python's recursion in a larger message: answered ``too_deep``, the socket stays.
- A handler that fails on a message: answered ``server_error``, never 1011.
- Over the socket's rate: ``rate_limited`` and dropped; flooding: closed with 4429. The sockets'
  clock is frozen here, so no token comes back during the test: exact counts, no timing.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from tests.webapp import live_fixtures
from tests.webapp.socket_helpers import close_code_after
from webapp.config.routing import websocket_urlpatterns
from webapp.realtime import CLOSE_TOO_MANY, GroupConsumer, SocketError, json_object_parse
from webapp.realtime.sockets import MAX_JSON_DEPTH
from webapp.review.consumers import ShotConsumer
from webapp.review.models import Comment

application = URLRouter(websocket_urlpatterns)
live_scene = live_fixtures.live_scene


def nested(depth: int) -> str:
    """A message whose ``x`` nests lists ``depth - 1`` deep (the object itself is one level)."""
    return '{"type": "frames", "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


# --- the parser ------------------------------------------------------------------------------------


def test_json_as_deep_as_the_limit_is_read_and_one_level_more_is_refused():
    assert json_object_parse(nested(MAX_JSON_DEPTH), max_bytes=4096)["type"] == "frames"
    with pytest.raises(SocketError) as refused:
        json_object_parse(nested(MAX_JSON_DEPTH + 1), max_bytes=4096)
    assert refused.value.code == "too_deep" and str(MAX_JSON_DEPTH) in refused.value.detail


def test_json_deeper_than_python_can_parse_is_refused_as_too_deep():
    with pytest.raises(SocketError) as refused:
        json_object_parse(nested(200_000), max_bytes=1_000_000)
    assert refused.value.code == "too_deep"


def test_a_drawing_at_its_deepest_is_within_the_limit():
    drawing = {"shapes": [{"type": "freehand", "points": [[0.1, 0.2], [0.3, 0.4]]}]}
    text = json.dumps({"type": "comment.create", "drawing": drawing})
    assert json_object_parse(text, max_bytes=4096)["drawing"] == drawing


# --- the sockets -----------------------------------------------------------------------------------


async def opened(path: str, user, welcome: str | None = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path)
    communicator.scope["user"] = user
    assert (await communicator.connect())[0]
    if welcome is not None:
        assert (await communicator.receive_json_from())["type"] == welcome
    return communicator


async def next_error(communicator: WebsocketCommunicator) -> dict:
    while True:  # presence updates may come first on the session socket
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "error":
            return message


@pytest.mark.parametrize("kind", ["session", "frames", "shot", "session-shot"])
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@live_fixtures.sockets
async def test_json_nested_2000_deep_is_answered_and_the_socket_stays(live_scene, kind):
    scene = live_scene
    shot_id, session_id = scene.v1.shot_id, scene.session.pk
    path, user, welcome, valid = {
        "session": (f"/ws/sessions/{session_id}/", scene.host, "session.state", {"type": "heartbeat"}),
        "frames": (f"/ws/shots/{shot_id}/frames/", scene.viewer, None,
                   {"type": "frames", "request": 1, "source": "v9", "start": 0, "count": 1, "height": 240}),
        "shot": (f"/ws/shots/{shot_id}/", scene.viewer, None, {"type": "comment.create", "text": "x"}),
        "session-shot": (f"/ws/sessions/{session_id}/shots/{shot_id}/", scene.guest, "playlist.versions",
                         {"type": "comment.create", "text": "x"}),
    }[kind]
    communicator = await opened(path, user, welcome)
    deep = nested(2_000)
    assert len(deep) <= 4096  # within every socket's size limit: the depth is what is refused
    await communicator.send_to(text_data=deep)
    error = await next_error(communicator)
    assert error["code"] == "too_deep", error
    # Still open, and still answering.
    await communicator.send_json_to(valid)
    if kind == "session":
        await communicator.send_json_to({"type": "control.take", "extra": 1})
    assert (await next_error(communicator))["code"] in {"unknown_source", "invalid"}
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@live_fixtures.sockets
async def test_a_message_whose_handler_fails_is_answered_not_a_1011(live_scene, monkeypatch):
    scene = live_scene

    async def broken(self, message):
        raise KeyError("a bug")

    monkeypatch.setattr(ShotConsumer, "_comment_create", broken)
    communicator = await opened(f"/ws/shots/{scene.v1.shot_id}/", scene.viewer)
    await communicator.send_json_to({"type": "comment.create", "request": "r1", "version": scene.v1.pk,
                                     "frame": 1, "text": "x"})
    error = await communicator.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "server_error")
    assert await communicator.receive_nothing(timeout=0.1)  # not closed
    await communicator.disconnect()


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(GroupConsumer, "clock", staticmethod(lambda: 7 * 10**12))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@live_fixtures.sockets
async def test_300_comments_in_a_burst_store_the_burst_then_the_flood_is_closed(live_scene, frozen_clock):
    scene = live_scene
    rate = ShotConsumer.rate
    communicator = await opened(f"/ws/shots/{scene.v1.shot_id}/", scene.viewer)
    for number in range(300):
        await communicator.send_json_to({"type": "comment.create", "request": number, "version": scene.v1.pk,
                                         "frame": 1, "text": f"spam {number}"})
    replies = []
    while (output := await communicator.receive_output(timeout=5))["type"] != "websocket.close":
        replies.append(json.loads(output["text"]))
    assert output["code"] == CLOSE_TOO_MANY
    accepted = [reply["request"] for reply in replies if reply["type"] == "comment.accepted"]
    limited = [reply["request"] for reply in replies if reply.get("code") == "rate_limited"]
    assert accepted == list(range(rate.burst))
    assert len(limited) == rate.flood - 1 and set(limited) == {None}  # not even parsed
    assert await sync_to_async(Comment.objects.filter(author=scene.viewer).count)() == rate.burst


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@live_fixtures.sockets
async def test_a_read_only_socket_has_a_rate_too(live_scene, frozen_clock):
    scene = live_scene
    communicator = await opened(f"/ws/films/{scene.film.pk}/", scene.viewer, "film.subscribed")
    rate = GroupConsumer.rate
    for _ in range(rate.burst + 1):
        await communicator.send_to(text_data="hello")
    codes = [(await communicator.receive_json_from())["code"] for _ in range(rate.burst + 1)]
    assert codes == ["read_only"] * rate.burst + ["rate_limited"]
    for _ in range(rate.flood - 1):
        await communicator.send_to(text_data="hello")
    assert await close_code_after(communicator) == CLOSE_TOO_MANY
