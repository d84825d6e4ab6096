"""Fixtures for every web-app test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory) -> Path:
    """Each test gets its own empty MEDIA_ROOT: no test reads the developer's var/media, or
    (deleting an asset frees its files) removes anything from it."""
    root = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, dict]]:
    """(group, event) of every websocket event sent during the test, instead of sending it:
    ``broadcast`` (and so ``broadcast_on_commit``) and the notifications' pushes."""
    import importlib

    events: list[tuple[str, dict]] = []

    def record(groups, event, *, layer_alias=None):
        events.extend((group, event) for group in ([groups] if isinstance(groups, str) else groups))

    monkeypatch.setattr(importlib.import_module("webapp.realtime.broadcast"), "broadcast", record)
    monkeypatch.setattr(importlib.import_module("webapp.notifications.services"), "broadcast", record)
    return events


@pytest.fixture(autouse=True)
def throttle_counts(monkeypatch):
    """Each test counts its rate limits (DRF throttles, guest-link failures) from zero, in a cache of
    its own: the suite's many requests as the same user ids never add up across tests, and the
    shared Redis of the integration layer is never flushed. Returns that cache."""
    from django.core.cache.backends.locmem import LocMemCache
    from rest_framework.throttling import SimpleRateThrottle

    cache = LocMemCache(f"throttle-{id(monkeypatch)}", {})
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "cache", cache)
    return cache


@pytest.fixture
def ingest_root(settings, tmp_path) -> Path:
    """A fresh folder as the only INGEST_ROOTS entry: what `register` may read from."""
    root = tmp_path / "ingest"
    root.mkdir()
    settings.INGEST_ROOTS = [root]
    return root
