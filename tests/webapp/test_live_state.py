"""The live session state store: atomic, versioned updates and presence, in process and in Redis.

The same tests run on both stores; the Redis one is part of the integration layer
(`make test-integration`, REDIS_URL set)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.conf import settings

from webapp.live import state as state_module
from webapp.live.state import LocalStateStore, NotHost, RedisStateStore, StateMissing, VersionConflict

pytestmark = pytest.mark.asyncio

INITIAL = {"index": 0, "frame": 0, "playing": False, "started_at": None, "a": "original", "b": "v1",
           "mode": "wipe", "wipe": 0.5, "host": 7}


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.integration)])
async def store(request):
    if request.param == "local":
        yield LocalStateStore()
        return
    if not settings.ENV.redis_url:
        pytest.fail("the Redis store tests need REDIS_URL (run them with `make test-integration`)")
    prefix = f"test-live-{uuid.uuid4().hex}"
    redis_store = RedisStateStore(settings.ENV.redis_url, prefix=prefix)
    yield redis_store
    client = redis_store._client()
    keys = [key async for key in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_initialise_creates_once_and_keeps_what_exists(store):
    first = await store.initialise("s1", INITIAL)
    assert first == {**INITIAL, "version": 1}
    await store.update("s1", {"frame": 12})
    again = await store.initialise("s1", {**INITIAL, "frame": 0})  # a second server joining later
    assert again["frame"] == 12 and again["version"] == 2
    assert await store.read("s1") == again


async def test_updates_bump_the_version_and_check_host_and_version(store):
    await store.initialise("s1", INITIAL)
    changed = await store.update("s1", {"frame": 5, "playing": True, "started_at": 1234}, host=7)
    assert (changed["frame"], changed["playing"], changed["started_at"], changed["version"]) == (5, True, 1234, 2)

    with pytest.raises(NotHost):
        await store.update("s1", {"frame": 6}, host=8)
    with pytest.raises(VersionConflict):
        await store.update("s1", {"frame": 6}, expect_version=1)
    assert (await store.read("s1"))["frame"] == 5  # refused updates changed nothing
    assert (await store.update("s1", {"frame": 6}, expect_version=2))["version"] == 3
    with pytest.raises(StateMissing):
        await store.update("nothing-here", {"frame": 1})


async def test_concurrent_increments_are_not_lost(store):
    """Many writers read-modify-write the same field with the version check and retry: with an
    atomic compare-and-set every increment lands exactly once."""
    await store.initialise("s1", {**INITIAL, "frame": 0})

    async def increment():
        while True:
            current = await store.read("s1")
            try:
                await store.update("s1", {"frame": current["frame"] + 1}, expect_version=current["version"])
                return
            except VersionConflict:
                await asyncio.sleep(0)

    await asyncio.gather(*(increment() for _ in range(40)))
    final = await store.read("s1")
    assert final["frame"] == 40 and final["version"] == 41


async def test_presence_join_beat_leave_and_silent_connections_drop(store, monkeypatch):
    await store.presence_join("s1", "conn-a", {"user": 1, "name": "Ann"})
    await store.presence_join("s1", "conn-b", {"user": 2, "name": "Bo"})
    await store.presence_join("s1", "conn-c", {"user": 1, "name": "Ann"})  # Ann's second tab
    people = await store.participants("s1")
    assert [(p["user"], p["connections"]) for p in people] == [(1, 2), (2, 1)]

    await store.presence_leave("s1", "conn-c")
    assert [(p["user"], p["connections"]) for p in await store.participants("s1")] == [(1, 1), (2, 1)]

    # Bo's connection stops sending heartbeats: once the timeout has passed it is dropped.
    later = state_module.now_ms() + (state_module.PRESENCE_TIMEOUT_S + 1) * 1000
    assert await store.presence_beat("s1", "conn-a")
    monkeypatch.setattr(state_module, "now_ms", lambda: later)
    await store.presence_beat("s1", "conn-a")
    assert [p["user"] for p in await store.participants("s1")] == [1]
    assert not await store.presence_beat("s1", "conn-b")  # told it was dropped, so it rejoins


async def test_delete_removes_state_and_presence(store):
    await store.initialise("s1", INITIAL)
    await store.presence_join("s1", "conn-a", {"user": 1, "name": "Ann"})
    await store.delete("s1")
    assert await store.read("s1") is None and await store.participants("s1") == []
