"""webapp.realtime: group names in one place; sending is best effort and waits for the commit."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from webapp.realtime import (
    broadcast,
    broadcast_on_commit,
    film_group,
    job_group,
    session_group,
    shot_group,
    user_group,
)


def test_group_names_are_per_object_and_distinct():
    names = [film_group(7), job_group(7), shot_group(7), session_group(7), user_group(7)]
    assert names == ["film.7", "job.7", "shot.7", "review-session.7", "user.7"]
    assert len(set(names)) == len(names)


@pytest.fixture
def listener(in_memory_channel_layers):
    """A channel subscribed to ``shot.1`` on the default layer; ``received()`` drains it."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(shot_group(1), channel)

    async def drain() -> list[dict]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), 0.05))
            except TimeoutError:
                return messages

    return async_to_sync(drain)


def test_broadcast_sends_to_every_group(listener):
    broadcast([shot_group(1), shot_group(2)], {"type": "comment.created", "n": 1})
    assert [m["n"] for m in listener()] == [1]


@pytest.mark.django_db(transaction=True)
def test_broadcast_on_commit_waits_for_the_commit_and_drops_on_rollback(listener):
    with transaction.atomic():
        broadcast_on_commit(shot_group(1), {"type": "comment.created", "n": 1})
        assert listener() == []  # not before the commit
    assert [m["n"] for m in listener()] == [1]

    with pytest.raises(RuntimeError), transaction.atomic():
        broadcast_on_commit(shot_group(1), {"type": "comment.created", "n": 2})
        raise RuntimeError("rolled back")
    assert listener() == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_layer_never_raises_into_the_committing_code(in_memory_channel_layers, monkeypatch, caplog):
    layer = get_channel_layer()

    async def broken_group_send(group, message):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(layer, "group_send", broken_group_send)
    with caplog.at_level(logging.WARNING, logger="webapp.realtime.broadcast"), transaction.atomic():
        broadcast_on_commit([film_group(3), job_group(4)], {"type": "job.finished"})
    # Both groups were tried; each failure logged, none raised.
    assert [r.getMessage() for r in caplog.records] == [
        "Could not send job.finished to film.3",
        "Could not send job.finished to job.4",
    ]
