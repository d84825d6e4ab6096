"""The channel layers outlive Redis going away (webapp/realtime/layers.py), on a throwaway
redis-server of each test's own without persistence (tests/webapp/redis_server.py; never the
shared one): a restart empties it, as a production Redis without an append-only file would be.

- Through a restart, ``receive`` keeps waiting instead of raising, the channel's groups are added
  again, and the channel hears a group event sent after the restart (and a ``realtime.resync``).
- Redis stopped for 2 s and started again: the same, and sends meanwhile are logged, not raised.
- A membership outlives ``group_expiry``: the layer renews it while the channel lives, and
  forgets it once nobody receives on the channel.
- The film socket (a ``WebsocketCommunicator`` on the real consumer) stays open through a
  restart, is told to resync, and hears an event broadcast after it.

Integration layer: they need the ``redis-server`` binary (``make services`` installs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from redis.exceptions import TimeoutError as RedisTimeoutError

from tests.webapp.factories import FilmFactory, MembershipFactory, UserFactory
from tests.webapp.redis_server import throwaway_redis
from webapp.config.routing import websocket_urlpatterns
from webapp.realtime import film_group
from webapp.realtime.layers import RESYNC_EVENT, ResilientRedisChannelLayer, ResilientRedisPubSubChannelLayer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

STOP_ATTEMPTS = 5
LAYERS = {"core": ResilientRedisChannelLayer, "pubsub": ResilientRedisPubSubChannelLayer}


@pytest.fixture
def redis(tmp_path):
    with throwaway_redis(tmp_path, persistent=False) as server:
        yield server


class Listener:
    """Receives on one channel in a task, as a consumer does, and keeps what it hears."""

    def __init__(self, layer, channel: str):
        self.layer, self.channel, self.heard = layer, channel, []
        self.task = asyncio.ensure_future(self._run())

    async def _run(self):
        while True:
            self.heard.append(await self.layer.receive(self.channel))

    def types(self) -> list[str]:
        return [message["type"] for message in self.heard]

    async def stop(self):
        # A cancel that lands while channels_redis hands a message over can be swallowed (the
        # receive goes on): cancel again rather than wait on the task for ever.
        for _ in range(STOP_ATTEMPTS):
            self.task.cancel()
            done, _pending = await asyncio.wait({self.task}, timeout=1)
            if done:
                with contextlib.suppress(asyncio.CancelledError):
                    self.task.result()
                return
        pytest.fail(f"the receiving task on {self.channel} ignored {STOP_ATTEMPTS} cancels")


async def until_heard(layer, group: str, listeners: list[Listener], *, timeout: float = 10.0) -> float:
    """Send ``probe`` events to ``group`` every 0.1 s (as a running job keeps reporting) until each
    listener has heard one; the seconds that took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        for listener in listeners:
            assert not listener.task.done(), f"receive ended: {listener.task.exception()!r}"
        await layer.group_send(group, {"type": "probe"})
        await asyncio.sleep(0.1)
        if all("probe" in listener.types() for listener in listeners):
            return time.monotonic() - started
    pytest.fail(f"no probe arrived within {timeout} s: heard {[listener.types() for listener in listeners]}")


async def joined(layer, group: str, count: int) -> list[Listener]:
    listeners = []
    for _ in range(count):
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        listeners.append(Listener(layer, channel))
    await layer.group_send(group, {"type": "hello"})
    await asyncio.sleep(0.3)
    assert [listener.types() for listener in listeners] == [["hello"]] * count
    return listeners


@pytest.mark.parametrize("kind", LAYERS)
async def test_after_a_restart_that_emptied_redis_the_groups_are_back_and_receive_never_raised(redis, kind):
    layer = LAYERS[kind](hosts=[redis.url])
    listeners = await joined(layer, "film.1", count=3)

    await asyncio.to_thread(redis.restart)  # the process ends: every group and queued message is gone

    await until_heard(layer, "film.1", listeners)
    for listener in listeners:
        # Told that events may have been lost, before anything sent after the restart.
        assert listener.types()[1] == RESYNC_EVENT
        await listener.stop()


@pytest.mark.parametrize("kind", LAYERS)
async def test_receive_waits_through_two_seconds_without_redis_and_sends_meanwhile_do_not_raise(redis, kind, caplog):
    layer = LAYERS[kind](hosts=[redis.url])
    listeners = await joined(layer, "job.7", count=2)

    await asyncio.to_thread(redis.stop)
    await layer.group_send("job.7", {"type": "lost"})  # logged, not raised: the row stays the truth
    await asyncio.sleep(2)
    assert not any(listener.task.done() for listener in listeners)
    await asyncio.to_thread(redis.start)

    await until_heard(layer, "job.7", listeners)
    assert "could not" in caplog.text and "lost" in caplog.text
    for listener in listeners:
        assert "lost" not in listener.types() and RESYNC_EVENT in listener.types()
        await listener.stop()


