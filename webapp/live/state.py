"""The shared state of live review sessions: playback state and presence, outside any process.

With REDIS_URL set (production, the integration tests) the state is a Redis hash per session and
every change is one Lua script: the host check, the optional expected-version check, the write
and the version increment happen atomically, so two servers cannot lose each other's updates and
a restarted server finds the state where it was. Without REDIS_URL (the embedded demo, unit
tests) ``LocalStateStore`` keeps the same data in this process behind a lock: the development
fallback, like the in-memory channel layer, and only correct for one process.

State fields (one hash field each, JSON-encoded): ``index`` (playlist position), ``frame``,
``playing``, ``started_at`` (server wall-clock ms when playback started at ``frame``, so followers
extrapolate the playhead), ``a``, ``b``, ``mode``, ``wipe``, ``showing``, ``zoom``, ``pan_x``,
``pan_y``, ``host`` (user id), and ``version``, incremented by every change.

Presence is a second hash per session: one field per open connection with who it is and when it
last sent a heartbeat; connections silent for ``PRESENCE_TIMEOUT_S`` are dropped when read.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from functools import cache
from typing import Any, Protocol

from django.conf import settings

# Abandoned sessions disappear from Redis a while after their last change.
STATE_TTL_S = 12 * 60 * 60
PRESENCE_TIMEOUT_S = 45


class NotHost(Exception):
    """Only the session's current host may change the shared state."""


class VersionConflict(Exception):
    """The state changed since the caller read it; read again and retry."""


class StateMissing(Exception):
    """The session has no live state (never joined, ended, or expired)."""


def now_ms() -> int:
    return int(time.time() * 1000)


class StateStore(Protocol):
    async def initialise(self, key: str, initial: dict[str, Any]) -> dict[str, Any]:
        """Create the state from ``initial`` (version 1) unless it exists; the current state."""

    async def read(self, key: str) -> dict[str, Any] | None: ...

    async def update(self, key: str, changes: dict[str, Any], *, host: int | None = None,
                     expect_version: int | None = None) -> dict[str, Any]:
        """Apply ``changes`` atomically and bump the version; the new state. ``host``: refuse
        (NotHost) unless that user is the host; ``expect_version``: refuse (VersionConflict) if
        the state moved on. StateMissing when there is no state."""

    async def delete(self, key: str) -> None: ...

    async def presence_join(self, key: str, connection: str, person: dict[str, Any]) -> None: ...

    async def presence_beat(self, key: str, connection: str) -> bool:
        """Refresh a connection's heartbeat; False if it had already been dropped."""

    async def presence_leave(self, key: str, connection: str) -> None: ...

    async def participants(self, key: str) -> list[dict[str, Any]]:
        """Live participants, one entry per user (with how many connections), in joining order."""


