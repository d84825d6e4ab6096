"""Channel layers that outlive Redis going away (``settings.CHANNEL_LAYERS`` when REDIS_URL is set).

channels_redis assumes Redis never leaves. When it does (a restart, a failover, a timeout under
load), its layers fail the sockets of the whole server:

- ``RedisChannelLayer.receive`` raises the ``ConnectionError`` / ``TimeoutError``, which ends the
  consumer and its socket (1011), for every socket of the process in turn;
- a consumer's groups are members of sorted sets in Redis, so a Redis restarted without
  persistence has forgotten them: the socket stays open and silently hears nothing again;
- a membership also expires ``group_expiry`` after its ``group_add``, however long the socket lives.

``ResilientRedisChannelLayer`` (the default layer) keeps each of its channels' groups in this
process and:

- ``receive`` never raises a transient Redis error: it waits (backoff with jitter, shared by the
  process's sockets) and tries again; messages wait in Redis meanwhile;
- re-adds every membership of the process once Redis answers again after an outage, when a
  marker key it keeps in Redis beside them has gone (Redis restarted empty or was flushed;
  checked every ``group_check_interval_s`` by the process's one receiving loop), and every
  ``group_expiry / 2`` so that no membership expires under a long-lived socket (a channel nobody
  has received on for ``expiry`` seconds, whose consumer died without leaving, is forgotten);
- after Redis lost its data, or was unreachable for more than one try (events sent meanwhile are
  gone), sends each re-added channel ``{"type": "realtime.resync"}``: the socket then sends its
  client its current state again, as on connect (``GroupConsumer.realtime_resync``);
- ``group_add`` retries a transient error a few times, then raises it (the consumer closes the
  socket with ``CLOSE_UNAVAILABLE``, which clients retry); ``group_discard``, ``group_send`` and
  ``send`` log a transient error and return: a live event is a courtesy, the database row stays
  the truth (as in ``broadcast``), and a stale membership expires by itself.

``ResilientRedisPubSubChannelLayer`` (the live sessions' layer) does the same for channels_redis's
pub/sub layer, whose subscriptions redis-py renews on reconnecting: its receiving task survives
any error (channels_redis's own dies of a timeout), ``group_add`` and ``new_channel`` retry, sends
never raise, and every reconnect sends ``realtime.resync`` to the channels in a group.

Consumers that join groups on these layers are ``GroupConsumer``s, which handle ``realtime.resync``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close, decode_hosts
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Errors that say Redis is unreachable or slow right now, not that a command is wrong. (The builtin
# ConnectionError and TimeoutError, asyncio's, escape redis-py on some paths.)
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, ConnectionError,
                                                     TimeoutError)

# The event a layer sends its channels after Redis may have lost some of their events.
RESYNC_EVENT = "realtime.resync"

T = TypeVar("T")


class Backoff:
    """Exponential delays with jitter: ``start`` doubling up to ``maximum``, each drawn in
    [half, all] of that step so that many waiters do not retry in step; ``reset`` starts over."""

    def __init__(self, start: float, maximum: float):
        self.start, self.maximum, self.failures = start, maximum, 0

    def next(self) -> float:
        step = min(self.maximum, self.start * 2 ** min(self.failures, 30))
        self.failures += 1
        return step * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0


async def retrying(call: Callable[[], Awaitable[T]], *, attempts: int, backoff: Backoff, what: str) -> T:
    """``await call()``, again after a transient Redis error, ``attempts`` times in all; the last
    error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except TRANSIENT_ERRORS as error:
            if attempt == attempts:
                raise
            delay = backoff.next()
            logger.info("Redis: %s failed (%s: %s); try %d of %d in %.2f s", what, type(error).__name__, error,
                        attempt + 1, attempts, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


class ResilientRedisChannelLayer(RedisChannelLayer):
    """channels_redis's ``RedisChannelLayer`` that outlives Redis restarts and timeouts (module doc).

    Extra CONFIG keys: ``retry_backoff_s`` (first wait after an error, 0.1) doubling up to
    ``retry_backoff_max_s`` (2), ``group_add_attempts`` (3), ``group_check_interval_s`` (2).
    """

    def __init__(self, *args, retry_backoff_s: float = 0.1, retry_backoff_max_s: float = 2.0,
                 group_add_attempts: int = 3, group_check_interval_s: float = 2.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_backoff_s, self.retry_backoff_max_s = retry_backoff_s, retry_backoff_max_s
        self.group_add_attempts = group_add_attempts
        self.group_check_interval_s = group_check_interval_s
        # channel -> its groups, for this process's channels: what to re-add after Redis forgot.
        self.memberships: dict[str, set[str]] = {}
        # A grouped channel's receives under way, or when the last one ended: a channel nobody has
        # received on for ``expiry`` seconds (its consumer failed without leaving its groups) is
        # forgotten, and its memberships in Redis expire as channels_redis's would.
        self._receiving: dict[str, int] = {}
        self._idle_since: dict[str, float] = {}
        # Consecutive failed receives, shared by the process's sockets (one Redis, one outage).
        self.receive_backoff = Backoff(retry_backoff_s, retry_backoff_max_s)
        self._checked_at = 0.0
        self._refreshed_at = time.monotonic()
        # Beside the memberships in Redis: gone means Redis lost them (restarted empty, flushed).
        self.marker_key = f"{self.prefix}:layer:{self.client_prefix}"

    # Receiving -----------------------------------------------------------------------------------

    async def receive(self, channel):
        self._receiving[channel] = self._receiving.get(channel, 0) + 1
        try:
            while True:
                try:
                    return await super().receive(channel)
                except TRANSIENT_ERRORS as error:
                    if self.receive_backoff.failures == 0:
                        logger.warning("Redis unreachable while receiving (%s: %s); retrying with backoff",
                                       type(error).__name__, error)
                    await asyncio.sleep(self.receive_backoff.next())
        finally:
            self._receiving[channel] -= 1
            if not self._receiving[channel]:
                del self._receiving[channel]
                if channel in self.memberships:
                    self._idle_since[channel] = time.monotonic()

    async def _brpop_with_clean(self, index, channel, timeout):
        # The process's one receiving loop comes here between blocking pops (at least every
        # ``brpop_timeout``): the place to look after the memberships. Raises while Redis is down.
        await self._keep_groups()
        return await super()._brpop_with_clean(index, channel, timeout)

    async def _keep_groups(self) -> None:
        now = time.monotonic()
        outage_failures = self.receive_backoff.failures
        if not outage_failures and now - self._checked_at < self.group_check_interval_s:
            return
        self._checked_at = now
        self._forget_abandoned(now)
        if not self.memberships:
            if outage_failures:
                await self.connection(0).ping()
                self._recovered(outage_failures, regrouped=0, lost=False)
            return
        shards = {self.consistent_hash(group) for groups in list(self.memberships.values()) for group in groups}
        lost = False
        for index in shards:
            lost = lost or not await self.connection(index).exists(self.marker_key)
        refresh = now - self._refreshed_at >= self.group_expiry / 2
        if not (outage_failures or lost or refresh):
            return
        channels = await self._regroup()
        self._refreshed_at = now
        if lost or outage_failures > 1:
            # Events sent while Redis was away or before it restarted are gone: the sockets say
            # their state again. (One failed try alone loses nothing: messages wait in Redis.)
            await self._send_resync(channels)
        self._recovered(outage_failures, regrouped=len(channels), lost=lost)

    def _forget_abandoned(self, now: float) -> None:
        for channel, since in list(self._idle_since.items()):
            if channel in self._receiving or channel not in self.memberships:
                del self._idle_since[channel]
            elif now - since > self.expiry:
                del self._idle_since[channel]
                self.memberships.pop(channel, None)

    def _recovered(self, failures: int, *, regrouped: int, lost: bool) -> None:
        if failures or lost:
            logger.warning("Redis reachable again%s: %d channels' groups re-added",
                           " (it had lost the groups)" if lost else "", regrouped)
        self.receive_backoff.reset()

    async def _regroup(self) -> list[str]:
        """Add every remembered membership again (and the marker), one pipeline per shard; the channels."""
        by_shard: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for channel, groups in list(self.memberships.items()):
            for group in groups:
                by_shard[self.consistent_hash(group)].append((group, channel))
        for index, pairs in by_shard.items():
            pipe = self.connection(index).pipeline(transaction=False)
            now = time.time()
            for group, channel in pairs:
                pipe.zadd(self._group_key(group), {channel: now})
                pipe.expire(self._group_key(group), self.group_expiry)
            pipe.set(self.marker_key, 1, ex=self.group_expiry)
            await pipe.execute()
            # A socket that left while the pipeline ran must not stay in its group.
            gone = [(group, channel) for group, channel in pairs if group not in self.memberships.get(channel, ())]
            for group, channel in gone:
                await self.connection(index).zrem(self._group_key(group), channel)
        return [channel for channel in list(self.memberships) if self.memberships.get(channel)]

    async def _send_resync(self, channels: list[str]) -> None:
        """One message naming every channel (as ``group_send`` does), to this process's own queue."""
        local = [channel for channel in channels if "!" in channel]
        if not local:
            return
        queue = self.non_local_name(local[0])
        message = self.serialize({"type": RESYNC_EVENT, "__asgi_channel__": local})
        connection = self.connection(self.consistent_hash(queue))
        await connection.zadd(self.prefix + queue, {message: time.time()})
        await connection.expire(self.prefix + queue, int(self.expiry))

    # Groups --------------------------------------------------------------------------------------

    async def group_add(self, group, channel):
        self.memberships.setdefault(channel, set()).add(group)
        if channel not in self._receiving:
            self._idle_since.setdefault(channel, time.monotonic())

        async def add():
            await super(ResilientRedisChannelLayer, self).group_add(group, channel)
            await self.connection(self.consistent_hash(group)).set(self.marker_key, 1, ex=self.group_expiry)

        try:
            await retrying(add, attempts=self.group_add_attempts, what=f"group_add({group})",
                           backoff=Backoff(self.retry_backoff_s, self.retry_backoff_max_s))
        except BaseException:
            self._forget(group, channel)
            raise

    async def group_discard(self, group, channel):
        self._forget(group, channel)
        try:
            await super().group_discard(group, channel)
        except TRANSIENT_ERRORS as error:  # the stale member expires with the group (group_expiry)
            logger.info("Redis: could not remove %s from %s (%s: %s)", channel, group, type(error).__name__, error)

    def _forget(self, group: str, channel: str) -> None:
        groups = self.memberships.get(channel)
        if groups is not None:
            groups.discard(group)
            if not groups:
                del self.memberships[channel]
                self._idle_since.pop(channel, None)

    async def group_send(self, group, message):
        try:
            await super().group_send(group, message)
        except TRANSIENT_ERRORS as error:
            logger.warning("Redis: could not send %s to group %s (%s: %s)", message.get("type"), group,
                           type(error).__name__, error)

    async def send(self, channel, message):
        try:
            await super().send(channel, message)
        except TRANSIENT_ERRORS as error:
            logger.warning("Redis: could not send %s to %s (%s: %s)", message.get("type"), channel,
                           type(error).__name__, error)

    async def flush(self):
        self.memberships.clear()
        self._idle_since.clear()
        await super().flush()


# Pub/sub ------------------------------------------------------------------------------------------


class _ResilientShard(RedisSingleShardConnection):
    """One Redis server's pub/sub connection: its receiving task survives every error, and every
    reconnect (after which redis-py has subscribed again) resyncs the layer's channels."""

    def __init__(self, host, channel_layer, *, backoff: Backoff):
        super().__init__(host, channel_layer)
        self.backoff = backoff
        self._watched = None  # the pub/sub connection whose reconnects we hear of

    async def subscribe(self, channel):
        await super().subscribe(channel)
        self._watch()

    def _watch(self) -> None:
        connection = self._pubsub.connection if self._pubsub is not None else None
        if connection is not None and connection is not self._watched:
            # Called at each (re)connect, after redis-py's own callback that subscribes again;
            # registered after the first connect, so every call is a reconnect.
            connection.register_connect_callback(self._reconnected)
            self._watched = connection

    async def _reconnected(self, connection) -> None:
        logger.warning("Redis pub/sub reconnected to %s: subscriptions renewed", self.host.get("address", self.host))
        self.channel_layer.resync_local_channels()

    async def _do_receiving(self):
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    self.backoff.reset()
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - this task must outlive anything Redis does
                if self.backoff.failures == 0:
                    logger.warning("Redis pub/sub receiving failed (%s: %s); retrying with backoff",
                                   type(error).__name__, error)
                await asyncio.sleep(self.backoff.next())


class _ResilientPubSubLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts=None, prefix="asgi", on_disconnect=None, on_reconnect=None, channel_layer=None, *,
                 retry_backoff_s: float, retry_backoff_max_s: float, group_add_attempts: int, **kwargs):
        super().__init__(hosts=hosts, prefix=prefix, on_disconnect=on_disconnect, on_reconnect=on_reconnect,
                         channel_layer=channel_layer, **kwargs)
        self.retry_backoff_s, self.retry_backoff_max_s = retry_backoff_s, retry_backoff_max_s
        self.group_add_attempts = group_add_attempts
        self._shards = [_ResilientShard(host, self, backoff=self._backoff()) for host in decode_hosts(hosts)]

    def _backoff(self) -> Backoff:
        return Backoff(self.retry_backoff_s, self.retry_backoff_max_s)

    async def new_channel(self, prefix="specific."):
        # channels_redis's own, with the name kept over the tries.
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        try:
            await retrying(lambda: self._subscribe_to_channel(channel), attempts=self.group_add_attempts,
                           backoff=self._backoff(), what="subscribe")
        except BaseException:
            self.channels.pop(channel, None)
            raise
        return channel

    async def group_add(self, group, channel):
        try:
            await retrying(lambda: super(_ResilientPubSubLoopLayer, self).group_add(group, channel),
                           attempts=self.group_add_attempts, backoff=self._backoff(), what=f"group_add({group})")
        except TRANSIENT_ERRORS:
            await self.group_discard(group, channel)
            raise

    async def group_discard(self, group, channel):
        try:
            await super().group_discard(group, channel)
        except TRANSIENT_ERRORS as error:
            logger.info("Redis: could not unsubscribe from %s (%s: %s)", group, type(error).__name__, error)

    async def group_send(self, group, message):
        try:
            await super().group_send(group, message)
        except TRANSIENT_ERRORS as error:
            logger.warning("Redis: could not publish %s to group %s (%s: %s)", message.get("type"), group,
                           type(error).__name__, error)

    async def send(self, channel, message):
        try:
            await super().send(channel, message)
        except TRANSIENT_ERRORS as error:
            logger.warning("Redis: could not publish %s to %s (%s: %s)", message.get("type"), channel,
                           type(error).__name__, error)

    def resync_local_channels(self) -> None:
        """Queue ``realtime.resync`` for every channel of this process that is in a group."""
        grouped = {channel for channels in self.groups.values() for channel in channels}
        message = self.channel_layer.serialize({"type": RESYNC_EVENT})
        for channel in grouped:
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(message)


class ResilientRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """channels_redis's ``RedisPubSubChannelLayer`` that outlives Redis restarts and timeouts
    (module doc). Extra CONFIG keys as ``ResilientRedisChannelLayer``'s (but no group check:
    subscriptions live in the connection, and redis-py renews them when it reconnects)."""

    def __init__(self, *args, retry_backoff_s: float = 0.1, retry_backoff_max_s: float = 2.0,
                 group_add_attempts: int = 3, **kwargs):
        super().__init__(*args, **kwargs)
        self._resilience: dict[str, Any] = {"retry_backoff_s": retry_backoff_s,
                                            "retry_backoff_max_s": retry_backoff_max_s,
                                            "group_add_attempts": group_add_attempts}

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _ResilientPubSubLoopLayer(*self._args, **self._kwargs, **self._resilience, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