async def test_a_redis_timeout_while_receiving_is_waited_out(redis, monkeypatch):
    """A TimeoutError under load (the fault seen: 2 of 50 shot sockets dropped) is retried."""
    from channels_redis.core import RedisChannelLayer

    layer = ResilientRedisChannelLayer(hosts=[redis.url])
    listener = (await joined(layer, "shot.3", count=1))[0]
    original, failures = RedisChannelLayer._brpop_with_clean, []

    async def slow_once(self, index, channel, timeout):
        if not failures:
            failures.append(1)
            raise RedisTimeoutError("Timeout reading from 127.0.0.1")
        return await original(self, index, channel, timeout)

    monkeypatch.setattr(RedisChannelLayer, "_brpop_with_clean", slow_once)
    await layer.group_send("shot.3", {"type": "after"})
    for _ in range(50):
        if "after" in listener.types():
            break
        await asyncio.sleep(0.1)
    assert failures and listener.types() == ["hello", "after"]  # nothing lost: it waited in Redis
    await listener.stop()


async def test_the_pubsub_receiving_task_survives_a_timeout(redis, monkeypatch):
    """channels_redis's own task ends on an asyncio TimeoutError, and with it every socket's events."""
    layer = ResilientRedisPubSubChannelLayer(hosts=[redis.url])
    listener = (await joined(layer, "review-session.1", count=1))[0]
    shard = layer._get_layer()._shards[0]
    original, failures = shard._pubsub.get_message, []

    async def slow_once(**kwargs):
        if not failures:
            failures.append(1)
            raise TimeoutError
        return await original(**kwargs)

    monkeypatch.setattr(shard._pubsub, "get_message", slow_once)
    await until_heard(layer, "review-session.1", [listener])
    assert failures and not shard._receive_task.done()
    await listener.stop()


async def test_a_membership_is_renewed_while_its_channel_lives(redis):
    # channels_redis drops a member group_expiry after its group_add, however long its socket lives.
    layer = ResilientRedisChannelLayer(hosts=[redis.url], group_expiry=2, group_check_interval_s=0.2)
    layer.brpop_timeout = 0.2  # the receiving loop looks after the groups between pops
    listener = (await joined(layer, "user.5", count=1))[0]
    await asyncio.sleep(3.5)
    await layer.group_send("user.5", {"type": "later"})
    await asyncio.sleep(0.5)
    assert listener.types() == ["hello", "later"]
    await listener.stop()


async def test_the_groups_of_a_channel_nobody_receives_on_any_more_are_forgotten(redis):
    # A consumer that failed leaves its groups without group_discard: re-adding them for ever would
    # keep a dead channel in its groups (channels_redis's own would expire with group_expiry).
    layer = ResilientRedisChannelLayer(hosts=[redis.url], expiry=1, group_check_interval_s=0.1)
    layer.brpop_timeout = 0.2
    alive, dead = await joined(layer, "film.2", count=2)
    await dead.stop()
    await asyncio.sleep(2)
    assert list(layer.memberships) == [alive.channel]
    await alive.stop()


# The film socket, end to end --------------------------------------------------------------------


@pytest.fixture
def redis_channel_layers(redis, settings):
    layer = {"BACKEND": "webapp.realtime.layers.ResilientRedisChannelLayer", "CONFIG": {"hosts": [redis.url]}}
    live = {"BACKEND": "webapp.realtime.layers.ResilientRedisPubSubChannelLayer", "CONFIG": {"hosts": [redis.url]}}
    settings.CHANNEL_LAYERS = {"default": layer, "live": live}
    return redis


@sync_to_async
def film_and_viewer():
    film, user = FilmFactory(), UserFactory()
    MembershipFactory(film=film, user=user, role="viewer")
    return film, user


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("consumer_db_connections_closed")
async def test_the_film_socket_stays_open_through_a_redis_restart_and_hears_what_follows(redis_channel_layers):
    redis = redis_channel_layers
    film, viewer = await film_and_viewer()
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/films/{film.pk}/")
    communicator.scope["user"] = viewer
    assert (await communicator.connect(timeout=5))[0]
    assert await communicator.receive_json_from(timeout=5) == {"type": "film.subscribed", "film": film.pk}

    await asyncio.to_thread(redis.restart)

    # The socket says its state again (the client reloads what it shows), and is still subscribed.
    assert await communicator.receive_json_from(timeout=10) == {"type": "film.subscribed", "film": film.pk,
                                                                "resync": True}
    event = {"type": "shot.status", "shot": 4, "status": "approved"}
    await get_channel_layer().group_send(film_group(film.pk), event)
    assert await communicator.receive_json_from(timeout=5) == event
    await communicator.disconnect()