def _people(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    people: dict[int, dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda e: e["joined"]):
        person = people.setdefault(entry["user"], {k: v for k, v in entry.items() if k not in {"seen", "joined"}}
                                   | {"connections": 0})
        person["connections"] += 1
    return list(people.values())


class LocalStateStore:
    """In-process fallback for the embedded default. Same behaviour, one process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, dict[str, Any]] = {}
        self._presence: dict[str, dict[str, dict[str, Any]]] = {}

    async def initialise(self, key, initial):
        with self._lock:
            state = self._states.setdefault(key, {**initial, "version": 1})
            return dict(state)

    async def read(self, key):
        with self._lock:
            state = self._states.get(key)
            return dict(state) if state is not None else None

    async def update(self, key, changes, *, host=None, expect_version=None):
        with self._lock:
            state = self._states.get(key)
            if state is None:
                raise StateMissing(key)
            if host is not None and state["host"] != host:
                raise NotHost(key)
            if expect_version is not None and state["version"] != expect_version:
                raise VersionConflict(key)
            state.update(changes)
            state["version"] += 1
            return dict(state)

    async def delete(self, key):
        with self._lock:
            self._states.pop(key, None)
            self._presence.pop(key, None)

    async def presence_join(self, key, connection, person):
        with self._lock:
            stamp = now_ms()
            self._presence.setdefault(key, {})[connection] = {**person, "seen": stamp, "joined": stamp}

    async def presence_beat(self, key, connection):
        with self._lock:
            entry = self._presence.get(key, {}).get(connection)
            if entry is None:
                return False
            entry["seen"] = now_ms()
            return True

    async def presence_leave(self, key, connection):
        with self._lock:
            self._presence.get(key, {}).pop(connection, None)

    async def participants(self, key):
        with self._lock:
            connections = self._presence.get(key, {})
            oldest = now_ms() - PRESENCE_TIMEOUT_S * 1000
            for stale in [c for c, entry in connections.items() if entry["seen"] < oldest]:
                del connections[stale]
            return _people([dict(entry) for entry in connections.values()])


# KEYS[1]: the state hash. ARGV[1]: fields -> JSON values (as a JSON object). ARGV[2]: TTL seconds.
_INITIALISE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  for field, value in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], field, value) end
  redis.call('HSET', KEYS[1], 'version', 1)
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('HGETALL', KEYS[1])
"""

# ARGV[1]: changes (JSON object of JSON values); ARGV[2]: TTL; ARGV[3]: the acting host's id as
# JSON ('' = no host check); ARGV[4]: the expected version ('' = any).
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'error', 'missing'} end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'host') ~= ARGV[3] then return {'error', 'not_host'} end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[4] then return {'error', 'conflict'} end
for field, value in pairs(cjson.decode(ARGV[1])) do redis.call('HSET', KEYS[1], field, value) end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('HGETALL', KEYS[1])
"""

_UPDATE_ERRORS = {"missing": StateMissing, "not_host": NotHost, "conflict": VersionConflict}


def _encode(fields: dict[str, Any]) -> str:
    return json.dumps({name: json.dumps(value) for name, value in fields.items()})


def _decode(flat: list[str]) -> dict[str, Any]:
    return {flat[i]: json.loads(flat[i + 1]) for i in range(0, len(flat), 2)}


class RedisStateStore:
    """The state in Redis, shared by every server that uses the same ``url``."""

    def __init__(self, url: str, *, prefix: str = "review-session") -> None:
        self.url = url
        self.prefix = prefix
        # redis.asyncio connections belong to one event loop: one client per loop.
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self):
        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = redis.asyncio.Redis.from_url(self.url, decode_responses=True)
            self._clients[loop] = client
        return client

    def _script(self, source: str):
        # Script objects run EVALSHA and fall back to EVAL (first use, or after a Redis restart).
        return self._client().register_script(source)

    def _state_key(self, key: str) -> str:
        return f"{self.prefix}:{key}:state"

    def _presence_key(self, key: str) -> str:
        return f"{self.prefix}:{key}:presence"

    async def initialise(self, key, initial):
        flat = await self._script(_INITIALISE)(keys=[self._state_key(key)], args=[_encode(initial), STATE_TTL_S])
        return _decode(flat)

    async def read(self, key):
        flat = await self._client().hgetall(self._state_key(key))
        return {name: json.loads(value) for name, value in flat.items()} or None

    async def update(self, key, changes, *, host=None, expect_version=None):
        args = [_encode(changes), STATE_TTL_S, "" if host is None else json.dumps(host),
                "" if expect_version is None else str(expect_version)]
        flat = await self._script(_UPDATE)(keys=[self._state_key(key)], args=args)
        if flat and flat[0] == "error":
            raise _UPDATE_ERRORS[flat[1]](key)
        return _decode(flat)

    async def delete(self, key):
        await self._client().delete(self._state_key(key), self._presence_key(key))

    async def presence_join(self, key, connection, person):
        stamp = now_ms()
        presence = self._presence_key(key)
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.hset(presence, connection, json.dumps({**person, "seen": stamp, "joined": stamp}))
            pipe.expire(presence, STATE_TTL_S)
            await pipe.execute()

    async def presence_beat(self, key, connection):
        client = self._client()
        presence = self._presence_key(key)
        raw = await client.hget(presence, connection)
        if raw is None:
            return False
        # Only this connection writes its own field, so read-modify-write cannot race with itself.
        await client.hset(presence, connection, json.dumps({**json.loads(raw), "seen": now_ms()}))
        await client.expire(presence, STATE_TTL_S)
        return True

    async def presence_leave(self, key, connection):
        await self._client().hdel(self._presence_key(key), connection)

    async def participants(self, key):
        client = self._client()
        presence = self._presence_key(key)
        entries = {connection: json.loads(raw) for connection, raw in (await client.hgetall(presence)).items()}
        oldest = now_ms() - PRESENCE_TIMEOUT_S * 1000
        stale = [connection for connection, entry in entries.items() if entry["seen"] < oldest]
        if stale:
            await client.hdel(presence, *stale)
        return _people([entry for connection, entry in entries.items() if connection not in stale])


@cache
def _store_for(redis_url: str | None) -> StateStore:
    return RedisStateStore(redis_url) if redis_url else LocalStateStore()


def get_state_store() -> StateStore:
    """The store of this deployment: Redis at REDIS_URL (as the channel layer), else in-process."""
    return _store_for(settings.ENV.redis_url)
